//! Wiring: settings in, a bound server out; and the atomic swap of a new
//! configuration on reload.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpServer, web};
use anyhow::Context as _;
use arc_swap::ArcSwap;

use crate::clock::{self, SharedClock};
use crate::config::Settings;
use crate::engine::EnginePool;
use crate::http;
use crate::metrics::Metrics;
use crate::pipeline::Pipeline;
use crate::store::{MemoryStore, RedisStore, Store};

/// How long a graceful shutdown waits for in-flight requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// What every request handler can reach (actix app data), built here at
/// start-up and swapped into on reload.
pub struct AppState {
    /// The login pipeline in force, with its settings; swapped whole on
    /// reload, so a request sees one consistent configuration.
    pub pipeline: ArcSwap<Pipeline>,
    /// Metrics, kept across reloads.
    pub metrics: Arc<Metrics>,
}

/// A built, bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

fn connect_store(settings: &Settings) -> anyhow::Result<Store> {
    let invalid = "store.redis_url is not a usable Redis URL";
    Ok(match &settings.store.redis_url {
        Some(urls) if settings.store.redis_cluster => {
            let seeds: Vec<String> = urls.split(',').map(|u| u.trim().to_owned()).collect();
            Store::Redis(RedisStore::connect_cluster(&seeds).context(invalid)?)
        }
        Some(url) => Store::Redis(RedisStore::connect(url).context(invalid)?),
        None => Store::Memory(MemoryStore::new()),
    })
}

impl Application {
    /// Connects the store, compiles the Actions, and binds the listener.
    /// Fails with the file and line of an Action that does not compile.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, clock::system()).await
    }

    /// [`Application::build`] with the pipeline reading the time from
    /// `clock` (tests move it instead of sleeping); reloads keep it.
    pub async fn build_with_clock(settings: Settings, clock: SharedClock) -> anyhow::Result<Self> {
        let store = connect_store(&settings)?;
        tracing::info!(store = store.describe(), "store selected");
        let engine = EnginePool::start(&settings.engine, &settings.actions)?;
        let listener = TcpListener::bind(&settings.server.listen)
            .with_context(|| format!("cannot listen on {}", settings.server.listen))?;
        let port = listener.local_addr()?.port();
        let metrics = Arc::new(Metrics::new());
        let pipeline =
            Pipeline::new(Arc::new(settings), engine, store, metrics.clone()).with_clock(clock);
        let state = web::Data::new(AppState {
            pipeline: ArcSwap::from_pointee(pipeline),
            metrics,
        });
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .wrap(
                    DefaultHeaders::new()
                        .add(("Referrer-Policy", "no-referrer"))
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("X-Frame-Options", "DENY")),
                )
                .configure(http::configure)
        })
        .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            state,
        })
    }

    /// The bound port (useful with `listen = "127.0.0.1:0"`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle that swaps in a new configuration while serving.
    pub fn reloader(&self) -> Reloader {
        Reloader {
            state: self.state.clone(),
        }
    }

    /// Serves until the server is stopped. SIGINT and SIGTERM stop it
    /// gracefully: the listener closes and in-flight requests finish (up to
    /// 30 s).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Swaps configurations atomically (`SIGHUP`).
#[derive(Clone)]
pub struct Reloader {
    state: web::Data<AppState>,
}

impl Reloader {
    /// Compiles the new Actions first; only if that succeeds does the new
    /// pipeline replace the old one. Requests already running finish on the
    /// old pipeline; its engine threads stop when the last of them is done.
    /// The listen address cannot change without a restart. Compiling is
    /// CPU work of up to seconds, so it runs on the blocking pool, not on
    /// a thread that serves requests.
    pub async fn reload(&self, settings: Settings) -> anyhow::Result<()> {
        let reloader = self.clone();
        let result = tokio::task::spawn_blocking(move || reloader.build(settings))
            .await
            .context("the reload stopped before it finished")
            .and_then(|built| built);
        self.state
            .metrics
            .reload(if result.is_ok() { "ok" } else { "refused" });
        let pipeline = result?;
        self.state.pipeline.store(Arc::new(pipeline));
        Ok(())
    }

    fn build(&self, settings: Settings) -> anyhow::Result<Pipeline> {
        let current = self.state.pipeline.load();
        if settings.server.listen != current.settings().server.listen {
            tracing::warn!("server.listen changed; it takes effect at the next restart");
        }
        let same_store = settings.store.redis_url == current.settings().store.redis_url
            && settings.store.redis_cluster == current.settings().store.redis_cluster;
        let store = if same_store {
            current.store().clone()
        } else {
            connect_store(&settings)?
        };
        let engine = EnginePool::start(&settings.engine, &settings.actions)?;
        Ok(Pipeline::new(
            Arc::new(settings),
            engine,
            store,
            self.state.metrics.clone(),
        )
        .with_clock(current.clock().clone()))
    }
}
