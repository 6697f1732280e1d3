//! What the benchmark reads from /proc: CPU time, memory, and how busy the
//! rest of the machine was.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// CPU time the rest of the machine used while a scenario ran: the
/// benchmark shares 2 cores with whatever else runs, and says so.
pub struct Noise {
    busy: u64,
    ours: u64,
    at: Instant,
}

impl Noise {
    pub fn start(ours: &[u32]) -> Self {
        Self {
            busy: machine_busy_ticks(),
            ours: ours.iter().map(|p| cpu_ticks(*p)).sum(),
            at: Instant::now(),
        }
    }

    /// Share of the machine (0 to 1) used by other processes since `start`.
    pub fn other_share(&self, ours: &[u32]) -> f64 {
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
pub fn machine_busy_ticks() -> u64 {
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
pub const CLOCK_TICKS_PER_SEC: f64 = 100.0;

/// User plus system CPU time of a process (all its threads), in ticks.
pub fn cpu_ticks(pid: u32) -> u64 {
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
pub fn proc_status(pid: u32, field: &str) -> Option<u64> {
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

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
