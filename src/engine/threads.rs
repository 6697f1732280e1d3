//! The engine's thread pool: `engine.workers` threads serve the queue at all
//! times. An execution is slow when it keeps the CPU busy past the pace's
//! slow mark ([`super::pacer::SLOW`]; beside other logins it then runs at
//! a thirtieth of a core until its deadline) or is still waiting on `fetch` or a timer after
//! 50 ms; while it is, a spare thread is started in its place, so a looping
//! or waiting Action costs the other logins at most the CPU it is allowed,
//! not an engine. A spare leaves after its job once it is no longer needed.

use std::sync::{Arc, Mutex, MutexGuard};

use super::compile::ActionSource;
use super::queue::Place;
use crate::config::EngineSettings;

/// The most engine threads, as a multiple of `engine.workers`: spares are
/// cheap while they wait (a thread and a QuickJS runtime, a few MiB), and
/// Actions that call APIs spend most of their time waiting.
pub const MAX_THREADS_PER_WORKER: usize = 4;

/// Starts engine thread `n` for a seat in the pool.
pub type Spawn = fn(usize, Seat) -> std::io::Result<()>;

/// The queue the engine threads serve.
pub type Queue = super::queue::Receiver;

/// The engine threads that serve the queue.
pub struct ThreadPool {
    pub(super) queue: Queue,
    pub(super) sources: Arc<Vec<ActionSource>>,
    pub(super) settings: EngineSettings,
    /// Starts a thread for a seat (the engine's `worker::spawn`): given,
    /// so the pool does not depend on what its threads run.
    spawn: Spawn,
    /// Starting and leaving decide on both counts at once.
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    /// Threads serving the queue (spawned and not yet gone).
    alive: usize,
    /// Executions running slow.
    slow: usize,
    /// Threads ever started, for their names.
    started: usize,
}

/// A thread's seat in the pool: it counts as alive until this is dropped,
/// which happens when the thread leaves, returns or panics.
pub struct Seat {
    pool: Arc<ThreadPool>,
    counted: bool,
    running: bool,
}

impl Seat {
    /// Called first thing on the new thread.
    pub fn running(mut self) -> Self {
        self.running = true;
        self
    }

    /// The pool this thread serves in.
    pub fn pool(&self) -> &Arc<ThreadPool> {
        &self.pool
    }

    /// Whether this thread, between jobs, is a spare no longer needed; if
    /// so it stops counting as alive at once.
    pub fn should_leave(&mut self) -> bool {
        let mut counts = self.pool.counts();
        if counts.alive > self.pool.settings.workers + counts.slow {
            counts.alive -= 1;
            self.counted = false;
            return true;
        }
        false
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        let short = {
            let mut counts = self.pool.counts();
            counts.alive -= 1;
            counts.alive < self.pool.settings.workers
        };
        // A thread that died (a bug) is replaced, so the pool never shrinks;
        // one that could not start is its starter's to report.
        if short && self.running && !self.pool.queue.is_closed() {
            tracing::error!("an engine thread stopped unexpectedly; starting another");
            self.pool.start_thread();
        }
    }
}

impl ThreadPool {
    /// Starts `settings.workers` engine threads.
    pub fn start(
        queue: Queue,
        sources: Arc<Vec<ActionSource>>,
        settings: EngineSettings,
        spawn: Spawn,
    ) -> std::io::Result<Arc<Self>> {
        let pool = Arc::new(Self {
            queue,
            sources,
            settings,
            spawn,
            counts: Mutex::default(),
        });
        for _ in 0..pool.settings.workers {
            pool.try_start_thread()?;
        }
        Ok(pool)
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        // The counts stay consistent even if a holder panicked.
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn try_start_thread(self: &Arc<Self>) -> std::io::Result<()> {
        let n = {
            let mut counts = self.counts();
            counts.alive += 1;
            counts.started += 1;
            counts.started
        };
        let seat = Seat {
            pool: self.clone(),
            counted: true,
            running: false,
        };
        // On failure the seat comes back inside the error's closure and
        // is dropped, which un-counts it.
        (self.spawn)(n, seat)
    }

    fn start_thread(self: &Arc<Self>) {
        if let Err(e) = self.try_start_thread() {
            tracing::warn!(error = %e, "could not start an engine thread");
        }
    }

    /// An execution on one of the threads went slow: start a spare, up to
    /// [`MAX_THREADS_PER_WORKER`] × `workers` threads in all.
    fn start_spare_for_slow(self: &Arc<Self>) {
        let workers = self.settings.workers;
        let start = {
            let mut counts = self.counts();
            counts.slow += 1;
            counts.alive < workers + counts.slow && counts.alive < MAX_THREADS_PER_WORKER * workers
        };
        if start && !self.queue.is_closed() {
            self.start_thread();
        }
    }

    /// The slow execution ended.
    fn slow_ended(&self) {
        let mut counts = self.counts();
        counts.slow = counts.slow.saturating_sub(1);
    }
}

/// What a thread's pacer tells its pool. Implemented on the pool's handle,
/// so the pacer does not depend on the pool.
pub struct ThreadPoolHandle {
    /// The pool.
    pub pool: Arc<ThreadPool>,
    /// The thread's place at the queue.
    pub place: Arc<Place>,
}

impl super::pacer::SlowListener for ThreadPoolHandle {
    fn execution_went_slow(&self) {
        self.pool.start_spare_for_slow();
    }
    fn slow_execution_ended(&self) {
        self.pool.slow_ended();
    }
    fn execution_steps_aside(&self) {
        self.pool.queue.step_aside(&self.place);
    }
    fn others_need_the_engines(&self) -> bool {
        self.pool.queue.busy_beside(&self.place)
    }
    fn long_execution_ended(&self) {
        self.pool.queue.long_ended(&self.place);
    }
}
