//! The rules every `api` call must follow, checked in Rust on what leaves
//! the engine. The prelude checks the same rules to throw Auth0's errors at
//! the call site, but it runs in the Action's realm, where the Action can
//! change anything; these checks are the ones that hold.
//!
//! A command that breaks a rule fails the execution (a denied login, never
//! a server error), like an `api` call that throws.

use serde_json::{Map, Value};

use super::mutations::Mutations;
use crate::engine::{AuthenticationKind, Command, Handler, Target};
use crate::store::cache::now_ms;

/// Longest text an Action may hand to the user or the upstream as a reason
/// or message.
const MAX_REASON_BYTES: usize = 4096;
/// Longest claim name.
const MAX_CLAIM_NAME_BYTES: usize = 1024;
/// Longest metadata key (`api.user.set*Metadata`).
const MAX_METADATA_KEY_BYTES: usize = 1024;
/// Longest URL an Action may send a browser to or record.
const MAX_URL_BYTES: usize = 8192;
/// Longest `api.prompt.render` Form id.
const MAX_FORM_ID_BYTES: usize = 256;
/// `api.prompt.render` options, as JSON.
const MAX_RENDER_BYTES: usize = 24 * 1024;
/// Factors in one `challengeWith*` / `enrollWith*` call.
const MAX_FACTORS: usize = 16;

/// `api.cache` limits (Auth0's).
mod cache {
    pub const MAX_KEY_BYTES: usize = 64;
    pub const MAX_VALUE_BYTES: usize = 4096;
    pub const MAX_TOTAL_BYTES: usize = 8192;
    pub const MAX_ENTRIES: usize = 20;
    pub const MAX_WRITES: usize = 20;
    pub const MAX_TTL_MS: u64 = 24 * 60 * 60 * 1000;
    /// Clock difference tolerated between the engine's `Date.now()` and
    /// this check.
    pub const CLOCK_SLACK_MS: u64 = 5_000;
}

const MFA_PROVIDERS: &[&str] = &["any", "duo", "guardian", "google-authenticator", "none"];
const CHALLENGE_TYPES: &[&str] = &[
    "otp",
    "email",
    "webauthn-platform",
    "webauthn-roaming",
    "recovery-code",
    "phone",
    "push",
    "push-notification",
];
const ENROLL_TYPES: &[&str] = &[
    "otp",
    "webauthn-platform",
    "webauthn-roaming",
    "push",
    "push-notification",
    "recovery-code",
    "phone",
];

/// What the checks need to know about the execution.
pub struct Context<'a> {
    /// The handler that ran.
    pub handler: Handler,
    /// The login's effects before this execution.
    pub mutations: &'a Mutations,
    /// The Action's cache as loaded before the run: key to
    /// `{value, expires_at}`.
    pub cache: &'a Map<String, Value>,
    /// The event the Action saw.
    pub event: &'a Map<String, Value>,
}

/// Checks one execution's commands; the error says which rule broke.
pub fn check(commands: &[Command], context: &Context<'_>) -> Result<(), String> {
    // Built on the first cache command: most executions issue none.
    let mut cache: Option<CacheView> = None;
    let mut primary_user = context.mutations.primary_user_set();
    let (mut redirected, mut rendered) = (false, false);
    for command in commands {
        match command {
            Command::Deny { reason } => max_bytes("the deny reason", reason, MAX_REASON_BYTES)?,
            Command::IdClaim { key, .. } | Command::AccessClaim { key, .. } => {
                non_empty("the claim name", key)?;
                max_bytes("the claim name", key, MAX_CLAIM_NAME_BYTES)?;
                if key == "scope" {
                    return Err("the \"scope\" claim cannot be set".into());
                }
            }
            Command::AddScope { scope } | Command::RemoveScope { scope } => check_scope(scope)?,
            Command::UserMetadata { key, .. } | Command::AppMetadata { key, .. } => {
                non_empty("the metadata key", key)?;
                max_bytes("the metadata key", key, MAX_METADATA_KEY_BYTES)?;
            }
            Command::Multifactor { value } => check_multifactor(value)?,
            Command::TransactionMetadata { key, value } => check_transaction_metadata(key, value)?,
            Command::CacheSet {
                key,
                value,
                expires_at,
            } => cache
                .get_or_insert_with(|| CacheView::new(context.cache))
                .set(key, value, *expires_at)?,
            Command::CacheDelete { key } => cache
                .get_or_insert_with(|| CacheView::new(context.cache))
                .delete(key)?,
            Command::Authentication { kind, factors, .. } => check_factors(*kind, factors)?,
            Command::RecordMethod { url, timestamp } => {
                if context.handler != Handler::Continue {
                    return Err(
                        "api.authentication.recordMethod() can only be used in onContinuePostLogin"
                            .into(),
                    );
                }
                http_url("the recorded method", url)?;
                max_bytes("the recorded method's timestamp", timestamp, 64)?;
            }
            Command::PrimaryUser { user_id } => {
                non_empty("the primary user id", user_id)?;
                if user_id.chars().count() > 128 {
                    return Err("the primary user id must be at most 128 characters long".into());
                }
                if primary_user {
                    return Err("the primary user can only be altered once per transaction".into());
                }
                primary_user = true;
            }
            Command::Revoke { reason, target, .. } => {
                max_bytes("the revoke reason", reason, MAX_REASON_BYTES)?;
                if *target == Target::RefreshToken {
                    refresh_token_usable(context.event)?;
                    let protocol = context
                        .event
                        .get("transaction")
                        .and_then(|t| t.get("protocol"))
                        .and_then(Value::as_str);
                    if protocol != Some("oauth2-refresh-token") {
                        return Err(
                            "refreshToken.revoke can only be used in a refresh token exchange"
                                .into(),
                        );
                    }
                }
            }
            Command::Expiry { at, target, .. } => {
                if *target == Target::RefreshToken {
                    refresh_token_usable(context.event)?;
                }
                if *at == 0 {
                    return Err("an expiry must be a time after the epoch".into());
                }
            }
            Command::CookieMode { .. } => {}
            Command::EvictMetadata { target } => {
                if *target == Target::RefreshToken {
                    refresh_token_usable(context.event)?;
                }
            }
            Command::Metadata { key, value, target } => {
                if *target == Target::RefreshToken {
                    refresh_token_usable(context.event)?;
                }
                check_session_metadata(key, value)?;
            }
            Command::SamlAttribute { name, value } => {
                non_empty("the SAML attribute name", name)?;
                max_bytes("the SAML attribute name", name, 1024)?;
                if !value.is_null() && json_len(value) > 2048 {
                    return Err("a SAML attribute value must be at most 2048 bytes".into());
                }
            }
            Command::Saml { key, value } => check_saml_setting(key, value)?,
            Command::ValidationError { code, message } => {
                non_empty("the validation error code", code)?;
                max_bytes("the validation error code", code, 256)?;
                max_bytes("the validation error message", message, MAX_REASON_BYTES)?;
            }
            Command::Render { id, fields, vars } => {
                if rendered {
                    return Err("only 1 render command per action is allowed".into());
                }
                if redirected {
                    return Err(
                        "redirect and render commands cannot be used in the same action".into(),
                    );
                }
                rendered = true;
                non_empty("the form id", id)?;
                max_bytes("the form id", id, MAX_FORM_ID_BYTES)?;
                if !fields.is_object() || !vars.is_object() {
                    return Err("prompt.render: fields and vars must be objects".into());
                }
                if json_len(fields) + json_len(vars) > MAX_RENDER_BYTES {
                    return Err("prompt.render: options must be at most 24 KiB of JSON".into());
                }
            }
            Command::Redirect { url } => {
                if rendered {
                    return Err(
                        "redirect and render commands cannot be used in the same action".into(),
                    );
                }
                redirected = true;
                http_url("the redirect URL", url)?;
            }
        }
    }
    Ok(())
}

/// The refresh-token api cannot change an online refresh token.
fn refresh_token_usable(event: &Map<String, Value>) -> Result<(), String> {
    let online = event
        .get("refresh_token")
        .and_then(|t| t.get("access"))
        .and_then(Value::as_str)
        == Some("online");
    if online {
        Err("the refreshToken api cannot be used with an online refresh token".into())
    } else {
        Ok(())
    }
}

fn non_empty(what: &str, s: &str) -> Result<(), String> {
    if s.is_empty() {
        Err(format!("{what} must not be empty"))
    } else {
        Ok(())
    }
}

fn max_bytes(what: &str, s: &str, max: usize) -> Result<(), String> {
    if s.len() > max {
        Err(format!("{what} must be at most {max} bytes"))
    } else {
        Ok(())
    }
}

fn json_len(v: &Value) -> usize {
    serde_json::to_vec(v).map_or(usize::MAX, |b| b.len())
}

/// An absolute http(s) URL with a host: never `javascript:`, `data:` or a
/// relative path, which would run or land anywhere in the browser.
fn http_url(what: &str, raw: &str) -> Result<(), String> {
    max_bytes(what, raw, MAX_URL_BYTES)?;
    let url = url::Url::parse(raw).map_err(|_| format!("{what} is not a valid URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{what} must be an absolute http or https URL"));
    }
    Ok(())
}

fn check_scope(scope: &str) -> Result<(), String> {
    if scope.is_empty() || scope.trim() != scope {
        return Err("a scope must be a trimmed, non-empty string".into());
    }
    if scope.chars().count() > 280 {
        return Err("a scope must be at most 280 characters long".into());
    }
    if scope.chars().any(char::is_whitespace) {
        return Err("a scope must not contain whitespace".into());
    }
    Ok(())
}

fn check_multifactor(value: &Value) -> Result<(), String> {
    let Some(mfa) = value.as_object() else {
        return Err("api.multifactor.enable: malformed settings".into());
    };
    let provider = mfa.get("provider").and_then(Value::as_str).unwrap_or("");
    if !MFA_PROVIDERS.contains(&provider) {
        return Err(format!(
            "api.multifactor.enable: the provider must be one of {}",
            MFA_PROVIDERS.join(", ")
        ));
    }
    for (key, v) in mfa {
        let ok = match key.as_str() {
            "provider" => true,
            "allow_remember_browser" => v.is_boolean(),
            "provider_options" => v.is_object() && json_len(v) <= MAX_REASON_BYTES,
            _ => false,
        };
        if !ok {
            return Err(format!("api.multifactor.enable: invalid setting {key:?}"));
        }
    }
    Ok(())
}

fn check_transaction_metadata(key: &str, value: &Value) -> Result<(), String> {
    if key.is_empty() || key.chars().count() > 64 {
        return Err("a transaction metadata key must be 1 to 64 characters long".into());
    }
    match value {
        Value::Null | Value::Bool(_) => Ok(()),
        Value::String(s) if s.len() <= 8 * 1024 => Ok(()),
        Value::String(_) => Err("a transaction metadata value must be at most 8 KB".into()),
        Value::Number(n) => {
            let safe = n.as_f64().is_some_and(|f| {
                f.is_finite() && (f.fract() != 0.0 || f.abs() <= 9_007_199_254_740_991.0)
            });
            if safe {
                Ok(())
            } else {
                Err("transaction metadata numbers must be safe integers".into())
            }
        }
        _ => Err("transaction metadata values must be a string, number, boolean or null".into()),
    }
}

fn check_factors(kind: AuthenticationKind, factors: &[Value]) -> Result<(), String> {
    let allowed = match kind {
        AuthenticationKind::Challenge => CHALLENGE_TYPES,
        AuthenticationKind::Enroll => ENROLL_TYPES,
    };
    if factors.is_empty() || factors.len() > MAX_FACTORS {
        return Err(format!(
            "api.authentication: between 1 and {MAX_FACTORS} factors are allowed"
        ));
    }
    for factor in factors {
        let f = factor
            .as_object()
            .ok_or("api.authentication: a factor must be an object")?;
        let kind = f.get("type").and_then(Value::as_str).unwrap_or("");
        if !allowed.contains(&kind) {
            return Err(format!("api.authentication: invalid factor type {kind:?}"));
        }
        if f.keys().any(|k| k != "type" && k != "options")
            || f.get("options").is_some_and(|o| !o.is_object())
            || json_len(factor) > MAX_REASON_BYTES
        {
            return Err("api.authentication: malformed factor".into());
        }
    }
    Ok(())
}

fn check_session_metadata(key: &str, value: &Value) -> Result<(), String> {
    let key_ok = (1..=255).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !key_ok {
        return Err("a session metadata key must match ^[a-zA-Z0-9_-]{1,255}$".into());
    }
    match value {
        Value::Null => Ok(()),
        Value::String(s) if s.chars().count() <= 255 && !s.contains('\0') => Ok(()),
        _ => Err("a session metadata value must be a string of at most 255 characters".into()),
    }
}

fn check_saml_setting(key: &str, value: &Value) -> Result<(), String> {
    let string_max = match key {
        "audience" | "recipient" | "destination" => Some(2048),
        "name_identifier_format" | "authn_context_class_ref" | "relay_state" | "issuer" => {
            Some(512)
        }
        "signing_cert" | "encryption_cert" | "encryption_public_key" | "cert" | "key" => Some(4096),
        _ => None,
    };
    let ok = match (key, string_max) {
        (_, Some(max)) => value.as_str().is_some_and(|s| s.len() <= max),
        (
            "create_upn_claim"
            | "passthrough_claims_with_no_mapping"
            | "map_unknown_claims_as_is"
            | "map_identities"
            | "sign_response"
            | "include_attribute_name_format"
            | "typed_attributes",
            None,
        ) => value.is_boolean(),
        ("signature_algorithm", None) => matches!(value.as_str(), Some("rsa-sha256" | "rsa-sha1")),
        ("digest_algorithm", None) => matches!(value.as_str(), Some("sha256" | "sha1")),
        ("encryption_algorithm", None) => {
            matches!(value.as_str(), Some("aes256-gcm" | "aes256-cbc"))
        }
        ("lifetime_in_seconds", None) => value.as_u64().is_some_and(|n| n > 0),
        ("name_identifier_probes", None) => value.as_array().is_some_and(|probes| {
            probes.len() <= 10
                && probes
                    .iter()
                    .all(|p| p.as_str().is_some_and(|s| s.len() <= 512))
        }),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("samlResponse: invalid value for {key:?}"))
    }
}

/// The Action's cache as this execution changes it, to hold Auth0's
/// limits across its `set` and `delete` calls.
struct CacheView {
    /// Live entries: key to value length in bytes.
    entries: Map<String, Value>,
    writes: usize,
    now: u64,
}

impl CacheView {
    fn new(loaded: &Map<String, Value>) -> Self {
        let now = now_ms();
        let entries = loaded
            .iter()
            .filter(|(_, e)| e.get("expires_at").and_then(Value::as_u64) > Some(now))
            .map(|(k, e)| {
                let len = e.get("value").and_then(Value::as_str).map_or(0, str::len);
                (k.clone(), Value::from(len))
            })
            .collect();
        Self {
            entries,
            writes: 0,
            now,
        }
    }

    fn write(&mut self) -> Result<(), String> {
        self.writes += 1;
        if self.writes > cache::MAX_WRITES {
            return Err(format!(
                "api.cache: at most {} writes per execution",
                cache::MAX_WRITES
            ));
        }
        Ok(())
    }

    fn set(&mut self, key: &str, value: &str, expires_at: u64) -> Result<(), String> {
        self.write()?;
        max_bytes("an api.cache key", key, cache::MAX_KEY_BYTES)?;
        max_bytes("an api.cache value", value, cache::MAX_VALUE_BYTES)?;
        let latest = self.now + cache::MAX_TTL_MS + cache::CLOCK_SLACK_MS;
        if expires_at + cache::CLOCK_SLACK_MS <= self.now || expires_at > latest {
            return Err("api.cache: an entry must expire within 24 hours".into());
        }
        self.entries
            .insert(key.to_owned(), Value::from(value.len()));
        if self.entries.len() > cache::MAX_ENTRIES {
            return Err(format!("api.cache: at most {} entries", cache::MAX_ENTRIES));
        }
        let total: usize = self
            .entries
            .iter()
            .map(|(k, len)| k.len() + len.as_u64().unwrap_or(0) as usize)
            .sum();
        if total > cache::MAX_TOTAL_BYTES {
            return Err("api.cache: keys and values must be at most 8 KB in total".into());
        }
        Ok(())
    }

    fn delete(&mut self, key: &str) -> Result<(), String> {
        self.write()?;
        max_bytes("an api.cache key", key, cache::MAX_KEY_BYTES)?;
        self.entries.remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_one(command: Command) -> Result<(), String> {
        let mutations = Mutations::default();
        let cache = Map::new();
        let context = Context {
            handler: Handler::Execute,
            mutations: &mutations,
            cache: &cache,
            event: &cache,
        };
        check(&[command], &context)
    }

    #[test]
    fn redirects_go_only_to_absolute_http_urls() {
        for bad in [
            "javascript:alert(1)//https://x.example",
            "data:text/html,<script>alert(1)</script>",
            "/relative",
            "https://",
            "not a url",
        ] {
            let r = check_one(Command::Redirect { url: bad.into() });
            assert!(r.is_err(), "{bad}");
        }
        assert!(
            check_one(Command::Redirect {
                url: "https://mfa.example.com/start?x=1".into()
            })
            .is_ok()
        );
    }

    #[test]
    fn cache_writes_past_auth0s_limits_are_refused() {
        let far = now_ms() + 1000 * 60 * 60 * 24 * 365 * 1000;
        let r = check_one(Command::CacheSet {
            key: "k".into(),
            value: "v".into(),
            expires_at: far,
        });
        assert!(r.is_err(), "a lifetime of a thousand years");
        let soon = now_ms() + 60_000;
        let many: Vec<Command> = (0..21)
            .map(|i| Command::CacheSet {
                key: format!("k{i}"),
                value: "v".into(),
                expires_at: soon,
            })
            .collect();
        let (mutations, cache) = (Mutations::default(), Map::new());
        let context = Context {
            handler: Handler::Execute,
            mutations: &mutations,
            cache: &cache,
            event: &cache,
        };
        assert!(check(&many, &context).is_err(), "21 entries");
        let big = Command::CacheSet {
            key: "k".into(),
            value: "x".repeat(5000),
            expires_at: soon,
        };
        assert!(check_one(big).is_err(), "a 5000-byte value");
    }

    #[test]
    fn forged_arguments_the_prelude_would_refuse_are_refused() {
        assert!(
            check_one(Command::PrimaryUser {
                user_id: "u".repeat(1000)
            })
            .is_err()
        );
        assert!(
            check_one(Command::Multifactor {
                value: Value::from("duo")
            })
            .is_err()
        );
        assert!(
            check_one(Command::TransactionMetadata {
                key: "k".repeat(5000),
                value: Value::from(1)
            })
            .is_err()
        );
        assert!(
            check_one(Command::AddScope {
                scope: " read:all".into()
            })
            .is_err()
        );
        assert!(
            check_one(Command::RecordMethod {
                url: "https://x.example".into(),
                timestamp: "t".into()
            })
            .is_err(),
            "recordMethod outside onContinuePostLogin"
        );
        assert!(
            check_one(Command::Revoke {
                target: Target::RefreshToken,
                reason: "r".into(),
                preserve_refresh_tokens: false
            })
            .is_err(),
            "refreshToken.revoke outside a refresh token exchange"
        );
    }
}
