//! The `detour` binary: serve, check a config, or try one Action.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use detour::config::{Settings, sample_settings};
use detour::startup::Application;

mod run_action;

// Every login allocates thousands of small objects on several threads (the
// HTTP workers, the engines); glibc's malloc showed up at ~10 % of the
// profile. mimalloc is the allocator of the shipped binary only.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Print the package.json listing the npm packages the config's
    /// Actions and Modules declare (install them with `npm install` /
    /// `npm ci` in the config's directory).
    Deps,
    /// Turn an Auth0 export (Terraform, Deploy CLI, Management API JSON)
    /// into a Detour directory: the Actions' code and a detour.toml with
    /// the post-login Actions in their bound order, then check each Action.
    Import(ImportArgs),
    /// Run one Action against a simulated event and print the outcome, the
    /// console output and the timing (like Auth0's Test button).
    RunAction(run_action::Args),
}

#[derive(clap::Args)]
struct ImportArgs {
    /// The export: a .tf file or directory, a Deploy CLI tenant.yaml or
    /// directory, or Management API JSON (a file, or a directory).
    source: PathBuf,
    /// Where to write the Detour directory (created, or updated in place).
    #[arg(long, default_value = "detour-import")]
    out: PathBuf,
    /// The export's format, when it cannot be told from SOURCE.
    #[arg(long, value_enum)]
    format: Option<detour::import::Format>,
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
    let cli = Cli::parse();
    detour::telemetry::init(matches!(
        cli.command,
        Some(Command::RunAction(_) | Command::Import(_))
    ));
    match cli.command {
        Some(Command::RunAction(args)) => {
            let config = match cli.config.as_ref() {
                Some(path) => Some(load(Some(path))?),
                None => None,
            };
            run_action::run(args, config).await
        }
        Some(Command::Deps) => {
            let path = cli
                .config
                .as_ref()
                .context("detour deps needs --config (or DETOUR_CONFIG)")?;
            let env = |name: &str| std::env::var(name).ok();
            let package = Settings::package_json(path, &env)
                .with_context(|| format!("invalid config {}", path.display()))?;
            println!("{}", serde_json::to_string_pretty(&package)?);
            Ok(())
        }
        Some(Command::Import(args)) => {
            // One line, no backtrace: the message says what to do.
            let report = match detour::import::run(&args.source, args.format, &args.out) {
                Ok(report) => report,
                Err(e) => {
                    eprintln!("error: {}", detour::import::printable(&e.to_string()));
                    std::process::exit(2);
                }
            };
            print!("{}", report.render(&args.source, &args.out));
            if !report.ok() {
                std::process::exit(1);
            }
            Ok(())
        }
        Some(Command::Check) => {
            let settings = load(cli.config.as_ref())?;
            detour::engine::EnginePool::start(&settings.engine, &settings.actions)?;
            let files = settings.actions.first().map_or(0, |a| a.code.files.len());
            println!(
                "config OK: {} upstream(s), {} action(s) compiled, {files} file(s) of code read",
                settings.upstreams.len(),
                settings.actions.len()
            );
            Ok(())
        }
        None => serve(cli.config).await,
    }
}

async fn serve(config: Option<PathBuf>) -> anyhow::Result<()> {
    let settings = load(config.as_ref())?;
    let actions: Vec<&str> = settings.actions.iter().map(|a| a.name.as_str()).collect();
    let app = Application::build(settings.clone()).await?;
    tracing::info!(
        port = app.port(),
        public_url = %settings.server.public_url,
        actions = ?actions,
        "detour is listening"
    );
    if let Some(path) = config {
        spawn_reload_on_sighup(path, app.reloader())?;
    }
    app.run_until_stopped().await?;
    Ok(())
}

/// `SIGHUP` re-reads the config file and swaps it in if every Action
/// compiles; otherwise the running configuration stays.
fn spawn_reload_on_sighup(
    path: PathBuf,
    reloader: detour::startup::Reloader,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            let result = match load(Some(&path)) {
                Ok(settings) => reloader.reload(settings).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => tracing::info!(config = %path.display(), "configuration reloaded"),
                Err(e) => tracing::error!(
                    error = format!("{e:#}"),
                    "reload refused; the running configuration stays"
                ),
            }
        }
    });
    Ok(())
}
