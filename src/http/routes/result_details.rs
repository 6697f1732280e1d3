//! `POST /v1/result-details`: the upstream's back channel for what the
//! result token at `return_to` leaves out (console output, error text),
//! since that token travels through the browser.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::config::ResultDetails;
use crate::http::error::{ApiError, Audience, ErrorCode};
use crate::http::extractors::UpstreamAuth;
use crate::startup::AppState;

/// Largest request body: one `jti`, with room to spare.
pub const MAX_BODY_BYTES: usize = 1024;

/// What the upstream asks for.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailsRequest {
    /// The `jti` of a result token Detour delivered to this upstream.
    jti: String,
}

/// Answers the execution details of one delivered result, once, to the
/// upstream it was delivered to.
pub async fn result_details(
    state: web::Data<AppState>,
    UpstreamAuth(upstream): UpstreamAuth,
    web::Json(request): web::Json<DetailsRequest>,
) -> Result<HttpResponse, ApiError> {
    let details = state
        .pipeline
        .load_full()
        .take_result_details(&upstream, &request.jti)
        .await
        .map_err(|e| ApiError::from_pipeline(e, Audience::Api))?;
    match details {
        Some(details) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(details)),
        None => {
            let mut description = "no result details under this jti for this upstream: unknown, already fetched, expired or never kept".to_owned();
            if upstream.result_details != ResultDetails::BackChannel {
                description
                    .push_str(" (this upstream does not have result_details = \"back_channel\")");
            }
            Err(ApiError::api(ErrorCode::NotFound, description))
        }
    }
}
