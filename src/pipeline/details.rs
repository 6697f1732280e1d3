//! The back channel: execution details withheld from a result token, kept
//! for the upstream that opted in (`result_details = "back_channel"`).

use serde_json::{Map, Value};

use super::outcome::Outcome;
use super::{Pipeline, PipelineError, RESULT_DETAILS_TTL};
use crate::config::Upstream;
use crate::telemetry::chain;

impl Pipeline {
    /// Keeps the details withheld from a result token for the upstream's
    /// back channel. Best effort: the login is already taken, so a store
    /// failure loses the details (logged, and the upstream's fetch finds
    /// nothing), never the login.
    pub(super) async fn keep_result_details(&self, upstream: &str, jti: &str, outcome: &Outcome) {
        let stored = match serde_json::to_vec(&outcome.details()) {
            Ok(bytes) => {
                self.store
                    .put_result_details(upstream, jti, bytes, RESULT_DETAILS_TTL)
                    .await
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot serialize the result details");
                return;
            }
        };
        if let Err(e) = stored {
            self.metrics.store_error();
            tracing::warn!(error = %chain(&e), "result details lost; the upstream cannot fetch them");
        }
    }

    /// The execution details of a result delivered to `upstream`, found by
    /// its token's `jti`, and only once. `None` when there are none: unknown,
    /// already fetched, expired, or another upstream's.
    pub async fn take_result_details(
        &self,
        upstream: &Upstream,
        jti: &str,
    ) -> Result<Option<Map<String, Value>>, PipelineError> {
        // Only ids Detour could have made reach the store (bounded keys).
        let Ok(jti) = uuid::Uuid::parse_str(jti) else {
            return Ok(None);
        };
        let taken = self
            .store
            .take_result_details(&upstream.id, &jti.hyphenated().to_string())
            .await;
        let bytes = match taken {
            Ok(bytes) => bytes,
            Err(e) => {
                self.metrics.store_error();
                return Err(e.into());
            }
        };
        Ok(bytes.and_then(|b| crate::domain::json_from_bytes(&b).ok()))
    }
}
