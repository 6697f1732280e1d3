//! `POST /v1/post-login`: an upstream runs the Actions for a login.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::http::MAX_EVENT_BYTES;
use crate::http::error::{ApiError, Audience};
use crate::http::extractors::{UpstreamAuth, parse_json, read_json};
use crate::pipeline::PostLoginRequest;
use crate::pipeline::outcome::Detail;
use crate::startup::AppState;

/// Runs the post-login Actions and answers with the outcome. The caller is
/// authenticated before its body is read. When no Action is configured the
/// event is only checked (the same refusals), not built.
pub async fn post_login(
    req: HttpRequest,
    state: web::Data<AppState>,
    UpstreamAuth(upstream): UpstreamAuth,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json(&req, payload, MAX_EVENT_BYTES).await?;
    let pipeline = state.pipeline.load_full();
    let outcome = if pipeline.runs_actions() {
        let request: PostLoginRequest = parse_json(&req, &body, MAX_EVENT_BYTES)?;
        drop(body);
        // Boxed: the run's future is large, and unboxed it would make every
        // request's handler future (moved several times by actix) as large,
        // including the requests that never run it.
        Box::pin(pipeline.start(&upstream, request)).await
    } else {
        let request = parse_json(&req, &body, MAX_EVENT_BYTES)?;
        pipeline.start_without_actions(&upstream, &request)
    }
    .map_err(|e| ApiError::from_pipeline(e, Audience::Api))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(outcome.wire(Detail::Full)))
}
