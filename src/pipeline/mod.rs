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

pub mod binding;
pub mod commands;
pub mod effects;
pub mod event;
pub mod mutations;
pub mod outcome;
mod runner;
pub mod transaction;

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::time::Instant;

use crate::config::{ResultDetails, Settings, Upstream};
use crate::domain::state::{StateKey, StateParam};
use crate::engine::{EnginePool, Handler};
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};
use crate::token::{self, TokenError, result::Audience};

use binding::BindingCookie;
use event::ContinueRequest;
use mutations::Mutations;
use outcome::{DenyCode, Detail, Outcome};
use runner::{Detour, Login, RunEnd, StartAt};
use transaction::{RECORD_VERSION, SuspendedLogin};

/// Redirects allowed in one login; past this the login is denied, so a
/// misbehaving Action cannot bounce a browser forever.
pub const MAX_REDIRECTS: u32 = 10;

/// How long a delivered result's execution details wait for the upstream's
/// back channel (`result_details = "back_channel"`): longer than the result
/// token lives, short enough that console output does not linger.
pub const RESULT_DETAILS_TTL: Duration = Duration::from_secs(300);

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
    /// Send the browser to the next external site, binding it to the new
    /// suspended login when binding is on.
    Redirect(String, Option<BindingCookie>),
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
    metrics: Arc<Metrics>,
    /// Each Action's code hash (its source, the files and Modules it can
    /// require, its dependency versions), in configured order.
    action_hashes: Arc<Vec<String>>,
    /// Per Action: whether its source mentions the cache, so only those
    /// pay for loading theirs (computed once, not per login).
    uses_cache: Arc<Vec<bool>>,
    /// SHA-256 of each upstream's API key, in configured order, so a
    /// request hashes only the key it presents.
    api_key_digests: Arc<Vec<[u8; 32]>>,
}

impl Pipeline {
    /// Assembles a pipeline.
    pub fn new(
        settings: Arc<Settings>,
        engine: EnginePool,
        store: Store,
        metrics: Arc<Metrics>,
    ) -> Self {
        let action_hashes = settings
            .actions
            .iter()
            .map(|a| a.entry.hash.clone())
            .collect();
        let uses_cache = settings
            .actions
            .iter()
            .map(|a| a.source.contains("cache"))
            .collect();
        let api_key_digests = settings
            .upstreams
            .iter()
            .map(|u| Sha256::digest(u.api_key.expose_secret().as_bytes()).into())
            .collect();
        Self {
            settings,
            engine,
            store,
            metrics,
            action_hashes: Arc::new(action_hashes),
            uses_cache: Arc::new(uses_cache),
            api_key_digests: Arc::new(api_key_digests),
        }
    }

    /// The upstream whose API key is `presented`. Digests are compared, so
    /// neither the content nor the length of a key leaks through timing,
    /// and every upstream is checked, so its position does not either.
    pub fn upstream_by_key(&self, presented: &str) -> Option<&Upstream> {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for (upstream, digest) in self
            .settings
            .upstreams
            .iter()
            .zip(self.api_key_digests.iter())
        {
            if bool::from(digest.ct_eq(&presented)) {
                found = Some(upstream);
            }
        }
        found
    }

    /// The store (for readiness checks).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The settings this pipeline runs with.
    pub fn settings(&self) -> &Arc<Settings> {
        &self.settings
    }

    /// Runs a new login for `upstream`.
    #[tracing::instrument(skip_all, fields(upstream = %upstream.id, login_id = tracing::field::Empty))]
    pub async fn start(
        &self,
        upstream: &Upstream,
        request: PostLoginRequest,
    ) -> Result<Outcome, PipelineError> {
        let result = self.start_inner(upstream, request).await;
        match &result {
            Ok(outcome) => self.metrics.login(outcome_label(outcome)),
            Err(PipelineError::Store(_)) => self.metrics.store_error(),
            Err(_) => {}
        }
        result
    }

    async fn start_inner(
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
        let login_id = uuid::Uuid::new_v4().to_string();
        tracing::Span::current().record("login_id", login_id.as_str());
        let login = Login {
            id: login_id,
            event,
            mutations: Mutations::default(),
            executions: Vec::new(),
        };
        let from = StartAt {
            action: 0,
            handler: Handler::Execute,
            state: None,
            can_redirect: event::can_redirect(&login.event),
        };
        let (login, end) = self.run(login, from).await?;
        let context = Suspension {
            upstream: upstream.id.clone(),
            return_to: request.return_to,
            transaction_id: request.transaction_id,
            redirects: 0,
            created_at: token::now_secs(),
            browser_here: false,
        };
        self.finish(login, end, context)
            .await
            .map(|(outcome, _)| outcome)
    }

    /// Resumes a suspended login from a `/continue` request.
    #[tracing::instrument(skip_all, fields(state_hash = tracing::field::Empty, login_id = tracing::field::Empty))]
    pub async fn resume(&self, request: ContinueRequest) -> Result<Resumed, PipelineError> {
        let result = self.resume_inner(request).await;
        let label = match &result {
            Ok(Resumed::Redirect(..)) => "redirect",
            Ok(Resumed::Deliver { .. }) => "delivered",
            Err(PipelineError::InvalidState(_) | PipelineError::InvalidRequest(_)) => {
                "invalid_state"
            }
            Err(PipelineError::Store(_)) => {
                self.metrics.store_error();
                "unavailable"
            }
            Err(PipelineError::Busy) => "unavailable",
            Err(PipelineError::Unexpected(_)) => "error",
        };
        self.metrics.continued(label);
        result
    }

    async fn resume_inner(&self, request: ContinueRequest) -> Result<Resumed, PipelineError> {
        let state = request
            .state
            .as_deref()
            .ok_or_else(|| invalid_state("the state parameter is missing"))?;
        let state = StateParam::parse(state).ok_or_else(|| invalid_state(UNKNOWN_STATE))?;
        let key = state.key();
        tracing::Span::current().record("state_hash", key.as_str());
        // The binding is checked before the login is taken, so a browser
        // without the cookie cannot consume someone else's login.
        // (Skipped, with its round trip, when binding is off.)
        let bound_to = if self.settings.server.browser_binding {
            self.store.binding(&key).await?
        } else {
            None
        };
        if self.settings.server.browser_binding && bound_to.is_none() {
            // No browser has been bound yet: a login waiting for its first
            // /redirect must not be burnt by a /continue that skipped it.
            let waiting_for_redirect = self
                .store
                .peek_login(&key)
                .await?
                .and_then(|bytes| serde_json::from_slice::<SuspendedLogin>(&bytes).ok())
                .is_some_and(|record| record.bound);
            if waiting_for_redirect {
                return Err(invalid_state(
                    "this login was not opened through Detour's redirect; start it again",
                ));
            }
        }
        if let Some(hash) = &bound_to {
            let name = binding::cookie_name(&key);
            let presented = request
                .cookies
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str());
            if !binding::matches(presented, hash) {
                return Err(invalid_state(
                    "this login was started in another browser; start it again here",
                ));
            }
        }
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
        tracing::Span::current().record("login_id", record.login_id.as_str());
        if record.bound && self.settings.server.browser_binding && bound_to.is_none() {
            return Err(invalid_state(
                "this login was not opened through Detour's redirect; start it again",
            ));
        }
        // Find the redirecting Action by name, and resume only on the code it
        // redirected from.
        let action = self
            .settings
            .actions
            .iter()
            .position(|a| a.name == record.action_name)
            .filter(|&i| self.action_hashes[i] == record.action_hash)
            .ok_or_else(|| {
                invalid_state(&format!(
                    "the Action \"{}\" changed or was removed while this login was suspended; start the login again",
                    record.action_name
                ))
            })?;
        let upstream = self
            .settings
            .upstream(&record.upstream)
            .ok_or_else(|| invalid_state("the upstream of this login is no longer configured"))?
            .clone();

        let mut event = record.event;
        event::apply_continue_request(&mut event, &request);
        let login = Login {
            id: record.login_id.clone(),
            event,
            mutations: record.mutations,
            executions: record.executions,
        };
        // Only a login that could redirect was ever suspended, so a resumed
        // one can; what the browser adds to /continue (`prompt=none`) must
        // not switch that off and let later Actions skip their detour.
        let from = StartAt {
            action,
            handler: Handler::Continue,
            state: Some(state.as_str()),
            can_redirect: true,
        };
        let (login, end) = match self.run(login, from).await {
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
            browser_here: true,
        };
        let (outcome, cookie) = self.finish(login, end, context.clone()).await?;
        self.metrics.login(outcome_label(&outcome));
        match outcome {
            Outcome::Redirect { location, .. } => Ok(Resumed::Redirect(location, cookie)),
            // A Form to render (and allow/deny) reaches the upstream in the
            // result token at return_to, through the browser: what the
            // Actions logged or threw stays out of it unless the upstream
            // opted in.
            outcome => {
                let jti = token::result::new_jti();
                let detail = match upstream.result_details {
                    ResultDetails::InToken => Detail::Full,
                    ResultDetails::None => Detail::Withheld,
                    ResultDetails::BackChannel => {
                        self.keep_result_details(&upstream.id, &jti, &outcome).await;
                        Detail::Withheld
                    }
                };
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
                    outcome.to_wire_with(detail),
                    &audience,
                    &jti,
                )?;
                Ok(Resumed::Deliver {
                    return_to: context.return_to,
                    result,
                })
            }
        }
    }

    /// Keeps the details withheld from a result token for the upstream's
    /// back channel. Best effort: the login is already taken, so a store
    /// failure loses the details (logged, and the upstream's fetch finds
    /// nothing), never the login.
    async fn keep_result_details(&self, upstream: &str, jti: &str, outcome: &Outcome) {
        let stored = match serde_json::to_vec(&outcome.details()) {
            Ok(bytes) => {
                self.store
                    .put_result_details(upstream, jti, bytes, RESULT_DETAILS_TTL)
                    .await
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot serialize the result details");
                return;
            }
        };
        if let Err(e) = stored {
            self.metrics.store_error();
            tracing::warn!(error = %e, "result details lost; the upstream cannot fetch them");
        }
    }

    /// The execution details of a result delivered to `upstream`, found by
    /// its token's `jti`, and only once. `None` when there are none: unknown,
    /// already fetched, expired, or another upstream's.
    pub async fn take_result_details(
        &self,
        upstream: &Upstream,
        jti: &str,
    ) -> Result<Option<Map<String, Value>>, PipelineError> {
        // Only ids Detour could have made reach the store (bounded keys).
        let Ok(jti) = uuid::Uuid::parse_str(jti) else {
            return Ok(None);
        };
        let taken = self
            .store
            .take_result_details(&upstream.id, &jti.hyphenated().to_string())
            .await;
        let bytes = match taken {
            Ok(bytes) => bytes,
            Err(e) => {
                self.metrics.store_error();
                return Err(e.into());
            }
        };
        Ok(bytes.and_then(|b| serde_json::from_slice(&b).ok()))
    }

    /// Runs the Actions once against `event` without storing anything, like
    /// Auth0's Test button: with `resume`, the first Action's
    /// `onContinuePostLogin` runs against that `/continue` request. A
    /// redirect is reported with the `state` the request carried (or
    /// `SIMULATED`) and is not suspended.
    pub async fn simulate(
        &self,
        mut event: Map<String, Value>,
        resume: Option<ContinueRequest>,
    ) -> Result<Outcome, PipelineError> {
        event::normalize(&mut event, self.default_hostname())
            .map_err(|e| PipelineError::InvalidRequest(e.to_string()))?;
        let state = resume
            .as_ref()
            .and_then(|r| r.state.clone())
            .unwrap_or_else(|| "SIMULATED".into());
        let can_redirect = resume.is_some() || event::can_redirect(&event);
        if let Some(request) = &resume {
            event::apply_continue_request(&mut event, request);
        }
        let login = Login {
            id: "simulation".into(),
            event,
            mutations: Mutations::default(),
            executions: Vec::new(),
        };
        let from = StartAt {
            action: 0,
            handler: if resume.is_some() {
                Handler::Continue
            } else {
                Handler::Execute
            },
            state: Some(state.as_str()),
            can_redirect,
        };
        let (login, end) = self.run(login, from).await?;
        Ok(match end {
            RunEnd::Suspended {
                detour: Detour::Render(prompt),
                ..
            } => Outcome::Prompt {
                prompt: self.prompt_wire(&prompt, &state),
                executions: login.executions,
            },
            RunEnd::Suspended {
                detour: Detour::Redirect(url),
                ..
            } => {
                let mut location = url::Url::parse(&url)
                    .map_err(|e| PipelineError::Unexpected(format!("redirect URL: {e}")))?;
                location.query_pairs_mut().append_pair("state", &state);
                Outcome::Redirect {
                    location: location.to_string(),
                    executions: login.executions,
                }
            }
            RunEnd::Finished => login.allowed(),
            RunEnd::Denied(error, description) => login.denied(error, description),
            RunEnd::Failed {
                action,
                description,
            } => login.failed(action, description),
        })
    }

    async fn run(&self, login: Login, from: StartAt<'_>) -> Result<(Login, RunEnd), PipelineError> {
        let parts = runner::Parts {
            engine: &self.engine,
            store: &self.store,
            metrics: &self.metrics,
            settings: &self.settings,
            uses_cache: &self.uses_cache,
        };
        let deadline = Instant::now() + self.settings.engine.timeout;
        runner::run(parts, login, from, deadline).await
    }

    /// Turns the end of a run into an outcome, saving the login when it
    /// suspends.
    async fn finish(
        &self,
        login: Login,
        end: RunEnd,
        context: Suspension,
    ) -> Result<(Outcome, Option<BindingCookie>), PipelineError> {
        let outcome = match end {
            RunEnd::Finished => login.allowed(),
            RunEnd::Denied(error, description) => login.denied(error, description),
            RunEnd::Failed {
                action,
                description,
            } => login.failed(action, description),
            RunEnd::Suspended { .. } if context.redirects >= MAX_REDIRECTS => login.denied(
                DenyCode::AccessDenied,
                format!("too many redirects in one login (at most {MAX_REDIRECTS})"),
            ),
            RunEnd::Suspended { action, detour } => {
                return self.suspend(login, action, detour, context).await;
            }
        };
        Ok((outcome, None))
    }

    /// The `prompt` field of a render outcome: what the upstream needs to
    /// render the Form and send its fields back (`vars` stay here).
    fn prompt_wire(&self, prompt: &Value, state: &str) -> Value {
        let continue_uri = self.settings.server.endpoint("continue").to_string();
        serde_json::json!({
            "id": prompt.get("id").cloned().unwrap_or_default(),
            "fields": prompt.get("fields").cloned().unwrap_or_else(|| serde_json::json!({})),
            "state": state,
            "continue_uri": continue_uri,
        })
    }

    async fn suspend(
        &self,
        mut login: Login,
        action: usize,
        detour: Detour,
        context: Suspension,
    ) -> Result<(Outcome, Option<BindingCookie>), PipelineError> {
        let ttl = (context.created_at + self.settings.store.login_ttl.as_secs())
            .saturating_sub(token::now_secs());
        if ttl == 0 {
            return Err(invalid_state("the login has expired; start it again"));
        }
        let state = StateParam::generate();
        let url = match detour {
            Detour::Redirect(url) => url,
            Detour::Render(prompt) => {
                return self
                    .suspend_render(login, action, prompt, context, state, ttl)
                    .await;
            }
        };
        login.event.remove("prompt");
        let mut location = url::Url::parse(&url)
            .map_err(|e| PipelineError::Unexpected(format!("redirect URL: {e}")))?;
        location
            .query_pairs_mut()
            .append_pair("state", state.as_str());
        let browser_here = context.browser_here;
        let bound = self.settings.server.browser_binding;
        let mut record = self.record_of(login, action, context, bound);
        let key = state.key();
        let ttl = Duration::from_secs(ttl);
        // Where the upstream sends the browser: straight to the external
        // site, or through /redirect first to bind it. A browser already at
        // Detour (a later redirect) is bound right here.
        let mut cookie = None;
        let mut location = location.to_string();
        if record.bound {
            if browser_here {
                let (new_cookie, hash) = binding::new_cookie(&key, ttl);
                self.store.put_binding(&key, &hash, ttl).await?;
                cookie = Some(new_cookie);
            } else {
                record.external_location = Some(state.seal(&location).ok_or_else(|| {
                    PipelineError::Unexpected("could not seal the external location".into())
                })?);
                let mut bounce = self.settings.server.endpoint("redirect");
                bounce
                    .query_pairs_mut()
                    .append_pair("state", state.as_str());
                location = bounce.to_string();
            }
        }
        let executions = record.executions.clone();
        self.save(&key, &record, ttl, "login suspended").await?;
        Ok((
            Outcome::Redirect {
                location,
                executions,
            },
            cookie,
        ))
    }

    /// The record of `login`, suspended at Action `action`.
    fn record_of(
        &self,
        login: Login,
        action: usize,
        context: Suspension,
        bound: bool,
    ) -> SuspendedLogin {
        SuspendedLogin {
            v: RECORD_VERSION,
            upstream: context.upstream,
            return_to: context.return_to,
            transaction_id: context.transaction_id,
            action,
            action_name: self
                .settings
                .actions
                .get(action)
                .map(|a| a.name.clone())
                .unwrap_or_default(),
            action_hash: self.action_hashes.get(action).cloned().unwrap_or_default(),
            login_id: login.id,
            redirects: context.redirects,
            created_at: context.created_at,
            event: login.event,
            mutations: login.mutations,
            executions: login.executions,
            bound,
            external_location: None,
        }
    }

    /// Stores a suspended login under its state's key for `ttl`.
    async fn save(
        &self,
        key: &StateKey,
        record: &SuspendedLogin,
        ttl: Duration,
        what: &'static str,
    ) -> Result<(), PipelineError> {
        let bytes =
            serde_json::to_vec(record).map_err(|e| PipelineError::Unexpected(e.to_string()))?;
        self.store.put_login(key, bytes, ttl).await?;
        self.metrics.suspended();
        tracing::info!(state_hash = %key.as_str(), action = %record.action_name, "{what}");
        Ok(())
    }

    /// Saves a login waiting for a rendered Form. The Form's `{id, fields,
    /// vars}` is kept in the event as `event.prompt`; `/continue` fills in
    /// the submitted fields. Not bound to a browser cookie: the upstream
    /// renders the Form, and the `state` it holds is the capability.
    async fn suspend_render(
        &self,
        mut login: Login,
        action: usize,
        prompt: Value,
        context: Suspension,
        state: StateParam,
        ttl: u64,
    ) -> Result<(Outcome, Option<BindingCookie>), PipelineError> {
        let wire = self.prompt_wire(&prompt, state.as_str());
        login.event.insert("prompt".into(), prompt);
        let record = self.record_of(login, action, context, false);
        let ttl = Duration::from_secs(ttl);
        self.save(&state.key(), &record, ttl, "login suspended for a Form")
            .await?;
        Ok((
            Outcome::Prompt {
                prompt: wire,
                executions: record.executions,
            },
            None,
        ))
    }

    /// The browser's first stop on a bound detour (`GET /redirect`): binds
    /// the login to this browser and returns where to send it next.
    #[tracing::instrument(skip_all, fields(state_hash = tracing::field::Empty))]
    pub async fn bind(
        &self,
        state: Option<&str>,
    ) -> Result<(String, BindingCookie), PipelineError> {
        let state = state.ok_or_else(|| invalid_state("the state parameter is missing"))?;
        let state = StateParam::parse(state).ok_or_else(|| invalid_state(UNKNOWN_STATE))?;
        let key = state.key();
        tracing::Span::current().record("state_hash", key.as_str());
        let record: SuspendedLogin = self
            .store
            .peek_login(&key)
            .await?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| invalid_state(UNKNOWN_STATE))?;
        let location = record
            .external_location
            .and_then(|sealed| state.open(&sealed))
            .ok_or_else(|| invalid_state(UNKNOWN_STATE))?;
        let remaining = (record.created_at + self.settings.store.login_ttl.as_secs())
            .saturating_sub(token::now_secs());
        if remaining == 0 {
            return Err(invalid_state("the login has expired; start it again"));
        }
        let ttl = Duration::from_secs(remaining);
        let (cookie, hash) = binding::new_cookie(&key, ttl);
        match self.store.put_binding(&key, &hash, ttl).await {
            Ok(()) => Ok((location, cookie)),
            Err(StoreError::Exists) => Err(invalid_state(
                "this login was already opened in another browser",
            )),
            Err(e) => Err(e.into()),
        }
    }

    fn default_hostname(&self) -> &str {
        self.settings.server.public_url.host_str().unwrap_or("")
    }
}

impl Login {
    fn allowed(self) -> Outcome {
        Outcome::Allow {
            mutations: self.mutations,
            executions: self.executions,
        }
    }

    fn denied(self, error: DenyCode, description: String) -> Outcome {
        Outcome::Deny {
            error,
            description,
            failed_action: None,
            mutations: self.mutations,
            executions: self.executions,
        }
    }

    fn failed(self, action: String, description: String) -> Outcome {
        Outcome::Deny {
            error: DenyCode::AccessDenied,
            description,
            failed_action: Some(action),
            mutations: self.mutations,
            executions: self.executions,
        }
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
    /// The browser is talking to Detour right now (`/continue`), so a new
    /// binding cookie can be set directly.
    browser_here: bool,
}

fn outcome_label(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Allow { .. } => "allow",
        Outcome::Deny {
            error: DenyCode::InteractionRequired,
            ..
        } => "interaction_required",
        Outcome::Deny { .. } => "deny",
        Outcome::Redirect { .. } | Outcome::Prompt { .. } => "redirect",
    }
}

const UNKNOWN_STATE: &str =
    "the state is unknown, already used or expired; the login cannot continue";

fn invalid_state(message: &str) -> PipelineError {
    PipelineError::InvalidState(message.into())
}
