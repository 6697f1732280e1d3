//! The demo upstream: a stand-in for the identity provider that calls Detour.
//!
//! Its root page is the one URL a person opens. "Log in" authenticates a
//! fake user, sends the Auth0-shaped post-login event to Detour's
//! `POST /v1/post-login` (server to server, bearer API key) with `return_to`
//! = this app's `/callback`, and follows the answer: a `redirect` sends the
//! browser on the detour, an `allow` or `deny` is shown at once. At
//! `/callback` the result token is verified (HS256 with the result secret,
//! `aud` = the upstream id, `iss` = Detour's public URL, unexpired, unused
//! `jti`, `transaction_id` = this browser's login) and its outcome, claims
//! and metadata are shown. The token came through the browser, so it
//! carries no console output or error text; this upstream has
//! `result_details = "back_channel"` in Detour's config and fetches them
//! once, with its API key, from `POST /v1/result-details`. Metadata changes
//! are applied to the fake user, as a real identity provider would, so a
//! second login skips the terms.
//!
//! Settings (environment):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `DEMO_UPSTREAM_LISTEN` | `127.0.0.1:8081` | socket address to bind |
//! | `DEMO_UPSTREAM_URL` | `http://localhost:8081` | this app's URL as the browser reaches it |
//! | `DEMO_UPSTREAM_ID` | `demo-upstream` | the upstream id in Detour's config (`aud`) |
//! | `DETOUR_API_URL` | `http://127.0.0.1:8080` | Detour, as this server reaches it |
//! | `DETOUR_PUBLIC_URL` | `http://localhost:8080` | Detour's public URL (`iss` of results) |
//! | `DEMO_API_KEY` | `demo-api-key` | bearer key for `POST /v1/post-login` |
//! | `DEMO_RESULT_SECRET` | `demo-result-secret-for-laptops-only` | HS256 key of result tokens |
//!
//! Run: `cargo run --example demo_upstream` (scripts/local-stack.sh starts
//! it with the rest of the stack).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header::{self, ContentType};
use actix_web::http::{Method, StatusCode};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use askama::Template;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The cookie that binds a login to the browser that started it.
const TX_COOKIE: &str = "demo_upstream_tx";

struct Settings {
    listen: String,
    public_url: String,
    upstream_id: String,
    detour_api_url: String,
    detour_public_url: String,
    api_key: String,
    result_secret: String,
}

impl Settings {
    fn from_env() -> Settings {
        Settings {
            listen: setting("DEMO_UPSTREAM_LISTEN", "127.0.0.1:8081"),
            public_url: base_url(setting("DEMO_UPSTREAM_URL", "http://localhost:8081")),
            upstream_id: setting("DEMO_UPSTREAM_ID", "demo-upstream"),
            detour_api_url: base_url(setting("DETOUR_API_URL", "http://127.0.0.1:8080")),
            detour_public_url: base_url(setting("DETOUR_PUBLIC_URL", "http://localhost:8080")),
            api_key: secret("DEMO_API_KEY", "demo-api-key"),
            result_secret: secret("DEMO_RESULT_SECRET", "demo-result-secret-for-laptops-only"),
        }
    }

    fn callback_url(&self) -> String {
        format!("{}/callback", self.public_url)
    }
}

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn secret(name: &str, demo_value: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        eprintln!("demo_upstream: {name} is not set, using the demo value {demo_value:?}");
        demo_value.to_owned()
    })
}

fn base_url(url: String) -> String {
    url.trim_end_matches('/').to_owned()
}

/// The fake user this identity provider "authenticates".
#[derive(Clone)]
struct DemoUser {
    user_id: String,
    email: String,
    name: String,
    given_name: String,
    family_name: String,
    roles: Vec<String>,
    logins_count: u64,
    app_metadata: Map<String, Value>,
    user_metadata: Map<String, Value>,
}

impl DemoUser {
    fn jane() -> DemoUser {
        DemoUser {
            user_id: "auth0|demo-jane".into(),
            email: "jane@yourcompany.com".into(),
            name: "Jane Doe".into(),
            given_name: "Jane".into(),
            family_name: "Doe".into(),
            roles: vec!["admin".into(), "editor".into()],
            logins_count: 0,
            app_metadata: Map::new(),
            user_metadata: Map::new(),
        }
    }

    /// The `event.user` of the post-login event.
    fn event_user(&self) -> Value {
        json!({
            "user_id": self.user_id,
            "email": self.email,
            "email_verified": true,
            "name": self.name,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "nickname": self.given_name.to_lowercase(),
            "created_at": "2024-02-01T10:00:00.000Z",
            "updated_at": "2025-06-01T08:30:00.000Z",
            "app_metadata": self.app_metadata,
            "user_metadata": self.user_metadata,
            "identities": [{
                "connection": "Username-Password-Authentication",
                "provider": "auth0",
                "user_id": self.user_id.trim_start_matches("auth0|"),
                "isSocial": false
            }]
        })
    }

    /// Applies an outcome's `user` field: per top-level key, `null` deletes.
    fn apply(&mut self, outcome: &Value) {
        let Some(user) = outcome.get("user") else {
            return;
        };
        for (field, target) in [
            ("app_metadata", &mut self.app_metadata),
            ("user_metadata", &mut self.user_metadata),
        ] {
            let Some(changes) = user.get(field).and_then(Value::as_object) else {
                continue;
            };
            for (key, value) in changes {
                if value.is_null() {
                    target.remove(key);
                } else {
                    target.insert(key.clone(), value.clone());
                }
            }
        }
    }
}

struct AppData {
    settings: Settings,
    http: reqwest::Client,
    user: Mutex<DemoUser>,
    used_jti: Mutex<HashSet<String>>,
}

impl AppData {
    fn user(&self) -> std::sync::MutexGuard<'_, DemoUser> {
        self.user.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Template)]
#[template(path = "../examples/demo/templates/upstream_login.html")]
struct LoginPage<'a> {
    user: &'a DemoUser,
    app_metadata: String,
    user_metadata: String,
    detour_api_url: &'a str,
}

#[derive(Template)]
#[template(path = "../examples/demo/templates/upstream_result.html")]
struct ResultPage {
    outcome: String,
    error: String,
    error_description: String,
    provenance: String,
    id_token_claims: Vec<(String, String)>,
    access_token_claims: Vec<(String, String)>,
    metadata_changes: Vec<(String, String)>,
    executions: Vec<(String, String)>,
    payload: String,
}

#[derive(Template)]
#[template(path = "../examples/demo/templates/error.html")]
struct ErrorPage<'a> {
    party: &'a str,
    heading: &'a str,
    message: &'a str,
    detail: &'a str,
    back: &'a str,
}

fn html(status: StatusCode, page: Result<String, askama::Error>) -> HttpResponse {
    match page {
        Ok(body) => HttpResponse::build(status)
            .content_type(ContentType::html())
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body),
        Err(e) => HttpResponse::InternalServerError().body(format!("template error: {e}")),
    }
}

fn error_page(status: StatusCode, heading: &str, message: &str, detail: &str) -> HttpResponse {
    let page = ErrorPage {
        party: "Demo upstream (your identity provider)",
        heading,
        message,
        detail,
        back: "/",
    };
    html(status, page.render())
}

async fn index(data: web::Data<AppData>) -> HttpResponse {
    let user = data.user().clone();
    let page = LoginPage {
        user: &user,
        app_metadata: Value::Object(user.app_metadata.clone()).to_string(),
        user_metadata: Value::Object(user.user_metadata.clone()).to_string(),
        detour_api_url: &data.settings.detour_api_url,
    };
    html(StatusCode::OK, page.render())
}

async fn reset(data: web::Data<AppData>) -> HttpResponse {
    *data.user() = DemoUser::jane();
    see_other("/")
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// The post-login event for this browser's login, as Auth0 would build it.
fn login_event(req: &HttpRequest, user: &DemoUser, transaction_id: &str, callback: &str) -> Value {
    let header = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let info = req.connection_info().clone();
    let hostname = info.host().split(':').next().unwrap_or("").to_owned();
    let language = header(header::ACCEPT_LANGUAGE)
        .split([',', ';'])
        .next()
        .unwrap_or("")
        .trim()
        .to_owned();
    let now = now_secs();
    json!({
        "user": user.event_user(),
        "client": { "client_id": "demo-client-7QmZ", "name": "Demo web app", "metadata": {} },
        "connection": { "id": "con_demo", "name": "Username-Password-Authentication",
                        "strategy": "auth0", "metadata": {} },
        "request": {
            "ip": req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default(),
            "method": "POST",
            "hostname": hostname,
            "user_agent": header(header::USER_AGENT),
            "language": language,
            "query": {},
            "body": {}
        },
        "transaction": {
            "id": transaction_id,
            "protocol": "oidc-basic-profile",
            "requested_scopes": ["openid", "profile", "email"],
            "redirect_uri": callback,
            "metadata": {}
        },
        "authorization": { "roles": user.roles },
        "authentication": { "methods": [ { "name": "pwd", "timestamp": iso_timestamp(now) } ] },
        "stats": { "logins_count": user.logins_count },
        "tenant": { "id": "demo" },
        "secrets": {},
        "configuration": {}
    })
}

async fn login(req: HttpRequest, data: web::Data<AppData>) -> HttpResponse {
    let settings = &data.settings;
    let transaction_id = uuid::Uuid::new_v4().to_string();
    let callback = settings.callback_url();
    let event = {
        let mut user = data.user();
        user.logins_count += 1;
        login_event(&req, &user, &transaction_id, &callback)
    };
    let endpoint = format!("{}/v1/post-login", settings.detour_api_url);
    let response = data
        .http
        .post(&endpoint)
        .bearer_auth(&settings.api_key)
        .json(&json!({ "event": event, "return_to": callback, "transaction_id": transaction_id }))
        .send()
        .await;
    let response = match response {
        Ok(response) => response,
        Err(e) => {
            return error_page(
                StatusCode::BAD_GATEWAY,
                "Detour is not reachable",
                &format!("POST {endpoint} failed."),
                &e.to_string(),
            );
        }
    };
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let answer: Value = match serde_json::from_str(&body) {
        Ok(answer) if status.is_success() => answer,
        _ => {
            return error_page(
                StatusCode::BAD_GATEWAY,
                "Detour refused the login",
                &format!("POST {endpoint} answered {status}."),
                &body,
            );
        }
    };
    match answer.get("outcome").and_then(Value::as_str) {
        Some("redirect") => {
            let Some(location) = answer.get("location").and_then(Value::as_str) else {
                return error_page(
                    StatusCode::BAD_GATEWAY,
                    "Detour answered a redirect without a location",
                    "The answer of POST /v1/post-login is not usable.",
                    &body,
                );
            };
            let cookie = Cookie::build(TX_COOKIE, transaction_id)
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .finish();
            HttpResponse::SeeOther()
                .cookie(cookie)
                .insert_header((header::LOCATION, location))
                .finish()
        }
        Some(_) => {
            data.user().apply(&answer);
            result_page(
                &answer,
                "Detour answered POST /v1/post-login at once (no Action redirected), \
                 so this outcome came server to server, without a result token.",
            )
        }
        None => error_page(
            StatusCode::BAD_GATEWAY,
            "Detour's answer has no outcome",
            "The answer of POST /v1/post-login is not usable.",
            &body,
        ),
    }
}

#[derive(Deserialize)]
struct CallbackParams {
    result: Option<String>,
}

/// `GET /callback?result=…` (a redirect) or `POST /callback` with a `result`
/// form field (Detour's auto-submitting page, for long results).
async fn callback(req: HttpRequest, data: web::Data<AppData>, body: web::Bytes) -> HttpResponse {
    let params: Result<CallbackParams, _> = if req.method() == Method::POST {
        serde_urlencoded::from_bytes(&body)
    } else {
        serde_urlencoded::from_str(req.query_string())
    };
    let Some(token) = params.ok().and_then(|p| p.result) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "No result",
            "The callback expects a result token from Detour in the `result` parameter.",
            "",
        );
    };
    let settings = &data.settings;
    // The check every upstream makes: HS256 with its result secret,
    // unexpired, aud = its id, iss = Detour's public URL.
    let audience = detour::token::result::Audience {
        issuer: &settings.detour_public_url,
        upstream: &settings.upstream_id,
        transaction_id: None,
    };
    let claims =
        match detour::token::result::verify(&token, settings.result_secret.as_bytes(), &audience) {
            Ok(claims) => Value::Object(claims),
            Err(e) => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "The result token is not valid",
                    &format!(
                        "Expected HS256 with the result secret, aud {:?}, iss {:?}, unexpired.",
                        settings.upstream_id, settings.detour_public_url
                    ),
                    &detour::telemetry::chain(&e).to_string(),
                );
            }
        };
    let expected_tx = req.cookie(TX_COOKIE).map(|c| c.value().to_owned());
    let token_tx = claims.get("transaction_id").and_then(Value::as_str);
    if expected_tx.is_none() || token_tx != expected_tx.as_deref() {
        return error_page(
            StatusCode::BAD_REQUEST,
            "This result is not for this browser",
            "The result's transaction_id is not a login this browser started here \
             (or the result was already used).",
            &format!("result: {token_tx:?}, this browser: {expected_tx:?}"),
        );
    }
    let jti = claims.get("jti").and_then(Value::as_str).unwrap_or("");
    let fresh = data
        .used_jti
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(jti.to_owned());
    if !fresh {
        return error_page(
            StatusCode::BAD_REQUEST,
            "This result was already used",
            "A result token is good for one login only (its jti was seen before).",
            "",
        );
    }
    data.user().apply(&claims);
    let shown = with_result_details(&data, claims.clone(), jti).await;
    let mut response = result_page(
        &shown,
        &format!(
            "Verified result token from Detour: HS256, iss {}, aud {}, transaction {}.",
            settings.detour_public_url,
            settings.upstream_id,
            token_tx.unwrap_or("")
        ),
    );
    let mut expired = Cookie::new(TX_COOKIE, "");
    expired.set_path("/");
    let _ = response.add_removal_cookie(&expired);
    response
}

/// Fills in what the result token left out (console output, error text)
/// from Detour's back channel, server to server. The token stands on its
/// own: if the details cannot be fetched, the page shows it without them.
async fn with_result_details(data: &AppData, mut claims: Value, jti: &str) -> Value {
    let settings = &data.settings;
    let endpoint = format!("{}/v1/result-details", settings.detour_api_url);
    let response = data
        .http
        .post(&endpoint)
        .bearer_auth(&settings.api_key)
        .json(&json!({ "jti": jti }))
        .send()
        .await;
    let details: Option<Value> = match response {
        Ok(response) if response.status().is_success() => response.json().await.ok(),
        _ => None,
    };
    if let (Some(details), Some(claims)) = (details, claims.as_object_mut()) {
        for key in ["executions", "error_description"] {
            if let Some(value) = details.get(key) {
                claims.insert(key.to_owned(), value.clone());
            }
        }
    }
    claims
}

fn rows(value: Option<&Value>) -> Vec<(String, String)> {
    value
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn result_page(outcome: &Value, provenance: &str) -> HttpResponse {
    let text = |key: &str| {
        outcome
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let mut metadata_changes = Vec::new();
    for field in ["app_metadata", "user_metadata"] {
        for (key, value) in rows(outcome.get("user").and_then(|u| u.get(field))) {
            metadata_changes.push((format!("{field}.{key}"), value));
        }
    }
    let executions = outcome
        .get("executions")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|run| {
                    let field = |k: &str| run.get(k).cloned().unwrap_or(Value::Null);
                    let mut what = format!("{} ms", field("duration_ms"));
                    if let Some(error) = run.get("error").filter(|e| !e.is_null()) {
                        what.push_str(&format!(", error {error}"));
                    }
                    if let Some(logs) = run.get("logs").and_then(Value::as_array)
                        && !logs.is_empty()
                    {
                        what.push_str(&format!(", logs {}", Value::Array(logs.clone())));
                    }
                    let name = format!(
                        "{} {}",
                        field("action").as_str().unwrap_or("?"),
                        field("handler").as_str().unwrap_or("?")
                    );
                    (name, what)
                })
                .collect()
        })
        .unwrap_or_default();
    let page = ResultPage {
        outcome: text("outcome"),
        error: text("error"),
        error_description: text("error_description"),
        provenance: provenance.to_owned(),
        id_token_claims: rows(outcome.get("id_token").and_then(|t| t.get("claims"))),
        access_token_claims: rows(outcome.get("access_token").and_then(|t| t.get("claims"))),
        metadata_changes,
        executions,
        payload: serde_json::to_string_pretty(outcome).unwrap_or_default(),
    };
    html(StatusCode::OK, page.render())
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SS.000Z` for a Unix time (UTC; civil-from-days).
fn iso_timestamp(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let settings = Settings::from_env();
    let listen = settings.listen.clone();
    println!(
        "demo upstream on {} (open {}); Detour at {}, upstream id {:?}, callback {}",
        listen,
        settings.public_url,
        settings.detour_api_url,
        settings.upstream_id,
        settings.callback_url()
    );
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(std::io::Error::other)?;
    let data = web::Data::new(AppData {
        settings,
        http,
        user: Mutex::new(DemoUser::jane()),
        used_jti: Mutex::new(HashSet::new()),
    });
    HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/", web::get().to(index))
            .route("/login", web::post().to(login))
            .route("/reset", web::post().to(reset))
            .route("/callback", web::get().to(callback))
            .route("/callback", web::post().to(callback))
            .route(
                "/healthz",
                web::get().to(|| async { HttpResponse::Ok().body("ok") }),
            )
    })
    .workers(2)
    .bind(&listen)?
    .run()
    .await
}
