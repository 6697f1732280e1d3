//! The rules every `api` call must follow, checked in Rust on what leaves
//! the engine. The prelude checks the same rules to throw Auth0's errors at
//! the call site, but it runs in the Action's realm, where the Action can
//! change anything; these checks are the ones that hold.
//!
//! A command that breaks a rule fails the execution (a denied login, never
//! a server error), like an `api` call that throws. This file walks the
//! commands and holds the rules across them (one render, not with a
//! redirect; the primary user once); the rules of each namespace are in
//! its own file, the generic ones (sizes, URLs) in `rules.rs`, and every
//! limit in `pipeline/limits.rs`.

mod authentication;
mod cache;
mod rules;
mod saml;
mod session;
mod tokens;
mod transaction;

use serde_json::{Map, Value};

use super::event::Event;
use super::limits::{
    MAX_FORM_ID_BYTES, MAX_METADATA_KEY_BYTES, MAX_PRIMARY_USER_ID_CHARS, MAX_REASON_BYTES,
    MAX_RENDER_BYTES, MAX_TIMESTAMP_BYTES, MAX_VALIDATION_CODE_BYTES,
};
use super::mutations::Mutations;
use crate::engine::{Command, Handler, Target};
use cache::CacheView;
use rules::{http_url, json_len, max_bytes, non_empty};

/// What the checks need to know about the execution.
pub struct Context<'a> {
    /// The handler that ran.
    pub handler: Handler,
    /// The login's effects before this execution.
    pub mutations: &'a Mutations,
    /// The Action's cache as loaded before the run: key to
    /// `{value, expires_at}`.
    pub cache: &'a Map<String, Value>,
    /// The event the Action saw.
    pub event: &'a Event,
}

/// Checks one execution's commands; the error says which rule broke.
pub fn check(commands: &[Command], context: &Context<'_>) -> Result<(), String> {
    // Built on the first cache command: most executions issue none.
    let mut cache: Option<CacheView> = None;
    let mut primary_user = context.mutations.primary_user_set();
    let (mut redirected, mut rendered) = (false, false);
    for command in commands {
        match command {
            Command::Deny { reason } => max_bytes("the deny reason", reason, MAX_REASON_BYTES)?,
            Command::IdClaim { key, .. } | Command::AccessClaim { key, .. } => {
                tokens::check_claim_name(key)?;
            }
            Command::AddScope { scope } | Command::RemoveScope { scope } => {
                tokens::check_scope(scope)?;
            }
            Command::UserMetadata { key, .. } | Command::AppMetadata { key, .. } => {
                non_empty("the metadata key", key)?;
                max_bytes("the metadata key", key, MAX_METADATA_KEY_BYTES)?;
            }
            Command::Multifactor { value } => authentication::check_multifactor(value)?,
            Command::TransactionMetadata { key, value } => {
                transaction::check_transaction_metadata(key, value)?;
            }
            Command::CacheSet {
                key,
                value,
                expires_at,
            } => cache
                .get_or_insert_with(|| CacheView::new(context.cache))
                .set(key, value, *expires_at)?,
            Command::CacheDelete { key } => cache
                .get_or_insert_with(|| CacheView::new(context.cache))
                .delete(key)?,
            Command::Authentication { kind, factors, .. } => {
                authentication::check_factors(*kind, factors)?;
            }
            Command::RecordMethod { url, timestamp } => {
                if context.handler != Handler::Continue {
                    return Err(
                        "api.authentication.recordMethod() can only be used in onContinuePostLogin"
                            .into(),
                    );
                }
                http_url("the recorded method", url)?;
                max_bytes(
                    "the recorded method's timestamp",
                    timestamp,
                    MAX_TIMESTAMP_BYTES,
                )?;
            }
            Command::PrimaryUser { user_id } => {
                non_empty("the primary user id", user_id)?;
                if user_id.chars().count() > MAX_PRIMARY_USER_ID_CHARS {
                    return Err(format!(
                        "the primary user id must be at most {MAX_PRIMARY_USER_ID_CHARS} characters long"
                    ));
                }
                if primary_user {
                    return Err("the primary user can only be altered once per transaction".into());
                }
                primary_user = true;
            }
            Command::Revoke { reason, target, .. } => {
                max_bytes("the revoke reason", reason, MAX_REASON_BYTES)?;
                if *target == Target::RefreshToken {
                    session::check_refresh_token_revoke(context.event)?;
                }
            }
            Command::Expiry { at, target, .. } => {
                if *target == Target::RefreshToken {
                    session::refresh_token_usable(context.event)?;
                }
                if *at == 0 {
                    return Err("an expiry must be a time after the epoch".into());
                }
            }
            Command::CookieMode { .. } => {}
            Command::EvictMetadata { target } => {
                if *target == Target::RefreshToken {
                    session::refresh_token_usable(context.event)?;
                }
            }
            Command::Metadata { key, value, target } => {
                if *target == Target::RefreshToken {
                    session::refresh_token_usable(context.event)?;
                }
                session::check_session_metadata(key, value)?;
            }
            Command::SamlAttribute { name, value } => saml::check_saml_attribute(name, value)?,
            Command::Saml { key, value } => saml::check_saml_setting(key, value)?,
            Command::ValidationError { code, message } => {
                non_empty("the validation error code", code)?;
                max_bytes("the validation error code", code, MAX_VALIDATION_CODE_BYTES)?;
                max_bytes("the validation error message", message, MAX_REASON_BYTES)?;
            }
            Command::Render { id, fields, vars } => {
                if rendered {
                    return Err("only 1 render command per action is allowed".into());
                }
                if redirected {
                    return Err(
                        "redirect and render commands cannot be used in the same action".into(),
                    );
                }
                rendered = true;
                non_empty("the form id", id)?;
                max_bytes("the form id", id, MAX_FORM_ID_BYTES)?;
                if !fields.is_object() || !vars.is_object() {
                    return Err("prompt.render: fields and vars must be objects".into());
                }
                if json_len(fields) + json_len(vars) > MAX_RENDER_BYTES {
                    return Err("prompt.render: options must be at most 24 KiB of JSON".into());
                }
            }
            Command::Redirect { url } => {
                if rendered {
                    return Err(
                        "redirect and render commands cannot be used in the same action".into(),
                    );
                }
                redirected = true;
                http_url("the redirect URL", url)?;
            }
        }
    }
    Ok(())
}

/// Checks `command` alone, in `onExecutePostLogin`, for a fresh login
/// (tests).
#[cfg(test)]
fn check_one(command: Command) -> Result<(), String> {
    let mutations = Mutations::default();
    let cache = Map::new();
    let event = Event::default();
    let context = Context {
        handler: Handler::Execute,
        mutations: &mutations,
        cache: &cache,
        event: &event,
    };
    check(&[command], &context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forged_arguments_the_prelude_would_refuse_are_refused() {
        assert!(
            check_one(Command::PrimaryUser {
                user_id: "u".repeat(1000)
            })
            .is_err()
        );
        assert!(
            check_one(Command::Multifactor {
                value: Value::from("duo")
            })
            .is_err()
        );
        assert!(
            check_one(Command::TransactionMetadata {
                key: "k".repeat(5000),
                value: Value::from(1)
            })
            .is_err()
        );
        assert!(
            check_one(Command::AddScope {
                scope: " read:all".into()
            })
            .is_err()
        );
        assert!(
            check_one(Command::RecordMethod {
                url: "https://x.example".into(),
                timestamp: "t".into()
            })
            .is_err(),
            "recordMethod outside onContinuePostLogin"
        );
        assert!(
            check_one(Command::Revoke {
                target: Target::RefreshToken,
                reason: "r".into(),
                preserve_refresh_tokens: false
            })
            .is_err(),
            "refreshToken.revoke outside a refresh token exchange"
        );
    }
}
