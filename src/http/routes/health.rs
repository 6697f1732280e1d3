//! Liveness and readiness.

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::startup::AppState;
use crate::telemetry::chain;

/// Alive: the process answers.
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Prometheus metrics.
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    match state.metrics.render() {
        Ok(text) => HttpResponse::Ok()
            .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
            .body(text),
        Err(e) => {
            tracing::error!(error = %e, "cannot render metrics");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// The OpenAPI description of the HTTP interface.
#[get("/openapi.json")]
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(crate::http::OPENAPI)
}

/// Ready: the store answers. The cause of a failure goes to the log only:
/// its text can hold Redis addresses and authentication errors, and
/// whoever can reach this endpoint is not necessarily the operator.
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let pipeline = state.pipeline.load_full();
    match pipeline.store().ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({"status": "ready"})),
        Err(e) => {
            tracing::warn!(error = %chain(&e), "not ready: the store does not answer");
            HttpResponse::ServiceUnavailable()
                .json(json!({"status": "unavailable", "error": "the store does not answer"}))
        }
    }
}
