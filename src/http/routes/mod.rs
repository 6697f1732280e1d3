//! One module per route.

mod health;
mod post_login;
mod result_details;
mod resume;

use actix_web::web;

use super::extractors::json_config;

/// Registers the routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // `/v1/post-login` reads its body itself (`extractors::read_json`),
    // with the same limits and errors as `json_config`.
    cfg.service(web::resource("/v1/post-login").route(web::post().to(post_login::post_login)))
        .service(
            web::resource("/v1/result-details")
                .app_data(json_config(result_details::MAX_BODY_BYTES))
                .route(web::post().to(result_details::result_details)),
        )
        .route("/continue", web::get().to(resume::resume))
        .route("/continue", web::post().to(resume::resume))
        .route("/redirect", web::get().to(resume::redirect))
        .service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(health::openapi);
}
