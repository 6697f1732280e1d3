//! The suspended-login record: everything needed to resume on any Detour
//! instance, and nothing secret (no state, no Action secrets, no keys).

use serde::{Deserialize, Serialize};

use super::event::Event;
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
    /// The event, with the metadata changes so far applied (a JSON object;
    /// its fields are parsed only when read).
    #[serde(deserialize_with = "super::event::read_texts")]
    pub event: Event,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::event::{ContinueRequest, apply_continue_request};
    use serde_json::{Map, Value, json};

    /// A login suspended by Detour at 4d700ac (before the event kept its
    /// fields' text), as it sat in Redis.
    const RECORD_4D700AC: &str = r#"{"v":1,"upstream":"bench","return_to":"http://127.0.0.1:9/callback","transaction_id":"tx-rec","action":0,"action_name":"verify","action_hash":"956790dce339c9f1c00085f4c0555656fc050a3002da7e91cd3f04ba8dd6442a","login_id":"58add28a-e1e5-4755-8566-fd114c6f5940","redirects":0,"created_at":1796169414,"event":{"user":{"user_id":"auth0|r1","email":"r@example.com","app_metadata":{"plan":"gold","n":1.5},"name":"Ré 😀","created_at":"","updated_at":"","email_verified":false,"user_metadata":{"seen":2},"identities":[]},"request":{"ip":"203.0.113.9","hostname":"id.example.com","query":{"x":"1"},"geoip":{"countryCode":"FR"},"asn":64500,"method":"GET","body":{}},"transaction":{"protocol":"oidc-basic-profile","locale":"fr","metadata":{}},"organization":{"id":"org_1"},"stats":{"logins_count":3},"authorization":{"roles":[]},"client":{"client_id":"","name":"","metadata":{}},"connection":{"id":"","name":"","strategy":"","metadata":{}},"tenant":{"id":""},"configuration":{}},"mutations":{"id_claims":{"https://example.com/c":"v"},"user_metadata":{"seen":2}},"executions":[{"action":"verify","handler":"onExecutePostLogin","duration_ms":0.286,"logs":["sending"],"error":null}]}"#;

    #[test]
    fn a_login_suspended_by_an_earlier_version_resumes_with_the_same_event() {
        let record: SuspendedLogin = serde_json::from_str(RECORD_4D700AC).unwrap();
        // Written back byte for byte: an instance still on the earlier
        // version reads what this one writes.
        assert_eq!(serde_json::to_string(&record).unwrap(), RECORD_4D700AC);
        let whole: Value = serde_json::from_str(RECORD_4D700AC).unwrap();
        let mut expected: Map<String, Value> =
            serde_json::from_value(whole["event"].clone()).unwrap();
        let request = ContinueRequest {
            method: "POST".into(),
            ip: "198.51.100.1".into(),
            body: serde_json::from_value(json!({"state": "s", "r": "1"})).unwrap(),
            ..ContinueRequest::default()
        };
        let mut event = record.event;
        apply_continue_request(&mut event, &request);
        // What the map this record used to be read into gives.
        let old = expected.remove("request").unwrap();
        expected.insert(
            "request".into(),
            json!({
                "ip": "198.51.100.1", "method": "POST", "query": {},
                "body": {"state": "s", "r": "1"}, "geoip": old["geoip"],
                "asn": old["asn"], "hostname": old["hostname"],
            }),
        );
        let fields: Vec<String> = expected
            .iter()
            .flat_map(|(k, v)| [serde_json::to_string(k).unwrap(), v.to_string()])
            .collect();
        assert_eq!(&*event.fields_json().unwrap(), fields.as_slice());
        assert_eq!(event.into_map(), expected);
    }
}
