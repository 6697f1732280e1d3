//! How a [`Sequence`] travels to an engine thread and back: the queue's
//! job type, the carrier that always hands the sequence back (even when
//! the thread panics), and the one-execution sequence.

use tokio::sync::oneshot;

use super::{ActionReport, Execution, Failure, Sequence};

/// What the engine threads take from the queue: a sequence and the way
/// back to whoever waits for it.
pub(crate) trait Job: Send {
    fn next(&mut self) -> Option<Execution>;
    fn done(&mut self, result: Result<ActionReport, Failure>);
    /// Nobody waits for the result any more (the login was abandoned).
    fn abandoned(&self) -> bool;
    /// Hands the sequence back.
    fn finish(self: Box<Self>);
}

/// Carries a sequence to an engine thread and back. Dropped unfinished
/// (the thread panicked), it still sends the sequence back, so the caller
/// learns which execution never reported instead of losing the login.
pub(super) struct Carrier<S: Sequence> {
    pub(super) sequence: Option<S>,
    pub(super) back: Option<oneshot::Sender<S>>,
}

impl<S: Sequence> Job for Carrier<S> {
    fn next(&mut self) -> Option<Execution> {
        self.sequence.as_mut()?.next()
    }
    fn done(&mut self, result: Result<ActionReport, Failure>) {
        if let Some(sequence) = self.sequence.as_mut() {
            sequence.done(result);
        }
    }
    fn abandoned(&self) -> bool {
        self.back.as_ref().is_none_or(oneshot::Sender::is_closed)
    }
    fn finish(mut self: Box<Self>) {
        self.send_back();
    }
}

impl<S: Sequence> Carrier<S> {
    fn send_back(&mut self) {
        if let (Some(sequence), Some(back)) = (self.sequence.take(), self.back.take()) {
            let _ = back.send(sequence);
        }
    }
}

impl<S: Sequence> Drop for Carrier<S> {
    fn drop(&mut self) {
        self.send_back();
    }
}

/// A sequence of one execution.
pub(super) struct Single {
    pub(super) execution: Option<Execution>,
    pub(super) result: Option<Result<ActionReport, Failure>>,
}

impl Sequence for Single {
    fn next(&mut self) -> Option<Execution> {
        self.execution.take()
    }
    fn done(&mut self, result: Result<ActionReport, Failure>) {
        self.result = Some(result);
    }
}

/// A sequence that goes on on an engine thread, from the execution the
/// HTTP worker could not run (inline.rs), if any.
pub(super) struct Resumed<S> {
    pub(super) first: Option<Execution>,
    pub(super) rest: S,
}

impl<S: Sequence> Sequence for Resumed<S> {
    fn next(&mut self) -> Option<Execution> {
        self.first.take().or_else(|| self.rest.next())
    }
    fn done(&mut self, result: Result<ActionReport, Failure>) {
        self.rest.done(result);
    }
}
