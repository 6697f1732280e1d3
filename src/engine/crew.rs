//! The engine threads. `engine.workers` of them serve the queue at all
//! times. An execution is slow when it keeps the CPU busy past the pace's
//! slow mark ([`super::pacer::SLOW`]; it then runs at a tenth of a core
//! until its deadline) or is still waiting on `fetch` or a timer after
//! 50 ms; while it is, a spare thread is hired in its place, so a looping
//! or waiting Action costs the other logins at most the CPU it is allowed,
//! not an engine. A spare leaves after its job once it is no longer needed.

use std::sync::{Arc, Mutex, MutexGuard};

use super::Job;
use super::compile::ActionSource;
use crate::config::EngineSettings;

/// The most engine threads, as a multiple of `engine.workers`: spares are
/// cheap while they wait (a thread and a QuickJS runtime, a few MiB), and
/// Actions that call APIs spend most of their time waiting.
pub const MAX_THREADS_PER_WORKER: usize = 4;

/// Starts engine thread `n` for a member of the crew.
pub type Spawn = fn(usize, Member) -> std::io::Result<()>;

/// The queue the engine threads serve.
pub type Queue = async_channel::Receiver<Box<dyn Job>>;

/// Who serves the queue.
pub struct Crew {
    pub(super) queue: Queue,
    pub(super) sources: Arc<Vec<ActionSource>>,
    pub(super) settings: EngineSettings,
    /// Starts a thread for a member (the engine's `worker::spawn`): given,
    /// so the crew does not depend on what its threads run.
    spawn: Spawn,
    /// Hiring and leaving decide on both counts at once.
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    /// Threads serving the queue (spawned and not yet gone).
    alive: usize,
    /// Executions running slow.
    slow: usize,
    /// Threads ever hired, for their names.
    hired: usize,
}

/// A thread's place in the crew: it counts as alive until this is dropped,
/// which happens when the thread leaves, returns or panics.
pub struct Member {
    crew: Arc<Crew>,
    counted: bool,
    running: bool,
}

impl Member {
    /// Called first thing on the new thread.
    pub fn running(mut self) -> Self {
        self.running = true;
        self
    }

    /// The crew this thread serves.
    pub fn crew(&self) -> &Arc<Crew> {
        &self.crew
    }

    /// Whether this thread, between jobs, is a spare no longer needed; if
    /// so it stops counting as alive at once.
    pub fn should_leave(&mut self) -> bool {
        let mut counts = self.crew.counts();
        if counts.alive > self.crew.settings.workers + counts.slow {
            counts.alive -= 1;
            self.counted = false;
            return true;
        }
        false
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        let short = {
            let mut counts = self.crew.counts();
            counts.alive -= 1;
            counts.alive < self.crew.settings.workers
        };
        // A thread that died (a bug) is replaced, so the pool never shrinks;
        // one that could not start is the hirer's to report.
        if short && self.running && !self.crew.queue.is_closed() {
            tracing::error!("an engine thread stopped unexpectedly; starting another");
            self.crew.hire();
        }
    }
}

impl Crew {
    /// Starts `settings.workers` engine threads.
    pub fn start(
        queue: Queue,
        sources: Arc<Vec<ActionSource>>,
        settings: EngineSettings,
        spawn: Spawn,
    ) -> std::io::Result<Arc<Self>> {
        let crew = Arc::new(Self {
            queue,
            sources,
            settings,
            spawn,
            counts: Mutex::default(),
        });
        for _ in 0..crew.settings.workers {
            crew.try_hire()?;
        }
        Ok(crew)
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        // The counts stay consistent even if a holder panicked.
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn try_hire(self: &Arc<Self>) -> std::io::Result<()> {
        let n = {
            let mut counts = self.counts();
            counts.alive += 1;
            counts.hired += 1;
            counts.hired
        };
        let member = Member {
            crew: self.clone(),
            counted: true,
            running: false,
        };
        // On failure the member comes back inside the error's closure and
        // is dropped, which un-counts it.
        (self.spawn)(n, member)
    }

    fn hire(self: &Arc<Self>) {
        if let Err(e) = self.try_hire() {
            tracing::warn!(error = %e, "could not start an engine thread");
        }
    }

    /// An execution on one of the threads went slow: hire a spare, up to
    /// [`MAX_THREADS_PER_WORKER`] × `workers` threads in all.
    fn hire_for_slow(self: &Arc<Self>) {
        let workers = self.settings.workers;
        let hire = {
            let mut counts = self.counts();
            counts.slow += 1;
            counts.alive < workers + counts.slow && counts.alive < MAX_THREADS_PER_WORKER * workers
        };
        if hire && !self.queue.is_closed() {
            self.hire();
        }
    }

    /// The slow execution ended.
    fn slow_ended(&self) {
        let mut counts = self.counts();
        counts.slow = counts.slow.saturating_sub(1);
    }
}

/// What a thread's pacer tells its crew. Implemented on the crew's handle,
/// so the pacer does not depend on the crew.
pub struct CrewHandle(pub Arc<Crew>);

impl super::pacer::SlowListener for CrewHandle {
    fn went_slow(&self) {
        self.0.hire_for_slow();
    }
    fn back_to_normal(&self) {
        self.0.slow_ended();
    }
}
