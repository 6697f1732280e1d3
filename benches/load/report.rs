//! The printed tables.

use std::sync::Arc;

use crate::measure::RedisMemory;
use crate::scenarios::Scenario;
use crate::system::proc_status;
use crate::{Config, Rounds, SUSPENDED_SAMPLE};

pub fn report(
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
        (config.allow_pid, "allow", &["A"][..]),
        (config.floor_allow_pid, "allow floor", &["FA"][..]),
        (config.detour_pid, "detour", &["B"][..]),
        (config.floor_detour_pid, "detour floor", &["FB"][..]),
        (config.loops_pid, "loops", &["L", "LL"][..]),
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

pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
