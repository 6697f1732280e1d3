//! `api.session` and `api.refreshToken`: metadata keys and values, and
//! when the refresh-token api may be used at all.

use serde_json::Value;

use crate::pipeline::event::Event;

use crate::pipeline::limits::{MAX_SESSION_METADATA_KEY_BYTES, MAX_SESSION_METADATA_VALUE_CHARS};

/// The refresh-token api cannot change an online refresh token.
pub(super) fn refresh_token_usable(event: &Event) -> Result<(), String> {
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

/// `api.refreshToken.revoke`: only in a refresh token exchange.
pub(super) fn check_refresh_token_revoke(event: &Event) -> Result<(), String> {
    refresh_token_usable(event)?;
    let protocol = event
        .get("transaction")
        .and_then(|t| t.get("protocol"))
        .and_then(Value::as_str);
    if protocol != Some("oauth2-refresh-token") {
        return Err("refreshToken.revoke can only be used in a refresh token exchange".into());
    }
    Ok(())
}

/// `setMetadata(key, value)` on the session or the refresh token.
pub(super) fn check_session_metadata(key: &str, value: &Value) -> Result<(), String> {
    let key_ok = (1..=MAX_SESSION_METADATA_KEY_BYTES).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !key_ok {
        return Err("a session metadata key must match ^[a-zA-Z0-9_-]{1,255}$".into());
    }
    match value {
        Value::Null => Ok(()),
        Value::String(s)
            if s.chars().count() <= MAX_SESSION_METADATA_VALUE_CHARS && !s.contains('\0') =>
        {
            Ok(())
        }
        _ => Err(format!(
            "a session metadata value must be a string of at most {MAX_SESSION_METADATA_VALUE_CHARS} characters"
        )),
    }
}
