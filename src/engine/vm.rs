//! The per-thread engine: one QuickJS runtime per Action, with its memory
//! budget, its interrupt handler (the [`Pacer`]) and, in `per_instance`
//! mode, its loaded context; and the run of one execution on it.
//!
//! Executions on one thread run one at a time, each under the trigger run's
//! deadline: the interrupt handler stops CPU loops, a tokio timeout stops
//! promises that never settle. An engine that broke a limit is thrown away
//! and rebuilt before it runs again, so no half-finished state leaks into
//! the next login.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant as StdInstant;

use rquickjs::function::Args;
use rquickjs::promise::PromiseState;
use rquickjs::{
    AsyncContext, AsyncRuntime, CatchResultExt, Ctx, Function, Persistent, Promise, Value, qjs,
};

use super::compile::{self, ActionSource};
use super::fetch::Fetcher;
use super::host::{InlineGate, Links};
use super::memory::{Budget, Limited};
use super::pacer::{Pacer, SlowListener};
use super::{ActionReport, EngineError, Execution, Failure};
use crate::config::{EngineSettings, Isolation};

/// QuickJS's own stack limit; engine threads get a larger native stack so
/// the limit, not the OS, is what recursion hits.
const JS_STACK_BYTES: usize = 1 << 20;

/// Wall time after which an execution that is still running counts as
/// slow (see threads.rs); real Actions that call no API finish in well under a
/// millisecond.
const SLOW_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// The event's fields (`[key, value, …]`, JSON texts) as one JSON object.
fn whole_event(fields: &[String]) -> String {
    let mut json = String::with_capacity(fields.iter().map(|f| f.len() + 1).sum::<usize>() + 2);
    json.push('{');
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            json.push(if i % 2 == 1 { ':' } else { ',' });
        }
        json.push_str(field);
    }
    json.push('}');
    json
}

/// Most event keys kept as JS strings per runtime ([`KeyStrings`]): far
/// more than Auth0's event has, so a huge event cannot grow the cache.
const MAX_KEPT_KEYS: usize = 64;

/// The event's keys (JSON texts) handed to a kept context, with their JS
/// strings: an upstream sends the same keys login after login, so an
/// execution hands over the strings it handed over before instead of
/// making new ones (and the prelude compares them by identity). Looked up
/// at the key's position first, then among all (a resumed login has its
/// `request` last). Keys are primitives: an Action cannot tell a kept one.
type KeyStrings = Rc<RefCell<Vec<(String, Persistent<rquickjs::String<'static>>)>>>;

/// `secrets` as a JSON text, the key a kept context's secrets come under.
const SECRETS_KEY: &str = "\"secrets\"";

/// Pushes the event's fields (`[key, value, …]`) as arguments, then
/// `secrets` as the last field (the pipeline drops any `secrets` an
/// upstream sends): a kept context parses it on first read, like the other
/// fields. Each key comes from `kept` when the key at its position is the
/// one kept there.
fn push_fields<'js>(
    ctx: &rquickjs::Ctx<'js>,
    args: &mut Args<'js>,
    fields: &[String],
    secrets: &str,
    kept: &KeyStrings,
) -> rquickjs::Result<()> {
    let mut kept = kept.borrow_mut();
    let all = fields
        .iter()
        .map(String::as_str)
        .chain([SECRETS_KEY, secrets]);
    for (i, field) in all.enumerate() {
        let at = i / 2;
        if i % 2 == 1 {
            args.push_arg(field)?;
            continue;
        }
        let found = match kept.get(at) {
            Some((text, js)) if text == field => Some(js),
            _ => kept
                .iter()
                .find(|(text, _)| text == field)
                .map(|(_, js)| js),
        };
        let key = match found {
            Some(js) => js.clone().restore(ctx)?,
            None => {
                let js = rquickjs::String::from_str(ctx.clone(), field)?;
                if kept.len() < MAX_KEPT_KEYS {
                    kept.push((field.to_owned(), Persistent::save(ctx, js.clone())));
                }
                js
            }
        };
        args.push_arg(key)?;
    }
    Ok(())
}

/// Jobs run right after the call, before waiting on the execution's promise
/// (an async handler that calls no host API settles in a handful).
const EAGER_JOBS: usize = 64;

/// Jobs a finished execution may leave behind before its engine counts as
/// stuck (a promise chain that re-queues itself forever).
const MAX_LEFTOVER_JOBS: usize = 10_000;

/// The prelude's functions an execution calls (prelude.js: `run`, then
/// `settle` or `wait`).
#[derive(Clone)]
struct Entry {
    run: Persistent<Function<'static>>,
    settle: Persistent<Function<'static>>,
    wait: Persistent<Function<'static>>,
}

/// Whether a job (a promise reaction) is queued in `ctx`'s runtime.
#[allow(unsafe_code)]
fn jobs_pending(ctx: &Ctx<'_>) -> bool {
    // SAFETY: `ctx` is a live context; the call only reads its runtime's
    // job list (rquickjs exposes it on the runtime, which an execution
    // running inside the context cannot borrow).
    unsafe { qjs::JS_IsJobPending(qjs::JS_GetRuntime(ctx.as_raw().as_ptr())) }
}

/// One Action's QuickJS runtime on this thread, with its memory budget
/// and, in `per_instance` mode, its loaded context.
struct Slot {
    // Field order is drop order: every JS value and context must be freed
    // before the runtime, or QuickJS aborts the process.
    loaded: Option<(Entry, AsyncContext)>,
    keys: KeyStrings,
    runtime: AsyncRuntime,
    budget: Rc<Budget>,
}

/// The engine of one thread: every Action's runtime on it.
pub struct Engine {
    /// One runtime per Action, built on first use: memory is limited and
    /// blamed per Action, and one Action's module-scope timers never run
    /// during another's execution.
    slots: Vec<Option<Slot>>,
    pacer: Rc<Pacer>,
    links: Links,
    fetchers: Rc<Vec<Option<Fetcher>>>,
    isolation: Isolation,
    /// A trigger run's budget (`engine.timeout`).
    timeout: std::time::Duration,
    memory_limit: usize,
    /// Set on an engine that runs on an HTTP worker (inline.rs).
    inline: Option<Rc<InlineGate>>,
}

/// Why an inline execution must run again on an engine thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandOver {
    /// It asked for a timer or a request.
    Waits,
    /// It was still running at its cutoff (its runtime is thrown away).
    Overran,
}

/// What one execution's report may weigh: far above what Auth0's limits
/// let an Action ask for (100 KB of claims, 24 KiB of Form data, 20 cache
/// writes of 4 KiB), far below what would hurt the host.
const MAX_REPORT_BYTES: usize = 2 << 20;

impl Engine {
    /// An engine for `fetchers.len()` Actions whose pacer tells `listener`
    /// about slow executions.
    pub fn new(
        settings: &EngineSettings,
        listener: Arc<dyn SlowListener>,
        fetchers: Rc<Vec<Option<Fetcher>>>,
    ) -> Self {
        Self {
            slots: (0..fetchers.len()).map(|_| None).collect(),
            pacer: Rc::new(Pacer::new(Some(listener))),
            links: Links::engine(),
            fetchers,
            isolation: settings.isolation,
            timeout: settings.timeout,
            memory_limit: settings.memory_limit_bytes,
            inline: None,
        }
    }

    /// An engine for `actions` Actions on an HTTP worker: its executions
    /// never wait and never run long (see [`Self::run_inline`]).
    pub fn inline(settings: &EngineSettings, actions: usize) -> Self {
        let gate = Rc::new(InlineGate::default());
        Self {
            slots: (0..actions).map(|_| None).collect(),
            pacer: Rc::new(Pacer::new(None)),
            links: Links::inline(gate.clone()),
            fetchers: Rc::new(vec![None; actions]),
            isolation: settings.isolation,
            timeout: settings.timeout,
            memory_limit: settings.memory_limit_bytes,
            inline: Some(gate),
        }
    }

    /// Whether Action `index` is loaded (`per_instance`).
    pub fn is_loaded(&self, index: usize) -> bool {
        matches!(self.slots.get(index), Some(Some(slot)) if slot.loaded.is_some())
    }

    /// Throws Action `index`'s runtime away: it is built (and the Action
    /// loaded) again before its next execution.
    fn drop_runtime(&mut self, index: usize) {
        if let Some(slot) = self.slots.get_mut(index) {
            *slot = None;
        }
    }

    /// Loads Action `index` on an inline engine, which must not take past
    /// `cutoff`. False if it could not.
    pub async fn load_inline(
        &mut self,
        index: usize,
        source: &ActionSource,
        cutoff: StdInstant,
    ) -> bool {
        self.pacer
            .arm_inline(StdInstant::now() + self.timeout, cutoff);
        let loaded = self.context(index, source).await.is_ok();
        let refused = self.inline.as_ref().is_some_and(|g| g.take_refused());
        // Read from the clock too: one long call may end past the cutoff
        // with no interrupt after it.
        let overran = self.pacer.take_overran() || StdInstant::now() >= cutoff;
        let _ = self.pacer.disarm();
        if !loaded || refused || overran {
            self.drop_runtime(index);
            return false;
        }
        true
    }

    /// Loads every Action into its context ahead of use (`per_instance`).
    pub async fn warm(&mut self, sources: &[ActionSource]) {
        if self.isolation != Isolation::PerInstance {
            return;
        }
        for (index, source) in sources.iter().enumerate() {
            if self.is_loaded(index) {
                continue;
            }
            // Module code runs under the same limits as a login.
            self.pacer.arm_quiet(StdInstant::now() + self.timeout);
            if let Err(e) = self.context(index, source).await {
                tracing::warn!(action = %source.name, error = %e, "could not load the Action ahead of use");
                self.drop_runtime(index);
            }
            let _ = self.pacer.disarm();
        }
    }

    /// The runtime of Action `index`, built when missing.
    async fn slot(&mut self, index: usize) -> Result<&mut Slot, EngineError> {
        let entry = self
            .slots
            .get_mut(index)
            .ok_or_else(|| EngineError::Internal("unknown action".into()))?;
        if entry.is_none() {
            let budget = Budget::new(self.memory_limit);
            let runtime = AsyncRuntime::new_with_alloc(Limited::new(budget.clone()))
                .map_err(|e| EngineError::Internal(e.to_string()))?;
            runtime.set_max_stack_size(JS_STACK_BYTES).await;
            let handler = self.pacer.clone();
            runtime
                .set_interrupt_handler(Some(Box::new(move || handler.interrupt())))
                .await;
            *entry = Some(Slot {
                loaded: None,
                keys: KeyStrings::default(),
                runtime,
                budget,
            });
        }
        entry
            .as_mut()
            .ok_or_else(|| EngineError::Internal("no runtime".into()))
    }

    /// The Action's context and the prelude's entry points: the loaded
    /// one in `per_instance` mode, a fresh one otherwise.
    async fn context(
        &mut self,
        index: usize,
        source: &ActionSource,
    ) -> Result<(Entry, AsyncContext), EngineError> {
        let isolation = self.isolation;
        let links = self.links.clone();
        let fetcher = self.fetchers.get(index).cloned().flatten();
        let slot = self.slot(index).await?;
        if isolation == Isolation::PerInstance
            && let Some(loaded) = &slot.loaded
        {
            return Ok(loaded.clone());
        }
        let ctx = AsyncContext::full(&slot.runtime)
            .await
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let entry = ctx
            .with(|ctx| {
                compile::load(
                    &ctx,
                    source,
                    links,
                    fetcher,
                    isolation == Isolation::PerExecution,
                )
                .map(|loaded| Entry {
                    run: Persistent::save(&ctx, loaded.run),
                    settle: Persistent::save(&ctx, loaded.settle),
                    wait: Persistent::save(&ctx, loaded.wait),
                })
            })
            .await
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        if isolation == Isolation::PerInstance {
            slot.loaded = Some((entry.clone(), ctx.clone()));
        }
        Ok((entry, ctx))
    }

    /// Runs one execution. An Action that broke a limit loses its runtime,
    /// which is rebuilt before its next execution; other Actions keep
    /// theirs.
    pub async fn run(
        &mut self,
        source: &ActionSource,
        execution: Execution,
    ) -> Result<ActionReport, Failure> {
        self.execute(source, execution, None)
            .await
            .unwrap_or_else(|_| {
                Err(EngineError::Internal("the execution was handed over".into()).into())
            })
    }

    /// Runs one execution on an inline engine, unless it asks to wait (a
    /// timer, a request) or is still running at `cutoff`: it is then
    /// stopped, and must run again on an engine thread (whatever it did
    /// here is dropped: it reached nothing outside its runtime).
    pub async fn run_inline(
        &mut self,
        source: &ActionSource,
        execution: Execution,
        cutoff: StdInstant,
    ) -> Result<Result<ActionReport, Failure>, HandOver> {
        self.execute(source, execution, Some(cutoff)).await
    }

    async fn execute(
        &mut self,
        source: &ActionSource,
        execution: Execution,
        cutoff: Option<StdInstant>,
    ) -> Result<Result<ActionReport, Failure>, HandOver> {
        let started = StdInstant::now();
        let _ = self.links.logs.borrow_mut().take();
        let deadline = execution.deadline;
        let index = execution.action;
        match cutoff {
            Some(cutoff) => self.pacer.arm_inline(deadline.into_std(), cutoff),
            None => self.pacer.arm(deadline.into_std()),
        }
        let gate = self.inline.clone();
        let result = match self.context(index, source).await {
            Ok((entry, ctx)) => {
                let keys = match self.slots.get(index) {
                    Some(Some(slot)) => {
                        // Only what this execution allocates can be its fault.
                        let _ = slot.budget.take_refused();
                        slot.keys.clone()
                    }
                    _ => KeyStrings::default(),
                };
                self.pacer.restart();
                let handler = execution.handler.export_name();
                let input = execution.input;
                let secrets = source.secrets_json.as_str();
                let event = execution.event;
                // A kept context parses fields as the Action reads them; a
                // fresh one parses the whole event as one JSON text.
                let whole =
                    (self.isolation == Isolation::PerExecution).then(|| whole_event(&event));
                let pacer = self.pacer.clone();
                let waits = gate.clone();
                let call = ctx.async_with(async move |ctx| -> Result<String, String> {
                    let run = entry.run.restore(&ctx).map_err(|e| e.to_string())?;
                    // The fields go as arguments: the prelude gets them as
                    // one rest array, built by QuickJS in one go.
                    let mut args = Args::new(ctx.clone(), 5 + event.len());
                    args.push_arg(handler).map_err(|e| e.to_string())?;
                    args.push_arg(input).map_err(|e| e.to_string())?;
                    match whole {
                        Some(whole) => {
                            args.push_arg(secrets).map_err(|e| e.to_string())?;
                            args.push_arg(whole).map_err(|e| e.to_string())?;
                        }
                        // A kept context gets the secrets as the last field.
                        None => {
                            args.push_arg(rquickjs::Undefined)
                                .map_err(|e| e.to_string())?;
                            push_fields(&ctx, &mut args, &event, secrets, &keys)
                                .map_err(|e| e.to_string())?;
                        }
                    }
                    let returned: Value =
                        run.call_arg(args).catch(&ctx).map_err(|e| e.to_string())?;
                    if let Some(report) = returned.as_string() {
                        // The handler threw at once (or is missing).
                        return report.to_string().map_err(|e| e.to_string());
                    }
                    let promise = returned
                        .into_promise()
                        .ok_or_else(|| "the prelude's run returned neither".to_string())?;
                    // Most handlers are async functions that fulfil before
                    // they return, queueing nothing: their report is read
                    // at once, without the promise jobs an `await` would
                    // run. Otherwise `wait` awaits the promise after the
                    // jobs queued before it, as Auth0's `await` does.
                    if promise.state() == PromiseState::Resolved && !jobs_pending(&ctx) {
                        let settle = entry.settle.restore(&ctx).map_err(|e| e.to_string())?;
                        return settle.call(()).catch(&ctx).map_err(|e| e.to_string());
                    }
                    let wait = entry.wait.restore(&ctx).map_err(|e| e.to_string())?;
                    let promise: Promise = wait
                        .call((promise,))
                        .catch(&ctx)
                        .map_err(|e| e.to_string())?;
                    // Most executions settle once their queued jobs have
                    // run: their result is read directly, without the
                    // future's callback (a function made per execution).
                    // Executions that wait (fetch, timers) or keep queueing
                    // jobs go on through the future, under the deadline.
                    // `execute_pending_job` drops the exception of a job
                    // the deadline stopped: `classify` reads the breach
                    // from the clock, not from that exception.
                    // Inline, every job may run (the cutoff stops a queue
                    // that keeps refilling itself): an execution that is
                    // still pending then waits on the host.
                    let eager = if waits.is_some() {
                        MAX_LEFTOVER_JOBS
                    } else {
                        EAGER_JOBS
                    };
                    for _ in 0..eager {
                        if promise.state() != PromiseState::Pending || !ctx.execute_pending_job() {
                            break;
                        }
                    }
                    if let Some(result) = promise.result::<String>() {
                        return result.catch(&ctx).map_err(|e| e.to_string());
                    }
                    if let Some(gate) = &waits {
                        gate.refuse();
                        return Err("the execution waits".into());
                    }
                    // It waits: a login queued behind it goes elsewhere.
                    pacer.step_aside();
                    promise
                        .into_future::<String>()
                        .await
                        .catch(&ctx)
                        .map_err(|e| e.to_string())
                });
                let run = tokio::time::timeout_at(deadline, call);
                tokio::pin!(run);
                if cutoff.is_some() {
                    // Inline: nothing to wait for.
                    run.await
                } else {
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
            }
            Err(e) => Ok(Err(e.to_string())),
        };
        // Breaches are read from what the host knows (the clock, the
        // allocator), never from the text of an error, which the Action
        // controls.
        let timed_out = tokio::time::Instant::now() >= deadline;
        let out_of_memory = self
            .slots
            .get(index)
            .and_then(Option::as_ref)
            .is_some_and(|slot| slot.budget.take_refused());
        let (result, mut healthy) = classify(result, timed_out, out_of_memory);
        let result = result.map(|mut report| {
            report.duration = started.elapsed();
            if let Some(thrown) = report.error.as_mut() {
                super::compile::name_the_callee(source, thrown);
            }
            report
        });
        // Inline, an execution that asked to wait or ran to its cutoff
        // hands over: what it did here is dropped, and so is its runtime.
        // One stopped at its cutoff was interrupted mid-way; one refused a
        // timer or a request may keep the refusal where a later execution
        // reads it (a promise in module scope), which on an engine thread
        // would have been the answer.
        let overran = self.pacer.take_overran();
        if let Some(gate) = &gate
            && (overran || gate.take_refused())
        {
            return Err(self.hand_over(index, overran));
        }
        // A healthy runtime must first get rid of what this execution left
        // pending, still under the run's deadline.
        let settled = healthy && self.settle_leftovers(index).await;
        // Inline, what it left behind may have asked to wait too.
        if let Some(gate) = &gate
            && gate.take_refused()
        {
            return Err(self.hand_over(index, false));
        }
        if healthy && !settled {
            tracing::warn!(action = %source.name, "an execution left endless work behind; its runtime is rebuilt");
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
        if !healthy {
            tracing::warn!(action = %source.name, "the Action broke a limit; its runtime is rebuilt before its next execution");
            self.drop_runtime(index);
        } else if self.isolation == Isolation::PerExecution
            && let Some(Some(slot)) = self.slots.get(index)
        {
            // Nothing of this execution may be seen by the next one.
            slot.runtime.run_gc().await;
        }
        let logs = self.links.logs.borrow_mut().take();
        Ok(match result {
            Ok(mut report) => {
                report.logs = logs;
                report.slow = slow;
                Ok(report)
            }
            Err(error) => Err(Failure { error, logs }),
        })
    }

    /// Ends an inline execution that must run again on an engine thread:
    /// its console output and its Action's runtime are dropped.
    fn hand_over(&mut self, index: usize, overran: bool) -> HandOver {
        let _ = self.pacer.disarm();
        let _ = self.links.logs.borrow_mut().take();
        self.drop_runtime(index);
        if overran {
            HandOver::Overran
        } else {
            HandOver::Waits
        }
    }

    /// Settles the timers and requests the finished execution left pending
    /// and runs the jobs that follow, while the prelude sees no execution
    /// (so their api calls throw and their results are dropped). False when
    /// they do not die down (a job queue that keeps refilling itself), or
    /// when a job fails in a way JS cannot catch (the deadline's interrupt,
    /// out of memory): the runtime is then not fit to run again.
    async fn settle_leftovers(&self, index: usize) -> bool {
        let Some(Some(slot)) = self.slots.get(index) else {
            return true;
        };
        self.links.ended.send_modify(|n| *n = n.wrapping_add(1));
        for _ in 0..MAX_LEFTOVER_JOBS {
            match slot.runtime.execute_pending_job().await {
                Ok(true) => {}
                Ok(false) => return !slot.budget.take_refused(),
                Err(_) => return false,
            }
        }
        false
    }
}

/// What an execution's end means, from the engine's own knowledge: whether
/// its deadline passed and whether its runtime refused an allocation. The
/// flag says whether the runtime may run again.
fn classify(
    result: Result<Result<String, String>, tokio::time::error::Elapsed>,
    timed_out: bool,
    out_of_memory: bool,
) -> (Result<ActionReport, EngineError>, bool) {
    // A refused allocation is a definite event; the deadline may merely
    // have passed while the failure was being reported.
    let breach = if out_of_memory {
        Some(EngineError::OutOfMemory)
    } else if timed_out {
        Some(EngineError::Timeout)
    } else {
        None
    };
    match result {
        Err(_elapsed) => (Err(breach.unwrap_or(EngineError::Timeout)), false),
        // `run` itself failed: an uncatchable error (the deadline, memory)
        // or an Action that broke the prelude's own error handling.
        Ok(Err(message)) => (Err(breach.unwrap_or(EngineError::Internal(message))), false),
        Ok(Ok(json)) if json.len() > MAX_REPORT_BYTES => (
            Err(EngineError::Invalid(format!(
                "the Action issued more than {} MiB of commands",
                MAX_REPORT_BYTES >> 20
            ))),
            true,
        ),
        Ok(Ok(json)) => {
            match serde_json::from_str::<ActionReport>(&super::surrogates::well_formed(&json)) {
                // An Action that ran out of memory and caught it carries on; one
                // that failed after running out fails for that reason.
                Ok(report) if report.error.is_some() && breach.is_some() => {
                    (Err(breach.unwrap_or(EngineError::OutOfMemory)), false)
                }
                Ok(report) => (Ok(report), true),
                // A report that is not one the prelude writes: the Action
                // tampered with the engine's JS. Its runtime is not trusted
                // again.
                Err(e) => (
                    Err(EngineError::Invalid(format!("malformed report: {e}"))),
                    false,
                ),
            }
        }
    }
}
