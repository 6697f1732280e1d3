//! What a login ends with, and its wire forms (docs/protocol.md#outcomes).

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

/// How much of what the Actions printed and threw a wire form carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Everything: console output, error text, and a failed Action's own
    /// message as the deny description. For answers that go from Detour to
    /// the upstream directly (`POST /v1/post-login`, the back channel).
    Full,
    /// Nothing an Action logged or threw: each execution keeps its Action,
    /// handler and duration, and a failure's description becomes
    /// `Action "<name>" failed`. For whatever travels through the browser
    /// (the result token at `return_to`), where it would end up in the
    /// browser's history and the upstream's access logs.
    Withheld,
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

impl ExecutionRecord {
    /// The record without what the Action printed or threw.
    fn withheld(&self) -> Value {
        let mut out = Map::new();
        out.insert("action".into(), self.action.clone().into());
        out.insert("handler".into(), self.handler.clone().into());
        out.insert("duration_ms".into(), self.duration_ms.into());
        Value::Object(out)
    }
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
        /// Set when `description` is a failure's own text (an Action's
        /// thrown message, an engine error) rather than a reason meant for
        /// the user: the name of the Action that failed. Such a text is
        /// withheld from the browser ([`Detail::Withheld`]).
        failed_action: Option<String>,
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
    /// The outcome object as the upstream reads it, with everything
    /// ([`Detail::Full`]; docs/protocol.md#outcomes).
    pub fn to_wire(&self) -> Map<String, Value> {
        self.to_wire_with(Detail::Full)
    }

    /// The outcome object, carrying the Actions' output only with
    /// [`Detail::Full`].
    pub fn to_wire_with(&self, detail: Detail) -> Map<String, Value> {
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
                failed_action,
                mutations,
                executions,
            } => {
                out.insert("outcome".into(), "deny".into());
                out.insert("error".into(), error.as_str().into());
                let description = match (detail, failed_action) {
                    (Detail::Withheld, Some(action)) => format!("Action \"{action}\" failed"),
                    _ => description.clone(),
                };
                out.insert("error_description".into(), description.into());
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
        let executions = match detail {
            Detail::Full => serde_json::to_value(executions).unwrap_or(Value::Array(Vec::new())),
            Detail::Withheld => executions.iter().map(ExecutionRecord::withheld).collect(),
        };
        out.insert("executions".into(), executions);
        out
    }

    /// What [`Detail::Withheld`] leaves out, for the back channel
    /// (`POST /v1/result-details`): the full execution records and, for a
    /// deny, the full description.
    pub fn details(&self) -> Map<String, Value> {
        let mut out = Map::new();
        let executions = match self {
            Outcome::Allow { executions, .. }
            | Outcome::Redirect { executions, .. }
            | Outcome::Prompt { executions, .. } => executions,
            Outcome::Deny {
                description,
                executions,
                ..
            } => {
                out.insert("error_description".into(), description.clone().into());
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deny(failed_action: Option<&str>) -> Outcome {
        Outcome::Deny {
            error: DenyCode::AccessDenied,
            description: "token sk-123 refused".into(),
            failed_action: failed_action.map(str::to_owned),
            mutations: Mutations::default(),
            executions: vec![ExecutionRecord {
                action: "risk".into(),
                handler: "onExecutePostLogin".into(),
                duration_ms: 1.5,
                logs: vec!["using sk-123".into()],
                error: Some("token sk-123 refused".into()),
            }],
        }
    }

    #[test]
    fn withheld_wire_keeps_nothing_an_action_logged_or_threw() {
        let wire = Value::Object(deny(Some("risk")).to_wire_with(Detail::Withheld));
        assert_eq!(wire["error_description"], "Action \"risk\" failed");
        assert_eq!(
            wire["executions"],
            json!([{"action": "risk", "handler": "onExecutePostLogin", "duration_ms": 1.5}])
        );
        assert!(!wire.to_string().contains("sk-123"), "{wire}");
    }

    #[test]
    fn a_reason_meant_for_the_user_is_kept_and_the_full_wire_keeps_everything() {
        let reason = Value::Object(deny(None).to_wire_with(Detail::Withheld));
        assert_eq!(reason["error_description"], "token sk-123 refused");
        let full = Value::Object(deny(Some("risk")).to_wire());
        assert_eq!(full["error_description"], "token sk-123 refused");
        assert_eq!(full["executions"][0]["logs"], json!(["using sk-123"]));
        let details = Value::Object(deny(Some("risk")).details());
        assert_eq!(details["error_description"], "token sk-123 refused");
        assert_eq!(details["executions"][0]["error"], "token sk-123 refused");
    }
}
