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
use crate::telemetry::chain;

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

    /// Maps a pipeline failure for the given audience. The one place a
    /// failure's whole chain of causes is logged; the client reads a short
    /// description that names none of them.
    pub fn from_pipeline(e: PipelineError, audience: Audience) -> Self {
        let (code, description) = match &e {
            PipelineError::InvalidRequest(_) | PipelineError::InvalidState(_) => {
                (ErrorCode::InvalidRequest, e.to_string())
            }
            PipelineError::Busy => (ErrorCode::TemporarilyUnavailable, e.to_string()),
            PipelineError::Store(_) => {
                tracing::error!(error = %chain(&e), "store unavailable");
                (
                    ErrorCode::TemporarilyUnavailable,
                    "the login store is unavailable, try again shortly".to_owned(),
                )
            }
            PipelineError::Unexpected(_) => {
                tracing::error!(error = %chain(&e), "unexpected failure");
                (
                    ErrorCode::ServerError,
                    "an unexpected error occurred".to_owned(),
                )
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{RequestError, StateError};
    use crate::store::StoreError;

    fn mapped(e: PipelineError) -> ApiError {
        ApiError::from_pipeline(e, Audience::Api)
    }

    #[test]
    fn each_pipeline_failure_has_its_status_and_error_code() {
        let cases = [
            (
                PipelineError::from(RequestError::UnregisteredReturnTo),
                400,
                "invalid_request",
            ),
            (
                PipelineError::from(StateError::Unknown),
                400,
                "invalid_request",
            ),
            (PipelineError::Busy, 503, "temporarily_unavailable"),
            (
                PipelineError::from(StoreError::TimedOut),
                503,
                "temporarily_unavailable",
            ),
            (
                PipelineError::from(anyhow::anyhow!("a bug")),
                500,
                "server_error",
            ),
        ];
        for (error, status, code) in cases {
            let label = format!("{error:?}");

            let api = mapped(error);

            assert_eq!(api.status_code().as_u16(), status, "{label}");
            assert_eq!(api.code.oauth(), code, "{label}");
        }
    }

    #[test]
    fn the_cause_of_a_server_side_failure_stays_out_of_the_response() {
        let store = PipelineError::from(StoreError::Redis(::redis::RedisError::from(
            std::io::Error::other("NOAUTH redis at 10.0.0.7"),
        )));
        let bug = PipelineError::from(
            anyhow::Error::new(std::io::Error::other("secret detail")).context("saving"),
        );

        let store = mapped(store);
        let bug = mapped(bug);

        assert!(
            !store.description.contains("10.0.0.7"),
            "{}",
            store.description
        );
        assert!(!bug.description.contains("secret"), "{}", bug.description);
    }

    #[test]
    fn a_busy_or_unavailable_answer_says_when_to_retry_and_is_not_cached() {
        let response = mapped(PipelineError::Busy).error_response();

        assert_eq!(
            response
                .headers()
                .get(header::RETRY_AFTER)
                .map(|v| v.as_bytes()),
            Some(&b"1"[..])
        );
        assert_eq!(
            response
                .headers()
                .get(header::CACHE_CONTROL)
                .map(|v| v.as_bytes()),
            Some(&b"no-store"[..])
        );
    }
}
