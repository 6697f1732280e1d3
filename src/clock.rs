//! Wall-clock time, read through a handle the pipeline holds, so a test
//! can move a login's clock forward instead of sleeping through its
//! lifetime.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where the pipeline reads the time: login lifetimes, `created_at`,
/// result token `iat`/`exp`.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// The current time in seconds since the Unix epoch (0 before it).
    fn unix_secs(&self) -> u64 {
        self.now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// The operating system's clock: production's.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock shared by the pipelines of one server (kept across reloads).
pub type SharedClock = Arc<dyn Clock>;

/// The system clock, shared.
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}
