//! The effects gathered from every Action of a login, merged by Auth0's
//! rules (docs/auth0-compatibility.md#merge-rules): claims and metadata keys last-write-wins,
//! scopes per-scope last operation wins, MFA last call wins.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::effects::Effects;
use super::event::Event;
use super::limits::{
    MAX_ADDED_SCOPES, MAX_CLAIMS_BYTES, MAX_METADATA_BYTES, MAX_TRANSACTION_METADATA_BYTES,
};
use crate::engine::Command;
use crate::store::cache::{CacheChanges, CacheEntry};

/// Claim names Auth0 refuses to let an Action set; they are silently left
/// out, as Auth0 does (docs/auth0-compatibility.md#custom-claims).
const RESTRICTED_CLAIMS: &[&str] = &[
    "acr",
    "act",
    "active",
    "amr",
    "at_hash",
    "ath",
    "attest",
    "aud",
    "auth_time",
    "authorization_details",
    "azp",
    "c_hash",
    "client_id",
    "cnf",
    "cty",
    "dest",
    "entitlements",
    "events",
    "exp",
    "groups",
    "gty",
    "htm",
    "htu",
    "iat",
    "internalService",
    "iss",
    "jcard",
    "jku",
    "jti",
    "jwe",
    "jwk",
    "kid",
    "may_act",
    "mky",
    "nbf",
    "nonce",
    "object_id",
    "org_id",
    "org_name",
    "orig",
    "origid",
    "permissions",
    "roles",
    "rph",
    "s_hash",
    "sid",
    "sip_callid",
    "sip_cseq_num",
    "sip_date",
    "sip_from_tag",
    "sip_via_branch",
    "sub",
    "sub_jwk",
    "toe",
    "txn",
    "typ",
    "uuid",
    "vot",
    "vtm",
    "x5t#S256",
    "scope",
];

/// Namespaces reserved by Auth0.
const RESERVED_NAMESPACES: &[&str] = &["auth0.com", "webtask.io", "webtask.run"];

/// Whether a custom claim name may be set.
pub fn claim_allowed(key: &str) -> bool {
    if RESTRICTED_CLAIMS.contains(&key) || key.starts_with("urn:auth0") {
        return false;
    }
    let host = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .map(|rest| rest.split('/').next().unwrap_or(""));
    !host.is_some_and(|h| {
        RESERVED_NAMESPACES
            .iter()
            .any(|ns| h == *ns || h.strip_suffix(ns).is_some_and(|rest| rest.ends_with('.')))
    })
}

/// How many bytes `value` takes as JSON, counted as it is written (no
/// buffer): what the limits on a login's effects measure.
fn json_len(value: &impl Serialize) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

/// Accumulated effects of a login.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Mutations {
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    id_claims: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    access_claims: Map<String, Value>,
    /// scope -> "add" | "remove"
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    scopes: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    user_metadata: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    app_metadata: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    multifactor: Option<Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    transaction_metadata: Map<String, Value>,
    /// Effects reported to the upstream (authentication, session, ...).
    #[serde(default, skip_serializing_if = "Effects::is_empty")]
    effects: Effects,
}

/// What the flow should do after an Action, from its commands.
#[derive(Debug, Default)]
pub struct Control {
    /// `api.access.deny` was called (last reason wins).
    pub deny: Option<String>,
    /// `api.redirect.sendUserTo` was called (last URL wins).
    pub redirect: Option<String>,
    /// `api.prompt.render` was called: `{id, fields, vars}`.
    pub render: Option<Value>,
    /// `api.cache` writes, for the store.
    pub cache: CacheChanges,
    /// Whether `event` changed (metadata mirrored into it).
    pub event_changed: bool,
}

impl Mutations {
    /// Applies one Action's commands, and mirrors the changes later Actions
    /// must see into `event` (metadata in `event.user`, transaction metadata
    /// in `event.transaction.metadata`); `None` when nothing reads the
    /// event again.
    pub fn apply(&mut self, commands: Vec<Command>, mut event: Option<&mut Event>) -> Control {
        let mut control = Control::default();
        for command in commands {
            match command {
                Command::Deny { reason } => control.deny = Some(reason),
                Command::Redirect { url } => control.redirect = Some(url),
                Command::IdClaim { key, value } => {
                    if claim_allowed(&key) {
                        self.id_claims.insert(key, value);
                    }
                }
                Command::AccessClaim { key, value } => {
                    if claim_allowed(&key) {
                        self.access_claims.insert(key, value);
                    }
                }
                Command::AddScope { scope } => {
                    self.scopes.shift_remove(&scope);
                    self.scopes.insert(scope, "add".into());
                }
                Command::RemoveScope { scope } => {
                    self.scopes.shift_remove(&scope);
                    self.scopes.insert(scope, "remove".into());
                }
                Command::UserMetadata { key, value } => {
                    control.event_changed = true;
                    if let Some(event) = event.as_deref_mut() {
                        merge_key(
                            event_object(event, "user", &["user_metadata"]),
                            &key,
                            &value,
                        );
                    }
                    self.user_metadata.insert(key, value);
                }
                Command::AppMetadata { key, value } => {
                    control.event_changed = true;
                    if let Some(event) = event.as_deref_mut() {
                        merge_key(event_object(event, "user", &["app_metadata"]), &key, &value);
                    }
                    self.app_metadata.insert(key, value);
                }
                Command::Multifactor { value } => self.multifactor = Some(value),
                Command::Authentication { kind, any, factors } => {
                    self.effects.authentication(kind, any, factors);
                }
                Command::RecordMethod { url, timestamp } => {
                    self.effects.record_method(url, timestamp);
                }
                Command::PrimaryUser { user_id } => self.effects.primary_user(user_id),
                Command::Revoke {
                    target,
                    reason,
                    preserve_refresh_tokens,
                } => {
                    // A revoke stops the flow like a deny (docs/auth0-compatibility.md#merge-rules).
                    self.effects
                        .revoke(target, &reason, preserve_refresh_tokens);
                    control.deny = Some(reason);
                }
                Command::Expiry { target, field, at } => self.effects.expiry(target, field, at),
                Command::CookieMode { mode } => self.effects.cookie_mode(mode),
                Command::Metadata { target, key, value } => {
                    self.effects.metadata(target, key, value);
                }
                Command::EvictMetadata { target } => self.effects.evict_metadata(target),
                Command::SamlAttribute { name, value } => self.effects.saml_attribute(name, value),
                Command::Saml { key, value } => self.effects.saml(key, value),
                Command::ValidationError { code, message } => {
                    // Ends the login like a deny whose description is the
                    // message; the code is reported in `validation_error`.
                    self.effects.validation_error(code, message.clone());
                    control.deny = Some(message);
                }
                Command::Render { id, fields, vars } => {
                    control.render = Some(json!({ "id": id, "fields": fields, "vars": vars }));
                }
                Command::CacheSet {
                    key,
                    value,
                    expires_at,
                } => control
                    .cache
                    .set
                    .push((key, CacheEntry { value, expires_at })),
                Command::CacheDelete { key } => control.cache.delete.push(key),
                Command::TransactionMetadata { key, value } => {
                    control.event_changed = true;
                    if let Some(event) = event.as_deref_mut() {
                        merge_key(
                            event_object(event, "transaction", &["metadata"]),
                            &key,
                            &value,
                        );
                    }
                    if value.is_null() {
                        self.transaction_metadata.shift_remove(&key);
                    } else {
                        self.transaction_metadata.insert(key, value);
                    }
                }
            }
        }
        control
    }

    /// The first of Auth0's per-login limits these effects break, if any:
    /// 100 KB of custom claims (ID and access token together, as JSON),
    /// 32 KB each of user and app metadata changes, 16 KB of transaction
    /// metadata, 1000 added scopes, and the session and SAML limits.
    pub fn over_limit(&self) -> Option<String> {
        let size = |m: &Map<String, Value>| json_len(m);
        if size(&self.id_claims).saturating_add(size(&self.access_claims)) > MAX_CLAIMS_BYTES {
            return Some("more than 100 KB of custom claims".into());
        }
        for (what, map) in [
            ("user_metadata", &self.user_metadata),
            ("app_metadata", &self.app_metadata),
        ] {
            if size(map) > MAX_METADATA_BYTES {
                return Some(format!("more than 32 KB of {what} changes"));
            }
        }
        if size(&self.transaction_metadata) > MAX_TRANSACTION_METADATA_BYTES {
            return Some("more than 16 KB of transaction metadata".into());
        }
        let adds = self
            .scopes
            .values()
            .filter(|v| v.as_str() == Some("add"))
            .count();
        if adds > MAX_ADDED_SCOPES {
            return Some(format!("more than {MAX_ADDED_SCOPES} added scopes"));
        }
        self.effects.over_limit()
    }

    /// The outcome fields (docs/protocol.md#outcomes): empty sections are left out.
    pub fn write_wire(&self, out: &mut Map<String, Value>) {
        if let Ok(Value::Object(fields)) = serde_json::to_value(WireFields(self)) {
            out.extend(fields);
        }
    }

    /// The same fields as [`Mutations::write_wire`], serialized straight
    /// into the outcome's JSON object (no values built on the way).
    pub fn serialize_wire<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        if !self.id_claims.is_empty() {
            map.serialize_entry(
                "id_token",
                &IdToken {
                    claims: &self.id_claims,
                },
            )?;
        }
        if !self.access_claims.is_empty() || !self.scopes.is_empty() {
            let pick = |op: &str| -> Vec<&String> {
                self.scopes
                    .iter()
                    .filter(|(_, v)| v.as_str() == Some(op))
                    .map(|(k, _)| k)
                    .collect()
            };
            let access = AccessToken {
                claims: &self.access_claims,
                scopes: Scopes {
                    add: pick("add"),
                    remove: pick("remove"),
                },
            };
            map.serialize_entry("access_token", &access)?;
        }
        if !self.user_metadata.is_empty() || !self.app_metadata.is_empty() {
            let user = UserMetadata {
                user_metadata: &self.user_metadata,
                app_metadata: &self.app_metadata,
            };
            map.serialize_entry("user", &user)?;
        }
        if let Some(mfa) = &self.multifactor {
            map.serialize_entry("multifactor", mfa)?;
        }
        if !self.transaction_metadata.is_empty() {
            map.serialize_entry("transaction_metadata", &self.transaction_metadata)?;
        }
        if !self.effects.is_empty() {
            let mut effects = Map::new();
            self.effects.write_wire(&mut effects);
            for (key, value) in &effects {
                map.serialize_entry(key, value)?;
            }
        }
        Ok(())
    }

    /// Whether an Action already switched the primary user.
    pub fn primary_user_set(&self) -> bool {
        self.effects.primary_user_set()
    }
}

/// [`Mutations::serialize_wire`] as an object of its own.
struct WireFields<'a>(&'a Mutations);

impl Serialize for WireFields<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.0.serialize_wire(&mut map)?;
        map.end()
    }
}

/// `id_token` in the outcome.
#[derive(Serialize)]
struct IdToken<'a> {
    claims: &'a Map<String, Value>,
}

/// `access_token` in the outcome.
#[derive(Serialize)]
struct AccessToken<'a> {
    claims: &'a Map<String, Value>,
    scopes: Scopes<'a>,
}

#[derive(Serialize)]
struct Scopes<'a> {
    add: Vec<&'a String>,
    remove: Vec<&'a String>,
}

/// `user` in the outcome.
#[derive(Serialize)]
struct UserMetadata<'a> {
    user_metadata: &'a Map<String, Value>,
    app_metadata: &'a Map<String, Value>,
}

/// The object at `path` inside the event's `field`, created when missing or not an
/// object.
fn event_object<'a>(
    event: &'a mut Event,
    field: &str,
    path: &[&str],
) -> &'a mut Map<String, Value> {
    let slot = event.get_or_insert_with(field, || Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    let Value::Object(first) = slot else {
        unreachable!("just made an object")
    };
    let mut current = first;
    for key in path {
        let slot = current
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(next) = slot else {
            unreachable!("just made an object")
        };
        current = next;
    }
    current
}

fn merge_key(target: &mut Map<String, Value>, key: &str, value: &Value) {
    if value.is_null() {
        target.shift_remove(key);
    } else {
        target.insert(key.to_owned(), value.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_and_auth0_namespaced_claims_are_refused() {
        for bad in [
            "sub",
            "roles",
            "scope",
            "https://auth0.com/x",
            "https://a.webtask.io/x",
            "urn:auth0:x",
        ] {
            assert!(!claim_allowed(bad), "{bad}");
        }
        for good in ["https://my-app.example.com/roles", "color", "email"] {
            assert!(claim_allowed(good), "{good}");
        }
    }

    #[test]
    fn the_last_operation_on_a_scope_wins() {
        let mut m = Mutations::default();
        let mut event = Event::default();
        m.apply(
            vec![
                Command::AddScope { scope: "a".into() },
                Command::AddScope { scope: "b".into() },
                Command::RemoveScope { scope: "a".into() },
            ],
            Some(&mut event),
        );
        let mut out = Map::new();
        m.write_wire(&mut out);
        assert_eq!(
            out["access_token"]["scopes"],
            json!({"add": ["b"], "remove": ["a"]})
        );
    }

    #[test]
    fn metadata_changes_are_mirrored_into_the_event_and_null_deletes() {
        let mut m = Mutations::default();
        let mut event: Event = serde_json::from_value::<Map<String, Value>>(
            json!({"user": {"user_metadata": {"a": 1, "b": 2}}}),
        )
        .unwrap()
        .into();
        m.apply(
            vec![
                Command::UserMetadata {
                    key: "a".into(),
                    value: Value::Null,
                },
                Command::UserMetadata {
                    key: "c".into(),
                    value: json!(3),
                },
            ],
            Some(&mut event),
        );
        assert_eq!(
            event.get("user").unwrap()["user_metadata"],
            json!({"b": 2, "c": 3})
        );
        let mut out = Map::new();
        m.write_wire(&mut out);
        assert_eq!(out["user"]["user_metadata"], json!({"a": null, "c": 3}));
    }

    #[test]
    fn json_len_is_the_length_of_the_json() {
        let v = json!({"a": [1, "é", null], "b": {"c": 1.5}});
        assert_eq!(json_len(&v), serde_json::to_vec(&v).unwrap().len());
    }

    #[test]
    fn reserved_namespaces_and_their_subdomains_are_refused() {
        assert!(!claim_allowed("https://auth0.com/x"));
        assert!(!claim_allowed("https://a.auth0.com/x"));
        assert!(claim_allowed("https://myauth0.com/x"));
        assert!(claim_allowed("https://my-app.example.com/roles"));
    }
}
