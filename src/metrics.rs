//! Prometheus metrics: one registry per server, handed down explicitly (no
//! global recorder), rendered at `/metrics` in the OpenMetrics text format.

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ExecutionLabels {
    action: String,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabel {
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandOverLabels {
    action: String,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

/// Detour's metrics.
pub struct Metrics {
    registry: Mutex<Registry>,
    logins: Family<OutcomeLabel, Counter>,
    executions: Family<ExecutionLabels, Counter>,
    execution_seconds: Family<ActionLabel, Histogram>,
    slow_executions: Family<ActionLabel, Counter>,
    handovers: Family<HandOverLabels, Counter>,
    suspended: Counter,
    continues: Family<ResultLabel, Counter>,
    store_errors: Counter,
    reloads: Family<ResultLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("detour");
        let logins = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "logins",
            "Logins ended or paused, by outcome (allow, deny, redirect, interaction_required)",
            logins.clone(),
        );
        let executions = Family::<ExecutionLabels, Counter>::default();
        registry.register(
            "action_executions",
            "Action executions by Action and result (ok, deny, redirect, error, timeout, out_of_memory)",
            executions.clone(),
        );
        let execution_seconds = Family::<ActionLabel, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0001, 4.0, 10))
        });
        registry.register(
            "action_execution_seconds",
            "Wall time of one Action execution",
            execution_seconds.clone(),
        );
        let slow_executions = Family::<ActionLabel, Counter>::default();
        registry.register(
            "action_slow_executions",
            "Executions past 10 ms of CPU (then paced to a thirtieth of a core while other logins run) or 50 ms of wall time; a spare engine served the queue meanwhile",
            slow_executions.clone(),
        );
        let handovers = Family::<HandOverLabels, Counter>::default();
        registry.register(
            "action_handovers",
            "Executions that started on an HTTP worker and ran again on an engine thread, by Action and reason (waits: a timer or a request; overran: still running after 1 ms)",
            handovers.clone(),
        );
        let suspended = Counter::default();
        registry.register(
            "logins_suspended",
            "Logins suspended for a detour",
            suspended.clone(),
        );
        let continues = Family::<ResultLabel, Counter>::default();
        registry.register(
            "continues",
            "/continue requests by result (redirect, delivered, invalid_state, unavailable, error)",
            continues.clone(),
        );
        let store_errors = Counter::default();
        registry.register(
            "store_errors",
            "Store operations that failed",
            store_errors.clone(),
        );
        let reloads = Family::<ResultLabel, Counter>::default();
        registry.register(
            "reloads",
            "Config reloads on SIGHUP by result (ok, refused)",
            reloads.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            logins,
            executions,
            execution_seconds,
            slow_executions,
            handovers,
            suspended,
            continues,
            store_errors,
            reloads,
        }
    }

    /// One execution of `action` ran slow.
    pub fn slow_execution(&self, action: &str) {
        self.slow_executions
            .get_or_create(&ActionLabel {
                action: action.to_owned(),
            })
            .inc();
    }

    /// An execution of `action` moved from an HTTP worker to an engine
    /// thread.
    pub fn handover(&self, action: &str, why: crate::engine::HandOver) {
        let reason = match why {
            crate::engine::HandOver::Waits => "waits",
            crate::engine::HandOver::Overran => "overran",
        };
        self.handovers
            .get_or_create(&HandOverLabels {
                action: action.to_owned(),
                reason,
            })
            .inc();
    }

    /// A login ended or paused with `outcome`.
    pub fn login(&self, outcome: &'static str) {
        self.logins.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// One Action execution ended with `result` after `seconds`.
    pub fn execution(&self, action: &str, result: &'static str, seconds: f64) {
        self.executions
            .get_or_create(&ExecutionLabels {
                action: action.to_owned(),
                result,
            })
            .inc();
        self.execution_seconds
            .get_or_create(&ActionLabel {
                action: action.to_owned(),
            })
            .observe(seconds);
    }

    /// A login was suspended.
    pub fn suspended(&self) {
        self.suspended.inc();
    }

    /// A `/continue` ended with `result`.
    pub fn continued(&self, result: &'static str) {
        self.continues.get_or_create(&ResultLabel { result }).inc();
    }

    /// A store operation failed.
    pub fn store_error(&self) {
        self.store_errors.inc();
    }

    /// A reload was applied or refused.
    pub fn reload(&self, result: &'static str) {
        self.reloads.get_or_create(&ResultLabel { result }).inc();
    }

    /// The text exposition.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let registry = self
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &registry)?;
        Ok(out)
    }
}
