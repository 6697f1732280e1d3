//! The floors: a JavaScript-free server the real routes are measured
//! against, built here over Detour's public library so nothing bench-only
//! ships in the product. `scripts/bench.sh` starts it as its own process
//! (`load floor <config.toml>`, listening on `DETOUR_SERVER__LISTEN`), so
//! its CPU and memory are measured apart from the load generator.
//!
//! It does the work of `/v1/post-login` and `/continue` that is not the
//! engine's: the API key check, the JSON body, the event's normalization,
//! the session and result tokens, and the store calls on the real
//! suspended-login record ([`SuspendedLogin`]), with the Actions' effects
//! applied in Rust through the real [`Mutations`]:
//!
//! - `POST /floor/post-login`: what `roles-claims`, `block-by-domain` and
//!   the bench's `set-metadata` do, answered as the allow outcome. With
//!   `?mode=redirect`, what `favorite-color` does: sign its session token,
//!   save the suspended login under a fresh state (`SET NX EX`), answer the
//!   redirect outcome.
//! - `POST /floor/continue`: take that record (`GETDEL`), validate the
//!   session token, write the metadata, sign the result token and answer
//!   the `302` to `return_to`.

use std::path::Path;

use actix_web::http::header;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use detour::config::{Settings, Upstream};
use detour::domain::state::StateParam;
use detour::engine::Command;
use detour::http::MAX_EVENT_BYTES;
use detour::pipeline::PostLoginRequest;
use detour::pipeline::event::{ContinueRequest, Event, apply_continue_request, normalize};
use detour::pipeline::mutations::Mutations;
use detour::pipeline::outcome::{DenyCode, Detail, ExecutionRecord, Outcome};
use detour::pipeline::transaction::{RECORD_VERSION, SuspendedLogin};
use detour::store::{RedisStore, Store};
use detour::token::{self, session};

use crate::BoxError;

const ROLES_CLAIM: &str = "https://my-app.example.com/roles";
const ALLOWED_DOMAINS: &[&str] = &["yourcompany.com", "partnercompany.com"];
const EXTERNAL_SITE: &str = "https://my-app.example.com";
const SECRET_NAME: &str = "MY_SHARED_SECRET";
const EXECUTE: &str = "onExecutePostLogin";
const CONTINUE: &str = "onContinuePostLogin";

/// What the floor's handlers share.
struct Floor {
    settings: Settings,
    store: Store,
    /// SHA-256 of each upstream's API key, as the pipeline keeps them.
    key_digests: Vec<[u8; 32]>,
}

/// Serves the floor routes for the config at `path` until killed.
pub fn serve(path: &Path) -> Result<(), BoxError> {
    let env = |name: &str| std::env::var(name).ok();
    let settings = Settings::from_file(path, &env)?;
    let url = settings
        .store
        .redis_url
        .clone()
        .ok_or("the floor measures the Redis store: set store.redis_url")?;
    let key_digests = settings
        .upstreams
        .iter()
        .map(|u| Sha256::digest(u.api_key.expose_secret().as_bytes()).into())
        .collect();
    let listen = settings.server.listen.clone();
    // The runtime the `detour` binary serves on (`#[tokio::main]`), so the
    // Redis connection's driver runs where it runs there.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let store = Store::Redis(RedisStore::connect(&url)?);
        let floor = web::Data::new(Floor {
            settings,
            store,
            key_digests,
        });
        HttpServer::new(move || {
            App::new()
                .app_data(floor.clone())
                .app_data(web::JsonConfig::default().limit(MAX_EVENT_BYTES))
                .route("/floor/post-login", web::post().to(post_login))
                .route("/floor/continue", web::post().to(resume))
                .route("/readyz", web::get().to(HttpResponse::Ok))
        })
        .bind(listen.as_str())?
        .run()
        .await?;
        Ok(())
    })
}

/// The upstream whose API key the request presents (digests compared in
/// constant time, every upstream checked, as the pipeline does).
fn upstream<'a>(floor: &'a Floor, req: &HttpRequest) -> Option<&'a Upstream> {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    let presented: [u8; 32] = Sha256::digest(presented.trim().as_bytes()).into();
    let mut found = None;
    for (upstream, digest) in floor.settings.upstreams.iter().zip(&floor.key_digests) {
        if bool::from(digest.ct_eq(&presented)) {
            found = Some(upstream);
        }
    }
    found
}

fn refused(status: u16, error: &str, description: impl Into<String>) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"error": error, "error_description": description.into()}))
}

/// The floor of `POST /v1/post-login`.
async fn post_login(
    req: HttpRequest,
    floor: web::Data<Floor>,
    web::Json(request): web::Json<PostLoginRequest>,
) -> HttpResponse {
    let Some(upstream) = upstream(&floor, &req) else {
        return refused(401, "invalid_client", "a valid API key is required");
    };
    if !upstream.return_to.contains(&request.return_to) {
        return refused(400, "invalid_request", "return_to is not registered");
    }
    let mut event = request.event;
    let hostname = floor.settings.server.public_url.host_str().unwrap_or("");
    if let Err(e) = normalize(&mut event, hostname) {
        return refused(400, "invalid_request", e.to_string());
    }
    let outcome = if req.query_string() == "mode=redirect" {
        let action = &floor.settings.actions[0];
        let record = SuspendedLogin {
            v: RECORD_VERSION,
            upstream: upstream.id.clone(),
            return_to: request.return_to,
            transaction_id: request.transaction_id,
            action: 0,
            action_name: action.name.clone(),
            action_hash: action.entry.hash.clone(),
            login_id: uuid::Uuid::new_v4().to_string(),
            redirects: 0,
            created_at: token::now_secs(),
            event,
            mutations: Mutations::default(),
            executions: vec![execution(&action.name, EXECUTE)],
            bound: false,
            external_location: None,
        };
        match suspend(&floor, record).await {
            Ok(outcome) => outcome,
            Err(e) => return refused(503, "temporarily_unavailable", e.to_string()),
        }
    } else {
        allow(event)
    };
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(outcome.to_wire())
}

/// `roles-claims`, `block-by-domain` and `set-metadata`, in Rust.
fn allow(mut event: Event) -> Outcome {
    let roles = event
        .get("authorization")
        .and_then(|a| a.get("roles"))
        .cloned()
        .unwrap_or_else(|| json!([]));
    let mut mutations = Mutations::default();
    let mut executions = Vec::new();
    mutations.apply(
        vec![
            Command::IdClaim {
                key: ROLES_CLAIM.into(),
                value: roles.clone(),
            },
            Command::AccessClaim {
                key: ROLES_CLAIM.into(),
                value: roles,
            },
        ],
        Some(&mut event),
    );
    executions.push(execution("roles-claims", EXECUTE));

    let email = event
        .get("user")
        .and_then(|u| u.get("email"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let allowed = email
        .split('@')
        .nth(1)
        .is_some_and(|d| ALLOWED_DOMAINS.contains(&d));
    executions.push(execution("block-by-domain", EXECUTE));
    if !allowed {
        return Outcome::Deny {
            error: DenyCode::AccessDenied,
            description: "Access restricted to corporate email addresses.".into(),
            failed_action: None,
            mutations,
            executions,
        };
    }

    let field = |section: &str, name: &str| {
        event
            .get(section)
            .and_then(|s| s.get(name))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let (logins, ip) = (field("stats", "logins_count"), field("request", "ip"));
    mutations.apply(
        vec![
            Command::UserMetadata {
                key: "logins_seen".into(),
                value: logins,
            },
            Command::UserMetadata {
                key: "last_login_ip".into(),
                value: ip,
            },
        ],
        // The run's last Action: nothing reads the event again.
        None,
    );
    executions.push(execution("set-metadata", EXECUTE));
    Outcome::Allow {
        mutations,
        executions,
    }
}

/// `favorite-color`'s `onExecutePostLogin` and the pipeline's suspend.
async fn suspend(floor: &Floor, record: SuspendedLogin) -> Result<Outcome, BoxError> {
    let secret = shared_secret(&floor.settings)?;
    let field = |section: &str, name: &str| {
        record
            .event
            .get(section)
            .and_then(|s| s.get(name))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let iat = token::now_secs();
    let mut claims = Map::new();
    claims.insert("iat".into(), iat.into());
    claims.insert("iss".into(), field("request", "hostname"));
    claims.insert("sub".into(), field("user", "user_id"));
    claims.insert("exp".into(), (iat + 900).into());
    claims.insert("ip".into(), field("request", "ip"));
    claims.insert("email".into(), field("user", "email"));
    let session_token = session::encode(secret.as_bytes(), &claims)?;

    let state = StateParam::generate();
    let mut location = url::Url::parse(EXTERNAL_SITE)?;
    location
        .query_pairs_mut()
        .append_pair("session_token", &session_token)
        .append_pair("state", state.as_str());
    let bytes = serde_json::to_vec(&record)?;
    floor
        .store
        .put_login(&state.key(), bytes, floor.settings.store.login_ttl)
        .await?;
    Ok(Outcome::Redirect {
        location: location.to_string(),
        executions: record.executions,
    })
}

/// The floor of `POST /continue`.
async fn resume(req: HttpRequest, floor: web::Data<Floor>, body: web::Bytes) -> HttpResponse {
    let invalid = || {
        refused(
            400,
            "invalid_request",
            "the state is unknown, already used or expired",
        )
    };
    let Ok(request) = detour::http::continue_request(&req, &body) else {
        return invalid();
    };
    let Some(param) = request.state.as_deref().and_then(StateParam::parse) else {
        return invalid();
    };
    let bytes = match floor.store.take_login(&param.key()).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return invalid(),
        Err(e) => return refused(503, "temporarily_unavailable", e.to_string()),
    };
    let Some(record) = serde_json::from_slice::<SuspendedLogin>(&bytes)
        .ok()
        .filter(|r| r.v == RECORD_VERSION)
    else {
        return invalid();
    };
    let settings = &floor.settings;
    if token::now_secs() >= record.created_at + settings.store.login_ttl.as_secs() {
        return invalid();
    }
    let Some(upstream) = settings.upstream(&record.upstream) else {
        return invalid();
    };
    match deliver(settings, upstream, record, &request, param.as_str()) {
        Ok(location) => HttpResponse::Found()
            .insert_header((header::LOCATION, location))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Err(e) => refused(500, "server_error", e.to_string()),
    }
}

/// `favorite-color`'s `onContinuePostLogin`, then the result token at
/// `return_to`.
fn deliver(
    settings: &Settings,
    upstream: &Upstream,
    record: SuspendedLogin,
    request: &ContinueRequest,
    state: &str,
) -> Result<String, BoxError> {
    let mut event = record.event;
    apply_continue_request(&mut event, request);
    let mut mutations = record.mutations;
    let mut executions = record.executions;
    executions.push(execution(&record.action_name, CONTINUE));
    let secret = shared_secret(settings)?;
    let presented = request
        .body
        .get("session_token")
        .or_else(|| request.query.get("session_token"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let sub = event
        .get("user")
        .and_then(|u| u.get("user_id"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let expected = session::Expected { state, sub: &sub };
    let outcome = match session::validate(presented, secret.as_bytes(), &expected) {
        Ok(payload) => {
            let color = payload
                .get("favorite_color")
                .cloned()
                .unwrap_or(Value::Null);
            mutations.apply(
                vec![Command::UserMetadata {
                    key: "favorite_color".into(),
                    value: color,
                }],
                None,
            );
            Outcome::Allow {
                mutations,
                executions,
            }
        }
        Err(e) => Outcome::Deny {
            error: DenyCode::AccessDenied,
            description: format!("The session token is invalid: {e}"),
            // validateToken throws in the real Action.
            failed_action: Some(record.action_name),
            mutations,
            executions,
        },
    };
    let audience = token::result::Audience {
        issuer: settings.server.public_url.as_str().trim_end_matches('/'),
        upstream: &upstream.id,
        transaction_id: record.transaction_id.as_deref(),
    };
    let result = token::result::sign(
        upstream.result_secret.expose_secret().as_bytes(),
        outcome.to_wire_with(Detail::Withheld),
        &audience,
        &token::result::new_jti(),
    )?;
    let mut url = url::Url::parse(&record.return_to)?;
    url.query_pairs_mut().append_pair("result", &result);
    Ok(url.into())
}

fn execution(action: &str, handler: &str) -> ExecutionRecord {
    ExecutionRecord {
        action: action.into(),
        handler: handler.into(),
        duration_ms: 0.0,
        logs: Vec::new(),
        error: None,
    }
}

/// The redirecting Action's `MY_SHARED_SECRET`.
fn shared_secret(settings: &Settings) -> Result<String, BoxError> {
    settings
        .actions
        .iter()
        .find_map(|a| a.secrets.get(SECRET_NAME))
        .map(|s| s.expose_secret().to_owned())
        .ok_or_else(|| "no Action has a MY_SHARED_SECRET secret".into())
}
