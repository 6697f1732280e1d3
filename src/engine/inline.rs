//! Executions run on the HTTP worker that handles the login, without the
//! hop to an engine thread and back (two thread wake-ups per login, most
//! of the CPU a login costs beyond its Actions: docs/performance.md).
//!
//! Each HTTP worker thread keeps its own [`Engine`], whose executions may
//! neither wait nor run long, since nothing else runs on the worker
//! meanwhile. An execution that asks for a timer or a request, or is still
//! running after [`BUDGET`], is stopped and runs again, from its start, on
//! an engine thread, with the rest of its trigger run. Nothing it did
//! before that reached outside its runtime: its waits were refused when
//! asked for, and its commands and console output are dropped. Almost
//! every real Action finishes in well under the budget; one that runs past
//! it pays the budget once, and then goes straight to the engine threads
//! for the next [`COOLDOWN`] executions on that worker.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::compile::ActionSource;
use super::vm::{Engine, HandOver};
use super::{Execution, Sequence};
use crate::config::EngineSettings;

/// Wall time an execution may run on the HTTP worker.
pub const BUDGET: Duration = Duration::from_millis(1);

/// Wall time loading an Action may take on the HTTP worker (once per
/// worker, and again after a runtime is thrown away); one that takes
/// longer runs on the engine threads only.
pub const LOAD_BUDGET: Duration = Duration::from_millis(50);

/// Executions of an Action that go straight to the engine threads after
/// one of its executions ran past the budget on this worker (which cost
/// the budget, and the Action's runtime, thrown away and loaded again),
/// or threw its runtime away when loading it takes longer than the budget.
/// One that waits costs only what it ran before it asked and, since its
/// runtime is thrown away, a load (within the budget), and the next
/// execution may not wait (many Actions call an API only for some users),
/// so it hands over alone.
pub const COOLDOWN: u32 = 256;

/// What the HTTP workers' engines are built from: one per engine pool.
pub struct Inline {
    /// Tells a worker's engine of this pool from one of another pool
    /// (tests start many in one process).
    id: u64,
    sources: Arc<Vec<ActionSource>>,
    settings: EngineSettings,
}

/// How far a sequence got on the HTTP worker.
pub enum Ran {
    /// To its end.
    All,
    /// Up to an execution the engine threads must run (if one was
    /// started), then the rest.
    Until(Option<Execution>),
}

/// A worker's engine, with its Actions' cooldowns.
struct Local {
    id: u64,
    engine: Engine,
    /// Per Action, by index.
    actions: Vec<OnWorker>,
}

/// What a worker knows of one Action's executions there.
#[derive(Clone, Copy, Default)]
struct OnWorker {
    /// Executions still to send to the engine threads.
    skip: u32,
    /// How long its last load on this worker took.
    load: Duration,
    /// Whether its last execution here ended past its cutoff.
    late: bool,
}

thread_local! {
    /// This worker's engine; empty while a login uses it.
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
    /// A login on this worker holds the engine: another one meanwhile goes
    /// to the engine threads rather than build a second engine.
    static LEASED: Cell<bool> = const { Cell::new(false) };
}

/// The worker's engine, taken for one sequence. Given back only when the
/// sequence's executions ran to an end: a login abandoned mid-way (its
/// request went away) drops it, and the next login builds another.
struct Lease {
    local: Option<Local>,
    clean: bool,
}

impl Drop for Lease {
    fn drop(&mut self) {
        LEASED.set(false);
        if let (true, Some(local)) = (self.clean, self.local.take()) {
            LOCAL.with(|cell| {
                if let Ok(mut cell) = cell.try_borrow_mut() {
                    *cell = Some(local);
                }
            });
        }
    }
}

/// Frees this worker's engine, if it keeps one: a pool without inline
/// executions (a reload turned them off) will not lease it again, and its
/// runtimes would stay until the process ends.
pub fn release() {
    let kept = LOCAL.with(|cell| cell.try_borrow_mut().ok().and_then(|mut c| c.take()));
    // Dropped here, outside any borrow.
    drop(kept);
}

impl Inline {
    /// For a pool of `sources`, when its settings allow inline executions
    /// (`per_instance` isolation: a fresh context per execution costs
    /// more than the hop).
    pub fn new(sources: Arc<Vec<ActionSource>>, settings: &EngineSettings) -> Option<Self> {
        static IDS: AtomicU64 = AtomicU64::new(0);
        (settings.inline && settings.isolation == crate::config::Isolation::PerInstance).then(
            || Self {
                id: IDS.fetch_add(1, Ordering::Relaxed),
                sources,
                settings: settings.clone(),
            },
        )
    }

    /// This worker's engine, if no other login on it holds it.
    fn lease(&self) -> Option<Lease> {
        if LEASED.get() {
            return None;
        }
        let taken = LOCAL.with(|cell| cell.try_borrow_mut().map(|mut c| c.take()));
        let Ok(taken) = taken else {
            return None;
        };
        let local = match taken {
            Some(local) if local.id == self.id => local,
            // Free, or another pool's (dropped here, outside any borrow).
            _ => Local {
                id: self.id,
                engine: Engine::inline(&self.settings, self.sources.len()),
                actions: vec![OnWorker::default(); self.sources.len()],
            },
        };
        LEASED.set(true);
        Some(Lease {
            local: Some(local),
            clean: false,
        })
    }

    /// Runs `sequence`'s executions on this worker until one must go to
    /// the engine threads.
    pub async fn run<S: Sequence>(&self, sequence: &mut S) -> Ran {
        let Some(mut lease) = self.lease() else {
            return Ran::Until(None);
        };
        let ran = match lease.local.as_mut() {
            Some(local) => self.run_on(local, sequence).await,
            None => Ran::Until(None),
        };
        lease.clean = true;
        ran
    }

    async fn run_on<S: Sequence>(&self, local: &mut Local, sequence: &mut S) -> Ran {
        loop {
            let Some(execution) = sequence.next() else {
                return Ran::All;
            };
            let index = execution.action;
            let (Some(source), Some(OnWorker { skip, load, late })) =
                (self.sources.get(index), local.actions.get_mut(index))
            else {
                return Ran::Until(Some(execution));
            };
            if *skip > 0 {
                *skip -= 1;
                return Ran::Until(Some(execution));
            }
            if !local.engine.is_loaded(index) {
                let started = Instant::now();
                if !local
                    .engine
                    .load_inline(index, source, started + LOAD_BUDGET)
                    .await
                {
                    // Its module waits or loads slowly: not on this worker.
                    *skip = u32::MAX;
                    return Ran::Until(Some(execution));
                }
                *load = started.elapsed();
            }
            let cutoff = Instant::now() + BUDGET;
            let ran = local
                .engine
                .run_inline(source, execution.clone(), cutoff)
                .await;
            // Past the cutoff is read from the clock too: one long call (a
            // huge JSON.parse) can end past it with no interrupt after it.
            // Only twice in a row, though: on a busy host the thread may
            // have been descheduled meanwhile, which says nothing about the
            // Action (the interrupt judges by CPU time: pacer.rs).
            // A runtime thrown away here (the execution waited, ran out of
            // memory, left endless work) is loaded again by the Action's
            // next execution on this worker: not on every login when that
            // takes longer than an execution may.
            let late_twice = std::mem::replace(late, Instant::now() >= cutoff) && *late;
            let reload_is_long = !local.engine.is_loaded(index) && *load > BUDGET;
            if matches!(ran, Err(HandOver::Overran)) || late_twice || reload_is_long {
                *skip = COOLDOWN;
                *late = false;
                // The only trace of it: an Action that cools down often
                // on every worker never saves the hop.
                tracing::debug!(action = %source.name, "the engine threads take the Action's next executions on this HTTP worker");
            }
            match ran {
                Ok(result) => sequence.done(result),
                Err(why) => {
                    sequence.handed_over(why);
                    return Ran::Until(Some(execution));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::engine::{EnginePool, Handler};

    /// A pool of one Action that does nothing, with `engine` lines added.
    fn pool(dir: &std::path::Path, engine: &str) -> EnginePool {
        pool_of(dir, engine, "exports.onExecutePostLogin = async () => {};")
    }

    /// A pool of one Action of `code`, with `engine` lines added.
    fn pool_of(dir: &std::path::Path, engine: &str, code: &str) -> EnginePool {
        std::fs::write(dir.join("a.js"), code).unwrap();
        let toml = format!(
            "[server]\npublic_url = \"http://localhost\"\n[engine]\nworkers = 1\n{engine}\n[[actions]]\nname = \"a\"\nfile = \"a.js\"\n"
        );
        let settings = Settings::from_toml_str(&toml, dir, &|_| None).unwrap();
        EnginePool::start(&settings.engine, &settings.actions).unwrap()
    }

    fn execution() -> Execution {
        Execution {
            action: 0,
            handler: Handler::Execute,
            input: r#"{"cache":{},"can_redirect":false,"primary_user_set":false,"continue":null}"#
                .into(),
            event: Arc::from(Vec::<String>::new()),
            deadline: tokio::time::Instant::now() + Duration::from_secs(10),
        }
    }

    fn worker_keeps_an_engine() -> bool {
        LOCAL.with(|cell| cell.borrow().is_some())
    }

    #[tokio::test]
    async fn a_pool_without_inline_executions_frees_the_engine_a_worker_kept_for_the_pool_before() {
        let dir = tempfile::tempdir().unwrap();
        let before = pool(dir.path(), "");
        assert!(before.execute(execution()).await.is_ok());
        assert!(worker_keeps_an_engine(), "ran on this thread");

        // A reload that turns them off (or to per_execution isolation).
        for engine in ["inline = false", "isolation = \"per_execution\""] {
            assert!(pool(dir.path(), "").execute(execution()).await.is_ok());
            assert!(worker_keeps_an_engine(), "{engine}");
            let after = pool(dir.path(), engine);
            assert!(after.execute(execution()).await.is_ok());
            assert!(!worker_keeps_an_engine(), "{engine}");
        }
    }

    #[test]
    fn a_second_login_on_a_worker_whose_engine_is_held_goes_to_the_engine_threads() {
        let dir = tempfile::tempdir().unwrap();
        let pool = pool(dir.path(), "");
        let inline = pool.inline.clone().expect("inline executions are on");

        let held = inline.lease();
        assert!(held.is_some());
        assert!(
            inline.lease().is_none(),
            "no second engine while one is held"
        );
        drop(held);
        assert!(inline.lease().is_some(), "free again");
    }

    #[tokio::test]
    async fn an_execution_refused_a_request_it_never_awaited_loses_its_runtime() {
        // The handler ends at once; a reaction it left starts a request,
        // which the worker refuses. Kept, the runtime would hold that
        // refusal (a promise in module scope) for a later execution.
        let dir = tempfile::tempdir().unwrap();
        let pool = pool_of(
            dir.path(),
            "",
            "let kept = null;\n\
             exports.onExecutePostLogin = async () => {\n\
               kept = Promise.resolve().then(() => fetch('http://127.0.0.1:9/'));\n\
             };",
        );
        let inline = pool.inline.clone().expect("inline executions are on");
        let source = &inline.sources[0];
        // Far cutoffs: a debug build's first execution takes over 1 ms.
        let far = Instant::now() + Duration::from_secs(30);
        let mut engine = Engine::inline(&inline.settings, 1);
        assert!(engine.load_inline(0, source, far).await);

        let ran = engine.run_inline(source, execution(), far).await;

        assert!(
            matches!(ran, Err(HandOver::Waits)),
            "the request was refused"
        );
        assert!(!engine.is_loaded(0), "its runtime is thrown away");
    }
}
