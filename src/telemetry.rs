//! Logging set-up. Log lines carry state hashes and login ids, never raw
//! states, tokens or secrets.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsFd;
use std::sync::Arc;

use tracing_subscriber::EnvFilter;

/// A log stream written without `Stdout`'s (or `Stderr`'s) lock: each
/// line is one `write(2)` on a duplicate of the stream's descriptor.
/// HTTP workers that logged at once waited on that lock, a futex sleep
/// for about every third login under load (docs/performance.md). The
/// formatter hands each event over as one `write_all` of the whole line,
/// which one `write(2)` takes whole, so lines never interleave.
#[derive(Clone)]
struct Unlocked(Arc<File>);

impl Write for Unlocked {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        (&*self.0).write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The stream's descriptor, duplicated; `None` if it cannot be (then the
/// locked stream is used).
fn unlocked(to_stderr: bool) -> Option<Unlocked> {
    let fd = if to_stderr {
        std::io::stderr().as_fd().try_clone_to_owned()
    } else {
        std::io::stdout().as_fd().try_clone_to_owned()
    };
    fd.ok().map(|fd| Unlocked(Arc::new(File::from(fd))))
}

/// Installs the global subscriber. `RUST_LOG` sets the level (default
/// `info`); `DETOUR_LOG_FORMAT=json` switches to one JSON object per line.
/// Logs go to stdout for the server, and to stderr for commands whose
/// stdout is their result (`detour run-action … | jq`).
pub fn init(to_stderr: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("DETOUR_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    // Colours only on a terminal: piped output (docker logs, files) stays
    // plain text.
    let ansi = if to_stderr {
        std::io::IsTerminal::is_terminal(&std::io::stderr())
    } else {
        std::io::IsTerminal::is_terminal(&std::io::stdout())
    };
    let stream = unlocked(to_stderr);
    let writer =
        tracing_subscriber::fmt::writer::BoxMakeWriter::new(move || -> Box<dyn std::io::Write> {
            match (&stream, to_stderr) {
                (Some(stream), _) => Box::new(stream.clone()),
                (None, true) => Box::new(std::io::stderr()),
                (None, false) => Box::new(std::io::stdout()),
            }
        });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// An error and its causes on one line, `outer: cause: root cause`: how a
/// failure is logged where it is handled (the HTTP boundary, a best-effort
/// write), so the cause a typed error keeps as its `source` reaches the log.
pub fn chain<'a>(error: &'a (dyn std::error::Error + 'static)) -> impl std::fmt::Display + 'a {
    Chain(error)
}

struct Chain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::chain;

    #[derive(Debug, thiserror::Error)]
    #[error("the login store is unavailable")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn a_chain_names_every_cause_once_outermost_first() {
        let error = Outer(std::io::Error::other("connection refused"));

        let line = chain(&error).to_string();

        assert_eq!(line, "the login store is unavailable: connection refused");
    }
}
