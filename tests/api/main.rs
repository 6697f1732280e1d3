//! Detour's integration tests: one binary, a real server per test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assumption fails the test

mod api_surface;
mod binding;
mod busy;
mod continue_errors;
mod event_fields;
mod fuzz;
mod headers;
mod helpers;
mod hostile;
mod import;
mod inline;
mod inputs;
mod limits;
mod node_modules;
mod non_interactive;
mod npm_packages;
mod npm_real;
mod npm_real_clients;
mod openapi;
mod operations;
mod outbound;
mod post_login;
mod redirect_flow;
mod redis_tls;
mod resilience;
mod result_details;
mod sandbox;
mod seeds;
mod startup_config;
mod store;
mod store_contract;
mod web_platform;
