//! The Redis store: a single node through a multiplexed, self-reconnecting
//! `ConnectionManager` per calling thread, or a Redis Cluster through a `ClusterConnection`
//! (which routes by slot and follows MOVED/ASK). `SET NX EX` saves, `GETDEL`
//! takes.
//!
//! Every call is bounded by [`CALL_TIMEOUT`]: a Redis outage turns into a
//! fast `StoreError` (503), never a hung login. Reads (`GET`,
//! `HGETALL`, `PING`) are retried once when the connection turns out to be
//! broken, which is how the first call after a Redis restart learns it; a
//! `GETDEL` or `SET NX` is never retried, so a state is consumed at most once
//! and a save never lands twice.
//!
//! `rediss://` URLs connect with TLS (rustls), verifying the server against
//! the system's roots or the PEM bundle named by `SSL_CERT_FILE`.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, FromRedisValue, Pipeline, RedisFuture};
use tokio::sync::OnceCell;

use super::StoreError;
use super::cache::{CacheChanges, CacheEntry, now_ms};

/// Upper bound on one store call, including waiting for a reconnect.
const CALL_TIMEOUT: Duration = Duration::from_millis(500);

#[derive(Clone)]
enum Connection {
    /// One manager per thread that calls (see [`PerThread`]).
    Single(Arc<PerThread>),
    /// Connected on first use, so start-up does not wait for the cluster.
    Cluster(Arc<(ClusterClient, OnceCell<ClusterConnection>)>),
}

/// What a thread needs to open its own [`ConnectionManager`]. A manager's
/// connection task runs on the runtime of the thread that first used it;
/// shared by every actix worker, each call from another worker crossed
/// threads twice (a wake-up to send the command, one for the reply). With
/// one manager per thread, a call stays on the thread that makes it.
struct PerThread {
    client: redis::Client,
    config: ConnectionManagerConfig,
}

thread_local! {
    /// This thread's managers, one per live store (a reload makes a new
    /// store; the old one's manager goes with it).
    static MANAGERS: std::cell::RefCell<Vec<(std::sync::Weak<PerThread>, ConnectionManager)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl PerThread {
    /// This thread's manager, made (lazily connecting) on first use.
    fn manager(self: &Arc<Self>) -> Result<ConnectionManager, StoreError> {
        MANAGERS.with(|managers| {
            let mut managers = managers.borrow_mut();
            managers.retain(|(store, _)| store.strong_count() > 0);
            if let Some((_, manager)) = managers
                .iter()
                .find(|(store, _)| std::ptr::eq(store.as_ptr(), Arc::as_ptr(self)))
            {
                return Ok(manager.clone());
            }
            let manager =
                ConnectionManager::new_lazy_with_config(self.client.clone(), self.config.clone())?;
            managers.push((Arc::downgrade(self), manager.clone()));
            Ok(manager)
        })
    }
}

/// A handle for one call: the manager (which reconnects by itself) or the
/// shared cluster connection.
enum Live {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Live {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, redis::Value> {
        match self {
            Live::Single(c) => c.req_packed_command(cmd),
            Live::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Live::Single(c) => c.req_packed_commands(cmd, offset, count),
            Live::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Live::Single(c) => c.get_db(),
            Live::Cluster(c) => c.get_db(),
        }
    }
}

/// Redis-backed store.
#[derive(Clone)]
pub struct RedisStore {
    conn: Connection,
}

impl RedisStore {
    /// Connects lazily to one node: start-up does not fail when Redis is
    /// briefly down; `/readyz` tells when it is reachable.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        refuse_unverified_tls(url)?;
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500))
            .set_connection_timeout(Some(CALL_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT));
        // No manager yet: each thread makes its own on its first call. (With
        // this configuration, no resubscription and no push sender, making
        // one cannot fail; the URL was checked by `Client::open`.)
        Ok(Self {
            conn: Connection::Single(Arc::new(PerThread { client, config })),
        })
    }

    /// Connects (lazily) to a Redis Cluster through any of its nodes.
    pub fn connect_cluster(seeds: &[String]) -> Result<Self, StoreError> {
        for seed in seeds {
            refuse_unverified_tls(seed)?;
        }
        let client = ClusterClient::builder(seeds.iter().map(String::as_str))
            .connection_timeout(CALL_TIMEOUT)
            .response_timeout(CALL_TIMEOUT)
            .retries(2)
            .build()?;
        Ok(Self {
            conn: Connection::Cluster(Arc::new((client, OnceCell::new()))),
        })
    }

    async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, StoreError> {
        let mut conn = self.connection().await?;
        bounded(cmd.query_async(&mut conn)).await
    }

    /// A read that is safe to repeat: one retry when the first attempt
    /// found the connection broken (Redis restarted since the last call;
    /// that attempt also started the reconnect). Both attempts share one
    /// [`CALL_TIMEOUT`].
    async fn query_read<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, StoreError> {
        let mut conn = self.connection().await?;
        bounded(async {
            match cmd.query_async(&mut conn).await {
                Err(e) if e.is_connection_dropped() || e.is_io_error() => {
                    tracing::debug!(error = %e, "redis connection broken; retrying the read once");
                    cmd.query_async(&mut conn).await
                }
                result => result,
            }
        })
        .await
    }

    async fn query_pipe(&self, pipe: &Pipeline) -> Result<(), StoreError> {
        let mut conn = self.connection().await?;
        bounded(pipe.query_async::<()>(&mut conn)).await
    }

    async fn connection(&self) -> Result<Live, StoreError> {
        Ok(match &self.conn {
            Connection::Single(per_thread) => Live::Single(per_thread.manager()?),
            Connection::Cluster(cluster_handle) => {
                let (client, cell) = &**cluster_handle;
                Live::Cluster(cluster(client, cell).await?)
            }
        })
    }

    pub(super) async fn put(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(key)
            .arg(value)
            .arg("NX")
            .arg("EX")
            .arg(ttl.as_secs().max(1));
        let set: Option<String> = self.query(&cmd).await?;
        match set {
            Some(_) => Ok(()),
            None => Err(StoreError::Exists),
        }
    }

    pub(super) async fn take(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.query(redis::cmd("GETDEL").arg(key)).await
    }

    pub(super) async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.query_read(redis::cmd("GET").arg(key)).await
    }

    pub(super) async fn cache_load(
        &self,
        namespace: &str,
    ) -> Result<Vec<(String, CacheEntry)>, StoreError> {
        let raw: Vec<(String, String)> = self
            .query_read(redis::cmd("HGETALL").arg(namespace))
            .await?;
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
        let latest = changes
            .set
            .iter()
            .map(|(_, e)| e.expires_at)
            .max()
            .unwrap_or(0);
        // Every command touches the one namespace key, so the transaction is
        // valid on a cluster too.
        let mut pipe = redis::pipe();
        pipe.atomic();
        if !changes.delete.is_empty() {
            pipe.cmd("HDEL")
                .arg(namespace)
                .arg(&changes.delete)
                .ignore();
        }
        for (key, entry) in &changes.set {
            let json = serde_json::to_string(entry)?;
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
        self.query_pipe(&pipe).await
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        let _: String = self.query_read(&redis::cmd("PING")).await?;
        Ok(())
    }
}

/// The redis crate skips certificate verification for `rediss://…#insecure`
/// when built with that feature; Detour is not, and says so at start-up
/// rather than failing every connection later.
fn refuse_unverified_tls(url: &str) -> Result<(), StoreError> {
    match url::Url::parse(url) {
        Ok(parsed) if parsed.scheme() == "rediss" && parsed.fragment() == Some("insecure") => {
            Err(StoreError::UnverifiedTls)
        }
        _ => Ok(()),
    }
}

async fn cluster(
    client: &ClusterClient,
    cell: &OnceCell<ClusterConnection>,
) -> Result<ClusterConnection, StoreError> {
    cell.get_or_try_init(|| async {
        tokio::time::timeout(CALL_TIMEOUT * 4, client.get_async_connection())
            .await
            .map_err(|_| StoreError::TimedOut)?
            .map_err(StoreError::from)
    })
    .await
    .cloned()
}

async fn bounded<T>(
    call: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(StoreError::TimedOut),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rediss_urls_are_accepted_for_one_node_and_for_a_cluster() {
        let one = RedisStore::connect("rediss://user:secret@redis.example:6380/0");
        let cluster = RedisStore::connect_cluster(&[
            "rediss://a.example:7000".to_owned(),
            "rediss://b.example:7001".to_owned(),
        ]);
        let insecure = RedisStore::connect("rediss://redis.example:6380/#insecure");

        assert!(one.is_ok(), "{:?}", one.err());
        assert!(cluster.is_ok(), "{:?}", cluster.err());
        assert!(matches!(insecure, Err(StoreError::UnverifiedTls)));
    }
}
