//! The Redis store: one multiplexed, self-reconnecting connection
//! (`ConnectionManager`), `SET NX EX` to save and `GETDEL` to take.
//!
//! Every call is bounded by [`CALL_TIMEOUT`]: a Redis outage turns into a
//! fast `StoreError::Unavailable` (503), never a hung login. A `GETDEL` whose
//! reply is lost is never retried: the state is consumed at most once.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncTypedCommands, ExistenceCheck, SetExpiry, SetOptions};

use super::StoreError;
use super::cache::{CacheChanges, CacheEntry, now_ms};

/// Upper bound on one store call, including waiting for a reconnect.
const CALL_TIMEOUT: Duration = Duration::from_millis(500);

/// Redis-backed store.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
}

impl RedisStore {
    /// Connects lazily: start-up does not fail when Redis is briefly down;
    /// `/readyz` tells when it is reachable.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let client =
            redis::Client::open(url).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500))
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(500)));
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self { conn })
    }

    pub(super) async fn put(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let options = SetOptions::default()
            .conditional_set(ExistenceCheck::NX)
            .with_expiration(SetExpiry::EX(ttl.as_secs().max(1)));
        let set = bounded(conn.set_options(key, value, options)).await?;
        match set {
            Some(_) => Ok(()),
            None => Err(StoreError::Exists),
        }
    }

    pub(super) async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut conn = self.conn.clone();
        let value: Option<Vec<u8>> =
            bounded(redis::cmd("GETDEL").arg(key).query_async(&mut conn)).await?;
        Ok(value)
    }

    pub(super) async fn cache_load(
        &self,
        namespace: &str,
    ) -> Result<Vec<(String, CacheEntry)>, StoreError> {
        let mut conn = self.conn.clone();
        let raw: Vec<(String, String)> =
            bounded(redis::cmd("HGETALL").arg(namespace).query_async(&mut conn)).await?;
        Ok(raw
            .into_iter()
            .filter_map(|(k, v)| serde_json::from_str(&v).ok().map(|e| (k, e)))
            .collect())
    }

    pub(super) async fn cache_apply(
        &self,
        namespace: &str,
        changes: CacheChanges,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let latest = changes
            .set
            .iter()
            .map(|(_, e)| e.expires_at)
            .max()
            .unwrap_or(0);
        let mut pipe = redis::pipe();
        pipe.atomic();
        if !changes.delete.is_empty() {
            pipe.cmd("HDEL")
                .arg(namespace)
                .arg(&changes.delete)
                .ignore();
        }
        for (key, entry) in &changes.set {
            let json =
                serde_json::to_string(entry).map_err(|e| StoreError::Unavailable(e.to_string()))?;
            pipe.cmd("HSET").arg(namespace).arg(key).arg(json).ignore();
        }
        if latest > now_ms() {
            // The namespace lives as long as its longest entry; GT never
            // shortens a longer life another login gave it.
            pipe.cmd("PEXPIREAT")
                .arg(namespace)
                .arg(latest)
                .arg("GT")
                .ignore();
            pipe.cmd("PEXPIREAT")
                .arg(namespace)
                .arg(latest)
                .arg("NX")
                .ignore();
        }
        bounded(pipe.query_async::<()>(&mut conn)).await
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        bounded(conn.ping()).await.map(|_| ())
    }
}

async fn bounded<T>(
    call: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(StoreError::Unavailable(e.to_string())),
        Err(_) => Err(StoreError::Unavailable("timed out".into())),
    }
}
