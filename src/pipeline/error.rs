//! Why the pipeline could not produce an outcome: the caller's mistakes
//! (a bad request, a state Detour cannot use), the temporary (busy engines,
//! an unreachable store), and the unexpected, which keeps its cause for the
//! one log line at the HTTP boundary.

use crate::domain::state::StateParam;
use crate::store::StoreError;

use super::event::EventError;

/// Why the pipeline could not produce an outcome.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The upstream's request is malformed.
    #[error(transparent)]
    InvalidRequest(#[from] RequestError),
    /// The `/continue` (or `/redirect`) state cannot be used.
    #[error(transparent)]
    InvalidState(#[from] StateError),
    /// Every engine is busy; try again.
    #[error("all Action engines are busy, try again shortly")]
    Busy,
    /// The store is unreachable.
    #[error("the login store is unavailable")]
    Store(#[from] StoreError),
    /// A bug or an impossible state, with what was being done and why it
    /// failed.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl PipelineError {
    /// The `result` label of the `/continue` counter.
    pub fn continue_label(&self) -> &'static str {
        match self {
            PipelineError::InvalidRequest(_) | PipelineError::InvalidState(_) => "invalid_state",
            PipelineError::Store(_) | PipelineError::Busy => "unavailable",
            PipelineError::Unexpected(_) => "error",
        }
    }
}

/// What is wrong with an upstream's `POST /v1/post-login`.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// `return_to` is not registered for the calling upstream.
    #[error("return_to is not one of this upstream's registered URLs")]
    UnregisteredReturnTo,
    /// The event lacks or mistypes a field Detour relies on.
    #[error(transparent)]
    Event(#[from] EventError),
}

/// Why a state cannot continue a login. What the browser reads: unknown,
/// used and expired records look the same from outside.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// No `state` parameter.
    #[error("the state parameter is missing")]
    Missing,
    /// No record under this state: never issued, already used, expired in
    /// the store, or not a state Detour could have made.
    #[error("the state is unknown, already used or expired; the login cannot continue")]
    Unknown,
    /// The record is there but the login's lifetime is over.
    #[error("the login has expired; start it again")]
    Expired,
    /// A bound login that never went through `/redirect`.
    #[error("this login was not opened through Detour's redirect; start it again")]
    NotOpenedHere,
    /// The binding cookie is missing or belongs to another browser.
    #[error("this login was started in another browser; start it again here")]
    OtherBrowser,
    /// `/redirect` for a login another browser is already bound to.
    #[error("this login was already opened in another browser")]
    AlreadyOpened,
    /// The redirecting Action's code changed, or it is gone.
    #[error(
        "the Action \"{0}\" changed or was removed while this login was suspended; start the login again"
    )]
    ActionChanged(String),
    /// The login's upstream was removed from the configuration.
    #[error("the upstream of this login is no longer configured")]
    UpstreamGone,
}

/// The `state` a browser sent, if it can be one Detour issued.
pub(super) fn state_param(raw: Option<&str>) -> Result<StateParam, StateError> {
    let raw = raw.ok_or(StateError::Missing)?;
    StateParam::parse(raw).ok_or(StateError::Unknown)
}
