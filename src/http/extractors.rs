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
    serde_json::from_slice(body)
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
        hostname: header_str(header::HOST).and_then(|h| {
            // `event.request.hostname` is a host name, without the port.
            url::Url::parse(&format!("http://{h}"))
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
        }),
        user_agent: header_str(header::USER_AGENT),
        language: header_str(header::ACCEPT_LANGUAGE).and_then(|l| {
            l.split([',', ';'])
                .next()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        }),
    })
}
