//! Load benchmark: drives two running Detour servers (built with the
//! `bench-floor` feature) over loopback and prints one table.
//!
//! Run it with `scripts/bench.sh`, which builds the release binary, starts
//! `redis-server` and the two servers, and passes them here:
//!
//! | variable | what |
//! |---|---|
//! | `BENCH_ALLOW_URL`, `BENCH_ALLOW_PID` | the server with the three allow-path Actions |
//! | `BENCH_DETOUR_URL`, `BENCH_DETOUR_PID` | the server with `favorite-color` |
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

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const API_KEY: &str = "demo-api-key";
const RESULT_SECRET: &str = "demo-result-secret";
const SESSION_SECRET: &str = "demo-favorite-color-secret";
const RETURN_TO: &str = "http://localhost:8081/callback";
const EVENT: &str = include_str!("../tests/fixtures/bench/event.json");
/// Suspended logins created to measure Redis memory per login.
const SUSPENDED_SAMPLE: usize = 2000;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let config = Config::from_env()?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run(config))
}

struct Config {
    allow: SocketAddr,
    allow_pid: u32,
    detour: SocketAddr,
    detour_pid: u32,
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
            loops: addr("BENCH_LOOPS_URL")?,
            loops_pid: var("BENCH_LOOPS_PID")?.parse()?,
            loopers: number("BENCH_LOOPERS", 2.0)? as usize,
            redis_url: var("BENCH_REDIS_URL")?,
            ours: [
                "BENCH_ALLOW_PID",
                "BENCH_DETOUR_PID",
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

// ---- scenarios --------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// One `post-login` answered `allow`.
    Allow,
    /// `post-login` answered `redirect`, then `continue` answered `302`.
    Detour,
}

struct Scenario {
    key: &'static str,
    label: &'static str,
    kind: Kind,
    addr: SocketAddr,
    pid: u32,
    login: Vec<u8>,
    continue_path: &'static str,
    /// Looping logins kept running beside this scenario's load.
    loopers: usize,
}

fn scenarios(config: &Config) -> Vec<Arc<Scenario>> {
    let event: Value = serde_json::from_str(EVENT).unwrap_or(Value::Null);
    let body = json!({"event": event, "return_to": RETURN_TO, "transaction_id": "tx-bench"});
    let body = body.to_string();
    let login = |addr: SocketAddr, path: &str| post(addr, path, "application/json", &body, true);
    let good_on_loops = |key, label, loopers| {
        Arc::new(Scenario {
            key,
            label,
            kind: Kind::Allow,
            addr: config.loops,
            pid: config.loops_pid,
            login: login(config.loops, "/v1/post-login"),
            continue_path: "",
            loopers,
        })
    };
    vec![
        Arc::new(Scenario {
            key: "A",
            label: "A  allow: 3 Actions",
            kind: Kind::Allow,
            addr: config.allow,
            pid: config.allow_pid,
            login: login(config.allow, "/v1/post-login"),
            continue_path: "",
            loopers: 0,
        }),
        Arc::new(Scenario {
            key: "FA",
            label: "FA floor of A (no JS)",
            kind: Kind::Allow,
            addr: config.allow,
            pid: config.allow_pid,
            login: login(config.allow, "/floor/post-login"),
            continue_path: "",
            loopers: 0,
        }),
        Arc::new(Scenario {
            key: "B",
            label: "B  detour: login+continue",
            kind: Kind::Detour,
            addr: config.detour,
            pid: config.detour_pid,
            login: login(config.detour, "/v1/post-login"),
            continue_path: "/continue",
            loopers: 0,
        }),
        Arc::new(Scenario {
            key: "FB",
            label: "FB floor of B (no JS)",
            kind: Kind::Detour,
            addr: config.detour,
            pid: config.detour_pid,
            login: login(config.detour, "/floor/post-login?mode=redirect"),
            continue_path: "/floor/continue",
            loopers: 0,
        }),
        good_on_loops("L", "L  A + a loop Action, alone", 0),
        good_on_loops("LL", "LL L beside looping logins", config.loopers),
    ]
}

/// A login that the loops server's last Action spins on until the time
/// limit.
fn looping_login(addr: SocketAddr) -> Vec<u8> {
    let mut event: Value = serde_json::from_str(EVENT).unwrap_or(Value::Null);
    event["user"]["user_metadata"]["misbehave"] = json!(true);
    let body = json!({"event": event, "return_to": RETURN_TO, "transaction_id": "tx-loop"});
    post(
        addr,
        "/v1/post-login",
        "application/json",
        &body.to_string(),
        true,
    )
}

/// Keeps `n` looping logins in flight until `stop`; returns how many ended
/// with the time limit, as they must.
fn start_loopers(
    scenario: &Scenario,
    n: usize,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<u64>> {
    (0..n)
        .map(|_| {
            let (addr, stop) = (scenario.addr, stop.clone());
            let request = looping_login(addr);
            tokio::spawn(async move {
                let mut timed_out = 0;
                let mut conn = None;
                while !stop.load(Ordering::Relaxed) {
                    if conn.is_none() {
                        conn = Conn::connect(addr).await.ok();
                    }
                    let Some(c) = conn.as_mut() else {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    };
                    match c.send(&request).await {
                        Ok(r) if contains(&r.body, b"execution time limit") => timed_out += 1,
                        Ok(_) => {}
                        Err(_) => conn = None,
                    }
                }
                timed_out
            })
        })
        .collect()
}

fn post(addr: SocketAddr, path: &str, content_type: &str, body: &str, auth: bool) -> Vec<u8> {
    let auth = if auth {
        format!("Authorization: Bearer {API_KEY}\r\n")
    } else {
        String::new()
    };
    format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One login (A) or one detour (B): every request, checked.
async fn one(conn: &mut Conn, scenario: &Scenario) -> Result<Response, BoxError> {
    let first = conn.send(&scenario.login).await?;
    if scenario.kind == Kind::Allow {
        if first.status != 200 || !contains(&first.body, b"\"outcome\":\"allow\"") {
            return Err(format!("post-login: {} {}", first.status, first.text()).into());
        }
        return Ok(first);
    }
    if first.status != 200 || !contains(&first.body, b"\"outcome\":\"redirect\"") {
        return Err(format!("post-login: {} {}", first.status, first.text()).into());
    }
    let state = state_of(&first.body).ok_or("no state in the redirect location")?;
    let form = format!("state={state}&session_token={}", session_token(&state)?);
    let request = post(
        scenario.addr,
        scenario.continue_path,
        "application/x-www-form-urlencoded",
        &form,
        false,
    );
    let second = conn.send(&request).await?;
    let delivered = second
        .location
        .as_deref()
        .is_some_and(|l| l.starts_with(&format!("{RETURN_TO}?result=")));
    if second.status != 302 || !delivered {
        return Err(format!("continue: {} {}", second.status, second.text()).into());
    }
    Ok(second)
}

/// The token the external site sends back (README: "A full detour").
fn session_token(state: &str) -> Result<String, BoxError> {
    let now = unix_now();
    let claims = json!({
        "sub": "auth0|5f7c8ec7c33c6c004bbafe82", "iss": "my-app.example.com",
        "iat": now, "exp": now + 60, "state": state, "favorite_color": "purple",
    });
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SESSION_SECRET.as_bytes()),
    )?)
}

fn state_of(body: &[u8]) -> Option<String> {
    let at = find(body, b"state=")? + b"state=".len();
    let state: String = body[at..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'_')
        .map(|b| char::from(*b))
        .collect();
    (!state.is_empty()).then_some(state)
}

/// Runs each scenario once and checks what the upstream would see, so a
/// floor that skipped work, or a broken build, cannot pass for fast.
async fn preflight(scenarios: &[Arc<Scenario>]) -> Result<(), BoxError> {
    for scenario in scenarios {
        let mut conn = Conn::connect(scenario.addr).await?;
        let last = one(&mut conn, scenario)
            .await
            .map_err(|e| format!("{}: {e}", scenario.label))?;
        let outcome: Map<String, Value> = match scenario.kind {
            Kind::Allow => serde_json::from_slice(&last.body)?,
            Kind::Detour => {
                let location = last.location.unwrap_or_default();
                let result = location.rsplit("result=").next().unwrap_or_default();
                let mut validation = Validation::new(Algorithm::HS256);
                validation.set_audience(&["demo"]);
                jsonwebtoken::decode::<Map<String, Value>>(
                    result,
                    &DecodingKey::from_secret(RESULT_SECRET.as_bytes()),
                    &validation,
                )?
                .claims
            }
        };
        let expect = |pointer: &str, value: Value| -> Result<(), BoxError> {
            let outcome = Value::Object(outcome.clone());
            match outcome.pointer(pointer) {
                Some(v) if *v == value => Ok(()),
                other => Err(format!(
                    "{}: {pointer} is {other:?}, expected {value}",
                    scenario.label
                )
                .into()),
            }
        };
        expect("/outcome", json!("allow"))?;
        match scenario.kind {
            Kind::Allow => {
                let roles = "/id_token/claims/https:~1~1my-app.example.com~1roles";
                expect(roles, json!(["admin", "editor"]))?;
                expect("/user/user_metadata/logins_seen", json!(7))?;
            }
            Kind::Detour => {
                expect("/user/user_metadata/favorite_color", json!("purple"))?;
                expect("/transaction_id", json!("tx-bench"))?;
            }
        }
    }
    Ok(())
}

// ---- load -------------------------------------------------------------------

struct Peak {
    rate: f64,
    errors: u64,
    rss_kib: u64,
    /// Server CPU time (user + system, all threads) per operation.
    cpu_us: f64,
}

/// Closed loop: `connections` clients, each sending its next request as
/// soon as the previous one is answered.
async fn peak(scenario: &Arc<Scenario>, connections: usize, secs: f64) -> Peak {
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

struct Latency {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// How late the pacer issued requests (its own scheduling delay).
    pacer_lag_p99_ms: f64,
    errors: u64,
}

/// Open loop at `rate`/s: a pacer thread issues requests on a schedule,
/// whatever the server does; any free connection takes the next one, and
/// the latency runs from when it was issued, so a stalled server is charged
/// for the requests it delayed.
async fn latency(scenario: &Arc<Scenario>, connections: usize, rate: f64, secs: f64) -> Latency {
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
fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// One operation on the client's connection, reconnecting after a failure.
async fn run_once(conn: &mut Option<Conn>, scenario: &Scenario) -> bool {
    if conn.is_none() {
        *conn = Conn::connect(scenario.addr).await.ok();
    }
    let Some(c) = conn.as_mut() else {
        tokio::time::sleep(Duration::from_millis(10)).await;
        return false;
    };
    match one(c, scenario).await {
        Ok(_) => true,
        Err(_) => {
            *conn = None;
            false
        }
    }
}

// ---- Redis memory -----------------------------------------------------------

struct RedisMemory {
    record_bytes: u64,
    memory_usage: u64,
    per_login: f64,
}

/// Suspends `SUSPENDED_SAMPLE` logins (post-login only) and measures what
/// Redis holds for them.
async fn redis_memory(scenario: &Arc<Scenario>, redis_url: &str) -> Result<RedisMemory, BoxError> {
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
async fn used_memory(
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

// ---- the run ----------------------------------------------------------------

#[derive(Default)]
struct Rounds {
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

fn report(
    config: &Config,
    scenarios: &[Arc<Scenario>],
    results: &[Rounds],
    memory: Option<&RedisMemory>,
) {
    println!();
    println!(
        "medians of {} rounds; peak: {} connections, closed loop, {} s; latency: open loop at half that peak, {} s",
        config.rounds, config.connections, config.secs, config.secs
    );
    println!();
    println!(
        "| scenario | peak /s | server CPU µs/op | offered /s | p50 ms | p99 ms | errors |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    for (scenario, r) in scenarios.iter().zip(results) {
        println!(
            "| {} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} | {} |",
            scenario.label,
            median(&r.peak),
            median(&r.cpu_us),
            median(&r.offered),
            median(&r.p50),
            median(&r.p99),
            r.errors
        );
    }
    let noisiest = results.iter().map(|r| r.other_cpu).fold(0.0, f64::max);
    println!();
    println!(
        "other processes used at most {:.0} % of the machine in any round{}",
        noisiest * 100.0,
        if noisiest > 0.05 {
            " (more than 5 %: numbers skewed; rerun on a quiet machine)"
        } else {
            ""
        }
    );
    let of = |key: &str| {
        scenarios
            .iter()
            .position(|s| s.key == key)
            .map(|i| &results[i])
    };
    let verdict = |ok: bool| if ok { "holds" } else { "MISSED" };
    println!();
    println!("| target | measured | goal | |\n|---|---:|---:|---|");
    for (what, real, floor, goal) in [
        ("A / F (allow vs its floor)", "A", "FA", 25.0),
        ("B / F (detour vs its floor)", "B", "FB", 15.0),
    ] {
        if let (Some(r), Some(f)) = (of(real), of(floor)) {
            let ratio = 100.0 * median(&r.peak) / median(&f.peak);
            println!(
                "| {what} | {ratio:.1} % | ≥ {goal:.0} % | {} |",
                verdict(ratio >= goal)
            );
        }
    }
    if let (Some(alone), Some(beside)) = (of("L"), of("LL")) {
        let ratio = 100.0 * median(&beside.peak) / median(&alone.peak);
        println!(
            "| good logins' throughput beside {} looping logins (LL / L) | {ratio:.1} % | (issue 4: keeps its throughput) | {} looping logins hit the time limit |",
            config.loopers, beside.looped
        );
        println!(
            "| good logins' p99 beside looping logins (LL − L) | {:+.2} ms | (a few ms) | |",
            median(&beside.p99) - median(&alone.p99)
        );
    }
    for (what, key, goal) in [
        ("A p99 at half of peak", "A", 5.0),
        ("B p99 at half of peak", "B", 10.0),
    ] {
        if let Some(r) = of(key) {
            let p99 = median(&r.p99);
            println!(
                "| {what} | {p99:.2} ms | ≤ {goal:.0} ms | {} |",
                verdict(p99 <= goal)
            );
        }
    }
    if let Some(m) = memory {
        println!(
            "| Redis per suspended login | {:.0} B | ≤ 2048 B | {} |",
            m.per_login,
            verdict(m.per_login <= 2048.0)
        );
    }
    println!();
    for (pid, name, keys) in [
        (config.allow_pid, "allow", ["A", "FA"]),
        (config.detour_pid, "detour", ["B", "FB"]),
        (config.loops_pid, "loops", ["L", "LL"]),
    ] {
        let rss = keys.iter().filter_map(|k| of(k)).map(|r| r.rss_kib).max();
        if let Some(rss) = rss {
            println!(
                "memory: {name} server RSS under load {:.1} MiB (VmHWM {:.1} MiB)",
                rss as f64 / 1024.0,
                proc_status(pid, "VmHWM").unwrap_or(0) as f64 / 1024.0
            );
        }
    }
    if let Some(m) = memory {
        println!(
            "redis: one suspended login = {} B record, MEMORY USAGE {} B; used_memory grows {:.0} B per login over {SUSPENDED_SAMPLE}",
            m.record_bytes, m.memory_usage, m.per_login
        );
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// CPU time the rest of the machine used while a scenario ran: the
/// benchmark shares 2 cores with whatever else runs, and says so.
struct Noise {
    busy: u64,
    ours: u64,
    at: Instant,
}

impl Noise {
    fn start(ours: &[u32]) -> Self {
        Self {
            busy: machine_busy_ticks(),
            ours: ours.iter().map(|p| cpu_ticks(*p)).sum(),
            at: Instant::now(),
        }
    }

    /// Share of the machine (0 to 1) used by other processes since `start`.
    fn other_share(&self, ours: &[u32]) -> f64 {
        let busy = machine_busy_ticks().saturating_sub(self.busy);
        let own: u64 = ours.iter().map(|p| cpu_ticks(*p)).sum();
        let other = busy.saturating_sub(own.saturating_sub(self.ours));
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        let capacity = self.at.elapsed().as_secs_f64() * CLOCK_TICKS_PER_SEC * cpus;
        (other as f64 / capacity).clamp(0.0, 1.0)
    }
}

/// Busy ticks of all CPUs (the `cpu` line of `/proc/stat`, less idle and
/// iowait).
fn machine_busy_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    fields
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .sum()
}

/// `USER_HZ`: the unit of `/proc/PID/stat` times (100 on Linux).
const CLOCK_TICKS_PER_SEC: f64 = 100.0;

/// User plus system CPU time of a process (all its threads), in ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // Fields after the parenthesised command name; utime and stime are
    // fields 14 and 15 of the whole line.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

/// A `kB` field of `/proc/PID/status`.
fn proc_status(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

// ---- a minimal HTTP/1.1 keep-alive client -----------------------------------

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

struct Response {
    status: u16,
    location: Option<String>,
    body: Vec<u8>,
}

impl Response {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body)
            .chars()
            .take(300)
            .collect()
    }
}

impl Conn {
    async fn connect(addr: SocketAddr) -> Result<Self, BoxError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(16 * 1024),
        })
    }

    /// Sends one request and reads one `Content-Length` response.
    async fn send(&mut self, request: &[u8]) -> Result<Response, BoxError> {
        self.stream.write_all(request).await?;
        self.buf.clear();
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                return Err("connection closed".into());
            }
        };
        let head = std::str::from_utf8(&self.buf[..head_end])?;
        let status: u16 = head.get(9..12).ok_or("bad status line")?.parse()?;
        let mut length = 0usize;
        let mut location = None;
        for line in head.split("\r\n").skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse()?;
            } else if name.eq_ignore_ascii_case("location") {
                location = Some(value.trim().to_owned());
            }
        }
        while self.buf.len() < head_end + length {
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                return Err("connection closed".into());
            }
        }
        Ok(Response {
            status,
            location,
            body: self.buf[head_end..head_end + length].to_vec(),
        })
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}
