//! Bench-only floor routes (cargo feature `bench-floor`, never in a
//! deployed build): the same HTTP requests, parsing, tokens and store
//! operations as `/v1/post-login` and `/continue`, with the Actions' effects
//! computed in Rust instead of JavaScript. `scripts/bench.sh` divides the
//! real routes' throughput by these to show what the engine costs.
//!
//! - `POST /floor/post-login`: what `roles-claims`, `block-by-domain` and
//!   the bench's `set-metadata` Action do, answered as the allow outcome.
//!   With `?mode=redirect`, what `favorite-color` does: sign its session
//!   token, save a suspended-login record of the real shape under a fresh
//!   state (`SET NX EX`), answer the redirect outcome.
//! - `POST /floor/continue`: take that record (`GETDEL`), validate the
//!   session token, write the metadata, sign the result token and answer
//!   the `302` to `return_to`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::config::Settings;
use crate::domain::state::StateParam;
use crate::engine::Command;
use crate::http::MAX_EVENT_BYTES;
use crate::http::error::{ApiError, Audience, ErrorCode};
use crate::http::extractors::{UpstreamAuth, continue_request};
use crate::pipeline::event::{apply_continue_request, normalize};
use crate::pipeline::mutations::Mutations;
use crate::pipeline::outcome::{DenyCode, Detail, ExecutionRecord, Outcome};
use crate::pipeline::{PipelineError, PostLoginRequest};
use crate::startup::AppState;
use crate::token::{self, session};

/// Registers the floor routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(post_login)
        .route("/floor/continue", web::post().to(resume));
}

const ROLES_CLAIM: &str = "https://my-app.example.com/roles";
const ALLOWED_DOMAINS: &[&str] = &["yourcompany.com", "partnercompany.com"];
const EXTERNAL_SITE: &str = "https://my-app.example.com";
const SECRET_NAME: &str = "MY_SHARED_SECRET";
/// Stands for the SHA-256 of the Action source the real record carries
/// (computed once at start-up there, so it costs nothing per login).
const ACTION_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const EXECUTE: &str = "onExecutePostLogin";
const CONTINUE: &str = "onContinuePostLogin";

/// The suspended-login record, with the same fields as the pipeline's.
#[derive(Serialize, Deserialize)]
struct FloorRecord {
    v: u32,
    upstream: String,
    return_to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transaction_id: Option<String>,
    action: usize,
    action_name: String,
    action_hash: String,
    login_id: String,
    redirects: u32,
    created_at: u64,
    event: Map<String, Value>,
    mutations: Mutations,
    executions: Vec<ExecutionRecord>,
}

/// The floor of `POST /v1/post-login`.
#[post("/floor/post-login")]
async fn post_login(
    req: HttpRequest,
    state: web::Data<AppState>,
    UpstreamAuth(upstream): UpstreamAuth,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json || body.len() > MAX_EVENT_BYTES {
        return Err(ApiError::api(
            ErrorCode::InvalidRequest,
            "a JSON body is required",
        ));
    }
    let request: PostLoginRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::api(
            ErrorCode::InvalidRequest,
            format!("the body is not a valid request: {e}"),
        )
    })?;
    let pipeline = state.pipeline.load_full();
    let settings = pipeline.settings();
    if !upstream.return_to.contains(&request.return_to) {
        return Err(ApiError::api(
            ErrorCode::InvalidRequest,
            "return_to is not one of this upstream's registered URLs",
        ));
    }
    let mut event = request.event;
    normalize(
        &mut event,
        settings.server.public_url.host_str().unwrap_or(""),
    )
    .map_err(|e| ApiError::api(ErrorCode::InvalidRequest, e.to_string()))?;
    let outcome = if req.query_string() == "mode=redirect" {
        let record = FloorRecord {
            v: 1,
            upstream: upstream.id.clone(),
            return_to: request.return_to,
            transaction_id: request.transaction_id,
            action: 0,
            action_name: "favorite-color".into(),
            action_hash: ACTION_HASH.into(),
            login_id: uuid::Uuid::new_v4().to_string(),
            redirects: 0,
            created_at: token::now_secs(),
            event,
            mutations: Mutations::default(),
            executions: vec![execution("favorite-color", EXECUTE)],
        };
        suspend(&pipeline, record).await?
    } else {
        allow(event)
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(outcome.to_wire()))
}

/// `roles-claims`, `block-by-domain` and `set-metadata`, in Rust.
fn allow(mut event: Map<String, Value>) -> Outcome {
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
        &mut event,
    );
    executions.push(execution("roles-claims", EXECUTE));

    let user = event.get("user");
    let email = user
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

    let logins = event
        .get("stats")
        .and_then(|s| s.get("logins_count"))
        .cloned()
        .unwrap_or(Value::Null);
    let ip = event
        .get("request")
        .and_then(|r| r.get("ip"))
        .cloned()
        .unwrap_or(Value::Null);
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
        &mut event,
    );
    executions.push(execution("set-metadata", EXECUTE));
    Outcome::Allow {
        mutations,
        executions,
    }
}

/// `favorite-color`'s `onExecutePostLogin` and the pipeline's suspend.
async fn suspend(
    pipeline: &crate::pipeline::Pipeline,
    record: FloorRecord,
) -> Result<Outcome, ApiError> {
    let settings = pipeline.settings();
    let secret = shared_secret(settings)?;
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
    let session_token = session::encode(secret.as_bytes(), &claims).map_err(unexpected)?;

    let state = StateParam::generate();
    let mut location = url::Url::parse(EXTERNAL_SITE).map_err(unexpected)?;
    location
        .query_pairs_mut()
        .append_pair("session_token", &session_token)
        .append_pair("state", state.as_str());
    let bytes = serde_json::to_vec(&record).map_err(unexpected)?;
    pipeline
        .store()
        .put_login(&state.key(), bytes, settings.store.login_ttl)
        .await
        .map_err(|e| ApiError::from_pipeline(PipelineError::Store(e), Audience::Api))?;
    Ok(Outcome::Redirect {
        location: location.to_string(),
        executions: record.executions,
    })
}

/// The floor of `POST /continue`.
async fn resume(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let request = continue_request(&req, &body)?;
    let invalid = || {
        ApiError::browser(
            &req,
            ErrorCode::InvalidRequest,
            "the state is unknown, already used or expired",
        )
    };
    let pipeline = state.pipeline.load_full();
    let settings = pipeline.settings();
    let param = request
        .state
        .as_deref()
        .and_then(StateParam::parse)
        .ok_or_else(invalid)?;
    let bytes = pipeline
        .store()
        .take_login(&param.key())
        .await
        .map_err(|e| {
            ApiError::from_pipeline(PipelineError::Store(e), Audience::of_browser_request(&req))
        })?
        .ok_or_else(invalid)?;
    let record: FloorRecord = serde_json::from_slice(&bytes)
        .ok()
        .filter(|r: &FloorRecord| r.v == 1)
        .ok_or_else(invalid)?;
    if token::now_secs() >= record.created_at + settings.store.login_ttl.as_secs() {
        return Err(invalid());
    }
    let upstream = settings.upstream(&record.upstream).ok_or_else(invalid)?;

    // favorite-color's onContinuePostLogin.
    let mut event = record.event;
    apply_continue_request(&mut event, &request);
    let mut mutations = record.mutations;
    let mut executions = record.executions;
    executions.push(execution("favorite-color", CONTINUE));
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
    let expected = session::Expected {
        state: param.as_str(),
        sub: &sub,
    };
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
                &mut event,
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
            failed_action: Some("favorite-color".into()),
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
    )
    .map_err(unexpected)?;
    let mut url = url::Url::parse(&record.return_to).map_err(unexpected)?;
    url.query_pairs_mut().append_pair("result", &result);
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, url.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish())
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
fn shared_secret(settings: &Settings) -> Result<String, ApiError> {
    settings
        .actions
        .iter()
        .find_map(|a| a.secrets.get(SECRET_NAME))
        .map(|s| s.expose_secret().to_owned())
        .ok_or_else(|| {
            ApiError::api(
                ErrorCode::ServerError,
                "no Action has a MY_SHARED_SECRET secret",
            )
        })
}

fn unexpected(e: impl std::fmt::Display) -> ApiError {
    ApiError::api(ErrorCode::ServerError, e.to_string())
}
