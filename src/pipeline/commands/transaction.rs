//! `api.transaction.setMetadata`: short keys, and values that survive
//! JSON on both sides (strings, safe integers, booleans, null).

use serde_json::Value;

use crate::pipeline::limits::{
    MAX_TRANSACTION_METADATA_KEY_CHARS, MAX_TRANSACTION_METADATA_VALUE_BYTES,
};

/// One `setMetadata(key, value)`.
pub(super) fn check_transaction_metadata(key: &str, value: &Value) -> Result<(), String> {
    if key.is_empty() || key.chars().count() > MAX_TRANSACTION_METADATA_KEY_CHARS {
        return Err(format!(
            "a transaction metadata key must be 1 to {MAX_TRANSACTION_METADATA_KEY_CHARS} characters long"
        ));
    }
    match value {
        Value::Null | Value::Bool(_) => Ok(()),
        Value::String(s) if s.len() <= MAX_TRANSACTION_METADATA_VALUE_BYTES => Ok(()),
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
