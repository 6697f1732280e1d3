//! Running the Actions once without storing anything (`detour run-action`).

use anyhow::Context as _;
use serde_json::{Map, Value};

use super::Pipeline;
use super::error::{PipelineError, RequestError};
use super::event::{self, ContinueRequest};
use super::mutations::Mutations;
use super::outcome::Outcome;
use super::runner::{Detour, Login, RunEnd, StartAt};
use crate::engine::Handler;

impl Pipeline {
    /// Runs the Actions once against `event` without storing anything, like
    /// Auth0's Test button: with `resume`, the first Action's
    /// `onContinuePostLogin` runs against that `/continue` request. A
    /// redirect is reported with the `state` the request carried (or
    /// `SIMULATED`) and is not suspended.
    pub async fn simulate(
        &self,
        event: Map<String, Value>,
        resume: Option<ContinueRequest>,
    ) -> Result<Outcome, PipelineError> {
        let mut event = event::Event::from(event);
        event::normalize(&mut event, self.default_hostname()).map_err(RequestError::from)?;
        let state = resume
            .as_ref()
            .and_then(|r| r.state.clone())
            .unwrap_or_else(|| "SIMULATED".into());
        let can_redirect = resume.is_some() || event::can_redirect(&event);
        if let Some(request) = &resume {
            event::apply_continue_request(&mut event, request);
        }
        let login = Login {
            id: "simulation".into(),
            event,
            mutations: Mutations::default(),
            executions: Vec::new(),
        };
        let from = StartAt {
            action: 0,
            handler: if resume.is_some() {
                Handler::Continue
            } else {
                Handler::Execute
            },
            state: Some(state.as_str()),
            can_redirect,
        };
        let (login, end) = self.run(login, from).await?;
        Ok(match end {
            RunEnd::Suspended {
                detour: Detour::Render(prompt),
                ..
            } => Outcome::Prompt {
                prompt: self.prompt_wire(&prompt, &state),
                executions: login.executions,
            },
            RunEnd::Suspended {
                detour: Detour::Redirect(url),
                ..
            } => {
                let mut location =
                    url::Url::parse(&url).context("the Action's redirect URL does not parse")?;
                location.query_pairs_mut().append_pair("state", &state);
                Outcome::Redirect {
                    location: location.to_string(),
                    executions: login.executions,
                }
            }
            RunEnd::Finished => login.allowed(),
            RunEnd::Denied(error, description) => login.denied(error, description),
            RunEnd::Failed {
                action,
                description,
            } => login.failed(action, description),
        })
    }
}
