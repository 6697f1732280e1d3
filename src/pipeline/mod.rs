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

mod bind;
pub mod binding;
pub mod commands;
mod details;
pub mod effects;
mod error;
pub mod event;
pub mod limits;
pub mod mutations;
pub mod outcome;
mod runner;
mod simulate;
mod suspend;
pub mod transaction;

use error::state_param;
pub use error::{PipelineError, RequestError, StateError};
use suspend::Suspension;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::clock::{self, SharedClock};
use crate::config::{ResultDetails, Settings, Upstream};
use crate::domain::state::{StateKey, StateParam};
use crate::engine::{EnginePool, Handler};
use crate::metrics::Metrics;
use crate::store::Store;
use crate::token::{self, result::Audience, result::ResultKey};

use binding::BindingCookie;
use event::{CheckedEvent, ContinueRequest, Event};
use mutations::Mutations;
use outcome::{DenyCode, Detail, Outcome};
use runner::{Login, RunEnd, StartAt};
use transaction::{RECORD_VERSION, SuspendedLogin};

pub use limits::MAX_REDIRECTS;

/// How long a delivered result's execution details wait for the upstream's
/// back channel (`result_details = "back_channel"`): longer than the result
/// token lives, short enough that console output does not linger.
pub const RESULT_DETAILS_TTL: Duration = Duration::from_secs(300);

/// What `POST /v1/post-login` asks for. `E` is how the event is read: the
/// whole event for a login that runs Actions, a [`CheckedEvent`] (the
/// same errors, nothing built) for one that runs none.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostLoginRequest<E = Event> {
    /// The Auth0-shaped post-login event.
    pub event: E,
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
        result: token::result::ResultToken,
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
    /// Each upstream's result-token key, in configured order, made once.
    result_keys: Arc<Vec<ResultKey>>,
    /// Where login lifetimes and token times are read.
    clock: SharedClock,
}

impl Pipeline {
    /// Assembles a pipeline on the system clock.
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
            .map(|a| a.entry.uses_cache)
            .collect();
        let api_key_digests = settings
            .upstreams
            .iter()
            .map(|u| sha256(u.api_key.expose_secret().as_bytes()))
            .collect();
        let result_keys = settings
            .upstreams
            .iter()
            .map(|u| ResultKey::new(u.result_secret.expose_secret().as_bytes()))
            .collect();
        Self {
            settings,
            engine,
            store,
            metrics,
            action_hashes: Arc::new(action_hashes),
            uses_cache: Arc::new(uses_cache),
            api_key_digests: Arc::new(api_key_digests),
            result_keys: Arc::new(result_keys),
            clock: clock::system(),
        }
    }

    /// The same pipeline reading the time from `clock`.
    pub fn with_clock(self, clock: SharedClock) -> Self {
        Self { clock, ..self }
    }

    /// The clock this pipeline reads.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The upstream whose API key is `presented`. Digests are compared, so
    /// neither the content nor the length of a key leaks through timing,
    /// and every upstream is checked, so its position does not either.
    pub fn upstream_by_key(&self, presented: &str) -> Option<&Upstream> {
        let presented = sha256(presented.as_bytes());
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

    /// Whether a new login runs any Action. When none does, the request's
    /// event is only checked ([`Pipeline::start_without_actions`]).
    pub fn runs_actions(&self) -> bool {
        !self.settings.actions.is_empty()
    }

    /// A new login for `upstream` when no Action is configured: the request
    /// is refused as [`Pipeline::start`] would refuse it, and otherwise
    /// allowed with no effects. No event is built, no id drawn and nothing
    /// logged, since nothing would read them.
    pub fn start_without_actions(
        &self,
        upstream: &Upstream,
        request: &PostLoginRequest<CheckedEvent>,
    ) -> Result<Outcome, PipelineError> {
        Self::check_return_to(upstream, &request.return_to)?;
        request.event.check().map_err(RequestError::from)?;
        let outcome = Outcome::Allow {
            mutations: Mutations::default(),
            executions: Vec::new(),
        };
        self.metrics.login(outcome_label(&outcome));
        Ok(outcome)
    }

    fn check_return_to(upstream: &Upstream, return_to: &str) -> Result<(), PipelineError> {
        if upstream.return_to.iter().any(|r| r == return_to) {
            Ok(())
        } else {
            Err(RequestError::UnregisteredReturnTo.into())
        }
    }

    /// Runs a new login for `upstream`. Its log lines carry the upstream
    /// and the login id (the span is made with both, so nothing is
    /// recorded into it later).
    pub async fn start(
        &self,
        upstream: &Upstream,
        request: PostLoginRequest,
    ) -> Result<Outcome, PipelineError> {
        let _in_flight = self.engine.enter();
        let login_id = crate::domain::random_uuid();
        let span = tracing::info_span!("start", upstream = %upstream.id, login_id = %login_id);
        let result = self
            .start_inner(upstream, request, login_id)
            .instrument(span)
            .await;
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
        login_id: String,
    ) -> Result<Outcome, PipelineError> {
        Self::check_return_to(upstream, &request.return_to)?;
        let mut event = request.event;
        event::normalize(&mut event, self.default_hostname()).map_err(RequestError::from)?;
        let can_redirect = event::can_redirect(&event);
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
            can_redirect,
        };
        let (login, end) = self.run(login, from).await?;
        let context = Suspension {
            upstream: upstream.id.clone(),
            return_to: request.return_to,
            transaction_id: request.transaction_id,
            redirects: 0,
            created_at: self.clock.unix_secs(),
            browser_here: false,
        };
        self.finish(login, end, context)
            .await
            .map(|(outcome, _)| outcome)
    }

    /// Resumes a suspended login from a `/continue` request. Its log lines
    /// carry the state's hash (the span is made with it) and, once the
    /// login is taken, the login id.
    pub async fn resume(&self, request: ContinueRequest) -> Result<Resumed, PipelineError> {
        let _in_flight = self.engine.enter();
        let state = state_param(request.state.as_deref());
        let key = state.as_ref().ok().map(StateParam::key);
        let span = tracing::info_span!(
            "resume",
            state_hash = key.as_ref().map(StateKey::as_str),
            login_id = tracing::field::Empty
        );
        let result = async {
            let (state, key) = (state?, key.ok_or(StateError::Unknown)?);
            self.resume_inner(request, state, key).await
        }
        .instrument(span)
        .await;
        let label = match &result {
            Ok(Resumed::Redirect(..)) => "redirect",
            Ok(Resumed::Deliver { .. }) => "delivered",
            Err(e) => {
                if let PipelineError::Store(_) = e {
                    self.metrics.store_error();
                }
                e.continue_label()
            }
        };
        self.metrics.continued(label);
        result
    }

    async fn resume_inner(
        &self,
        request: ContinueRequest,
        state: StateParam,
        key: StateKey,
    ) -> Result<Resumed, PipelineError> {
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
                .and_then(|bytes| crate::domain::json_from_bytes::<SuspendedLogin>(&bytes).ok())
                .is_some_and(|record| record.bound);
            if waiting_for_redirect {
                return Err(StateError::NotOpenedHere.into());
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
                return Err(StateError::OtherBrowser.into());
            }
        }
        let bytes = self
            .store
            .take_login(&key)
            .await?
            .ok_or(StateError::Unknown)?;
        let record: SuspendedLogin = crate::domain::json_from_bytes(&bytes)
            .ok()
            .filter(|r: &SuspendedLogin| r.v == RECORD_VERSION)
            .ok_or(StateError::Unknown)?;
        let lifetime = self.remaining_lifetime(record.created_at)?;
        tracing::Span::current().record("login_id", record.login_id.as_str());
        if record.bound && self.settings.server.browser_binding && bound_to.is_none() {
            return Err(StateError::NotOpenedHere.into());
        }
        // Find the redirecting Action by name, and resume only on the code it
        // redirected from.
        let action = self
            .settings
            .actions
            .iter()
            .position(|a| a.name == record.action_name)
            .filter(|&i| self.action_hashes[i] == record.action_hash)
            .ok_or_else(|| StateError::ActionChanged(record.action_name.clone()))?;
        let upstream = self
            .settings
            .upstream(&record.upstream)
            .ok_or(StateError::UpstreamGone)?
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
                let ttl = lifetime;
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
                let key = self.result_key(&upstream);
                let result = token::result::sign_fields_with(
                    &key,
                    &outcome.wire(detail),
                    &audience,
                    &jti,
                    self.clock.unix_secs(),
                )
                .context("cannot sign the result token")?;
                Ok(Resumed::Deliver {
                    return_to: context.return_to,
                    result,
                })
            }
        }
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
                // Boxed: saving a login (the store's futures) would
                // otherwise make every login's future as large, and actix
                // moves that future around for logins that never suspend.
                return Box::pin(self.suspend(login, action, detour, context)).await;
            }
        };
        Ok((outcome, None))
    }

    /// What is left of the lifetime of a login started at `created_at`
    /// (Unix seconds); an error once it is over.
    fn remaining_lifetime(&self, created_at: u64) -> Result<Duration, StateError> {
        let expires_at = created_at.saturating_add(self.settings.store.login_ttl.as_secs());
        match expires_at.saturating_sub(self.clock.unix_secs()) {
            0 => Err(StateError::Expired),
            left => Ok(Duration::from_secs(left)),
        }
    }

    /// The result-token key of `upstream`, made at load time (made here
    /// only for an upstream this pipeline was not built with).
    fn result_key(&self, upstream: &Upstream) -> std::borrow::Cow<'_, ResultKey> {
        self.settings
            .upstreams
            .iter()
            .zip(self.result_keys.iter())
            .find(|(u, _)| u.id == upstream.id)
            .map(|(_, key)| std::borrow::Cow::Borrowed(key))
            .unwrap_or_else(|| {
                std::borrow::Cow::Owned(ResultKey::new(
                    upstream.result_secret.expose_secret().as_bytes(),
                ))
            })
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

/// SHA-256 with aws-lc (assembly; the `sha2` crate's portable code costs
/// more on every request's API key).
fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
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
