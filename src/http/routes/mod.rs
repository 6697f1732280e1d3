//! One module per route.

#[cfg(feature = "bench-floor")]
mod floor;
mod health;
mod post_login;
mod result_details;
mod resume;

use actix_web::web;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(post_login::post_login)
        .service(result_details::result_details)
        .route("/continue", web::get().to(resume::resume))
        .route("/continue", web::post().to(resume::resume))
        .route("/redirect", web::get().to(resume::redirect))
        .service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(health::openapi);
    #[cfg(feature = "bench-floor")]
    floor::configure(cfg);
}
