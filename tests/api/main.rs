//! Detour's integration tests: one binary, a real server per test.

mod binding;
mod continue_errors;
mod fuzz;
mod helpers;
mod inputs;
mod limits;
mod non_interactive;
mod openapi;
mod operations;
mod post_login;
mod redirect_flow;
mod resilience;
mod sandbox;
mod startup_config;
mod store;
