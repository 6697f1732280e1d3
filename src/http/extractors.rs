//! Request-side plumbing: upstream authentication, and the parsing of
//! `/continue` parameters.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::error::JsonPayloadError;
use actix_web::http::header;
use actix_web::http::header::{ContentLength, Header as _};
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, web};
use futures_util::StreamExt as _;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::{ApiError, Audience, ErrorCode};

use crate::config::Upstream;
use crate::pipeline::event::ContinueRequest;
use crate::startup::AppState;

/// The upstream that called, authenticated by its bearer API key.
pub struct UpstreamAuth(pub Upstream);

impl FromRequest for UpstreamAuth {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<UpstreamAuth, ApiError> {
    let unauthorized = || ApiError::api(ErrorCode::InvalidClient, "a valid API key is required");
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::api(ErrorCode::ServerError, "state missing"))?;
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(unauthorized)?;
    let pipeline = state.pipeline.load();
    pipeline
        .upstream_by_key(presented.trim())
        .cloned()
        .map(UpstreamAuth)
        .ok_or_else(unauthorized)
}

/// actix's `Json` extractor for the API's bodies: `application/json`, at
/// most `limit` bytes, and its errors in the API's own shape (415, 413,
/// 400). Registered per resource, since each has its own limit.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |e, _req| json_error(e, limit).into())
}

fn json_error(e: JsonPayloadError, limit: usize) -> ApiError {
    match e {
        JsonPayloadError::ContentType => ApiError::api(
            ErrorCode::UnsupportedMediaType,
            "the body must be application/json",
        ),
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::api(
                ErrorCode::PayloadTooLarge,
                format!("the body is larger than {limit} bytes"),
            )
        }
        JsonPayloadError::Deserialize(e) => ApiError::api(
            ErrorCode::InvalidRequest,
            format!("the body is not a valid request: {e}"),
        ),
        other => ApiError::api(
            ErrorCode::InvalidRequest,
            format!("cannot read the body: {other}"),
        ),
    }
}

/// Reads a JSON request body as actix's `Json` extractor does (its
/// content-type rule, `limit`, the same errors as [`json_config`]), and
/// leaves the parsing to [`parse_json`], so a route can choose what to
/// parse it into.
pub async fn read_json(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::BytesMut, ApiError> {
    let is_json = matches!(req.mime_type(), Ok(Some(mime))
        if mime.subtype() == actix_web::mime::JSON || mime.suffix() == Some(actix_web::mime::JSON));
    if !is_json {
        return Err(json_failed(req, JsonPayloadError::ContentType, limit));
    }
    if let Ok(ContentLength(length)) = ContentLength::parse(req)
        && length > limit
    {
        let e = JsonPayloadError::OverflowKnownLength { length, limit };
        return Err(json_failed(req, e, limit));
    }
    let mut body = web::BytesMut::with_capacity(8192);
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| json_failed(req, JsonPayloadError::Payload(e), limit))?;
        if body.len() + chunk.len() > limit {
            return Err(json_failed(
                req,
                JsonPayloadError::Overflow { limit },
                limit,
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses a body read by [`read_json`], refused as [`json_config`] refuses
/// one that does not parse.
pub fn parse_json<T: DeserializeOwned>(
    req: &HttpRequest,
    body: &[u8],
    limit: usize,
) -> Result<T, ApiError> {
    crate::domain::json_from_bytes(body)
        .map_err(|e| json_failed(req, JsonPayloadError::Deserialize(e), limit))
}

fn json_failed(req: &HttpRequest, e: JsonPayloadError, limit: usize) -> ApiError {
    // actix's own debug line for a refused JSON body.
    tracing::debug!(
        "Failed to deserialize Json from payload. Request path: {}",
        req.path()
    );
    json_error(e, limit)
}

/// Reads a request body up to `limit` bytes; a larger body is refused with
/// `413` in Detour's error shape for `audience` (actix's own limit answers
/// in plain text).
pub async fn read_body(
    payload: web::Payload,
    limit: usize,
    audience: Audience,
) -> Result<web::Bytes, ApiError> {
    match payload.to_bytes_limited(limit).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(e)) => Err(ApiError::for_audience(
            audience,
            ErrorCode::InvalidRequest,
            format!("cannot read the body: {e}"),
        )),
        Err(_) => Err(ApiError::for_audience(
            audience,
            ErrorCode::PayloadTooLarge,
            format!("the body is larger than {limit} bytes"),
        )),
    }
}

/// Parses `a=1&b=2` into an object. Duplicated names are refused: which
/// one an Action (or Detour) would read is ambiguous, and ambiguity in a
/// login request is an attack surface.
pub fn parse_params(
    req: &HttpRequest,
    raw: &[u8],
    what: &str,
) -> Result<Map<String, Value>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(raw).map_err(|_| {
        ApiError::browser(
            req,
            ErrorCode::InvalidRequest,
            format!("the {what} is not valid URL encoding"),
        )
    })?;
    let mut map = Map::new();
    for (k, v) in pairs {
        if map.contains_key(&k) {
            return Err(ApiError::browser(
                req,
                ErrorCode::InvalidRequest,
                format!("the parameter `{k}` appears more than once"),
            ));
        }
        map.insert(k, Value::String(v));
    }
    Ok(map)
}

/// Builds the pipeline's view of a `/continue` request.
pub fn continue_request(req: &HttpRequest, body: &[u8]) -> Result<ContinueRequest, ApiError> {
    let query = parse_params(req, req.query_string().as_bytes(), "query string")?;
    let body = if body.is_empty() {
        Map::new()
    } else {
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !form {
            return Err(ApiError::browser(
                req,
                ErrorCode::UnsupportedMediaType,
                "/continue accepts application/x-www-form-urlencoded bodies only",
            ));
        }
        parse_params(req, body, "form body")?
    };
    // The body wins, as for validateToken (docs/auth0-compatibility.md#session-tokens-encodetoken--validatetoken).
    let state = body
        .get("state")
        .or_else(|| query.get("state"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let header_str = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let cookies = req
        .cookies()
        .map(|jar| {
            jar.iter()
                .filter(|c| c.name().starts_with("detour_b_"))
                .map(|c| (c.name().to_owned(), c.value().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    Ok(ContinueRequest {
        cookies,
        state,
        method: req.method().as_str().to_owned(),
        query,
        body,
        ip: req
            .peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default(),
        hostname: req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .and_then(host_name),
        user_agent: header_str(header::USER_AGENT),
        language: header_str(header::ACCEPT_LANGUAGE).and_then(|l| {
            l.split([',', ';'])
                .next()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        }),
    })
}

/// `event.request.hostname`: the `Host` header's host, without the port,
/// as a URL parser reads `http://<Host>` (lowercased, IPv4 forms and
/// international names normalized; nothing when it does not parse).
fn host_name(host: &str) -> Option<String> {
    match plain_host(host) {
        Some(name) => Some(name.to_ascii_lowercase()),
        None => url::Url::parse(&format!("http://{host}"))
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned)),
    }
}

/// The name part of a `Host` header the URL parser would only lowercase:
/// ASCII letters, digits and hyphens in non-empty dot-separated labels
/// (none `xn--`), whose last label is not a number (or the whole name is a
/// dotted quad already in its canonical form), and a valid port if any.
/// `None` sends the header through the URL parser instead.
fn plain_host(host: &str) -> Option<&str> {
    let (name, port) = host.split_once(':').unwrap_or((host, ""));
    let port_ok = port.is_empty()
        || (port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok());
    let chars_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if !port_ok || !chars_ok {
        return None;
    }
    let mut labels = name.split('.');
    if labels
        .clone()
        .any(|l| l.is_empty() || l.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--")))
    {
        return None;
    }
    let last = labels.next_back()?;
    let hex = last.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x"))
        && last[2..].bytes().all(|b| b.is_ascii_hexdigit());
    let numeric = hex || last.bytes().all(|b| b.is_ascii_digit());
    if !numeric {
        return Some(name);
    }
    let canonical_quad = name.split('.').count() == 4
        && name.split('.').all(|part| {
            part.bytes().all(|b| b.is_ascii_digit())
                && (part == "0" || !part.starts_with('0'))
                && part.parse::<u8>().is_ok()
        });
    canonical_quad.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::host_name;
    use proptest::prelude::*;

    fn by_url(host: &str) -> Option<String> {
        url::Url::parse(&format!("http://{host}"))
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
    }

    #[test]
    fn the_hostname_is_the_url_parsers_host() {
        for host in [
            "login.example.org",
            "Login.Example.ORG:8443",
            "127.0.0.1:8080",
            "127.0.0.01",
            "0x7f.1",
            "1.2.3",
            "256.1.1.1",
            "a.0x10",
            "example.com.",
            "a..b",
            "xn--nxasmq6b.example",
            "XN--abc",
            "host:",
            "host:65536",
            "host:0080",
            "host:8a",
            "a-.b",
            "-a.b",
            "[::1]:8080",
            "münchen.de",
            "a_b.example",
            "",
        ] {
            assert_eq!(host_name(host), by_url(host), "{host:?}");
        }
    }

    proptest! {
        #[test]
        fn any_host_reads_as_the_url_parser_reads_it(host in "[a-fA-Zx0-9.:-]{0,12}|(xn--)?[a-z0-9]{1,4}(\\.[0-9a-fx]{1,4}){0,4}(:[0-9]{0,6})?") {
            prop_assert_eq!(host_name(&host), by_url(&host), "{:?}", host);
        }
    }
}
