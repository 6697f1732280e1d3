//! The Auth0-shaped `event`: filling the fields Auth0 always provides, the
//! `canRedirect` rule, and the `/continue` request that replaces
//! `event.request` on resume.

use serde_json::{Map, Value, json};

mod check;
mod fields;
pub use check::CheckedEvent;
pub use fields::{Event, read_texts};

/// Protocols with no browser to redirect: `api.redirect.canRedirect()` is
/// false and a `sendUserTo` ends the login with `interaction_required`.
/// The first four are Auth0's own list; the rest are back-channel flows
/// that cannot redirect either (docs/auth0-compatibility.md#canredirect-and-promptnone).
pub const NON_INTERACTIVE_PROTOCOLS: &[&str] = &[
    "oauth2-resource-owner",
    "oauth2-refresh-token",
    "oauth2-password",
    "oauth2-webauthn",
    "oauth2-token-exchange",
    "oauth2-resource-owner-jwt-bearer",
    "oidc-ciba",
    "oauth2-access-token",
    "wstrust-usernamemixed",
];

/// The event is unusable.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EventError(pub String);

/// Checks the parts Detour relies on and fills in every field Auth0 always
/// provides (docs/auth0-compatibility.md#event-fields-always-present), so real Actions do not crash on a sparse
/// event. Whatever the upstream sent is kept; `null` counts as absent.
/// An always-present field sent with another JSON type (e.g.
/// `user.app_metadata: "x"`) is refused with an error naming it. Optional
/// fields (`session`, `organization`, `user.email`, …) stay absent when
/// absent. `event.secrets` is not filled here: the engine always sets it
/// from the Action's configuration.
pub fn normalize(event: &mut Event, default_hostname: &str) -> Result<(), EventError> {
    let user_id_ok = event
        .get("user")
        .and_then(|u| u.get("user_id"))
        .and_then(Value::as_str)
        .is_some_and(|id| !id.is_empty());
    if !user_id_ok {
        return Err(missing_user_id());
    }
    // Secrets come from Detour's config, handed to each execution by the
    // engine: whatever an upstream put here is dropped, never stored.
    event.remove("secrets");
    let mut path = vec!["event"];
    for (key, default) in DEFAULTS.iter() {
        path.push(key);
        match event.get_mut(key) {
            None | Some(Value::Null) => event.insert(key.clone(), default.clone()),
            Some(value) => fill_value(value, default, &mut path)?,
        }
        path.pop();
    }
    // The one default that depends on the configuration.
    if let Some(Value::Object(request)) = event.get_mut("request") {
        match request.get("hostname") {
            None | Some(Value::Null) => {
                request.insert("hostname".into(), default_hostname.into());
            }
            Some(Value::String(_)) => {}
            Some(other) => return Err(mistyped_hostname(kind_name(other))),
        }
    }
    Ok(())
}

/// Every always-present field with the type Auth0 guarantees, built once.
/// Strings Detour cannot know are empty rather than invented.
static DEFAULTS: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(|| {
    let defaults = json!({
        "user": {
            "created_at": "", "updated_at": "", "email_verified": false,
            "app_metadata": {}, "user_metadata": {}, "identities": [],
        },
        "request": {
            "ip": "", "method": "GET", "query": {}, "body": {}, "geoip": {},
        },
        "transaction": { "metadata": {} },
        "authorization": { "roles": [] },
        "client": { "client_id": "", "name": "", "metadata": {} },
        "connection": { "id": "", "name": "", "strategy": "", "metadata": {} },
        "stats": { "logins_count": 1 },
        "tenant": { "id": "" },
        "configuration": {},
    });
    match defaults {
        Value::Object(map) => map,
        _ => Map::new(),
    }
});

fn missing_user_id() -> EventError {
    EventError("event.user.user_id must be a non-empty string".into())
}

fn mistyped_hostname(got: &str) -> EventError {
    EventError(format!(
        "event.request.hostname must be a string, not {got}"
    ))
}

/// The JSON type of a value, as the error message names it.
fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Adds each default key that is missing or `null` (recursing into objects
/// present on both sides); never overwrites what the upstream sent, and
/// refuses a value whose JSON type differs from the default's. `path` is
/// joined only for an error, not for every key of every login.
fn fill<'a>(
    target: &mut Map<String, Value>,
    defaults: &'a Map<String, Value>,
    path: &mut Vec<&'a str>,
) -> Result<(), EventError> {
    for (key, default) in defaults {
        path.push(key);
        match field_mut(target, key) {
            None | Some(Value::Null) => {
                target.insert(key.clone(), default.clone());
            }
            Some(value) => fill_value(value, default, path)?,
        }
        path.pop();
    }
    Ok(())
}

/// [`fill`] for a value that is present and not `null`: an object gets its
/// defaults, any other value must have the default's type.
fn fill_value<'a>(
    value: &mut Value,
    default: &'a Value,
    path: &mut Vec<&'a str>,
) -> Result<(), EventError> {
    match (value, default) {
        (Value::Object(inner), Value::Object(d)) => fill(inner, d, path),
        (Value::Object(_), _) => Err(mistyped(&path.join("."), default, "an object")),
        (value, _) if std::mem::discriminant(value) != std::mem::discriminant(default) => {
            Err(mistyped(&path.join("."), default, kind_name(value)))
        }
        _ => Ok(()),
    }
}

/// `map.get_mut(key)`, by a scan on the small objects an event is made of
/// (comparing a few short keys costs less than hashing one with SipHash).
fn field_mut<'m>(map: &'m mut Map<String, Value>, key: &str) -> Option<&'m mut Value> {
    if map.len() <= 16 {
        map.iter_mut()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    } else {
        map.get_mut(key)
    }
}

fn mistyped(path: &str, expected: &Value, got: &str) -> EventError {
    EventError(format!("{path} must be {}, not {got}", kind_name(expected)))
}

/// Whether this login can send the browser somewhere (Auth0's rule).
pub fn can_redirect(event: &Event) -> bool {
    let prompt_none_query = event
        .get("request")
        .and_then(|r| r.get("query"))
        .and_then(|q| q.get("prompt"))
        .and_then(Value::as_str)
        == Some("none");
    let prompt_none_tx = event
        .get("transaction")
        .and_then(|t| t.get("prompt"))
        .and_then(Value::as_array)
        .is_some_and(|p| p.iter().any(|v| v.as_str() == Some("none")));
    let back_channel = event
        .get("transaction")
        .and_then(|t| t.get("protocol"))
        .and_then(Value::as_str)
        .is_some_and(|p| NON_INTERACTIVE_PROTOCOLS.contains(&p));
    !(prompt_none_query || prompt_none_tx || back_channel)
}

/// The browser request that came back to `/continue`.
#[derive(Debug, Clone, Default)]
pub struct ContinueRequest {
    /// The raw `state` parameter, if any.
    pub state: Option<String>,
    /// `GET` or `POST`.
    pub method: String,
    /// Query parameters.
    pub query: Map<String, Value>,
    /// Form body parameters.
    pub body: Map<String, Value>,
    /// Peer address.
    pub ip: String,
    /// `Host` header.
    pub hostname: Option<String>,
    /// `User-Agent` header.
    pub user_agent: Option<String>,
    /// First language of `Accept-Language`.
    pub language: Option<String>,
    /// Detour's binding cookies the browser sent (`detour_b_*`).
    pub cookies: Vec<(String, String)>,
}

/// What `/continue` keeps of the first request: each field as it was,
/// `null` included, when present.
#[derive(Default, serde::Deserialize)]
struct KeptRequest {
    #[serde(default, deserialize_with = "present")]
    geoip: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    asn: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    hostname: Option<Value>,
}

/// A field that is present, `null` or not.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    serde::Deserialize::deserialize(d).map(Some)
}

/// Replaces `event.request` with the `/continue` request, keeping the
/// original `geoip` and `asn` (Detour cannot look them up itself). The
/// stored request is read for those fields only.
pub fn apply_continue_request(event: &mut Event, request: &ContinueRequest) {
    let old: KeptRequest = event.remove_as("request").unwrap_or_default();
    let mut new = Map::new();
    new.insert("ip".into(), request.ip.clone().into());
    new.insert("method".into(), request.method.clone().into());
    new.insert("query".into(), Value::Object(request.query.clone()));
    new.insert("body".into(), Value::Object(request.body.clone()));
    new.insert("geoip".into(), old.geoip.unwrap_or_else(|| json!({})));
    if let Some(asn) = old.asn {
        new.insert("asn".into(), asn);
    }
    let hostname = request.hostname.clone().map(Value::from).or(old.hostname);
    for (key, value) in [
        ("hostname", hostname),
        ("user_agent", request.user_agent.clone().map(Value::from)),
        ("language", request.language.clone().map(Value::from)),
    ] {
        if let Some(v) = value {
            new.insert(key.into(), v);
        }
    }
    event.insert("request".into(), Value::Object(new));
    // Back from a rendered Form: the submitted parameters become
    // event.prompt.fields (over the fields the Form was rendered with).
    if let Some(Value::Object(prompt)) = event.get_mut("prompt") {
        let mut fields = prompt
            .get("fields")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (k, v) in request.query.iter().chain(request.body.iter()) {
            if k != "state" {
                fields.insert(k.clone(), v.clone());
            }
        }
        prompt.insert("fields".into(), Value::Object(fields));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(v: Value) -> Event {
        v.as_object().cloned().unwrap_or_default().into()
    }

    /// `normalize`, and the event as a map.
    fn normalized(v: Value) -> Map<String, Value> {
        let mut e = ev(v);
        normalize(&mut e, "detour.example").unwrap();
        e.into_map()
    }

    #[test]
    fn prompt_none_and_back_channel_protocols_cannot_redirect() {
        assert!(can_redirect(&ev(json!({"request": {"query": {}}}))));
        assert!(!can_redirect(&ev(
            json!({"request": {"query": {"prompt": "none"}}})
        )));
        assert!(!can_redirect(&ev(
            json!({"transaction": {"protocol": "oauth2-refresh-token"}})
        )));
        assert!(can_redirect(&ev(
            json!({"transaction": {"protocol": "oidc-basic-profile"}})
        )));
    }

    #[test]
    fn sparse_events_get_auth0s_always_present_fields() {
        let e = normalized(json!({"user": {"user_id": "u1", "app_metadata": {"a": 1}}}));
        assert_eq!(e["user"]["app_metadata"], json!({"a": 1}));
        assert_eq!(e["user"]["user_metadata"], json!({}));
        assert_eq!(e["request"]["hostname"], "detour.example");
        assert_eq!(e["transaction"]["metadata"], json!({}));
    }

    #[test]
    fn a_sparse_event_gets_every_always_present_field_with_auth0s_type() {
        let e = normalized(json!({"user": {"user_id": "u"}}));
        assert_eq!(e["user"]["email_verified"], json!(false));
        assert_eq!(e["user"]["identities"], json!([]));
        assert_eq!(e["request"]["geoip"], json!({}));
        assert_eq!(e["stats"]["logins_count"], json!(1));
        assert_eq!(e["authorization"]["roles"], json!([]));
        assert_eq!(e["configuration"], json!({}));
        assert!(e.get("session").is_none());
        assert!(e["user"].get("email").is_none());
    }

    #[test]
    fn secrets_sent_by_an_upstream_are_dropped() {
        let e = normalized(json!({"user": {"user_id": "u"}, "secrets": {"K": "v"}}));
        assert!(e.get("secrets").is_none());
    }

    #[test]
    fn a_mistyped_always_present_field_is_refused_by_name() {
        let mut e = ev(json!({"user": {"user_id": "u", "app_metadata": "x"}}));
        let err = normalize(&mut e, "h").unwrap_err().to_string();
        assert_eq!(
            err,
            "event.user.app_metadata must be an object, not a string"
        );
        let mut e = ev(json!({"user": {"user_id": "u"}, "stats": {"logins_count": "3"}}));
        let err = normalize(&mut e, "h").unwrap_err().to_string();
        assert_eq!(
            err,
            "event.stats.logins_count must be a number, not a string"
        );
        let mut e = ev(json!({"user": {"user_id": "u"}, "request": []}));
        let err = normalize(&mut e, "h").unwrap_err().to_string();
        assert_eq!(err, "event.request must be an object, not an array");
    }

    #[test]
    fn an_event_without_a_user_id_is_refused() {
        assert!(normalize(&mut ev(json!({"user": {}})), "h").is_err());
    }
}
