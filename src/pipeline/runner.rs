//! Runs the Actions of one trigger run in order, from a given Action, and
//! decides where the run stops: the end, a deny, a failure, or a redirect.

use serde::Serialize;
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use super::PipelineError;
use super::event::can_redirect;
use super::mutations::Mutations;
use super::outcome::{DenyCode, ExecutionRecord};
use crate::config::ActionSpec;
use crate::engine::{EngineError, EnginePool, Execution, Failure, Handler};
use crate::metrics::Metrics;
use crate::store::Store;

/// The login as it moves through the Actions.
pub struct Login {
    /// Correlation id for logs.
    pub id: String,
    /// The event, with earlier metadata changes applied.
    pub event: Map<String, Value>,
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
}

/// What one execution gets, serialized straight from the login (no copy of
/// the event); the prelude's `__detour_run` reads it.
#[derive(Serialize)]
struct Input<'a> {
    event: &'a Map<String, Value>,
    cache: &'a Map<String, Value>,
    can_redirect: bool,
    primary_user_set: bool,
    r#continue: Option<ContinueInput<'a>>,
}

#[derive(Serialize)]
struct ContinueInput<'a> {
    state: &'a str,
}

/// Auth0's limit on the custom claims of one login (§5.4).
const MAX_CLAIMS_BYTES: usize = 100 * 1024;

/// What a run needs from the pipeline.
pub struct Parts<'a> {
    /// The engines.
    pub engine: &'a EnginePool,
    /// For `api.cache`.
    pub store: &'a Store,
    /// Execution metrics.
    pub metrics: &'a Metrics,
    /// The Actions in order.
    pub actions: &'a [ActionSpec],
    /// The configured budget of a run (for messages).
    pub timeout: std::time::Duration,
}

/// Runs Actions from `from` until the run ends. The whole run shares one
/// deadline (Auth0's per-trigger budget).
pub async fn run(
    parts: Parts<'_>,
    login: &mut Login,
    from: StartAt<'_>,
    deadline: Instant,
) -> Result<RunEnd, PipelineError> {
    let Parts {
        engine,
        store,
        metrics,
        actions,
        timeout,
    } = parts;
    let timeout_ms = timeout.as_millis();
    let redirectable = can_redirect(&login.event);
    for (index, spec) in actions.iter().enumerate().skip(from.action) {
        let handler = if index == from.action {
            from.handler
        } else {
            Handler::Execute
        };
        // Only Actions that mention the cache pay for loading it.
        let cache = if spec.source.contains("cache") {
            load_cache(store, &spec.name).await
        } else {
            Map::new()
        };
        let input = Input {
            event: &login.event,
            cache: &cache,
            can_redirect: redirectable,
            primary_user_set: login.mutations.primary_user_set(),
            r#continue: from
                .state
                .filter(|_| handler == Handler::Continue)
                .map(|state| ContinueInput { state }),
        };
        let execution = Execution {
            action: index,
            handler,
            input: serde_json::to_string(&input)
                .map_err(|e| PipelineError::Unexpected(e.to_string()))?,
            deadline,
        };
        let mut record = ExecutionRecord {
            action: spec.name.clone(),
            handler: handler.export_name().into(),
            duration_ms: 0.0,
            logs: Vec::new(),
            error: None,
        };
        let started = std::time::Instant::now();
        let report = match engine.execute(execution).await {
            Ok(report) => report,
            Err(Failure {
                error: EngineError::Busy,
                ..
            }) => return Err(PipelineError::Busy),
            Err(Failure { error, logs }) => {
                let result = match error {
                    EngineError::Timeout => "timeout",
                    EngineError::OutOfMemory => "out_of_memory",
                    _ => "error",
                };
                metrics.execution(&spec.name, result, started.elapsed().as_secs_f64());
                log_console(&login.id, &spec.name, &logs);
                let description = match error {
                    EngineError::Timeout => format!(
                        "Action \"{}\" exceeded the execution time limit of {timeout_ms} ms",
                        spec.name
                    ),
                    EngineError::OutOfMemory => {
                        format!("Action \"{}\" exceeded the memory limit", spec.name)
                    }
                    other => format!("Action \"{}\" could not run: {other}", spec.name),
                };
                tracing::warn!(login_id = %login.id, action = %spec.name, error = %description, "action failed");
                record.duration_ms = ms(started.elapsed());
                record.logs = logs;
                record.error = Some(description.clone());
                login.executions.push(record);
                return Ok(RunEnd::Denied(DenyCode::AccessDenied, description));
            }
        };
        record.duration_ms = ms(report.duration);
        log_console(&login.id, &spec.name, &report.logs);
        record.logs = report.logs;
        let seconds = report.duration.as_secs_f64();
        if let Some(thrown) = report.error {
            // Auth0 discards a throwing Action's commands and fails the login
            // with the error's message.
            metrics.execution(&spec.name, "error", seconds);
            tracing::info!(login_id = %login.id, action = %spec.name, error = %thrown.message, "action threw");
            record.error = Some(thrown.message.clone());
            login.executions.push(record);
            return Ok(RunEnd::Denied(DenyCode::AccessDenied, thrown.message));
        }
        login.executions.push(record);
        if handler == Handler::Continue {
            // event.prompt describes the Form this Action rendered; later
            // Actions do not see it.
            login.event.remove("prompt");
        }
        let mut control = login.mutations.apply(report.commands, &mut login.event);
        if login.mutations.claims_size() > MAX_CLAIMS_BYTES {
            return Ok(RunEnd::Denied(
                DenyCode::AccessDenied,
                format!(
                    "Action \"{}\" set more than 100 KB of custom claims",
                    spec.name
                ),
            ));
        }
        let changes = std::mem::take(&mut control.cache);
        if let Err(e) = store.cache_apply(&spec.name, changes).await {
            // api.cache is best effort (as on Auth0): a lost write is logged,
            // not a failed login.
            tracing::warn!(action = %spec.name, error = %e, "api.cache write lost");
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
            return Ok(RunEnd::Denied(DenyCode::AccessDenied, reason));
        }
        let detour = match (control.redirect, control.render) {
            (Some(url), _) => Some(Detour::Redirect(url)),
            (None, Some(prompt)) => Some(Detour::Render(prompt)),
            (None, None) => None,
        };
        if let Some(detour) = detour {
            if !redirectable {
                return Ok(RunEnd::Denied(
                    DenyCode::InteractionRequired,
                    format!(
                        "Action \"{}\" asked to redirect the user, but this login cannot redirect (prompt=none or a non-interactive protocol)",
                        spec.name
                    ),
                ));
            }
            return Ok(RunEnd::Suspended {
                action: index,
                detour,
            });
        }
    }
    Ok(RunEnd::Finished)
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
            tracing::warn!(action, error = %e, "api.cache unavailable; the Action sees an empty cache");
            Map::new()
        }
    }
}

fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}
