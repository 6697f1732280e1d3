//! One engine thread's loop: it starts its own current-thread tokio
//! runtime, builds its [`Engine`] and serves the queue, one job at a time,
//! until the queue closes or the thread pool no longer needs it.

use std::rc::Rc;
use std::sync::Arc;

use super::EngineError;
use super::fetch::{FetchLimits, Fetcher};
use super::threads::{Seat, ThreadPoolHandle};
use super::vm::Engine;

/// The native stack of an engine thread: larger than QuickJS's own limit
/// ([`super::vm`]), so that limit, not the OS, is what recursion hits.
const THREAD_STACK_BYTES: usize = 8 << 20;

/// Starts engine thread `n` in `seat`'s pool.
pub fn spawn(n: usize, seat: Seat) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(format!("detour-engine-{n}"))
        .stack_size(THREAD_STACK_BYTES)
        .spawn(move || {
            let seat = seat.running();
            // Built here, not by the caller: a runtime must not be dropped
            // inside another one's async context (the caller may be an
            // engine thread starting a spare).
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(serve(seat)),
                Err(e) => tracing::error!(error = %e, "engine thread could not start its runtime"),
            }
        })?;
    Ok(())
}

async fn serve(mut seat: Seat) {
    let pool = seat.pool().clone();
    let (queue, sources, settings) = (&pool.queue, &pool.sources, &pool.settings);
    // One HTTP client per Action per thread: connection pools stay on the
    // runtime that drives them.
    let limits = FetchLimits {
        timeout: settings.fetch_timeout,
        max_response_bytes: settings.fetch_max_response_bytes,
        allow_private_networks: settings.allow_private_networks,
        resolve_overrides: settings.resolve_overrides.clone(),
        proxy: settings.fetch_proxy.clone(),
    };
    let fetchers: Rc<Vec<Option<Fetcher>>> = Rc::new(
        sources
            .iter()
            .map(|s| {
                Fetcher::new(&s.allow_hosts, limits.clone())
                    .map_err(
                        |e| tracing::error!(action = %s.name, error = %e, "fetch is unavailable"),
                    )
                    .ok()
            })
            .collect(),
    );
    // Building an engine allocates nothing in QuickJS: each Action's
    // runtime is built (and rebuilt after a breach) by `warm` or on use.
    // This thread's place at the queue, given up when the thread ends.
    let me = queue.stand();
    let mut engine = Engine::new(
        settings,
        Arc::new(ThreadPoolHandle {
            pool: pool.clone(),
            place: Arc::clone(&me),
        }),
        fetchers.clone(),
    );
    loop {
        // Load every Action (again, for one whose runtime broke a limit)
        // while idle, so no login pays for it.
        engine.warm(sources).await;
        let Some(mut job) = queue.recv(&me).await else {
            return;
        };
        if job.abandoned() {
            continue; // the login was abandoned while it waited
        }
        let started = std::time::Instant::now();
        // A login abandoned mid-run (its request went away) runs no
        // further Actions.
        while !job.abandoned()
            && let Some(execution) = job.next()
        {
            // A long run (fresh contexts in `per_execution` cost most of a
            // millisecond each) lets an idle thread take what is queued.
            if started.elapsed() >= super::pacer::STEP_ASIDE {
                queue.step_aside(&me);
            }
            let result = match pool.sources.get(execution.action) {
                Some(source) => engine.run(source, execution).await,
                None => Err(EngineError::Internal("unknown action".into()).into()),
            };
            job.done(result);
        }
        job.finish();
        let leaving = seat.should_leave();
        queue.job_ended(&me, leaving);
        if leaving {
            return;
        }
    }
}
