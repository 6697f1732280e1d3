//! Detour's integration tests: one binary, a real server per test.

mod api_surface;
mod binding;
mod continue_errors;
mod event_fields;
mod fuzz;
mod helpers;
mod inputs;
mod limits;
mod node_modules;
mod non_interactive;
mod openapi;
mod operations;
mod post_login;
mod redirect_flow;
mod resilience;
mod sandbox;
mod seeds;
mod startup_config;
mod store;
mod web_platform;
