//! The browser's first stop on a bound detour (`GET /redirect`).

use super::Pipeline;
use super::binding::{self, BindingCookie};
use super::error::{PipelineError, StateError, state_param};
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
            .and_then(|bytes| crate::domain::json_from_bytes(&bytes).ok())
            .ok_or(StateError::Unknown)?;
        let location = record
            .external_location
            .and_then(|sealed| state.open(&sealed))
            .ok_or(StateError::Unknown)?;
        let ttl = self.remaining_lifetime(record.created_at)?;
        let (cookie, hash) = binding::new_cookie(&key, ttl);
        match self.store.put_binding(&key, &hash, ttl).await {
            Ok(()) => Ok((location, cookie)),
            Err(StoreError::Exists) => Err(StateError::AlreadyOpened.into()),
            Err(e) => Err(e.into()),
        }
    }
}
