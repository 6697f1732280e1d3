//! Every store key format, in one place.
//!
//! Keys carry a Redis Cluster hash tag (`{…}`) around the state hash, so
//! every key of one login lands in one slot.

use crate::domain::state::StateKey;

/// Key of a suspended login.
pub fn login(key: &StateKey) -> String {
    format!("detour:login:{{{}}}", key.as_str())
}

/// Key of a suspended login's browser binding (the hash of the cookie).
/// Same hash tag as the login, so both live in one cluster slot.
pub fn binding(key: &StateKey) -> String {
    format!("detour:bind:{{{}}}", key.as_str())
}

/// Key of an Action's `api.cache` namespace (a Redis hash).
pub fn cache(action: &str) -> String {
    format!("detour:cache:{{{action}}}")
}

/// Key of the execution details of a delivered result, for its upstream
/// only: another upstream's key names another record, so it can neither
/// read nor consume this one. `jti` is a UUID Detour generated.
pub fn result_details(upstream: &str, jti: &str) -> String {
    format!("detour:details:{{{jti}}}:{upstream}")
}
