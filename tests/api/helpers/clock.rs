//! The clock a test server reads: real time plus an offset the test moves
//! forward, so a login can outlive its lifetime without a real wait.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Real time, moved forward by every [`TestClock::advance`].
#[derive(Debug, Clone, Default)]
pub struct TestClock {
    offset_secs: Arc<AtomicU64>,
}

impl TestClock {
    /// Moves the server's clock forward by `by` (whole seconds).
    pub fn advance(&self, by: Duration) {
        self.offset_secs.fetch_add(by.as_secs(), Ordering::SeqCst);
    }
}

impl detour::clock::Clock for TestClock {
    fn now(&self) -> SystemTime {
        SystemTime::now() + Duration::from_secs(self.offset_secs.load(Ordering::SeqCst))
    }
}
