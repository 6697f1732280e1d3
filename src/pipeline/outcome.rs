//! What a login ends with, and its wire forms (docs/protocol.md#outcomes).

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::mutations::Mutations;
use crate::token::result::OutcomeFields;

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
        match serde_json::to_value(self.wire(detail)) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }

    /// The outcome object of [`Outcome::to_wire_with`] as something to
    /// serialize: the same JSON, written straight from the outcome (an
    /// answer's body needs no map built and dropped on the way).
    pub fn wire(&self, detail: Detail) -> Wire<'_> {
        Wire {
            outcome: self,
            detail,
        }
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

/// An outcome's wire form, serialized on demand ([`Outcome::wire`]).
pub struct Wire<'a> {
    outcome: &'a Outcome,
    detail: Detail,
}

impl Serialize for Wire<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_map(None)?;
        self.serialize_fields(&mut out)?;
        out.end()
    }
}

impl Wire<'_> {
    /// The outcome object's fields, into an object being serialized (the
    /// result token's claims start with them).
    pub fn serialize_fields<M: SerializeMap>(&self, out: &mut M) -> Result<(), M::Error> {
        let executions = match self.outcome {
            Outcome::Allow {
                mutations,
                executions,
            } => {
                out.serialize_entry("outcome", "allow")?;
                mutations.serialize_wire(out)?;
                executions
            }
            Outcome::Deny {
                error,
                description,
                failed_action,
                mutations,
                executions,
            } => {
                out.serialize_entry("outcome", "deny")?;
                out.serialize_entry("error", error.as_str())?;
                match (self.detail, failed_action) {
                    (Detail::Withheld, Some(action)) => out.serialize_entry(
                        "error_description",
                        &format_args!("Action \"{action}\" failed"),
                    )?,
                    _ => out.serialize_entry("error_description", description)?,
                }
                mutations.serialize_wire(out)?;
                executions
            }
            Outcome::Redirect {
                location,
                executions,
            } => {
                out.serialize_entry("outcome", "redirect")?;
                out.serialize_entry("location", location)?;
                executions
            }
            Outcome::Prompt { prompt, executions } => {
                out.serialize_entry("outcome", "prompt")?;
                out.serialize_entry("prompt", prompt)?;
                executions
            }
        };
        match self.detail {
            Detail::Full => out.serialize_entry("executions", executions)?,
            Detail::Withheld => out.serialize_entry("executions", &WithheldRecords(executions))?,
        }
        Ok(())
    }
}

/// A result token's claims start with the outcome's fields. None of them
/// (`outcome`, `error`, `location`, the effects, `executions`, ...) has a
/// claim's name, so every claim follows them.
impl OutcomeFields for Wire<'_> {
    fn serialize_fields<M: SerializeMap>(
        &self,
        map: &mut M,
        _claim: impl Fn(&str) -> Option<Value>,
    ) -> Result<(), M::Error> {
        Wire::serialize_fields(self, map)
    }

    fn has_field(&self, _name: &str) -> bool {
        false
    }
}

/// Execution records without what the Actions printed or threw.
struct WithheldRecords<'a>(&'a [ExecutionRecord]);

impl Serialize for WithheldRecords<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|r| Withheld {
            action: &r.action,
            handler: &r.handler,
            duration_ms: r.duration_ms,
        }))
    }
}

/// One execution record without its logs and error.
#[derive(Serialize)]
struct Withheld<'a> {
    action: &'a str,
    handler: &'a str,
    duration_ms: f64,
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

    #[test]
    fn the_wire_is_written_as_the_outcome_object_reads() {
        let mutations: Mutations = serde_json::from_value(json!({
            "id_claims": {"https://x/roles": ["admin"]},
            "access_claims": {"a": 1},
            "scopes": {"read": "add", "write": "remove", "more": "add"},
            "user_metadata": {"u": null},
            "app_metadata": {"tier": "pro"},
            "multifactor": {"provider": "any"},
            "transaction_metadata": {"t": 1},
        }))
        .unwrap();
        let Outcome::Deny { executions, .. } = deny(None) else {
            unreachable!()
        };
        let allow = Outcome::Allow {
            mutations,
            executions,
        };
        let expected = json!({
            "outcome": "allow",
            "id_token": {"claims": {"https://x/roles": ["admin"]}},
            "access_token": {"claims": {"a": 1}, "scopes": {"add": ["read", "more"], "remove": ["write"]}},
            "user": {"user_metadata": {"u": null}, "app_metadata": {"tier": "pro"}},
            "multifactor": {"provider": "any"},
            "transaction_metadata": {"t": 1},
            "executions": [{
                "action": "risk", "handler": "onExecutePostLogin", "duration_ms": 1.5,
                "logs": ["using sk-123"], "error": "token sk-123 refused",
            }],
        });
        let text = serde_json::to_string(&allow.wire(Detail::Full)).unwrap();
        assert_eq!(text, expected.to_string());
        assert_eq!(Value::Object(allow.to_wire()), expected);
        let withheld = deny(Some("risk"));
        assert_eq!(
            serde_json::to_string(&withheld.wire(Detail::Withheld)).unwrap(),
            Value::Object(withheld.to_wire_with(Detail::Withheld)).to_string()
        );
    }

    #[test]
    fn a_result_token_signed_from_the_wire_is_the_one_signed_from_its_map() {
        use crate::token::result::{Audience, sign_at, sign_fields_at};
        let audience = Audience {
            issuer: "https://detour.example",
            upstream: "demo",
            transaction_id: Some("tx"),
        };
        for detail in [Detail::Full, Detail::Withheld] {
            let outcome = deny(Some("risk"));
            let from_map =
                sign_at(b"k", outcome.to_wire_with(detail), &audience, "j", 1000).unwrap();
            let from_wire =
                sign_fields_at(b"k", &outcome.wire(detail), &audience, "j", 1000).unwrap();
            assert_eq!(from_wire, from_map);
        }
    }
}
