//! The engine threads. `engine.workers` of them serve the queue at all
//! times; an execution that keeps the CPU busy past the pace's slow mark
//! ([`super::pacer::SLOW`]) runs at a tenth of a core until its deadline,
//! and while it does, a spare thread is hired in its place, so a looping
//! Action costs the other logins the CPU it is still allowed, not an engine.
//! A spare leaves after its job once it is no longer needed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Job;
use super::compile::ActionSource;
use super::worker;
use crate::config::EngineSettings;

/// The queue the engine threads serve.
pub type Queue = async_channel::Receiver<Box<dyn Job>>;

/// Who serves the queue.
pub struct Crew {
    pub(super) queue: Queue,
    pub(super) sources: Arc<Vec<ActionSource>>,
    pub(super) settings: EngineSettings,
    alive: AtomicUsize,
    slow: AtomicUsize,
    hired: AtomicUsize,
}

impl Crew {
    /// Starts `settings.workers` engine threads.
    pub fn start(
        queue: Queue,
        sources: Arc<Vec<ActionSource>>,
        settings: EngineSettings,
    ) -> std::io::Result<Arc<Self>> {
        let crew = Arc::new(Self {
            queue,
            sources,
            settings,
            alive: AtomicUsize::new(0),
            slow: AtomicUsize::new(0),
            hired: AtomicUsize::new(0),
        });
        for _ in 0..crew.settings.workers {
            crew.hire()?;
        }
        Ok(crew)
    }

    fn hire(self: &Arc<Self>) -> std::io::Result<()> {
        self.alive.fetch_add(1, Ordering::SeqCst);
        let n = self.hired.fetch_add(1, Ordering::Relaxed);
        worker::spawn(n, self.clone()).inspect_err(|_| {
            self.alive.fetch_sub(1, Ordering::SeqCst);
        })
    }

    /// An execution on one of the threads went slow: hire a spare, up to
    /// twice `workers` threads in all.
    pub fn went_slow(self: &Arc<Self>) {
        let slow = self.slow.fetch_add(1, Ordering::SeqCst) + 1;
        let workers = self.settings.workers;
        let alive = self.alive.load(Ordering::SeqCst);
        if alive < workers + slow
            && alive < 2 * workers
            && let Err(e) = self.hire()
        {
            tracing::warn!(error = %e, "could not start a spare engine thread");
        }
    }

    /// The slow execution ended.
    pub fn back_to_normal(&self) {
        let _ = self
            .slow
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }

    /// Whether the calling thread, between jobs, is a spare no longer
    /// needed; if so it counts as gone.
    pub fn should_leave(&self) -> bool {
        let needed = self.settings.workers + self.slow.load(Ordering::SeqCst);
        self.alive
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |alive| {
                (alive > needed).then(|| alive - 1)
            })
            .is_ok()
    }
}
