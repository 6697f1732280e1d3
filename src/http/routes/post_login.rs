//! `POST /v1/post-login`: an upstream runs the Actions for a login.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};

use crate::http::error::{ApiError, Audience};
use crate::http::extractors::{UpstreamAuth, read_json};
use crate::http::{AppState, MAX_EVENT_BYTES};
use crate::pipeline::PostLoginRequest;

/// Runs the post-login Actions and answers with the outcome.
#[post("/v1/post-login")]
pub async fn post_login(
    req: HttpRequest,
    state: web::Data<AppState>,
    UpstreamAuth(upstream): UpstreamAuth,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let request: PostLoginRequest = read_json(&req, payload, MAX_EVENT_BYTES).await?;
    let outcome = state
        .pipeline
        .load_full()
        .start(&upstream, request)
        .await
        .map_err(|e| ApiError::from_pipeline(e, Audience::Api))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(outcome.to_wire()))
}
