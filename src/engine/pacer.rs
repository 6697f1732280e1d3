//! The engine's interrupt handler: the trigger run's deadline, and a pace
//! for executions that keep the CPU busy while other logins need it.
//!
//! QuickJS calls the handler every few thousand bytecodes. An execution
//! runs at full speed for its first [`GRACE`] of CPU time (real Actions need
//! well under 5 ms). Past it, after every [`SLICE`] of CPU the handler asks
//! the thread pool whether another login is being handled (parsed,
//! waiting on Redis, queued or running); if so it puts its engine thread to sleep for
//! [`PAUSE_SLICES`] slices: a thirtieth of a core. So a `while (true) {}`
//! cannot hold a core for more than a few milliseconds while other logins
//! want it, and they keep the machine until its deadline ends it; alone,
//! it (or a legitimate Action that computes for a while) runs at full
//! speed, since nobody waits for the core it takes. Past [`SLOW`] of CPU
//! the execution counts as slow and the thread pool starts a spare thread
//! in its place. Waiting on `fetch` or a timer uses no CPU and does not
//! count.
//!
//! (A middle tier at half a core up to 50 ms of CPU was tried: two looping
//! logins starting together then held a whole core between them for 50 ms,
//! and the good logins' p99 in the benchmark's LL scenario was 13.5 ms
//! against 2.8 ms without the loops. A tenth of a core, paused whether or
//! not anyone waited, left the good logins 81–86 % of their throughput
//! beside two loops (docs/performance.md).)

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// CPU time an execution may use at full speed.
pub const GRACE: Duration = Duration::from_millis(5);
/// CPU time after which an execution counts as slow (about 50 ms of wall
/// time after the grace).
pub const SLOW: Duration = Duration::from_millis(10);
/// CPU time after which a running execution steps aside at the queue: a
/// login queued behind it is taken by an idle thread instead.
pub const STEP_ASIDE: Duration = Duration::from_millis(1);
/// After the grace, CPU time between two checks (and pauses).
pub const SLICE: Duration = Duration::from_millis(1);
/// Slices of sleep after a slice of CPU while other logins are being
/// handled: 29 leaves a looping execution a thirtieth of a core.
pub const PAUSE_SLICES: u32 = 29;
/// Windows of its budget an inline execution may run past its cutoff
/// before it is stopped, however little CPU time the busy host gave it.
pub const INLINE_WINDOWS: u32 = 4;

/// How long to pause after a slice, for an execution that has used `cpu`
/// while other logins do (`contended`) or not.
fn pause_after(cpu: Duration, contended: bool) -> Option<Duration> {
    (cpu > GRACE && contended).then_some(SLICE * PAUSE_SLICES)
}

/// Told when an execution goes slow and when it is back to normal (the
/// thread pool, which starts a spare thread meanwhile).
pub trait SlowListener {
    /// An execution went slow.
    fn execution_went_slow(&self);
    /// The slow execution ended.
    fn slow_execution_ended(&self);
    /// The execution waits or has run long: its thread will not take the
    /// next job soon.
    fn execution_steps_aside(&self);
    /// Whether another login is being handled and is not itself a long
    /// execution (a long execution then gives up the core between
    /// slices). Asked
    /// only by a long execution, which from then on does not count as
    /// one of those others.
    fn others_need_the_engines(&self) -> bool;
    /// The long execution that asked [`Self::others_need_the_engines`]
    /// ended.
    fn long_execution_ended(&self);
}

/// Shared by an engine and its interrupt handler.
#[derive(Default)]
pub struct Pacer {
    deadline: Cell<Option<Instant>>,
    /// The thread's CPU time when the execution's own count began: read at
    /// the first interrupt, not at the start, because reading a thread's
    /// CPU clock is a system call (no vDSO) and most executions end before
    /// QuickJS first calls the handler. What runs before that first call
    /// (a few thousand bytecodes) is not counted.
    cpu_at_start: Cell<Option<Duration>>,
    cpu_at_pause: Cell<Duration>,
    /// Told when the execution goes slow and when it ends.
    listener: Option<Arc<dyn SlowListener>>,
    slow: Cell<bool>,
    /// Stepped aside at the queue (once per execution).
    aside: Cell<bool>,
    /// Asked whether others need the engines (a long execution).
    asked: Cell<bool>,
    /// Paced, but never reported as slow (loading Actions ahead of use).
    quiet: Cell<bool>,
    /// On an HTTP worker (inline.rs): the wall time at which the execution
    /// stops, to run again on an engine thread. Such an execution is never
    /// paced: nothing else runs on its thread until it ends.
    cutoff: Cell<Option<Instant>>,
    /// The inline execution was stopped at its cutoff.
    overran: Cell<bool>,
    /// The inline execution's budget (its cutoff, as a duration).
    window: Cell<Duration>,
    /// Past its cutoff: the thread's CPU time when the current extra
    /// window began, and how many windows it was given.
    extra: Cell<Option<(Duration, u32)>>,
}

impl Drop for Pacer {
    fn drop(&mut self) {
        let _ = self.disarm();
    }
}

impl Pacer {
    /// A pacer that tells `listener` about slow executions.
    pub fn new(listener: Option<Arc<dyn SlowListener>>) -> Self {
        let mut pacer = Self::default();
        pacer.listener = listener;
        pacer
    }

    /// Starts an execution that must end by `deadline`.
    pub fn arm(&self, deadline: Instant) {
        self.deadline.set(Some(deadline));
        self.quiet.set(false);
        self.aside.set(false);
        self.restart();
    }

    /// Starts an execution on an HTTP worker: it stops at `cutoff` (or at
    /// `deadline`, if sooner), and [`Self::take_overran`] then tells.
    pub fn arm_inline(&self, deadline: Instant, cutoff: Instant) {
        self.arm(deadline);
        self.quiet.set(true);
        self.cutoff.set(Some(cutoff));
        self.window
            .set(cutoff.saturating_duration_since(Instant::now()));
        self.extra.set(None);
        self.overran.set(false);
    }

    /// Whether an inline execution found past its cutoff (by the wall
    /// clock) at `now` stops. On a busy host the worker thread may have
    /// been descheduled for most of that time, which says nothing about
    /// the Action: handing it over would send its next executions through
    /// the engine threads for nothing (15–25 times in a run of the
    /// benchmark here: docs/performance.md, item 50). So it gets another
    /// window of its budget, and stops once it used at least half of one
    /// window in CPU time, or after [`INLINE_WINDOWS`] more windows.
    fn past_cutoff(&self, now: Instant) -> bool {
        let cpu = thread_cpu_time();
        let window = self.window.get();
        let windows = match self.extra.get() {
            None => 1,
            Some((_, windows)) if windows >= INLINE_WINDOWS => return true,
            Some((at, _)) if cpu.saturating_sub(at) >= window / 2 => return true,
            Some((_, windows)) => windows + 1,
        };
        self.extra.set(Some((cpu, windows)));
        self.cutoff.set(Some(now + window));
        false
    }

    /// Whether the inline execution that ran last was stopped at its
    /// cutoff; clears it.
    pub fn take_overran(&self) -> bool {
        self.overran.replace(false)
    }

    /// Starts work that must end by `deadline` and never starts a spare.
    pub fn arm_quiet(&self, deadline: Instant) {
        self.arm(deadline);
        self.quiet.set(true);
    }

    /// Counts CPU time from now (from the next interrupt): what the engine
    /// spent before the Action's code starts (setting up its context) is
    /// not the Action's.
    pub fn restart(&self) {
        self.cpu_at_start.set(None);
    }

    /// The running execution is slow: the pool may start a spare in its
    /// place (once per execution; never while loading Actions).
    pub fn mark_slow(&self) {
        if !self.quiet.get()
            && self.deadline.get().is_some()
            && !self.slow.replace(true)
            && let Some(listener) = &self.listener
        {
            listener.execution_went_slow();
        }
    }

    /// The running execution waits or has run long (once per execution).
    pub fn step_aside(&self) {
        if !self.aside.replace(true)
            && let Some(listener) = &self.listener
        {
            listener.execution_steps_aside();
        }
    }

    /// No execution runs. Returns whether the one that ran was slow.
    pub fn disarm(&self) -> bool {
        self.deadline.set(None);
        self.cutoff.set(None);
        let was_slow = self.slow.replace(false);
        if let Some(listener) = &self.listener {
            if was_slow {
                listener.slow_execution_ended();
            }
            if self.asked.replace(false) {
                listener.long_execution_ended();
            }
        }
        was_slow
    }

    /// The interrupt handler: `true` stops the running execution.
    pub fn interrupt(&self) -> bool {
        let Some(deadline) = self.deadline.get() else {
            return false;
        };
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        if let Some(cutoff) = self.cutoff.get() {
            let over = now >= cutoff && self.past_cutoff(now);
            self.overran.set(over);
            return over;
        }
        let cpu = thread_cpu_time();
        let Some(start) = self.cpu_at_start.get() else {
            self.cpu_at_start.set(Some(cpu));
            self.cpu_at_pause.set(cpu);
            return false;
        };
        let used = cpu.saturating_sub(start);
        if used > STEP_ASIDE {
            self.step_aside();
        }
        if used > GRACE && cpu.saturating_sub(self.cpu_at_pause.get()) >= SLICE {
            if used > SLOW {
                self.mark_slow();
            }
            // Without a pool to ask (tests), always as if contended.
            let contended = self.listener.as_ref().is_none_or(|l| {
                self.asked.set(true);
                l.others_need_the_engines()
            });
            if let Some(pause) = pause_after(used, contended) {
                std::thread::sleep(pause.min(deadline - now));
                self.cpu_at_pause.set(thread_cpu_time());
            } else {
                self.cpu_at_pause.set(cpu);
            }
        }
        false
    }
}

/// CPU time the calling thread has used; zero if the clock is missing
/// (which only turns the pace off).
fn thread_cpu_time() -> Duration {
    cpu_time::ThreadTime::try_now()
        .map(|t| t.as_duration())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_execution_past_its_grace_is_paused() {
        assert_eq!(pause_after(GRACE, true), None);
        assert_eq!(pause_after(GRACE * 2, true), Some(SLICE * PAUSE_SLICES));
        assert_eq!(pause_after(GRACE * 2, false), None, "nobody waits");
    }

    fn spin(d: Duration) {
        let start = thread_cpu_time();
        while thread_cpu_time() - start < d {
            std::hint::black_box(0);
        }
    }

    #[test]
    fn a_passed_deadline_stops_and_no_execution_never_does() {
        let pacer = Pacer::default();
        assert!(!pacer.interrupt(), "disarmed");
        pacer.arm(Instant::now());
        assert!(pacer.interrupt(), "deadline passed");
        pacer.disarm();
        assert!(!pacer.interrupt());
    }

    #[test]
    fn a_busy_execution_is_paused_only_after_its_grace() {
        let pacer = Pacer::default();
        pacer.arm(Instant::now() + Duration::from_secs(60));
        assert!(!pacer.interrupt(), "the first call only starts the count");
        let before = pacer.cpu_at_pause.get();
        spin(SLICE * 2);
        assert!(!pacer.interrupt());
        assert_eq!(
            pacer.cpu_at_pause.get(),
            before,
            "no pause within the grace"
        );
        spin(GRACE);
        assert!(!pacer.interrupt());
        assert!(pacer.cpu_at_pause.get() > before, "paused after the grace");
    }

    #[test]
    fn an_inline_execution_past_its_cutoff_stops_only_once_it_used_the_cpu() {
        let pacer = Pacer::default();
        let window = Duration::from_millis(2);
        let far = Instant::now() + Duration::from_secs(60);
        pacer.arm_inline(far, Instant::now() + window);
        assert!(!pacer.interrupt(), "within its budget");

        // Descheduled past the cutoff: another window.
        std::thread::sleep(window * 2);
        assert!(!pacer.interrupt(), "a sleep is not CPU");
        std::thread::sleep(window * 2);
        assert!(!pacer.interrupt(), "nor is a second one");
        spin(window);
        std::thread::sleep(window);
        assert!(pacer.interrupt(), "a window's worth of CPU stops it");
        assert!(pacer.take_overran());

        // However little CPU it is given, it stops after a few windows.
        pacer.arm_inline(far, Instant::now() + window);
        std::thread::sleep(window);
        for _ in 0..INLINE_WINDOWS {
            assert!(!pacer.interrupt());
            std::thread::sleep(window);
        }
        assert!(pacer.interrupt(), "out of windows");
        assert!(pacer.take_overran());
    }

    struct Others(bool);

    impl SlowListener for Others {
        fn execution_went_slow(&self) {}
        fn slow_execution_ended(&self) {}
        fn execution_steps_aside(&self) {}
        fn others_need_the_engines(&self) -> bool {
            self.0
        }
        fn long_execution_ended(&self) {}
    }

    /// How long the first interrupt past the grace takes, with other
    /// logins wanting the engines or not.
    fn first_check_past_the_grace(others: bool) -> Duration {
        let pacer = Pacer::new(Some(Arc::new(Others(others))));
        pacer.arm(Instant::now() + Duration::from_secs(60));
        assert!(!pacer.interrupt(), "the first call only starts the count");
        spin(GRACE + SLICE * 2);
        let started = Instant::now();
        assert!(!pacer.interrupt());
        started.elapsed()
    }

    #[test]
    fn past_its_grace_an_execution_sleeps_only_while_others_want_the_engines() {
        assert!(first_check_past_the_grace(true) >= SLICE * PAUSE_SLICES);
        // Not a timing bound: no sleep at all, against a 29 ms one.
        assert!(first_check_past_the_grace(false) < SLICE * PAUSE_SLICES);
    }
}
