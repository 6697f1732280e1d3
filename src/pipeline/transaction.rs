//! The suspended-login record: everything needed to resume on any Detour
//! instance, and nothing secret (no state, no Action secrets, no keys).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::mutations::Mutations;
use super::outcome::ExecutionRecord;

/// Bumped when the record's shape changes incompatibly; an old record is
/// then refused as an invalid state rather than misread.
pub const RECORD_VERSION: u32 = 1;

/// A login waiting for `/continue`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuspendedLogin {
    /// [`RECORD_VERSION`] at the time of writing.
    pub v: u32,
    /// The upstream that started the login.
    pub upstream: String,
    /// Where the result goes.
    pub return_to: String,
    /// The upstream's own transaction id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// Index of the Action that redirected.
    pub action: usize,
    /// Name of that Action: on resume it is found by name, so a reordered
    /// config still resumes the right Action.
    pub action_name: String,
    /// SHA-256 of that Action's source when it redirected: a login resumes
    /// only on the same code (a reload that changed it fails the login
    /// clearly instead of running a different `onContinuePostLogin`).
    pub action_hash: String,
    /// Correlation id of the login, in every log line on both sides of the
    /// detour.
    pub login_id: String,
    /// Redirects so far in this login.
    pub redirects: u32,
    /// Unix seconds when the login started.
    pub created_at: u64,
    /// The event, with the metadata changes so far applied.
    pub event: Map<String, Value>,
    /// Effects gathered so far.
    pub mutations: Mutations,
    /// Execution records so far.
    pub executions: Vec<ExecutionRecord>,
    /// Whether `/continue` requires the browser-binding cookie.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bound: bool,
    /// The external site (with `state`), when the browser first goes
    /// through `/redirect` to be bound: sealed with the state
    /// ([`crate::domain::state::StateParam::seal`]), so the store never
    /// holds a usable state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_location: Option<String>,
}
