//! The JavaScript engine: everything that touches rquickjs lives here, and
//! no JS value ever leaves this module.
//!
//! Layout: a fixed set of engine threads ([`EnginePool`]), each with its own
//! QuickJS runtime (runtimes are single-threaded) and a current-thread tokio
//! runtime to drive promises. HTTP workers hand executions over through a
//! bounded queue and await the reply, so a slow Action never blocks an HTTP
//! worker, and a full queue is a fast `Busy` instead of unbounded latency.
//!
//! Inputs and outputs are plain Rust: an [`Execution`] carries the event as
//! JSON, an [`ActionReport`] carries the recorded [`Command`]s and console
//! output.

mod accessors;
mod command;
mod compile;
mod console;
mod crypto;
pub mod fetch;
mod host;
mod inline;
mod job;
mod lazy_globals;
mod memory;
mod pacer;
mod queue;
mod script;
mod surrogates;
mod threads;
mod tls;
mod urls;
mod vm;
mod worker;
mod zlib;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::config::{ActionSpec, EngineSettings};

pub use command::{AuthenticationKind, Command, CookieMode, ExpiryField, Target};
pub use compile::CompileError;
pub(crate) use job::Job;
use job::{Carrier, Single};
pub use queue::InFlight;
pub use vm::HandOver;

/// Which handler of an Action to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    /// `onExecutePostLogin`.
    Execute,
    /// `onContinuePostLogin`, when resuming after a redirect.
    Continue,
}

impl Handler {
    /// The exported function's name.
    pub fn export_name(self) -> &'static str {
        match self {
            Handler::Execute => "onExecutePostLogin",
            Handler::Continue => "onContinuePostLogin",
        }
    }
}

/// One Action execution to run.
#[derive(Debug, Clone)]
pub struct Execution {
    /// Index of the Action in the configured order.
    pub action: usize,
    /// Which handler.
    pub handler: Handler,
    /// `{cache, can_redirect, primary_user_set, continue}` as JSON (the
    /// engine adds the Action's secrets itself).
    pub input: String,
    /// The event's top-level fields in order, `[key, value, key, value,
    /// …]`, each as JSON text: a context that serves many executions
    /// parses a field only when the Action first reads it
    /// (docs/performance.md).
    pub event: Arc<[String]>,
    /// When the trigger run's budget ends.
    pub deadline: Instant,
}

/// An error the Action threw (or a promise it rejected).
#[derive(Debug, Clone, Deserialize)]
pub struct Thrown {
    /// The error's `name`, e.g. `TypeError`.
    #[serde(default)]
    pub name: String,
    /// The error's `message`.
    pub message: String,
    /// The JS stack, for logs.
    #[serde(default)]
    pub stack: String,
}

/// What one execution produced.
#[derive(Debug, Clone, Deserialize)]
pub struct ActionReport {
    /// Recorded commands (empty when the Action threw: Auth0 discards them).
    pub commands: Vec<Command>,
    /// Console output.
    #[serde(skip, default)]
    pub logs: Vec<String>,
    /// The uncaught error, if any.
    pub error: Option<Thrown>,
    /// Wall time spent in the engine.
    #[serde(skip, default)]
    pub duration: Duration,
    /// Whether it ran slow (paced, or waiting long): a spare engine served
    /// the queue meanwhile.
    #[serde(skip, default)]
    pub slow: bool,
}

/// An execution could not complete.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The trigger run's wall-clock budget ran out.
    #[error("the Action exceeded the execution time limit")]
    Timeout,
    /// The engine's memory limit was reached.
    #[error("the Action exceeded the memory limit")]
    OutOfMemory,
    /// Every engine is busy and the queue is full.
    #[error("all Action engines are busy")]
    Busy,
    /// The Action's report broke the engine's rules (too large, or not
    /// a report the prelude writes).
    #[error("the Action's commands were rejected: {0}")]
    Invalid(String),
    /// The engine failed in a way the Action did not cause.
    #[error("engine failure: {0}")]
    Internal(String),
}

/// An execution that could not complete, with the console output it
/// produced before it was stopped.
#[derive(Debug)]
pub struct Failure {
    /// Why it stopped.
    pub error: EngineError,
    /// Console output until then.
    pub logs: Vec<String>,
}

impl From<EngineError> for Failure {
    fn from(error: EngineError) -> Self {
        Self {
            error,
            logs: Vec::new(),
        }
    }
}

/// Executions that run back to back on one engine thread: the caller
/// decides, after each one, whether and what to run next. A trigger run of
/// several Actions is one sequence, so a login crosses threads twice, not
/// twice per Action.
pub trait Sequence: Send + 'static {
    /// The next execution, or `None` when the sequence is over.
    fn next(&mut self) -> Option<Execution>;
    /// The result of the execution `next` returned last.
    fn done(&mut self, result: Result<ActionReport, Failure>);
    /// The execution `next` returned last started on the HTTP worker and
    /// runs again on an engine thread, for `why` (inline.rs); its result
    /// comes later through `done`.
    fn handed_over(&mut self, why: HandOver) {
        let _ = why;
    }
}

/// The engine threads and the queue that feeds them. Cheap to clone.
#[derive(Clone)]
pub struct EnginePool {
    queue: queue::Sender,
    /// Runs executions on the HTTP worker when it can (inline.rs).
    inline: Option<Arc<inline::Inline>>,
}

impl EnginePool {
    /// Checks that every Action compiles, then starts the engine threads.
    pub fn start(settings: &EngineSettings, actions: &[ActionSpec]) -> Result<Self, CompileError> {
        // Each configuration's files are compiled once, whatever the
        // number of Actions (and engine threads) that use them.
        let mut compiled: Vec<Arc<compile::CompiledCode>> = Vec::new();
        let mut sources = Vec::with_capacity(actions.len());
        for action in actions {
            let code = match compiled.iter().find(|c| c.is_of(&action.code)) {
                Some(code) => code.clone(),
                None => {
                    let code = compile::CompiledCode::new(&action.code)?;
                    compiled.push(code.clone());
                    code
                }
            };
            sources.push(compile::ActionSource::new(action, code));
        }
        for source in &sources {
            compile::check(source, settings)?;
        }
        let sources = Arc::new(sources);
        let inline = inline::Inline::new(sources.clone(), settings).map(Arc::new);
        let (tx, rx) = queue::bounded(settings.queue_capacity);
        threads::ThreadPool::start(rx, sources, settings.clone(), worker::spawn)
            .map_err(|e| CompileError::Startup(e.to_string()))?;
        Ok(Self { queue: tx, inline })
    }

    /// Counts a login as being handled until the guard is dropped: a
    /// CPU-bound execution is paced only while another login is.
    pub fn enter(&self) -> InFlight {
        self.queue.enter()
    }

    /// Runs a sequence and hands it back when it is over: on this HTTP
    /// worker as far as it can (inline.rs), the rest on the next free
    /// engine thread. `Busy` when every engine is busy and the queue is
    /// full.
    pub async fn run<S: Sequence>(&self, mut sequence: S) -> Result<S, EngineError> {
        let first = match &self.inline {
            Some(inline) => match inline.run(&mut sequence).await {
                inline::Ran::All => return Ok(sequence),
                inline::Ran::Until(first) => first,
            },
            None => {
                inline::release();
                None
            }
        };
        let (back, rx) = oneshot::channel();
        self.queue
            .try_send(Box::new(Carrier {
                sequence: Some(job::Resumed {
                    first,
                    rest: sequence,
                }),
                back: Some(back),
            }))
            .map_err(|(e, _job)| match e {
                queue::SendError::Full => EngineError::Busy,
                queue::SendError::Closed => {
                    EngineError::Internal("engine threads have stopped".into())
                }
            })?;
        rx.await
            .map(|resumed| resumed.rest)
            .map_err(|_| EngineError::Internal("engine thread dropped the execution".into()))
    }

    /// Runs one execution on the next free engine.
    pub async fn execute(&self, execution: Execution) -> Result<ActionReport, Failure> {
        let single = Single {
            execution: Some(execution),
            result: None,
        };
        self.run(single).await?.result.unwrap_or_else(|| {
            Err(EngineError::Internal("the execution did not run".into()).into())
        })
    }
}
