//! `POST /v1/post-login`: an upstream runs the Actions for a login.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};

use crate::http::error::{ApiError, Audience, ErrorCode};
use crate::http::extractors::{UpstreamAuth, read_body};
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
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(ApiError::api(
            ErrorCode::UnsupportedMediaType,
            "the body must be application/json",
        ));
    }
    let body = read_body(payload, MAX_EVENT_BYTES, Audience::Api).await?;
    let request: PostLoginRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::api(
            ErrorCode::InvalidRequest,
            format!("the body is not a valid request: {e}"),
        )
    })?;
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
