//! Why the pipeline could not produce an outcome.

use crate::domain::state::StateParam;
use crate::store::StoreError;
use crate::token::TokenError;

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

/// What a browser is told about a state Detour cannot use: unknown, used
/// or expired look the same from outside.
pub(super) const UNKNOWN_STATE: &str =
    "the state is unknown, already used or expired; the login cannot continue";

pub(super) fn invalid_state(message: &str) -> PipelineError {
    PipelineError::InvalidState(message.into())
}

/// The `state` a browser sent, if it can be one Detour issued.
pub(super) fn state_param(raw: Option<&str>) -> Result<StateParam, PipelineError> {
    let raw = raw.ok_or_else(|| invalid_state("the state parameter is missing"))?;
    StateParam::parse(raw).ok_or_else(|| invalid_state(UNKNOWN_STATE))
}
