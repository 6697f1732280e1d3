//! The `detour` binary: load settings, start the server.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use detour::config::{Settings, sample_settings};
use detour::startup::Application;

#[derive(Parser)]
#[command(
    version,
    about = "Detour: a redirect-continuation gateway for Auth0-compatible post-login Actions"
)]
struct Cli {
    /// Config file. Without one, Detour runs the bundled sample config.
    #[arg(long, env = "DETOUR_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Validate the config and compile every Action, then exit.
    Check,
}

fn load(config: Option<&PathBuf>) -> anyhow::Result<Settings> {
    let env = |name: &str| std::env::var(name).ok();
    match config {
        Some(path) => Settings::from_file(path, &env)
            .with_context(|| format!("invalid config {}", path.display())),
        None => {
            let (settings, defaulted) = sample_settings(&env)?;
            tracing::warn!(
                "no config given (--config or DETOUR_CONFIG): running the bundled sample Actions on the in-memory store"
            );
            for var in defaulted {
                tracing::warn!(
                    variable = var,
                    "not set: using the sample's well-known demo value; never do this in production"
                );
            }
            Ok(settings)
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    detour::telemetry::init();
    let cli = Cli::parse();
    let settings = load(cli.config.as_ref())?;
    match cli.command {
        Some(Command::Check) => {
            detour::engine::EnginePool::start(&settings.engine, &settings.actions)?;
            println!(
                "config OK: {} upstream(s), {} action(s) compiled",
                settings.upstreams.len(),
                settings.actions.len()
            );
            Ok(())
        }
        None => {
            let actions: Vec<&str> = settings.actions.iter().map(|a| a.name.as_str()).collect();
            let app = Application::build(settings.clone()).await?;
            tracing::info!(
                port = app.port(),
                public_url = %settings.server.public_url,
                actions = ?actions,
                "detour is listening"
            );
            app.run_until_stopped().await?;
            Ok(())
        }
    }
}
