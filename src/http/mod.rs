//! The HTTP surface (actix only: no Redis, no JWT crypto, no JS here).

pub mod error;
mod extractors;
mod pages;
mod routes;

/// The pipeline's view of a `/continue` request, as the route builds it (the
/// load benchmark's floor server parses its requests with the same code).
pub use extractors::continue_request;

use actix_web::web;

/// The OpenAPI description served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Largest accepted `POST /v1/post-login` body.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;
/// Largest accepted `/continue` body.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    routes::configure(cfg);
}
