//! `api.cache` storage: one namespace per Action, entries with absolute
//! expiry times. Redis keeps a namespace as one hash (field = cache key,
//! value = JSON entry), so a whole namespace loads in one round trip;
//! expired fields are filtered on load and removed on the next write.

use serde::{Deserialize, Serialize};

/// One cache entry, as Auth0's `api.cache.get` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheEntry {
    /// The cached string.
    pub value: String,
    /// Expiry, milliseconds since the Unix epoch.
    pub expires_at: u64,
}

/// Changes one execution made to its namespace.
#[derive(Debug, Default, Clone)]
pub struct CacheChanges {
    /// Keys set, with their entries.
    pub set: Vec<(String, CacheEntry)>,
    /// Keys deleted.
    pub delete: Vec<String>,
}

impl CacheChanges {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.delete.is_empty()
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
