//! The login state machine, with no HTTP in it.
//!
//! ```text
//! start ──▶ run Actions 0.. ──▶ Finished ─────────────▶ Allow
//!                          ├──▶ Denied ───────────────▶ Deny
//!                          └──▶ Suspended(i, url) ─────▶ Redirect(url + state)
//!                                  │ record saved under hash(state), TTL
//! resume(state) ──▶ take record (single use) ──▶ run Action i's
//!     onContinuePostLogin, then i+1.. ──▶ the same three ends; a final
//!     Allow/Deny is signed into a result token for `return_to`.
//! ```
//!
//! Invariants: a suspended login is taken exactly once; Actions before the
//! redirecting one never run again; effects gathered before a detour are
//! kept; a login that cannot redirect is never suspended.

pub mod event;
pub mod mutations;
pub mod outcome;
mod runner;
pub mod transaction;

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::config::{Settings, Upstream};
use crate::domain::state::StateParam;
use crate::engine::{EnginePool, Handler};
use crate::store::{Store, StoreError};
use crate::token::{self, TokenError, result::Audience};

use event::ContinueRequest;
use mutations::Mutations;
use outcome::{DenyCode, Outcome};
use runner::{Login, RunEnd, StartAt};
use transaction::{RECORD_VERSION, SuspendedLogin};

/// Redirects allowed in one login; past this the login is denied, so a
/// misbehaving Action cannot bounce a browser forever.
pub const MAX_REDIRECTS: u32 = 10;

/// Why the pipeline could not produce an outcome.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The upstream's request is malformed.
    #[error("{0}")]
    InvalidRequest(String),
    /// The `/continue` state is missing, unknown, expired or used.
    #[error("{0}")]
    InvalidState(String),
    /// Every engine is busy; try again.
    #[error("all Action engines are busy, try again shortly")]
    Busy,
    /// The store is unreachable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A bug or an impossible state.
    #[error("{0}")]
    Unexpected(String),
}

impl From<TokenError> for PipelineError {
    fn from(e: TokenError) -> Self {
        PipelineError::Unexpected(e.to_string())
    }
}

/// What `POST /v1/post-login` asks for.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostLoginRequest {
    /// The Auth0-shaped post-login event.
    pub event: Map<String, Value>,
    /// Where the browser goes at the end of a detour.
    pub return_to: String,
    /// The upstream's own id for this login, echoed in the result token.
    #[serde(default)]
    pub transaction_id: Option<String>,
}

/// The end of a `/continue`.
#[derive(Debug)]
pub enum Resumed {
    /// Send the browser to the next external site.
    Redirect(String),
    /// Deliver the signed result at `return_to`.
    Deliver {
        /// The upstream's registered URL.
        return_to: String,
        /// The result JWT.
        result: String,
    },
}

/// The pipeline and the handles it needs. Cheap to clone.
#[derive(Clone)]
pub struct Pipeline {
    settings: Arc<Settings>,
    engine: EnginePool,
    store: Store,
}

impl Pipeline {
    /// Assembles a pipeline.
    pub fn new(settings: Arc<Settings>, engine: EnginePool, store: Store) -> Self {
        Self {
            settings,
            engine,
            store,
        }
    }

    /// The store (for readiness checks).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs a new login for `upstream`.
    #[tracing::instrument(skip_all, fields(upstream = %upstream.id))]
    pub async fn start(
        &self,
        upstream: &Upstream,
        request: PostLoginRequest,
    ) -> Result<Outcome, PipelineError> {
        if !upstream.return_to.iter().any(|r| r == &request.return_to) {
            return Err(PipelineError::InvalidRequest(
                "return_to is not one of this upstream's registered URLs".into(),
            ));
        }
        let mut event = request.event;
        event::normalize(&mut event, self.default_hostname())
            .map_err(|e| PipelineError::InvalidRequest(e.to_string()))?;
        let mut login = Login {
            event,
            mutations: Mutations::default(),
            executions: Vec::new(),
        };
        let from = StartAt {
            action: 0,
            handler: Handler::Execute,
            state: None,
        };
        let end = self.run(&mut login, from).await?;
        let context = Suspension {
            upstream: upstream.id.clone(),
            return_to: request.return_to,
            transaction_id: request.transaction_id,
            redirects: 0,
            created_at: token::now_secs(),
        };
        self.finish(login, end, context).await
    }

    /// Resumes a suspended login from a `/continue` request.
    #[tracing::instrument(skip_all, fields(state_hash = tracing::field::Empty))]
    pub async fn resume(&self, request: ContinueRequest) -> Result<Resumed, PipelineError> {
        let state = request
            .state
            .as_deref()
            .ok_or_else(|| invalid_state("the state parameter is missing"))?;
        let state = StateParam::parse(state).ok_or_else(|| invalid_state(UNKNOWN_STATE))?;
        let key = state.key();
        tracing::Span::current().record("state_hash", key.as_str());
        let bytes = self
            .store
            .take_login(&key)
            .await?
            .ok_or_else(|| invalid_state(UNKNOWN_STATE))?;
        let record: SuspendedLogin = serde_json::from_slice(&bytes)
            .ok()
            .filter(|r: &SuspendedLogin| r.v == RECORD_VERSION)
            .ok_or_else(|| invalid_state(UNKNOWN_STATE))?;
        let expires_at = record.created_at + self.settings.store.login_ttl.as_secs();
        if token::now_secs() >= expires_at {
            return Err(invalid_state("the login has expired; start it again"));
        }
        if self
            .settings
            .actions
            .get(record.action)
            .map(|a| a.name.as_str())
            != Some(record.action_name.as_str())
        {
            return Err(invalid_state(
                "the Actions changed while this login was suspended; start it again",
            ));
        }
        let upstream = self
            .settings
            .upstream(&record.upstream)
            .ok_or_else(|| invalid_state("the upstream of this login is no longer configured"))?
            .clone();

        let mut event = record.event;
        event::apply_continue_request(&mut event, &request);
        let mut login = Login {
            event,
            mutations: record.mutations,
            executions: record.executions,
        };
        let from = StartAt {
            action: record.action,
            handler: Handler::Continue,
            state: Some(state.as_str()),
        };
        let end = match self.run(&mut login, from).await {
            Err(PipelineError::Busy) => {
                // Nothing ran: put the login back so the browser can retry.
                let ttl = Duration::from_secs(expires_at.saturating_sub(token::now_secs()).max(1));
                self.store.put_login(&key, bytes, ttl).await?;
                return Err(PipelineError::Busy);
            }
            other => other?,
        };
        let context = Suspension {
            upstream: record.upstream,
            return_to: record.return_to,
            transaction_id: record.transaction_id,
            redirects: record.redirects + 1,
            created_at: record.created_at,
        };
        match self.finish(login, end, context.clone()).await? {
            Outcome::Redirect { location, .. } => Ok(Resumed::Redirect(location)),
            outcome => {
                let audience = Audience {
                    issuer: self
                        .settings
                        .server
                        .public_url
                        .as_str()
                        .trim_end_matches('/'),
                    upstream: &upstream.id,
                    transaction_id: context.transaction_id.as_deref(),
                };
                let result = token::result::sign(
                    upstream.result_secret.expose_secret().as_bytes(),
                    outcome.to_wire(),
                    &audience,
                )?;
                Ok(Resumed::Deliver {
                    return_to: context.return_to,
                    result,
                })
            }
        }
    }

    async fn run(&self, login: &mut Login, from: StartAt<'_>) -> Result<RunEnd, PipelineError> {
        let timeout = self.settings.engine.timeout;
        runner::run(
            &self.engine,
            &self.store,
            &self.settings.actions,
            login,
            from,
            Instant::now() + timeout,
            timeout.as_millis(),
        )
        .await
    }

    /// Turns the end of a run into an outcome, saving the login when it
    /// suspends.
    async fn finish(
        &self,
        login: Login,
        end: RunEnd,
        context: Suspension,
    ) -> Result<Outcome, PipelineError> {
        match end {
            RunEnd::Finished => Ok(Outcome::Allow {
                mutations: login.mutations,
                executions: login.executions,
            }),
            RunEnd::Denied(error, description) => Ok(Outcome::Deny {
                error,
                description,
                mutations: login.mutations,
                executions: login.executions,
            }),
            RunEnd::Suspended { .. } if context.redirects >= MAX_REDIRECTS => Ok(Outcome::Deny {
                error: DenyCode::AccessDenied,
                description: format!("too many redirects in one login (at most {MAX_REDIRECTS})"),
                mutations: login.mutations,
                executions: login.executions,
            }),
            RunEnd::Suspended { action, url } => self.suspend(login, action, url, context).await,
        }
    }

    async fn suspend(
        &self,
        login: Login,
        action: usize,
        url: String,
        context: Suspension,
    ) -> Result<Outcome, PipelineError> {
        let ttl = (context.created_at + self.settings.store.login_ttl.as_secs())
            .saturating_sub(token::now_secs());
        if ttl == 0 {
            return Err(invalid_state("the login has expired; start it again"));
        }
        let state = StateParam::generate();
        let mut location = url::Url::parse(&url)
            .map_err(|e| PipelineError::Unexpected(format!("redirect URL: {e}")))?;
        location
            .query_pairs_mut()
            .append_pair("state", state.as_str());
        let action_name = self
            .settings
            .actions
            .get(action)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        let record = SuspendedLogin {
            v: RECORD_VERSION,
            upstream: context.upstream,
            return_to: context.return_to,
            transaction_id: context.transaction_id,
            action,
            action_name,
            redirects: context.redirects,
            created_at: context.created_at,
            event: login.event,
            mutations: login.mutations,
            executions: login.executions.clone(),
        };
        let bytes =
            serde_json::to_vec(&record).map_err(|e| PipelineError::Unexpected(e.to_string()))?;
        self.store
            .put_login(&state.key(), bytes, Duration::from_secs(ttl))
            .await?;
        tracing::info!(state_hash = %state.key().as_str(), action = %record.action_name, "login suspended");
        Ok(Outcome::Redirect {
            location: location.to_string(),
            executions: login.executions,
        })
    }

    fn default_hostname(&self) -> &str {
        self.settings.server.public_url.host_str().unwrap_or("")
    }
}

/// Who a login belongs to and how far it went, carried across a detour.
#[derive(Clone)]
struct Suspension {
    upstream: String,
    return_to: String,
    transaction_id: Option<String>,
    redirects: u32,
    created_at: u64,
}

const UNKNOWN_STATE: &str =
    "the state is unknown, already used or expired; the login cannot continue";

fn invalid_state(message: &str) -> PipelineError {
    PipelineError::InvalidState(message.into())
}
