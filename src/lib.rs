//! Detour: a self-hosted redirect-continuation gateway that runs
//! Auth0-compatible post-login Actions.
//!
//! An upstream identity provider calls `POST /v1/post-login` with an
//! Auth0-shaped event; Detour runs the configured Actions in order and
//! answers `allow`, `deny` or `redirect`. On `redirect` the login is saved
//! in the store under the hash of a fresh `state` and the browser goes to
//! the external site; when it comes back to `/continue`, the same Action's
//! `onContinuePostLogin` runs, then the rest, and the final outcome reaches
//! the upstream's `return_to` as a signed result token.
//!
//! Layers, dependencies flowing one way:
//! `http` → `pipeline` → {`engine`, `store`, `token`} → `domain`;
//! `config` is read once at start-up and passed down.
//!
//! - [`config`]: the typed settings (TOML + `DETOUR_*` + secrets from env);
//! - [`http`]: actix routes, extractors, the error table, pages;
//! - [`pipeline`]: the state machine (start, suspend, resume);
//! - [`engine`]: QuickJS threads, the `event`/`api` objects, limits;
//! - [`store`]: suspended logins in Redis or in memory;
//! - [`token`]: HS256 session and result tokens;
//! - [`domain`]: validated types such as the state;
//! - [`startup`]: wiring it all into a server;
//! - [`import`]: `detour import`, an Auth0 export turned into a config.
//! - [`clock`]: the wall clock the pipeline reads, replaceable in tests.

#![deny(unsafe_code)]

pub mod clock;
pub mod config;
pub mod domain;
pub mod engine;
pub mod http;
pub mod import;
pub mod metrics;
pub mod pipeline;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod token;
