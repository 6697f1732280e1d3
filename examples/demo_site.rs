//! The demo external site: a terms-of-service page in the middle of a login.
//!
//! Detour's `terms` Action sends the browser to
//! `/terms?session_token=…&state=…`. The site verifies the `session_token`
//! (HS256 with the secret it shares with the Action, unexpired, `sub`
//! present) and shows the terms. "Accept" or "Decline" posts to `/decision`,
//! which verifies the token again, signs a token of its own (`sub`, `iss`,
//! `iat`, `exp`, the `state` of this login, `tos_accepted`, `terms_version`,
//! `accepted_at`) and sends the browser back to Detour by an auto-submitted
//! `POST {DETOUR_PUBLIC_URL}/continue` with `state` and `session_token`.
//!
//! Settings (environment):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `DEMO_SITE_LISTEN` | `127.0.0.1:8082` | socket address to bind |
//! | `DEMO_SITE_URL` | `http://localhost:8082` | this site's URL (the `iss` of its tokens) |
//! | `DETOUR_PUBLIC_URL` | `http://localhost:8080` | Detour as the browser reaches it |
//! | `DEMO_TOS_SECRET` | `demo-tos-secret` | HS256 key shared with the terms Action |
//!
//! Run: `cargo run --example demo_site` (scripts/local-stack.sh starts it
//! with the rest of the stack).

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{App, HttpResponse, HttpServer, web};
use askama::Template;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// How long the token sent back to Detour is valid: one browser hop.
const RETURN_TOKEN_TTL_SECS: u64 = 120;

struct Settings {
    listen: String,
    public_url: String,
    detour_public_url: String,
    tos_secret: String,
}

impl Settings {
    fn from_env() -> Settings {
        let setting = |name: &str, default: &str| {
            std::env::var(name)
                .unwrap_or_else(|_| default.to_owned())
                .trim_end_matches('/')
                .to_owned()
        };
        let tos_secret = std::env::var("DEMO_TOS_SECRET").unwrap_or_else(|_| {
            eprintln!("demo_site: DEMO_TOS_SECRET is not set, using the demo value");
            "demo-tos-secret".to_owned()
        });
        Settings {
            listen: setting("DEMO_SITE_LISTEN", "127.0.0.1:8082"),
            public_url: setting("DEMO_SITE_URL", "http://localhost:8082"),
            detour_public_url: setting("DETOUR_PUBLIC_URL", "http://localhost:8080"),
            tos_secret,
        }
    }
}

#[derive(Template)]
#[template(path = "../examples/demo/templates/site_home.html")]
struct HomePage;

#[derive(Template)]
#[template(path = "../examples/demo/templates/site_terms.html")]
struct TermsPage<'a> {
    name: &'a str,
    email: &'a str,
    sub: &'a str,
    iss: &'a str,
    exp: i64,
    terms_version: &'a str,
    state: &'a str,
    session_token: &'a str,
}

#[derive(Template)]
#[template(path = "../examples/demo/templates/site_return.html")]
struct ReturnPage<'a> {
    continue_url: &'a str,
    state: &'a str,
    session_token: &'a str,
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

fn error_page(heading: &str, message: &str, detail: &str) -> HttpResponse {
    let page = ErrorPage {
        party: "Demo external site (terms of service)",
        heading,
        message,
        detail,
        back: "/",
    };
    html(StatusCode::BAD_REQUEST, page.render())
}

/// The incoming `session_token` and the `state` of the login it belongs to.
#[derive(Deserialize)]
struct Detour {
    session_token: Option<String>,
    state: Option<String>,
    decision: Option<String>,
}

/// Verifies Detour's session token: HS256 with the shared secret,
/// unexpired, with a subject. Returns the claims or the reason.
fn verify(token: &str, secret: &str) -> Result<Map<String, Value>, String> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "sub"]);
    jsonwebtoken::decode::<Map<String, Value>>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map(|data| data.claims)
    .map_err(|e| e.to_string())
}

/// Both parameters, when the request has them.
fn params(query: &Detour) -> Option<(&str, &str)> {
    match (query.session_token.as_deref(), query.state.as_deref()) {
        (Some(token), Some(state)) if !token.is_empty() && !state.is_empty() => {
            Some((token, state))
        }
        _ => None,
    }
}

fn missing_params() -> HttpResponse {
    error_page(
        "This page is part of a login",
        "It needs the session_token and state that Detour adds to the link.",
        "",
    )
}

async fn home() -> HttpResponse {
    html(StatusCode::OK, HomePage.render())
}

async fn terms(settings: web::Data<Settings>, query: web::Query<Detour>) -> HttpResponse {
    let Some((token, state)) = params(&query) else {
        return missing_params();
    };
    let claims = match verify(token, &settings.tos_secret) {
        Ok(claims) => claims,
        Err(reason) => {
            return error_page(
                "The session token is not valid",
                "Start the login again.",
                &reason,
            );
        }
    };
    let text = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or("");
    let page = TermsPage {
        name: text("name"),
        email: text("email"),
        sub: text("sub"),
        iss: text("iss"),
        exp: claims.get("exp").and_then(Value::as_i64).unwrap_or(0),
        terms_version: text("terms_version"),
        state,
        session_token: token,
    };
    html(StatusCode::OK, page.render())
}

async fn decision(settings: web::Data<Settings>, form: web::Form<Detour>) -> HttpResponse {
    let Some((token, state)) = params(&form) else {
        return missing_params();
    };
    let incoming = match verify(token, &settings.tos_secret) {
        Ok(claims) => claims,
        Err(reason) => {
            return error_page(
                "The session token is not valid",
                "It may have expired while the terms were open. Start the login again.",
                &reason,
            );
        }
    };
    let accepted = match form.decision.as_deref() {
        Some("accept") => true,
        Some("decline") => false,
        _ => return error_page("No decision", "Choose Accept or Decline.", ""),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut claims = json!({
        "sub": incoming.get("sub").cloned().unwrap_or(Value::Null),
        "iss": settings.public_url,
        "iat": now,
        "exp": now + RETURN_TOKEN_TTL_SECS,
        "state": state,
        "tos_accepted": accepted,
        "terms_version": incoming.get("terms_version").cloned().unwrap_or(Value::Null),
    });
    if accepted {
        claims["accepted_at"] = now.into();
    }
    let signed = match jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(settings.tos_secret.as_bytes()),
    ) {
        Ok(signed) => signed,
        Err(e) => {
            return HttpResponse::InternalServerError().body(format!("cannot sign: {e}"));
        }
    };
    let continue_url = format!(
        "{}/continue",
        settings.detour_public_url.trim_end_matches('/')
    );
    let page = ReturnPage {
        continue_url: &continue_url,
        state,
        session_token: &signed,
    };
    html(StatusCode::OK, page.render())
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let settings = Settings::from_env();
    let listen = settings.listen.clone();
    println!(
        "demo site on {} ({}); sends the browser back to {}/continue",
        listen, settings.public_url, settings.detour_public_url
    );
    let settings = web::Data::new(settings);
    HttpServer::new(move || {
        App::new()
            .app_data(settings.clone())
            .route("/", web::get().to(home))
            .route("/terms", web::get().to(terms))
            .route("/decision", web::post().to(decision))
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
