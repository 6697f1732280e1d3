//! One engine thread: a QuickJS runtime with one context per Action, and a
//! current-thread tokio runtime that drives the Actions' promises.
//!
//! Executions on one thread run one at a time, each under the trigger run's
//! deadline: the interrupt handler stops CPU loops, a tokio timeout stops
//! promises that never settle. An engine that broke a limit is thrown away
//! and rebuilt before it runs again, so no half-finished state leaks into
//! the next login.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant as StdInstant;

use rquickjs::{AsyncContext, AsyncRuntime, CatchResultExt, Function, Promise};

use super::compile::{self, ActionSource};
use super::crew::{Crew, Member};
use super::fetch::{FetchLimits, Fetcher};
use super::host::Links;
use super::pacer::Pacer;
use super::{ActionReport, EngineError, Execution, Failure};
use crate::config::Isolation;

/// QuickJS's own stack limit; the thread gets a larger native stack so the
/// limit, not the OS, is what recursion hits.
const JS_STACK_BYTES: usize = 1 << 20;
const THREAD_STACK_BYTES: usize = 8 << 20;

/// Wall time after which an execution that is still running counts as
/// slow (see crew.rs); real Actions that call no API finish in well under a
/// millisecond.
const SLOW_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// Jobs a finished execution may leave behind before its engine counts as
/// stuck (a promise chain that re-queues itself forever).
const MAX_LEFTOVER_JOBS: usize = 10_000;

/// Starts engine thread `n` for `member`'s crew.
pub fn spawn(n: usize, member: Member) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(format!("detour-engine-{n}"))
        .stack_size(THREAD_STACK_BYTES)
        .spawn(move || {
            let member = member.running();
            // Built here, not by the caller: a runtime must not be dropped
            // inside another one's async context (the caller may be an
            // engine thread hiring a spare).
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(serve(member)),
                Err(e) => tracing::error!(error = %e, "engine thread could not start its runtime"),
            }
        })?;
    Ok(())
}

async fn serve(mut member: Member) {
    let crew = member.crew().clone();
    let (queue, sources, settings) = (&crew.queue, &crew.sources, &crew.settings);
    // One HTTP client per Action per thread: connection pools stay on the
    // runtime that drives them.
    let limits = FetchLimits {
        timeout: settings.fetch_timeout,
        max_response_bytes: settings.fetch_max_response_bytes,
        allow_private_networks: settings.allow_private_networks,
        resolve_overrides: settings.resolve_overrides.clone(),
        proxy: settings.fetch_proxy.clone(),
    };
    let fetchers: Rc<Vec<Option<Fetcher>>> = Rc::new(
        sources
            .iter()
            .map(|s| {
                Fetcher::new(&s.allow_hosts, limits.clone())
                    .map_err(
                        |e| tracing::error!(action = %s.name, error = %e, "fetch is unavailable"),
                    )
                    .ok()
            })
            .collect(),
    );
    let mut engine: Option<Engine> = None;
    loop {
        // Build (or rebuild, after a breach) and load every Action while
        // idle, so no login pays for it.
        if engine.is_none() {
            engine = Engine::new(&crew, fetchers.clone()).await.ok();
            if let Some(e) = engine.as_mut() {
                e.warm(sources).await;
            }
        }
        let Ok(mut job) = queue.recv().await else {
            return;
        };
        if job.abandoned() {
            continue; // the login was abandoned while it waited
        }
        // A login abandoned mid-run (its request went away) runs no
        // further Actions.
        while !job.abandoned()
            && let Some(execution) = job.next()
        {
            let result = execute(&mut engine, &crew, &fetchers, execution).await;
            job.done(result);
        }
        job.finish();
        if member.should_leave() {
            return;
        }
    }
}

/// Runs one execution on this thread's engine, building the engine first
/// when there is none (at start, or after one broke a limit).
async fn execute(
    engine: &mut Option<Engine>,
    crew: &Arc<Crew>,
    fetchers: &Rc<Vec<Option<Fetcher>>>,
    execution: Execution,
) -> Result<ActionReport, Failure> {
    let Some(source) = crew.sources.get(execution.action) else {
        return Err(EngineError::Internal("unknown action".into()).into());
    };
    let mut current = match engine.take() {
        Some(e) => e,
        None => Engine::new(crew, fetchers.clone()).await?,
    };
    let (result, healthy) = current.run(source, execution).await;
    if healthy {
        *engine = Some(current);
    } else {
        tracing::warn!(action = %source.name, "engine broke a limit; it is rebuilt before its next execution");
    }
    result
}

struct Engine {
    // Field order is drop order: every context must be freed before the
    // runtime, or QuickJS aborts the process (STACK.md pitfalls).
    contexts: Vec<Option<AsyncContext>>,
    runtime: AsyncRuntime,
    pacer: Rc<Pacer>,
    links: Links,
    fetchers: Rc<Vec<Option<Fetcher>>>,
    isolation: Isolation,
    /// A trigger run's budget (`engine.timeout`).
    timeout: std::time::Duration,
}

impl Engine {
    async fn new(
        crew: &Arc<Crew>,
        fetchers: Rc<Vec<Option<Fetcher>>>,
    ) -> Result<Self, EngineError> {
        let settings = &crew.settings;
        let actions = fetchers.len();
        let runtime = AsyncRuntime::new().map_err(|e| EngineError::Internal(e.to_string()))?;
        runtime.set_memory_limit(settings.memory_limit_bytes).await;
        runtime.set_max_stack_size(JS_STACK_BYTES).await;
        let pacer = Rc::new(Pacer::new(Some(crew.clone())));
        let handler = pacer.clone();
        runtime
            .set_interrupt_handler(Some(Box::new(move || handler.interrupt())))
            .await;
        Ok(Self {
            contexts: (0..actions).map(|_| None).collect(),
            runtime,
            pacer,
            links: Links::engine(),
            fetchers,
            isolation: settings.isolation,
            timeout: settings.timeout,
        })
    }

    /// Loads every Action into its context ahead of use (`per_instance`).
    async fn warm(&mut self, sources: &[ActionSource]) {
        if self.isolation != Isolation::PerInstance {
            return;
        }
        for (index, source) in sources.iter().enumerate() {
            // Module code runs under the same limits as a login.
            self.pacer.arm_quiet(StdInstant::now() + self.timeout);
            if let Err(e) = self.context(index, source).await {
                tracing::warn!(action = %source.name, error = %e, "could not load the Action ahead of use");
            }
            let _ = self.pacer.disarm();
        }
    }

    async fn context(
        &mut self,
        index: usize,
        source: &ActionSource,
    ) -> Result<AsyncContext, EngineError> {
        if self.isolation == Isolation::PerInstance
            && let Some(Some(ctx)) = self.contexts.get(index)
        {
            return Ok(ctx.clone());
        }
        let ctx = AsyncContext::full(&self.runtime)
            .await
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let links = self.links.clone();
        let fetcher = self.fetchers.get(index).cloned().flatten();
        ctx.with(|ctx| compile::load(&ctx, source, links, fetcher))
            .await
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        if self.isolation == Isolation::PerInstance
            && let Some(slot) = self.contexts.get_mut(index)
        {
            *slot = Some(ctx.clone());
        }
        Ok(ctx)
    }

    /// Runs one execution. The flag says whether the engine may be reused.
    async fn run(
        &mut self,
        source: &ActionSource,
        execution: Execution,
    ) -> (Result<ActionReport, Failure>, bool) {
        let started = StdInstant::now();
        self.links.logs.borrow_mut().clear();
        let deadline = execution.deadline;
        self.pacer.arm(deadline.into_std());
        let result = match self.context(execution.action, source).await {
            Ok(ctx) => {
                self.pacer.restart();
                let handler = execution.handler.export_name();
                let input = execution.input;
                let secrets = source.secrets_json.clone();
                let call = ctx.async_with(async move |ctx| -> Result<String, String> {
                    let run: Function = ctx
                        .globals()
                        .get("__detour_run")
                        .map_err(|e| e.to_string())?;
                    let promise: Promise = run
                        .call((handler, input, secrets))
                        .catch(&ctx)
                        .map_err(|e| e.to_string())?;
                    promise
                        .into_future::<String>()
                        .await
                        .catch(&ctx)
                        .map_err(|e| e.to_string())
                });
                let run = tokio::time::timeout_at(deadline, call);
                tokio::pin!(run);
                // An execution still waiting (on fetch, a timer) after a
                // while counts as slow too: a spare engine takes the queue.
                tokio::select! {
                    result = &mut run => result,
                    () = tokio::time::sleep(SLOW_WAIT) => {
                        self.pacer.mark_slow();
                        run.await
                    }
                }
            }
            Err(e) => Ok(Err(e.to_string())),
        };
        let timed_out = tokio::time::Instant::now() >= deadline;
        let outcome = match result {
            Err(_elapsed) => (Err(EngineError::Timeout), false),
            Ok(Err(message)) => {
                let error = if timed_out || message.contains("interrupted") {
                    EngineError::Timeout
                } else if message.contains("out of memory") {
                    EngineError::OutOfMemory
                } else {
                    EngineError::Internal(message)
                };
                (Err(error), false)
            }
            Ok(Ok(json)) => match serde_json::from_str::<ActionReport>(&json) {
                Ok(mut report) => {
                    report.duration = started.elapsed();
                    let oom = report
                        .error
                        .as_ref()
                        .is_some_and(|e| e.message.contains("out of memory"));
                    if oom {
                        (Err(EngineError::OutOfMemory), false)
                    } else {
                        (Ok(report), true)
                    }
                }
                Err(e) => (
                    Err(EngineError::Internal(format!("bad report: {e}"))),
                    false,
                ),
            },
        };
        let (result, mut healthy) = outcome;
        // An engine that broke a limit is thrown away with whatever it held;
        // a healthy one must first get rid of what this execution left
        // pending, still under the run's deadline.
        if healthy && !self.settle_leftovers().await {
            tracing::warn!(action = %source.name, "an execution left endless work behind; its engine is rebuilt");
            healthy = false;
        }
        let slow = self.pacer.disarm();
        if slow {
            // Operators see which Actions are paced or wait long enough to
            // need a spare engine.
            tracing::info!(
                action = %source.name,
                duration_ms = started.elapsed().as_millis() as u64,
                "slow execution: a spare engine served the queue meanwhile"
            );
        }
        if self.isolation == Isolation::PerExecution {
            // Nothing of this execution may be seen by the next one.
            self.runtime.run_gc().await;
        }
        let logs = std::mem::take(&mut *self.links.logs.borrow_mut());
        let result = match result {
            Ok(mut report) => {
                report.logs = logs;
                report.slow = slow;
                Ok(report)
            }
            Err(error) => Err(Failure { error, logs }),
        };
        (result, healthy)
    }

    /// Settles the timers and requests the finished execution left pending
    /// and runs the jobs that follow, while the prelude sees no execution
    /// (so their api calls throw and their results are dropped). False when
    /// they do not die down (a job queue that keeps refilling itself), or
    /// when a job fails in a way JS cannot catch (the deadline's interrupt,
    /// out of memory): the engine is then not fit to run again.
    async fn settle_leftovers(&self) -> bool {
        self.links.ended.send_modify(|n| *n = n.wrapping_add(1));
        for _ in 0..MAX_LEFTOVER_JOBS {
            match self.runtime.execute_pending_job().await {
                Ok(true) => {}
                Ok(false) => return true,
                Err(_) => return false,
            }
        }
        false
    }
}
