//! `api.multifactor.enable` and `api.authentication`'s challenges and
//! enrolments: known providers, factor types and settings only.

use serde_json::Value;

use super::rules::json_len;
use crate::engine::AuthenticationKind;
use crate::pipeline::limits::{MAX_FACTORS, MAX_REASON_BYTES};

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

/// `api.multifactor.enable(provider, options)`.
pub(super) fn check_multifactor(value: &Value) -> Result<(), String> {
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

/// The factors of one `challengeWith*` / `enrollWith*` call.
pub(super) fn check_factors(kind: AuthenticationKind, factors: &[Value]) -> Result<(), String> {
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
