//! The browser's first stop on a bound detour (`GET /redirect`).

use super::Pipeline;
use super::binding::{self, BindingCookie};
use super::error::{PipelineError, UNKNOWN_STATE, invalid_state, state_param};
use super::transaction::SuspendedLogin;
use crate::store::StoreError;

impl Pipeline {
    /// The browser's first stop on a bound detour (`GET /redirect`): binds
    /// the login to this browser and returns where to send it next.
    #[tracing::instrument(skip_all, fields(state_hash = tracing::field::Empty))]
    pub async fn bind(
        &self,
        state: Option<&str>,
    ) -> Result<(String, BindingCookie), PipelineError> {
        let state = state_param(state)?;
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
        let ttl = self.remaining_lifetime(record.created_at)?;
        let (cookie, hash) = binding::new_cookie(&key, ttl);
        match self.store.put_binding(&key, &hash, ttl).await {
            Ok(()) => Ok((location, cookie)),
            Err(StoreError::Exists) => Err(invalid_state(
                "this login was already opened in another browser",
            )),
            Err(e) => Err(e.into()),
        }
    }
}
