//! The effects Detour cannot perform itself and reports to the upstream:
//! authentication challenges and enrolments, recorded methods, the primary
//! user, session and refresh-token settings, SAML response settings and a
//! validation error. Merge rules (docs/auth0-compatibility.md#merge-rules): challenges and
//! enrolments accumulate in call order; expiries keep the earliest;
//! cookie mode, SAML settings and metadata keys keep the last call.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::limits::{MAX_SAML_ATTRIBUTES, MAX_SAML_ATTRIBUTES_BYTES, MAX_SESSION_METADATA_KEYS};
use crate::engine::{AuthenticationKind, CookieMode, ExpiryField, Target};

/// `api.authentication` effects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Authentication {
    /// `challengeWith*` calls in order: `{any, factors}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub challenge: Vec<Value>,
    /// `enrollWith*` calls in order: `{any, factors}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enroll: Vec<Value>,
    /// `recordMethod` calls: `{name, timestamp}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<Value>,
    /// `setPrimaryUser` (once per transaction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_user: Option<String>,
}

impl Authentication {
    fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// `api.session` or `api.refreshToken` effects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Lifetime {
    /// `revoke(reason, options)`: `{reason, preserve_refresh_tokens?}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke: Option<Value>,
    /// Earliest `setExpiresAt`, ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// Earliest `setIdleExpiresAt`, ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_expires_at: Option<u64>,
    /// Last `setCookieMode` (session only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie_mode: Option<CookieMode>,
    /// Whether `evictMetadata` was called: clear all metadata, then apply
    /// `metadata`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub evict_metadata: bool,
    /// Metadata changes per key; `null` deletes.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
}

impl Lifetime {
    fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    fn expiry(&mut self, field: ExpiryField, at: u64) {
        let slot = match field {
            ExpiryField::IdleExpiresAt => &mut self.idle_expires_at,
            ExpiryField::ExpiresAt => &mut self.expires_at,
        };
        *slot = Some(slot.map_or(at, |old| old.min(at)));
    }

    fn evict(&mut self) {
        self.evict_metadata = true;
        self.metadata.clear();
    }
}

/// Everything in this module, as kept in a login's mutations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Effects {
    #[serde(default, skip_serializing_if = "Authentication::is_empty")]
    authentication: Authentication,
    #[serde(default, skip_serializing_if = "Lifetime::is_empty")]
    session: Lifetime,
    #[serde(default, skip_serializing_if = "Lifetime::is_empty")]
    refresh_token: Lifetime,
    /// SAML settings by snake_case name; `attributes` holds
    /// `setAttribute` changes (`null` removes).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    saml_response: Map<String, Value>,
    /// `api.validation.error`: `{code, message}` (last call wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    validation_error: Option<Value>,
}

impl Effects {
    /// Whether nothing was asked.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// Whether an Action already switched the primary user.
    pub fn primary_user_set(&self) -> bool {
        self.authentication.primary_user.is_some()
    }

    fn target(&mut self, target: Target) -> &mut Lifetime {
        match target {
            Target::RefreshToken => &mut self.refresh_token,
            Target::Session => &mut self.session,
        }
    }

    /// `challengeWith*` / `enrollWith*`.
    pub fn authentication(&mut self, kind: AuthenticationKind, any: bool, factors: Vec<Value>) {
        let entry = json!({ "any": any, "factors": factors });
        match kind {
            AuthenticationKind::Enroll => self.authentication.enroll.push(entry),
            AuthenticationKind::Challenge => self.authentication.challenge.push(entry),
        }
    }

    /// `recordMethod`.
    pub fn record_method(&mut self, url: String, timestamp: String) {
        self.authentication
            .methods
            .push(json!({ "name": url, "timestamp": timestamp }));
    }

    /// `setPrimaryUser`.
    pub fn primary_user(&mut self, user_id: String) {
        self.authentication.primary_user = Some(user_id);
    }

    /// `session.revoke` / `refreshToken.revoke`.
    pub fn revoke(&mut self, target: Target, reason: &str, preserve_refresh_tokens: bool) {
        let value = match target {
            Target::Session => {
                json!({ "reason": reason, "preserve_refresh_tokens": preserve_refresh_tokens })
            }
            Target::RefreshToken => json!({ "reason": reason }),
        };
        self.target(target).revoke = Some(value);
    }

    /// `setExpiresAt` / `setIdleExpiresAt`: the earliest wins.
    pub fn expiry(&mut self, target: Target, field: ExpiryField, at: u64) {
        self.target(target).expiry(field, at);
    }

    /// `session.setCookieMode`: the last wins.
    pub fn cookie_mode(&mut self, mode: CookieMode) {
        self.session.cookie_mode = Some(mode);
    }

    /// Session / refresh-token metadata: per key, the last wins.
    pub fn metadata(&mut self, target: Target, key: String, value: Value) {
        self.target(target).metadata.insert(key, value);
    }

    /// `evictMetadata`.
    pub fn evict_metadata(&mut self, target: Target) {
        self.target(target).evict();
    }

    /// `samlResponse.setAttribute`.
    pub fn saml_attribute(&mut self, name: String, value: Value) {
        let attrs = self
            .saml_response
            .entry("attributes")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(attrs) = attrs {
            attrs.insert(name, value);
        }
    }

    /// Other `samlResponse.set*`: the last wins.
    pub fn saml(&mut self, key: String, value: Value) {
        self.saml_response.insert(key, value);
    }

    /// `validation.error`.
    pub fn validation_error(&mut self, code: String, message: String) {
        self.validation_error = Some(json!({ "code": code, "message": message }));
    }

    /// The first limit these effects break, if any: 25 metadata keys per
    /// session or refresh token, 100 changed SAML attributes and 10 KB of
    /// them in all.
    pub fn over_limit(&self) -> Option<String> {
        for (what, lifetime) in [
            ("session", &self.session),
            ("refresh token", &self.refresh_token),
        ] {
            let set = lifetime.metadata.values().filter(|v| !v.is_null()).count();
            if set > MAX_SESSION_METADATA_KEYS {
                return Some(format!(
                    "more than {MAX_SESSION_METADATA_KEYS} {what} metadata keys"
                ));
            }
        }
        if let Some(Value::Object(attrs)) = self.saml_response.get("attributes") {
            let bytes = serde_json::to_vec(attrs).map_or(usize::MAX, |v| v.len());
            if attrs.len() > MAX_SAML_ATTRIBUTES || bytes > MAX_SAML_ATTRIBUTES_BYTES {
                return Some("more than 100 SAML attributes or 10 KB of them".into());
            }
        }
        None
    }

    /// Adds the non-empty sections to the outcome.
    pub fn write_wire(&self, out: &mut Map<String, Value>) {
        if let Ok(Value::Object(fields)) = serde_json::to_value(self) {
            out.extend(fields);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_keep_the_earliest_and_cookie_mode_the_last() {
        let mut e = Effects::default();
        e.expiry(Target::Session, ExpiryField::ExpiresAt, 2_000);
        e.expiry(Target::Session, ExpiryField::ExpiresAt, 1_000);
        e.expiry(Target::Session, ExpiryField::ExpiresAt, 3_000);
        e.cookie_mode(CookieMode::Persistent);
        e.cookie_mode(CookieMode::NonPersistent);
        let mut out = Map::new();
        e.write_wire(&mut out);
        assert_eq!(
            out["session"],
            json!({"expires_at": 1000, "cookie_mode": "non-persistent"})
        );
    }

    #[test]
    fn evict_clears_earlier_metadata_changes_only() {
        let mut e = Effects::default();
        e.metadata(Target::RefreshToken, "a".into(), json!("1"));
        e.evict_metadata(Target::RefreshToken);
        e.metadata(Target::RefreshToken, "b".into(), json!("2"));
        let mut out = Map::new();
        e.write_wire(&mut out);
        assert_eq!(
            out["refresh_token"],
            json!({"evict_metadata": true, "metadata": {"b": "2"}})
        );
        assert!(out.get("session").is_none());
    }
}
