//! Wiring: settings in, a bound server out.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpServer, web};
use anyhow::Context as _;

use crate::config::Settings;
use crate::engine::EnginePool;
use crate::http::{self, AppState};
use crate::pipeline::Pipeline;
use crate::store::{MemoryStore, RedisStore, Store};

/// A built, bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Connects the store, compiles the Actions, and binds the listener.
    /// Fails with the file and line of an Action that does not compile.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = match &settings.store.redis_url {
            Some(url) => Store::Redis(
                RedisStore::connect(url).context("store.redis_url is not a usable Redis URL")?,
            ),
            None => Store::Memory(MemoryStore::new()),
        };
        tracing::info!(store = store.describe(), "store selected");
        let engine = EnginePool::start(&settings.engine, &settings.actions)?;
        let listener = TcpListener::bind(&settings.server.listen)
            .with_context(|| format!("cannot listen on {}", settings.server.listen))?;
        let port = listener.local_addr()?.port();
        let settings = Arc::new(settings);
        let state = web::Data::new(AppState {
            pipeline: Pipeline::new(settings.clone(), engine, store),
            settings,
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(
                    http::MAX_EVENT_BYTES.max(http::MAX_FORM_BYTES),
                ))
                .wrap(
                    DefaultHeaders::new()
                        .add(("Referrer-Policy", "no-referrer"))
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("X-Frame-Options", "DENY")),
                )
                .configure(http::configure)
        })
        .listen(listener)?
        .run();
        Ok(Self { port, server })
    }

    /// The bound port (useful with `listen = "127.0.0.1:0"`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the server is stopped (Ctrl-C / SIGTERM finish
    /// in-flight requests first).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
