//! `api.idToken`, `api.accessToken`: claim names and scopes.

use super::rules::{max_bytes, non_empty};
use crate::pipeline::limits::{MAX_CLAIM_NAME_BYTES, MAX_SCOPE_CHARS};

/// A claim name (`setCustomClaim`): not empty, not too long, not `scope`.
pub(super) fn check_claim_name(key: &str) -> Result<(), String> {
    non_empty("the claim name", key)?;
    max_bytes("the claim name", key, MAX_CLAIM_NAME_BYTES)?;
    if key == "scope" {
        return Err("the \"scope\" claim cannot be set".into());
    }
    Ok(())
}

/// A scope (`addScope`, `removeScope`): one trimmed word.
pub(super) fn check_scope(scope: &str) -> Result<(), String> {
    if scope.is_empty() || scope.trim() != scope {
        return Err("a scope must be a trimmed, non-empty string".into());
    }
    if scope.chars().count() > MAX_SCOPE_CHARS {
        return Err(format!(
            "a scope must be at most {MAX_SCOPE_CHARS} characters long"
        ));
    }
    if scope.chars().any(char::is_whitespace) {
        return Err("a scope must not contain whitespace".into());
    }
    Ok(())
}
