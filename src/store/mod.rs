//! Where suspended logins wait for `/continue` (and the execution details
//! of delivered results wait for their upstream's back channel).
//!
//! Two implementations with the same semantics: Redis (shared by any number
//! of Detour instances) and an in-process map (one instance, for local
//! runs). Invariants both keep:
//! - a record lives at most its TTL;
//! - `take_login` is atomic and single use: of any number of concurrent
//!   takes of one key, exactly one gets the record;
//! - keys are derived from the hash of the state, never the raw value.
//!
//! The store knows keys and TTLs, not the protocol.

pub mod cache;
pub mod keys;
mod memory;
mod redis;

use std::time::Duration;

pub use memory::MemoryStore;
pub use redis::RedisStore;

use crate::domain::state::StateKey;
use cache::{CacheChanges, CacheEntry};

/// A store operation failed; the login cannot proceed right now.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis failed the call: the connection is down, or it answered with
    /// an error.
    #[error("the store call failed")]
    Redis(#[from] ::redis::RedisError),
    /// The store did not answer within its time budget.
    #[error("the store did not answer in time")]
    TimedOut,
    /// `rediss://…#insecure` asks for TLS without certificate checks,
    /// which Detour does not do.
    #[error(
        "rediss://…#insecure (no certificate verification) is not supported; \
         trust a private CA with SSL_CERT_FILE instead"
    )]
    UnverifiedTls,
    /// A cache entry could not be encoded for the store.
    #[error("cannot encode a cache entry")]
    Encode(#[from] serde_json::Error),
    /// A record already exists under this key (a state collision, which
    /// at 256 bits means a bug, not bad luck).
    #[error("a record already exists under this key")]
    Exists,
}

/// The configured store. An enum rather than a trait object: there are
/// exactly two implementations and enum dispatch keeps the futures simple.
#[derive(Clone)]
pub enum Store {
    /// In-process, single instance.
    Memory(MemoryStore),
    /// Redis, shared.
    Redis(RedisStore),
}

impl Store {
    /// Human-readable kind, for start-up logs.
    pub fn describe(&self) -> &'static str {
        match self {
            Store::Memory(_) => {
                "in-memory store (single instance; suspended logins are lost on restart)"
            }
            Store::Redis(_) => "Redis store",
        }
    }

    /// Saves a suspended login for `ttl`. Fails if the key exists.
    pub async fn put_login(
        &self,
        key: &StateKey,
        record: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        match self {
            Store::Memory(m) => m.put(&keys::login(key), record, ttl),
            Store::Redis(r) => r.put(&keys::login(key), record, ttl).await,
        }
    }

    /// Removes and returns a suspended login, atomically.
    pub async fn take_login(&self, key: &StateKey) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.take(&keys::login(key))),
            Store::Redis(r) => r.take(&keys::login(key)).await,
        }
    }

    /// Reads a suspended login without taking it.
    pub async fn peek_login(&self, key: &StateKey) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Store::Memory(m) => Ok(m.get(&keys::login(key))),
            Store::Redis(r) => r.get(&keys::login(key)).await,
        }
    }

    /// Binds a login to a browser: saves the cookie's hash unless a binding
    /// exists already (first browser wins).
    pub async fn put_binding(
        &self,
        key: &StateKey,
        cookie_hash: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let value = cookie_hash.as_bytes().to_vec();
        match self {
            Store::Memory(m) => m.put(&keys::binding(key), value, ttl),
            Store::Redis(r) => r.put(&keys::binding(key), value, ttl).await,
        }
    }

    /// The cookie hash a login is bound to, if any.
    pub async fn binding(&self, key: &StateKey) -> Result<Option<String>, StoreError> {
        let raw = match self {
            Store::Memory(m) => m.get(&keys::binding(key)),
            Store::Redis(r) => r.get(&keys::binding(key)).await?,
        };
        Ok(raw.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Keeps a delivered result's execution details for `upstream` for
    /// `ttl`, under the result token's `jti`.
    pub async fn put_result_details(
        &self,
        upstream: &str,
        jti: &str,
        record: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let key = keys::result_details(upstream, jti);
        match self {
            Store::Memory(m) => m.put(&key, record, ttl),
            Store::Redis(r) => r.put(&key, record, ttl).await,
        }
    }

    /// Removes and returns a result's execution details, atomically: they
    /// are read once.
    pub async fn take_result_details(
        &self,
        upstream: &str,
        jti: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let key = keys::result_details(upstream, jti);
        match self {
            Store::Memory(m) => Ok(m.take(&key)),
            Store::Redis(r) => r.take(&key).await,
        }
    }

    /// Loads the live entries of an Action's cache namespace.
    pub async fn cache_load(&self, action: &str) -> Result<Vec<(String, CacheEntry)>, StoreError> {
        let now = cache::now_ms();
        let entries = match self {
            Store::Memory(m) => m.cache_load(&keys::cache(action)),
            Store::Redis(r) => r.cache_load(&keys::cache(action)).await?,
        };
        Ok(entries
            .into_iter()
            .filter(|(_, e)| e.expires_at > now)
            .collect())
    }

    /// Writes an execution's cache changes.
    pub async fn cache_apply(&self, action: &str, changes: CacheChanges) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        match self {
            Store::Memory(m) => {
                m.cache_apply(&keys::cache(action), changes);
                Ok(())
            }
            Store::Redis(r) => r.cache_apply(&keys::cache(action), changes).await,
        }
    }

    /// Checks the store answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Store::Memory(_) => Ok(()),
            Store::Redis(r) => r.ping().await,
        }
    }
}
