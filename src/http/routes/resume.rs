//! `GET|POST /continue`: the browser is back from the external site.

use actix_web::http::header;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::http::error::{ApiError, Audience, ErrorCode};
use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::cookie::{Cookie, SameSite};

use crate::config::ServerSettings;
use crate::http::MAX_FORM_BYTES;
use crate::http::extractors::{continue_request, parse_params, read_body};
use crate::http::pages;
use crate::pipeline::Resumed;
use crate::pipeline::binding::BindingCookie;
use crate::startup::AppState;
use crate::token::result::ResultToken;

/// Longest `return_to?result=…` URL sent as a redirect; longer results go
/// by an auto-submitting form, since browsers and proxies truncate URLs.
pub const MAX_REDIRECT_URL: usize = 2000;

/// Resumes the login and sends the browser on.
pub async fn resume(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let audience = Audience::of_browser_request(&req);
    let body = read_body(payload, MAX_FORM_BYTES, audience).await?;
    let request = continue_request(&req, &body)?;
    let pipeline = state.pipeline.load_full();
    let server = &pipeline.settings().server;
    // Boxed, as in post-login: the run's future would make this handler's
    // future (moved several times by actix) as large as itself.
    match Box::pin(pipeline.resume(request)).await {
        Ok(Resumed::Redirect(location, cookie)) => found_binding(&req, &location, cookie, server),
        Ok(Resumed::Deliver { return_to, result }) => deliver(&req, &return_to, &result),
        Err(e) => Err(ApiError::from_pipeline(e, audience)),
    }
}

/// `GET /redirect?state=…`: the browser's first stop on a bound detour.
/// Sets the binding cookie and forwards to the external site.
pub async fn redirect(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = parse_params(&req, req.query_string().as_bytes(), "query string")?;
    let pipeline = state.pipeline.load_full();
    let (location, cookie) = pipeline
        .bind(query.get("state").and_then(|v| v.as_str()))
        .await
        .map_err(|e| ApiError::from_pipeline(e, Audience::of_browser_request(&req)))?;
    found_binding(&req, &location, Some(cookie), &pipeline.settings().server)
}

/// A redirect that also binds the browser when there is a cookie to set.
fn found_binding(
    req: &HttpRequest,
    location: &str,
    cookie: Option<BindingCookie>,
    server: &ServerSettings,
) -> Result<HttpResponse, ApiError> {
    let mut response = found(location);
    if let Some(cookie) = cookie {
        response
            .add_cookie(&binding_cookie(cookie, server))
            .map_err(|e| {
                tracing::error!(error = %e, "cannot set the binding cookie");
                ApiError::browser(req, ErrorCode::ServerError, "cannot set a cookie")
            })?;
    }
    Ok(response)
}

/// The binding cookie: HttpOnly, only sent to `/continue` as the browser
/// sees it (under `public_url`'s path prefix, e.g. `/detour/continue`
/// behind a proxy that strips `/detour`). On https it is
/// `SameSite=None; Secure` so the external site's cross-site POST carries
/// it; on plain http browsers refuse `SameSite=None`, so it is `Lax` and
/// only a top-level `GET /continue` carries it.
fn binding_cookie(cookie: BindingCookie, server: &ServerSettings) -> Cookie<'static> {
    let secure = server.public_url.scheme() == "https";
    let max_age = i64::try_from(cookie.max_age.as_secs()).unwrap_or(i64::MAX);
    Cookie::build(cookie.name, cookie.value)
        .path(server.endpoint("continue").path().to_owned())
        .http_only(true)
        .secure(secure)
        .same_site(if secure {
            SameSite::None
        } else {
            SameSite::Lax
        })
        .max_age(CookieDuration::seconds(max_age))
        .finish()
}

fn found(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn deliver(
    req: &HttpRequest,
    return_to: &str,
    result: &ResultToken,
) -> Result<HttpResponse, ApiError> {
    let url = with_result(return_to, result)
        .ok_or_else(|| ApiError::browser(req, ErrorCode::ServerError, "return_to is not a URL"))?;
    if url.len() <= MAX_REDIRECT_URL {
        return Ok(found(&url));
    }
    let html = pages::form_post_page(return_to, result.as_str()).map_err(|e| {
        tracing::error!(error = %e, "cannot render the form_post page");
        ApiError::browser(req, ErrorCode::ServerError, "cannot render the result page")
    })?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::html())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html))
}

/// `return_to` with `result=<token>` added to its query, as
/// `Url::query_pairs_mut().append_pair` writes it; `None` when `return_to`
/// is not a URL. A result token's characters are ones form encoding leaves
/// as they are, so it is appended as it is instead of being encoded byte
/// by byte (a URL with a fragment still takes the encoder, which keeps the
/// fragment last).
fn with_result(return_to: &str, result: &ResultToken) -> Option<String> {
    let mut url = url::Url::parse(return_to).ok()?;
    if url.fragment().is_some() {
        url.query_pairs_mut().append_pair("result", result.as_str());
        return Some(url.into());
    }
    let separator = match url.query() {
        None => "?",
        Some("") => "",
        Some(_) => "&",
    };
    let mut joined = String::from(url);
    joined.reserve(separator.len() + "result=".len() + result.as_str().len());
    joined.push_str(separator);
    joined.push_str("result=");
    joined.push_str(result.as_str());
    Some(joined)
}

#[cfg(test)]
mod tests {
    use super::with_result;
    use crate::token::result::{Audience, ResultKey, sign_fields_with};
    use serde_json::{Map, json};

    #[test]
    fn the_result_joins_return_to_as_the_form_encoder_would() {
        let mut outcome = Map::new();
        outcome.insert("outcome".into(), json!("allow ü ?&=#+ /"));
        let audience = Audience {
            issuer: "https://detour.example",
            upstream: "u",
            transaction_id: Some("t"),
        };
        let token = sign_fields_with(&ResultKey::new(b"k"), &outcome, &audience, "j", 1).unwrap();
        for return_to in [
            "https://idp.example/cb",
            "https://idp.example/cb?",
            "https://idp.example/cb?a=1&b=%20x",
            "https://idp.example/cb?x#frag",
            "https://idp.example",
            "http://127.0.0.1:9/callback?state=abc",
            "myapp:callback",
            "com.example.app://cb/path?q=%C3%A9",
            "HTTPS://IdP.Example:443/a/../cb",
        ] {
            let mut expected = url::Url::parse(return_to).unwrap();
            expected
                .query_pairs_mut()
                .append_pair("result", token.as_str());
            assert_eq!(
                with_result(return_to, &token).as_deref(),
                Some(expected.as_str()),
                "{return_to}"
            );
        }
        assert_eq!(with_result("not a url", &token), None);
    }
}
