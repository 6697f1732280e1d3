//! The one place that chooses an HTTP status and an OAuth error string.
//!
//! API callers get `{"error", "error_description"}`; browsers get the error
//! page, unless they ask for JSON. The full cause is logged once, here; the
//! client gets a short message.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde_json::json;

use super::pages;
use crate::pipeline::PipelineError;

/// Public error codes and their statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 400: malformed input, unknown/used/expired state.
    InvalidRequest,
    /// 401: missing or wrong API key.
    InvalidClient,
    /// 404: nothing under this id for this caller.
    NotFound,
    /// 413: body over the limit.
    PayloadTooLarge,
    /// 415: wrong content type.
    UnsupportedMediaType,
    /// 503: store down or engines saturated; retry later.
    TemporarilyUnavailable,
    /// 500: a bug.
    ServerError,
}

impl ErrorCode {
    fn status(self) -> StatusCode {
        match self {
            ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
            ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn oauth(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest
            | ErrorCode::PayloadTooLarge
            | ErrorCode::UnsupportedMediaType => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::NotFound => "not_found",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::ServerError => "server_error",
        }
    }
}

/// Who will read the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// A server: JSON.
    Api,
    /// A browser: an HTML page.
    Browser,
}

impl Audience {
    /// A browser route's audience: a page, unless the request asks for JSON.
    pub fn of_browser_request(req: &HttpRequest) -> Self {
        let wants_json = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("application/json"));
        if wants_json {
            Audience::Api
        } else {
            Audience::Browser
        }
    }
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    description: String,
    audience: Audience,
}

impl ApiError {
    /// An error for an API caller.
    pub fn api(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            audience: Audience::Api,
        }
    }

    /// An error for a browser; JSON if the request asked for it.
    pub fn browser(req: &HttpRequest, code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            audience: Audience::of_browser_request(req),
        }
    }

    /// An error for a known audience.
    pub fn for_audience(
        audience: Audience,
        code: ErrorCode,
        description: impl Into<String>,
    ) -> Self {
        Self {
            code,
            description: description.into(),
            audience,
        }
    }

    /// Maps a pipeline failure for the given audience.
    pub fn from_pipeline(e: PipelineError, audience: Audience) -> Self {
        let code = match &e {
            PipelineError::InvalidRequest(_) | PipelineError::InvalidState(_) => {
                ErrorCode::InvalidRequest
            }
            PipelineError::Busy | PipelineError::Store(_) => ErrorCode::TemporarilyUnavailable,
            PipelineError::Unexpected(_) => ErrorCode::ServerError,
        };
        let description = match &e {
            PipelineError::Store(cause) => {
                tracing::error!(error = %cause, "store unavailable");
                "the login store is unavailable, try again shortly".to_owned()
            }
            PipelineError::Unexpected(cause) => {
                tracing::error!(error = %cause, "unexpected failure");
                "an unexpected error occurred".to_owned()
            }
            other => other.to_string(),
        };
        Self {
            code,
            description,
            audience,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.oauth(), self.description)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.code.status());
        builder.insert_header((header::CACHE_CONTROL, "no-store"));
        if self.code == ErrorCode::TemporarilyUnavailable {
            builder.insert_header((header::RETRY_AFTER, "1"));
        }
        match self.audience {
            Audience::Api => builder.json(json!({
                "error": self.code.oauth(),
                "error_description": self.description,
            })),
            Audience::Browser => match pages::error_page(self.code.oauth(), &self.description) {
                Ok(html) => builder.content_type(ContentType::html()).body(html),
                Err(e) => {
                    tracing::error!(error = %e, "cannot render the error page");
                    builder.content_type(ContentType::plaintext()).body(format!(
                        "{}: {}",
                        self.code.oauth(),
                        self.description
                    ))
                }
            },
        }
    }
}
