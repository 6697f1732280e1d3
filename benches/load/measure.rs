//! The measurements: peak throughput (closed loop), latency at a fixed
//! offered load (open loop), and Redis memory per suspended login.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::client::Conn;
use crate::scenarios::{Scenario, run_once, state_of};
use crate::system::{CLOCK_TICKS_PER_SEC, cpu_ticks, proc_status};
use crate::{BoxError, SUSPENDED_SAMPLE};

pub struct Peak {
    pub rate: f64,
    pub errors: u64,
    pub rss_kib: u64,
    /// Server CPU time (user + system, all threads) per operation.
    pub cpu_us: f64,
}

/// Closed loop: `connections` clients, each sending its next request as
/// soon as the previous one is answered.
pub async fn peak(scenario: &Arc<Scenario>, connections: usize, secs: f64) -> Peak {
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let counting = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (scenario, done, errors) = (scenario.clone(), done.clone(), errors.clone());
        let (counting, stop) = (counting.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = None;
            while !stop.load(Ordering::Relaxed) {
                let ok = run_once(&mut conn, &scenario).await;
                if counting.load(Ordering::Relaxed) {
                    if ok {
                        done.fetch_add(1, Ordering::Relaxed);
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await; // warm-up
    counting.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let cpu_before = cpu_ticks(scenario.pid);
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    counting.store(false, Ordering::Relaxed);
    let cpu = cpu_ticks(scenario.pid).saturating_sub(cpu_before);
    let elapsed = started.elapsed().as_secs_f64();
    let rss_kib = proc_status(scenario.pid, "VmRSS").unwrap_or(0);
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    let done = done.load(Ordering::Relaxed);
    Peak {
        rate: done as f64 / elapsed,
        errors: errors.load(Ordering::Relaxed),
        rss_kib,
        cpu_us: cpu as f64 * 1e6 / CLOCK_TICKS_PER_SEC / done.max(1) as f64,
    }
}

pub struct Latency {
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// How late the pacer issued requests (its own scheduling delay).
    pub pacer_lag_p99_ms: f64,
    pub errors: u64,
}

/// Open loop at `rate`/s: a pacer thread issues requests on a schedule,
/// whatever the server does; any free connection takes the next one, and
/// the latency runs from when it was issued, so a stalled server is charged
/// for the requests it delayed.
pub async fn latency(
    scenario: &Arc<Scenario>,
    connections: usize,
    rate: f64,
    secs: f64,
) -> Latency {
    // A ticket: when the request was due, and when the pacer issued it.
    let (tx, rx) = async_channel::unbounded::<(Instant, Instant)>();
    let warmup = Duration::from_millis(500);
    let start = Instant::now() + Duration::from_millis(20);
    let measure_from = start + warmup;
    let end = measure_from + Duration::from_secs_f64(secs);
    let pacer = std::thread::spawn(move || {
        let period = Duration::from_secs_f64(1.0 / rate);
        let mut next = start;
        while next < end {
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            }
            // Issue every ticket that is due (a late wake-up sends a burst).
            let now = Instant::now();
            while next <= now && next < end {
                if tx.send_blocking((next, now)).is_err() {
                    return;
                }
                next += period;
            }
        }
    });
    let samples = Arc::new(Mutex::new(Vec::<u64>::new()));
    let lags = Arc::new(Mutex::new(Vec::<u64>::new()));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (scenario, rx) = (scenario.clone(), rx.clone());
        let (samples, lags, errors) = (samples.clone(), lags.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = None;
            while let Ok((due, issued)) = rx.recv().await {
                let ok = run_once(&mut conn, &scenario).await;
                if due < measure_from {
                    continue;
                }
                if ok {
                    // From the moment the request was issued: time waiting
                    // for a free connection counts, the pacer's own
                    // scheduling delay (reported apart) does not.
                    let micros = issued.elapsed().as_micros() as u64;
                    if let Ok(mut s) = samples.lock() {
                        s.push(micros);
                    }
                    if let Ok(mut l) = lags.lock() {
                        l.push(issued.saturating_duration_since(due).as_micros() as u64);
                    }
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    drop(rx);
    for task in tasks {
        let _ = task.await;
    }
    let _ = pacer.join();
    let sorted = |v: &Arc<Mutex<Vec<u64>>>| {
        let mut v = v.lock().map(|s| s.clone()).unwrap_or_default();
        v.sort_unstable();
        v
    };
    let samples = sorted(&samples);
    let lags = sorted(&lags);
    Latency {
        rate: samples.len() as f64 / secs,
        p50_ms: percentile(&samples, 50.0),
        p99_ms: percentile(&samples, 99.0),
        pacer_lag_p99_ms: percentile(&lags, 99.0),
        errors: errors.load(Ordering::Relaxed),
    }
}

/// The `p`th percentile of sorted microseconds, in milliseconds.
pub fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i] as f64 / 1000.0
}

pub struct RedisMemory {
    pub record_bytes: u64,
    pub memory_usage: u64,
    pub per_login: f64,
}

/// Suspends `SUSPENDED_SAMPLE` logins (post-login only) and measures what
/// Redis holds for them.
pub async fn redis_memory(
    scenario: &Arc<Scenario>,
    redis_url: &str,
) -> Result<RedisMemory, BoxError> {
    let client = redis::Client::open(redis_url)?;
    let mut redis = client.get_multiplexed_async_connection().await?;
    let (before, keys_before) = used_memory(&mut redis).await?;
    let mut conn = Conn::connect(scenario.addr).await?;
    for _ in 0..SUSPENDED_SAMPLE {
        let r = conn.send(&scenario.login).await?;
        state_of(&r.body).ok_or("no state in the redirect location")?;
    }
    let (after, keys_after) = used_memory(&mut redis).await?;
    let mut cursor = 0u64;
    let key = loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg("detour:login:*")
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut redis)
            .await?;
        if let Some(k) = keys.into_iter().next() {
            break k;
        }
        if next == 0 {
            return Err("no suspended login found in Redis".into());
        }
        cursor = next;
    };
    let record_bytes: u64 = redis::cmd("STRLEN")
        .arg(&key)
        .query_async(&mut redis)
        .await?;
    let memory_usage: u64 = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(&key)
        .arg("SAMPLES")
        .arg(0)
        .query_async(&mut redis)
        .await?;
    let added = keys_after.saturating_sub(keys_before).max(1);
    Ok(RedisMemory {
        record_bytes,
        memory_usage,
        per_login: after.saturating_sub(before) as f64 / added as f64,
    })
}

/// Redis `used_memory` and the number of keys.
pub async fn used_memory(
    redis: &mut redis::aio::MultiplexedConnection,
) -> Result<(u64, u64), BoxError> {
    let info: String = redis::cmd("INFO").arg("memory").query_async(redis).await?;
    let used = info
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .ok_or("no used_memory in INFO")?
        .trim()
        .parse()?;
    let keys: u64 = redis::cmd("DBSIZE").query_async(redis).await?;
    Ok((used, keys))
}
