//! Runs the Actions of one trigger run in order, from a given Action, and
//! decides where the run stops: the end, a deny, a failure, or a redirect.

use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use std::sync::Arc;

use super::PipelineError;
use super::commands;
use super::event::Event;
use super::mutations::Mutations;
use super::outcome::{DenyCode, ExecutionRecord};
use crate::config::Settings;
use crate::engine::{
    ActionReport, Command, EngineError, EnginePool, Execution, Failure, HandOver, Handler, Sequence,
};
use crate::metrics::Metrics;
use crate::store::Store;
use crate::store::cache::CacheChanges;
use crate::telemetry::chain;

/// The login as it moves through the Actions.
pub struct Login {
    /// Correlation id for logs.
    pub id: String,
    /// The event, with earlier metadata changes applied.
    pub event: Event,
    /// Effects so far.
    pub mutations: Mutations,
    /// Execution records so far.
    pub executions: Vec<ExecutionRecord>,
}

/// Where a run stopped.
pub enum RunEnd {
    /// Every Action ran.
    Finished,
    /// The login must fail.
    Denied(DenyCode, String),
    /// Action `action` threw or could not run: the login fails with
    /// `access_denied` and `description`, which is the failure's own text
    /// (not a reason meant for the user, so kept from the browser).
    Failed {
        /// Name of the failed Action.
        action: String,
        /// The thrown message or the engine's error.
        description: String,
    },
    /// Action `action` asked to send the browser away, or to render a Form.
    Suspended {
        /// Index of the redirecting Action.
        action: usize,
        /// What the login waits for.
        detour: Detour,
    },
}

/// Why a login waits for `/continue`.
#[derive(Debug, Clone)]
pub enum Detour {
    /// `api.redirect.sendUserTo`: the URL, without `state`.
    Redirect(String),
    /// `api.prompt.render`: `{id, fields, vars}`; the upstream renders the
    /// Form and the browser posts its fields to `/continue`.
    Render(Value),
}

/// Where to start a run.
pub struct StartAt<'a> {
    /// First Action to run.
    pub action: usize,
    /// `Continue` to resume that Action after a redirect.
    pub handler: Handler,
    /// The `/continue` state, when resuming.
    pub state: Option<&'a str>,
    /// Whether the login can redirect (`api.redirect.canRedirect()`):
    /// decided by the login's first request, never by the browser's
    /// `/continue` request.
    pub can_redirect: bool,
}

/// What a run needs from the pipeline.
pub struct Parts<'a> {
    /// The engines.
    pub engine: &'a EnginePool,
    /// For `api.cache`.
    pub store: &'a Store,
    /// Execution metrics.
    pub metrics: &'a Arc<Metrics>,
    /// The Actions in order, and the run's budget.
    pub settings: &'a Arc<Settings>,
    /// Per Action, whether it may use `api.cache`.
    pub uses_cache: &'a [bool],
}

/// Runs Actions from `from` until the run ends. The whole run shares one
/// deadline (Auth0's per-trigger budget) and runs on one engine thread.
pub async fn run(
    parts: Parts<'_>,
    login: Login,
    from: StartAt<'_>,
    deadline: Instant,
) -> Result<(Login, RunEnd), PipelineError> {
    let Parts {
        engine,
        store,
        metrics,
        settings,
        uses_cache,
    } = parts;
    if from.action >= settings.actions.len() {
        // Nothing to run: no engine hop, no thread crossing.
        return Ok((login, RunEnd::Finished));
    }
    // Each Action reads and writes only its own cache, so the caches of the
    // whole run are loaded before it (all at once) and written after it.
    // Only Actions that mention the cache pay for loading it.
    let caches = futures_util::future::join_all(settings.actions.iter().enumerate().map(
        |(index, spec)| async move {
            if index >= from.action && uses_cache.get(index).copied().unwrap_or(true) {
                load_cache(store, &spec.name).await
            } else {
                Map::new()
            }
        },
    ))
    .await;
    let run = TriggerRun {
        redirectable: from.can_redirect,
        settings: settings.clone(),
        metrics: metrics.clone(),
        login,
        next: from.action,
        first: (from.action, from.handler),
        state: from.state.map(str::to_owned),
        deadline,
        caches,
        cache_writes: Vec::new(),
        running: None,
        end: None,
        event_json: None,
    };
    let mut run = engine.run(run).await.map_err(|e| match e {
        EngineError::Busy => PipelineError::Busy,
        other => anyhow::Error::new(other)
            .context("the trigger run found no engine")
            .into(),
    })?;
    if run.running.is_some() {
        // The engine thread died under this execution: it fails like any
        // other broken execution, with a record, instead of losing the login.
        let lost = EngineError::Internal("the engine thread stopped".into());
        run.done(Err(lost.into()));
    }
    for (action, changes) in run.cache_writes {
        // Boxed, as the suspension is: few runs write a cache.
        if let Err(e) = Box::pin(store.cache_apply(&action, changes)).await {
            // api.cache is best effort (as on Auth0): a lost write is logged,
            // not a failed login.
            tracing::warn!(action = %action, error = %chain(&e), "api.cache write lost");
        }
    }
    let end = match run.end {
        Some(end) => end?,
        // Allowed only when every Action ran: a run that stopped early for
        // any other reason must not pass for a finished one.
        None if run.next >= settings.actions.len() => RunEnd::Finished,
        None => {
            return Err(anyhow::anyhow!("the trigger run stopped before its last Action").into());
        }
    };
    Ok((run.login, end))
}

/// A failure no input can cause, with what was being done.
fn unexpected(
    cause: impl std::error::Error + Send + Sync + 'static,
    doing: &'static str,
) -> PipelineError {
    anyhow::Error::new(cause).context(doing).into()
}

/// What one execution gets besides the event, serialized straight from the
/// login; the prelude's `run` reads it.
#[derive(Serialize)]
struct Input<'a> {
    cache: &'a Map<String, Value>,
    can_redirect: bool,
    primary_user_set: bool,
    r#continue: Option<ContinueInput<'a>>,
}

#[derive(Serialize)]
struct ContinueInput<'a> {
    state: &'a str,
}

/// One trigger run as the engine thread drives it: after each Action, the
/// commands are applied to the login here and the run decides whether the
/// next Action runs.
struct TriggerRun {
    settings: Arc<Settings>,
    metrics: Arc<Metrics>,
    login: Login,
    /// Index of the next Action to run.
    next: usize,
    /// The first Action and its handler.
    first: (usize, Handler),
    /// The `/continue` state, when resuming.
    state: Option<String>,
    deadline: Instant,
    redirectable: bool,
    /// Each Action's cache as loaded before the run.
    caches: Vec<Map<String, Value>>,
    /// Cache changes to write after the run, per Action name.
    cache_writes: Vec<(String, CacheChanges)>,
    /// The execution under way: its Action, handler and start.
    running: Option<(usize, Handler, std::time::Instant)>,
    /// Where the run stopped, once it has.
    end: Option<Result<RunEnd, PipelineError>>,
    /// The event's fields as JSON ([`Execution::event`]), kept while no
    /// Action changes the event (most do not), so it is serialized once per
    /// run rather than once per Action.
    event_json: Option<Arc<[String]>>,
}

impl Sequence for TriggerRun {
    fn next(&mut self) -> Option<Execution> {
        if self.end.is_some() || self.next >= self.settings.actions.len() {
            return None;
        }
        let index = self.next;
        let handler = if index == self.first.0 {
            self.first.1
        } else {
            Handler::Execute
        };
        let event = match self.event_json.clone() {
            Some(fields) => fields,
            None => match self.login.event.fields_json() {
                Ok(fields) => self.event_json.insert(fields).clone(),
                Err(e) => {
                    // Never a silent end: a run that stops here fails.
                    self.end = Some(Err(unexpected(e, "cannot serialize the event")));
                    return None;
                }
            },
        };
        let input = Input {
            cache: &self.caches[index],
            can_redirect: self.redirectable,
            primary_user_set: self.login.mutations.primary_user_set(),
            r#continue: self
                .state
                .as_deref()
                .filter(|_| handler == Handler::Continue)
                .map(|state| ContinueInput { state }),
        };
        let input = match serde_json::to_string(&input) {
            Ok(input) => input,
            Err(e) => {
                self.end = Some(Err(unexpected(e, "cannot serialize an Action's input")));
                return None;
            }
        };
        self.running = Some((index, handler, std::time::Instant::now()));
        Some(Execution {
            action: index,
            handler,
            input,
            event,
            deadline: self.deadline,
        })
    }

    fn handed_over(&mut self, why: HandOver) {
        if let Some((index, _, _)) = self.running
            && let Some(spec) = self.settings.actions.get(index)
        {
            self.metrics.handover(&spec.name, why);
        }
    }

    fn done(&mut self, result: Result<ActionReport, Failure>) {
        let Some((index, handler, started)) = self.running.take() else {
            return;
        };
        self.next = index + 1;
        if let Some(end) = self.finish_execution(index, handler, started, result) {
            self.end = Some(Ok(end));
        }
    }
}

impl TriggerRun {
    /// Records one execution and applies what it did; `Some` when the run
    /// stops here.
    fn finish_execution(
        &mut self,
        index: usize,
        handler: Handler,
        started: std::time::Instant,
        result: Result<ActionReport, Failure>,
    ) -> Option<RunEnd> {
        let spec = &self.settings.actions[index];
        let login = &mut self.login;
        let metrics = &self.metrics;
        let mut record = ExecutionRecord {
            action: spec.name.clone(),
            handler: handler.export_name().into(),
            duration_ms: 0.0,
            logs: Vec::new(),
            error: None,
        };
        let report = match result {
            Ok(report) => report,
            Err(Failure { error, logs }) => {
                let result = match error {
                    EngineError::Timeout => "timeout",
                    EngineError::OutOfMemory => "out_of_memory",
                    _ => "error",
                };
                metrics.execution(&spec.name, result, started.elapsed().as_secs_f64());
                log_console(&login.id, &spec.name, &logs);
                let description = match &error {
                    EngineError::Timeout => format!(
                        "Action \"{}\" exceeded the execution time limit of {} ms",
                        spec.name,
                        self.settings.engine.timeout.as_millis()
                    ),
                    EngineError::OutOfMemory => {
                        format!("Action \"{}\" exceeded the memory limit", spec.name)
                    }
                    // The engine's own text (QuickJS internals) is for the
                    // log below, not for the user or the upstream.
                    _ => format!("Action \"{}\" failed", spec.name),
                };
                tracing::warn!(login_id = %login.id, action = %spec.name, error = %error, description = %description, "action failed");
                record.duration_ms = ms(started.elapsed());
                record.logs = within_login_budget(&login.executions, logs);
                return Some(failed(login, record, description));
            }
        };
        record.duration_ms = ms(report.duration);
        if report.slow {
            metrics.slow_execution(&spec.name);
        }
        log_console(&login.id, &spec.name, &report.logs);
        record.logs = within_login_budget(&login.executions, report.logs);
        let seconds = report.duration.as_secs_f64();
        if let Some(mut thrown) = report.error {
            cut_at_char_boundary(&mut thrown.message, MAX_THROWN_MESSAGE_BYTES);
            // Auth0 discards a throwing Action's commands and fails the login
            // with the error's message.
            metrics.execution(&spec.name, "error", seconds);
            tracing::info!(login_id = %login.id, action = %spec.name, error = %thrown.message, "action threw");
            return Some(failed(login, record, thrown.message));
        }
        let checked = commands::check(
            &report.commands,
            &commands::Context {
                handler,
                mutations: &login.mutations,
                cache: &self.caches[index],
                event: &login.event,
            },
        );
        if let Err(why) = checked {
            metrics.execution(&spec.name, "error", seconds);
            let description = format!("Action \"{}\" made an invalid api call: {why}", spec.name);
            tracing::info!(login_id = %login.id, action = %spec.name, error = %description, "action refused");
            return Some(failed(login, record, description));
        }
        login.executions.push(record);
        if handler == Handler::Continue {
            // event.prompt describes the Form this Action rendered; later
            // Actions do not see it.
            if login.event.remove("prompt").is_some() {
                self.event_json = None;
            }
        }
        // An execution that asked for nothing changes no total.
        let asked = !report.commands.is_empty();
        // The event is read again only by a later Action or in the record
        // of a login that suspends here: after the run's last Action,
        // mirroring metadata into it (parsing a stored `event.user` to do
        // so) would be work nothing reads.
        let read_later = index + 1 < self.settings.actions.len()
            || report
                .commands
                .iter()
                .any(|c| matches!(c, Command::Redirect { .. } | Command::Render { .. }));
        let event = read_later.then_some(&mut login.event);
        let mut control = login.mutations.apply(report.commands, event);
        if control.event_changed {
            self.event_json = None;
        }
        if let Some(limit) = asked.then(|| login.mutations.over_limit()).flatten() {
            return Some(RunEnd::Denied(
                DenyCode::AccessDenied,
                format!("Action \"{}\" set {limit}", spec.name),
            ));
        }
        let changes = std::mem::take(&mut control.cache);
        if !changes.is_empty() {
            self.cache_writes.push((spec.name.clone(), changes));
        }
        let result = if control.deny.is_some() {
            "deny"
        } else if control.redirect.is_some() || control.render.is_some() {
            "redirect"
        } else {
            "ok"
        };
        metrics.execution(&spec.name, result, seconds);
        if let Some(reason) = control.deny {
            return Some(RunEnd::Denied(DenyCode::AccessDenied, reason));
        }
        let detour = match (control.redirect, control.render) {
            (Some(url), _) => Detour::Redirect(url),
            (None, Some(prompt)) => Detour::Render(prompt),
            (None, None) => return None,
        };
        if !self.redirectable {
            return Some(RunEnd::Denied(
                DenyCode::InteractionRequired,
                format!(
                    "Action \"{}\" asked to redirect the user, but this login cannot redirect (prompt=none or a non-interactive protocol)",
                    spec.name
                ),
            ));
        }
        Some(RunEnd::Suspended {
            action: index,
            detour,
        })
    }
}

/// Console output goes to the server log too, tagged with the login's
/// correlation id (at debug level: it is the Action author's, not ours).
fn log_console(login_id: &str, action: &str, lines: &[String]) {
    for line in lines {
        tracing::debug!(target: "detour::console", login_id, action, "{line}");
    }
}

async fn load_cache(store: &Store, action: &str) -> Map<String, Value> {
    match store.cache_load(action).await {
        Ok(entries) => entries
            .into_iter()
            .map(|(k, e)| (k, json!({"value": e.value, "expires_at": e.expires_at})))
            .collect(),
        Err(e) => {
            tracing::warn!(action, error = %chain(&e), "api.cache unavailable; the Action sees an empty cache");
            Map::new()
        }
    }
}

/// Ends the run at a failed execution: its record carries the failure,
/// and so does the login's end.
fn failed(login: &mut Login, mut record: ExecutionRecord, description: String) -> RunEnd {
    let action = record.action.clone();
    record.error = Some(description.clone());
    login.executions.push(record);
    RunEnd::Failed {
        action,
        description,
    }
}

/// Console output one login keeps across all its executions (each is
/// capped at 64 KiB by the engine): it travels in the suspended record and
/// the outcome.
const MAX_LOGIN_LOG_BYTES: usize = 256 * 1024;

/// `lines`, cut so the login's records stay within [`MAX_LOGIN_LOG_BYTES`].
fn within_login_budget(earlier: &[ExecutionRecord], lines: Vec<String>) -> Vec<String> {
    let mut used: usize = earlier.iter().flat_map(|r| &r.logs).map(String::len).sum();
    let mut kept = Vec::with_capacity(lines.len());
    for line in lines {
        used = used.saturating_add(line.len());
        if used > MAX_LOGIN_LOG_BYTES {
            kept.push("[console output truncated: more than 256 KiB in this login]".to_owned());
            break;
        }
        kept.push(line);
    }
    kept
}

/// Longest thrown message carried into a deny reason.
const MAX_THROWN_MESSAGE_BYTES: usize = 4096;

fn cut_at_char_boundary(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_keeps_at_most_256_kib_of_console_output() {
        let full = |n: usize| ExecutionRecord {
            action: "a".into(),
            handler: "onExecutePostLogin".into(),
            duration_ms: 0.0,
            logs: vec!["x".repeat(60 * 1024); n],
            error: None,
        };
        let earlier = vec![full(4)];
        let kept = within_login_budget(&earlier, vec!["y".repeat(10 * 1024); 6]);
        let bytes: usize = kept.iter().map(String::len).sum();
        assert!(240 * 1024 + bytes <= MAX_LOGIN_LOG_BYTES + 100, "{bytes}");
        assert!(kept.last().is_some_and(|l| l.contains("256 KiB")));
        assert_eq!(within_login_budget(&[], vec!["ok".into()]), vec!["ok"]);
    }
}
