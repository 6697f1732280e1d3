//! Suspending a login: the record saved under the state's hash, the
//! redirect or Form outcome, and the binding of the browser.

use std::time::Duration;

use anyhow::Context as _;
use serde_json::Value;

use super::Pipeline;
use super::binding::{self, BindingCookie};
use super::error::PipelineError;
use super::outcome::Outcome;
use super::runner::{Detour, Login};
use super::transaction::{RECORD_VERSION, SuspendedLogin};
use crate::domain::state::{StateKey, StateParam};

impl Pipeline {
    /// The `prompt` field of a render outcome: what the upstream needs to
    /// render the Form and send its fields back (`vars` stay here).
    pub(super) fn prompt_wire(&self, prompt: &Value, state: &str) -> Value {
        let continue_uri = self.settings.server.endpoint("continue").to_string();
        serde_json::json!({
            "id": prompt.get("id").cloned().unwrap_or_default(),
            "fields": prompt.get("fields").cloned().unwrap_or_else(|| serde_json::json!({})),
            "state": state,
            "continue_uri": continue_uri,
        })
    }

    pub(super) async fn suspend(
        &self,
        mut login: Login,
        action: usize,
        detour: Detour,
        context: Suspension,
    ) -> Result<(Outcome, Option<BindingCookie>), PipelineError> {
        let ttl = self.remaining_lifetime(context.created_at)?;
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
        let mut location =
            url::Url::parse(&url).context("the Action's redirect URL does not parse")?;
        location
            .query_pairs_mut()
            .append_pair("state", state.as_str());
        let browser_here = context.browser_here;
        let bound = self.settings.server.browser_binding;
        let mut record = self.record_of(login, action, context, bound);
        let key = state.key();
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
                record.external_location = Some(
                    state
                        .seal(&location)
                        .context("could not seal the external location")?,
                );
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
        let bytes = serde_json::to_vec(record).context("cannot serialize a suspended login")?;
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
        ttl: Duration,
    ) -> Result<(Outcome, Option<BindingCookie>), PipelineError> {
        let wire = self.prompt_wire(&prompt, state.as_str());
        login.event.insert("prompt".into(), prompt);
        let record = self.record_of(login, action, context, false);
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
}

/// Who a login belongs to and how far it went, carried across a detour.
#[derive(Clone)]
pub(super) struct Suspension {
    pub(super) upstream: String,
    pub(super) return_to: String,
    pub(super) transaction_id: Option<String>,
    pub(super) redirects: u32,
    pub(super) created_at: u64,
    /// The browser is talking to Detour right now (`/continue`), so a new
    /// binding cookie can be set directly.
    pub(super) browser_here: bool,
}
