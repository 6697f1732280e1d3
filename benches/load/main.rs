//! Load benchmark: drives running Detour servers and their JavaScript-free
//! floors ([`floor`], this binary run as `load floor <config>`) over
//! loopback and prints one table.
//!
//! Run it with `scripts/bench.sh`, which builds the release binaries,
//! starts `redis-server`, the servers and the floors, and passes them here:
//!
//! | variable | what |
//! |---|---|
//! | `BENCH_ALLOW_URL`, `BENCH_ALLOW_PID` | the server with the three allow-path Actions |
//! | `BENCH_DETOUR_URL`, `BENCH_DETOUR_PID` | the server with `favorite-color` |
//! | `BENCH_FLOOR_ALLOW_URL`, `BENCH_FLOOR_ALLOW_PID` | the floor of the allow-path server (FA) |
//! | `BENCH_FLOOR_DETOUR_URL`, `BENCH_FLOOR_DETOUR_PID` | the floor of the `favorite-color` server (FB) |
//! | `BENCH_LOOPS_URL`, `BENCH_LOOPS_PID` | A's Actions plus one that loops for flagged users |
//! | `BENCH_LOOPERS` (2) | looping logins kept running during LL |
//! | `BENCH_REDIS_URL`, `BENCH_REDIS_PID` | their Redis |
//! | `BENCH_SECS` (3), `BENCH_ROUNDS` (3), `BENCH_CONNECTIONS` (32) | phase length, rounds, connections |
//! | `BENCH_ONLY` (all) | scenarios to run, e.g. `A,FA` (for profiling) |
//!
//! Each round measures every scenario twice: its peak (closed loop, every
//! connection sends its next request as soon as the last one answered), then
//! its latency at a fixed offered load of half that peak (open loop: a
//! pacer thread issues requests on a schedule, and a latency runs from the
//! moment a request was issued, waiting for a free connection included, so
//! a stalled server is charged for the requests it delayed). The table
//! shows the medians over rounds.
//!
//! L and LL measure the sandbox's promise that a looping Action does not
//! take the gateway down: the same good logins, alone (L) and while
//! `BENCH_LOOPERS` clients keep logins spinning in `while (true) {}` until
//! their time limit (LL), each replaced as soon as it fails.
//!
//! The HTTP/1.1 client is a minimal keep-alive one (fixed request bytes,
//! `Content-Length` responses), so that on a 2-core machine the load
//! generator takes as little CPU as `wrk` would; it runs on one thread.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assumption fails the benchmark run

/// The shipped binary's allocator, for the floor server's sake (the load
/// generator hardly allocates).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod client;
mod floor;
mod measure;
mod report;
mod scenarios;
mod system;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use measure::{latency, peak, redis_memory};
use report::report;
use scenarios::{preflight, scenarios, start_loopers};
use system::Noise;

/// The bench upstream's API key (tests/fixtures/bench/*.toml).
pub const API_KEY: &str = "demo-api-key";
/// The bench upstream's result secret.
pub const RESULT_SECRET: &str = "demo-result-secret-for-laptops-only";
/// The secret favorite-color shares with the external site.
pub const SESSION_SECRET: &str = "demo-favorite-color-secret";
/// The bench upstream's registered `return_to`.
pub const RETURN_TO: &str = "http://localhost:8081/callback";
/// The post-login event every scenario sends.
pub const EVENT: &str = include_str!("../../tests/fixtures/bench/event.json");
/// Suspended logins created to measure Redis memory per login.
pub const SUSPENDED_SAMPLE: usize = 2000;

/// Any error, for a run that stops at the first one.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, mode, config, ..] = args.as_slice()
        && mode == "floor"
    {
        return floor::serve(std::path::Path::new(config));
    }
    let config = Config::from_env()?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run(config))
}

/// What `scripts/bench.sh` passes in the environment.
pub struct Config {
    allow: SocketAddr,
    allow_pid: u32,
    detour: SocketAddr,
    detour_pid: u32,
    floor_allow: SocketAddr,
    floor_allow_pid: u32,
    floor_detour: SocketAddr,
    floor_detour_pid: u32,
    loops: SocketAddr,
    loops_pid: u32,
    loopers: usize,
    redis_url: String,
    /// The benchmark's own processes: the servers, Redis, this one.
    ours: Vec<u32>,
    secs: f64,
    rounds: usize,
    connections: usize,
    only: Option<Vec<String>>,
}

impl Config {
    fn from_env() -> Result<Self, BoxError> {
        let var = |name: &str| {
            std::env::var(name)
                .map_err(|_| format!("{name} is not set: run the benchmark with scripts/bench.sh"))
        };
        let addr = |name: &str| -> Result<SocketAddr, BoxError> {
            let url = var(name)?;
            let host = url.trim_start_matches("http://").trim_end_matches('/');
            Ok(host.parse()?)
        };
        let number = |name: &str, default: f64| -> Result<f64, BoxError> {
            match std::env::var(name) {
                Ok(v) => Ok(v.parse()?),
                Err(_) => Ok(default),
            }
        };
        Ok(Self {
            allow: addr("BENCH_ALLOW_URL")?,
            allow_pid: var("BENCH_ALLOW_PID")?.parse()?,
            detour: addr("BENCH_DETOUR_URL")?,
            detour_pid: var("BENCH_DETOUR_PID")?.parse()?,
            floor_allow: addr("BENCH_FLOOR_ALLOW_URL")?,
            floor_allow_pid: var("BENCH_FLOOR_ALLOW_PID")?.parse()?,
            floor_detour: addr("BENCH_FLOOR_DETOUR_URL")?,
            floor_detour_pid: var("BENCH_FLOOR_DETOUR_PID")?.parse()?,
            loops: addr("BENCH_LOOPS_URL")?,
            loops_pid: var("BENCH_LOOPS_PID")?.parse()?,
            loopers: number("BENCH_LOOPERS", 2.0)? as usize,
            redis_url: var("BENCH_REDIS_URL")?,
            ours: [
                "BENCH_ALLOW_PID",
                "BENCH_DETOUR_PID",
                "BENCH_FLOOR_ALLOW_PID",
                "BENCH_FLOOR_DETOUR_PID",
                "BENCH_LOOPS_PID",
                "BENCH_REDIS_PID",
            ]
            .iter()
            .filter_map(|v| std::env::var(v).ok()?.parse().ok())
            .chain([std::process::id()])
            .collect(),
            secs: number("BENCH_SECS", 3.0)?,
            rounds: number("BENCH_ROUNDS", 3.0)? as usize,
            connections: number("BENCH_CONNECTIONS", 32.0)? as usize,
            only: std::env::var("BENCH_ONLY")
                .ok()
                .map(|v| v.split(',').map(|k| k.trim().to_owned()).collect()),
        })
    }
}

/// One scenario's measurements, one entry per round.
#[derive(Default)]
pub struct Rounds {
    peak: Vec<f64>,
    offered: Vec<f64>,
    p50: Vec<f64>,
    p99: Vec<f64>,
    cpu_us: Vec<f64>,
    /// Largest share of the machine other processes used in a round.
    other_cpu: f64,
    errors: u64,
    rss_kib: u64,
    /// Looping logins that ended with the time limit.
    looped: u64,
}

async fn run(config: Config) -> Result<(), BoxError> {
    let mut scenarios = scenarios(&config);
    if let Some(only) = &config.only {
        scenarios.retain(|s| only.iter().any(|k| k == s.key));
    }
    preflight(&scenarios).await?;
    let mut results: Vec<Rounds> = scenarios.iter().map(|_| Rounds::default()).collect();
    eprintln!(
        "{} rounds x {} scenarios, {} s per phase, {} connections",
        config.rounds,
        scenarios.len(),
        config.secs,
        config.connections
    );
    for round in 1..=config.rounds {
        for (scenario, result) in scenarios.iter().zip(results.iter_mut()) {
            let stop = Arc::new(AtomicBool::new(false));
            let loopers = start_loopers(scenario, scenario.loopers, stop.clone());
            if !loopers.is_empty() {
                // Let the looping logins reach their loop first.
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            let noise = Noise::start(&config.ours);
            let p = peak(scenario, config.connections, config.secs).await;
            let l = latency(scenario, config.connections, p.rate / 2.0, config.secs).await;
            let other = noise.other_share(&config.ours);
            stop.store(true, Ordering::Relaxed);
            for looper in loopers {
                result.looped += looper.await.unwrap_or(0);
            }
            eprintln!(
                "  round {round}: {:<26} peak {:>6.0}/s ({:>4.0} µs CPU/op)  at {:>6.0}/s p50 {:>5.2} ms p99 {:>6.2} ms (pacer lag p99 {:.2} ms)  errors {}  other CPU {:.0} %",
                scenario.label,
                p.rate,
                p.cpu_us,
                l.rate,
                l.p50_ms,
                l.p99_ms,
                l.pacer_lag_p99_ms,
                p.errors + l.errors,
                other * 100.0
            );
            result.peak.push(p.rate);
            result.offered.push(l.rate);
            result.p50.push(l.p50_ms);
            result.p99.push(l.p99_ms);
            result.cpu_us.push(p.cpu_us);
            result.other_cpu = result.other_cpu.max(other);
            result.errors += p.errors + l.errors;
            result.rss_kib = result.rss_kib.max(p.rss_kib);
        }
    }
    let memory = match scenarios.iter().find(|s| s.key == "B") {
        Some(b) => Some(redis_memory(b, &config.redis_url).await?),
        None => None,
    };
    report(&config, &scenarios, &results, memory.as_ref());
    Ok(())
}
