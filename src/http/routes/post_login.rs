//! `POST /v1/post-login`: an upstream runs the Actions for a login.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::http::error::{ApiError, Audience};
use crate::http::extractors::UpstreamAuth;
use crate::pipeline::PostLoginRequest;
use crate::startup::AppState;

/// Runs the post-login Actions and answers with the outcome. The caller is
/// authenticated before its body is read.
pub async fn post_login(
    state: web::Data<AppState>,
    UpstreamAuth(upstream): UpstreamAuth,
    web::Json(request): web::Json<PostLoginRequest>,
) -> Result<HttpResponse, ApiError> {
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
