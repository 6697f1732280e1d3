//! `GET|POST /continue`: the browser is back from the external site.

use actix_web::http::header;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::http::error::{ApiError, Audience, ErrorCode};
use crate::http::extractors::continue_request;
use crate::http::{AppState, pages};
use crate::pipeline::Resumed;

/// Longest `return_to?result=…` URL sent as a redirect; longer results go
/// by an auto-submitting form, since browsers and proxies truncate URLs.
pub const MAX_REDIRECT_URL: usize = 2000;

/// Resumes the login and sends the browser on.
pub async fn resume(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let request = continue_request(&req, &body)?;
    let audience = Audience::of_browser_request(&req);
    match state.pipeline.load_full().resume(request).await {
        Ok(Resumed::Redirect(location)) => Ok(found(&location)),
        Ok(Resumed::Deliver { return_to, result }) => deliver(&req, &return_to, &result),
        Err(e) => Err(ApiError::from_pipeline(e, audience)),
    }
}

fn found(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn deliver(req: &HttpRequest, return_to: &str, result: &str) -> Result<HttpResponse, ApiError> {
    let mut url = url::Url::parse(return_to)
        .map_err(|_| ApiError::browser(req, ErrorCode::ServerError, "return_to is not a URL"))?;
    url.query_pairs_mut().append_pair("result", result);
    if url.as_str().len() <= MAX_REDIRECT_URL {
        return Ok(found(url.as_str()));
    }
    let html = pages::form_post_page(return_to, result).map_err(|e| {
        tracing::error!(error = %e, "cannot render the form_post page");
        ApiError::browser(req, ErrorCode::ServerError, "cannot render the result page")
    })?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::html())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html))
}
