//! What a login ends with, and its wire form (docs/protocol.md#outcomes).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::mutations::Mutations;

/// The OAuth error a denied login carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyCode {
    /// Denied by an Action, or an Action failed.
    AccessDenied,
    /// A redirect was asked for where none is possible.
    InteractionRequired,
}

impl DenyCode {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            DenyCode::AccessDenied => "access_denied",
            DenyCode::InteractionRequired => "interaction_required",
        }
    }
}

/// One Action execution, as reported to the upstream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecutionRecord {
    /// Action name.
    pub action: String,
    /// `onExecutePostLogin` or `onContinuePostLogin`.
    pub handler: String,
    /// Wall time in milliseconds.
    pub duration_ms: f64,
    /// Console output.
    pub logs: Vec<String>,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// How a login ends (or pauses).
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Every Action ran; the login may proceed with these effects.
    Allow {
        /// The effects.
        mutations: Mutations,
        /// Execution records.
        executions: Vec<ExecutionRecord>,
    },
    /// The login must fail.
    Deny {
        /// OAuth error code.
        error: DenyCode,
        /// Reason, shown to the user by the upstream.
        description: String,
        /// Effects gathered until then (metadata is still applied, as in
        /// Auth0).
        mutations: Mutations,
        /// Execution records.
        executions: Vec<ExecutionRecord>,
    },
    /// The browser must go to `location`; the login waits for `/continue`.
    Redirect {
        /// The external site, with `state` appended.
        location: String,
        /// Execution records so far.
        executions: Vec<ExecutionRecord>,
    },
    /// An Action called `api.prompt.render`: the upstream renders the Form
    /// and the browser posts its fields to `/continue` with `state`.
    Prompt {
        /// `{id, fields, state, continue_uri}`.
        prompt: Value,
        /// Execution records so far.
        executions: Vec<ExecutionRecord>,
    },
}

impl Outcome {
    /// The outcome object (docs/protocol.md#outcomes).
    pub fn to_wire(&self) -> Map<String, Value> {
        let mut out = Map::new();
        let executions = match self {
            Outcome::Allow {
                mutations,
                executions,
            } => {
                out.insert("outcome".into(), "allow".into());
                mutations.write_wire(&mut out);
                executions
            }
            Outcome::Deny {
                error,
                description,
                mutations,
                executions,
            } => {
                out.insert("outcome".into(), "deny".into());
                out.insert("error".into(), error.as_str().into());
                out.insert("error_description".into(), description.clone().into());
                mutations.write_wire(&mut out);
                executions
            }
            Outcome::Redirect {
                location,
                executions,
            } => {
                out.insert("outcome".into(), "redirect".into());
                out.insert("location".into(), location.clone().into());
                executions
            }
            Outcome::Prompt { prompt, executions } => {
                out.insert("outcome".into(), "prompt".into());
                out.insert("prompt".into(), prompt.clone());
                executions
            }
        };
        out.insert(
            "executions".into(),
            serde_json::to_value(executions).unwrap_or(Value::Array(Vec::new())),
        );
        out
    }
}
