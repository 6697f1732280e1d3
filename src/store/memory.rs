//! The in-process store: a map behind a mutex, with lazy expiry on access
//! and a sweep of expired entries on writes.
//!
//! A std `Mutex` is right here: it is never held across an `.await`, and
//! every critical section is a map operation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::StoreError;
use super::cache::{CacheChanges, CacheEntry, now_ms};

/// Sweep expired entries every this many writes, so abandoned logins do not
/// pile up even if nobody reads them.
const SWEEP_EVERY: u64 = 256;

#[derive(Default)]
struct Inner {
    entries: HashMap<String, (Vec<u8>, Instant)>,
    caches: HashMap<String, HashMap<String, CacheEntry>>,
    writes: u64,
}

/// In-memory store with the same TTL and single-use semantics as Redis.
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    pub(super) fn put(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), StoreError> {
        let now = Instant::now();
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.writes += 1;
        if inner.writes.is_multiple_of(SWEEP_EVERY) {
            inner.entries.retain(|_, (_, exp)| *exp > now);
        }
        if let Some((_, exp)) = inner.entries.get(key)
            && *exp > now
        {
            return Err(StoreError::Exists);
        }
        inner.entries.insert(key.to_owned(), (value, now + ttl));
        Ok(())
    }

    pub(super) fn get(&self, key: &str) -> Option<Vec<u8>> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let (value, exp) = inner.entries.get(key)?;
        (*exp > Instant::now()).then(|| value.clone())
    }

    pub(super) fn take(&self, key: &str) -> Option<Vec<u8>> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let (value, exp) = inner.entries.remove(key)?;
        (exp > Instant::now()).then_some(value)
    }

    pub(super) fn cache_load(&self, namespace: &str) -> Vec<(String, CacheEntry)> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner
            .caches
            .get(namespace)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    pub(super) fn cache_apply(&self, namespace: &str, changes: CacheChanges) {
        let now = now_ms();
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let ns = inner.caches.entry(namespace.to_owned()).or_default();
        ns.retain(|_, e| e.expires_at > now);
        for key in changes.delete {
            ns.remove(&key);
        }
        for (key, entry) in changes.set {
            ns.insert(key, entry);
        }
    }

    /// Number of live suspended logins (for tests and metrics).
    pub fn len(&self) -> usize {
        let now = Instant::now();
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.entries.values().filter(|(_, e)| *e > now).count()
    }

    /// Whether no live entry is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_entry_is_taken_once_and_expires_with_its_ttl() {
        let s = MemoryStore::new();
        s.put("a", b"1".to_vec(), Duration::from_secs(10)).unwrap();
        assert!(matches!(
            s.put("a", b"2".to_vec(), Duration::from_secs(10)),
            Err(StoreError::Exists)
        ));
        assert_eq!(s.take("a"), Some(b"1".to_vec()));
        assert_eq!(s.take("a"), None);

        s.put("b", b"1".to_vec(), Duration::from_secs(10)).unwrap();
        tokio::time::advance(Duration::from_secs(11)).await;
        assert_eq!(s.take("b"), None);
    }
}
