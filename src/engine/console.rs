//! The console cap: one execution's console output, collected on the Rust
//! side and cut at [`MAX_LOG_BYTES`].

use std::cell::RefCell;
use std::rc::Rc;

/// Console output one execution may leave; past it one marker line says
/// the rest was dropped. Enforced here, not in JS, where an Action could
/// change the rule.
pub const MAX_LOG_BYTES: usize = 64 * 1024;

/// The marker that ends output cut at [`MAX_LOG_BYTES`].
pub const TRUNCATED: &str = "[console output truncated: more than 64 KiB]";

/// Console lines of the running execution, collected on the Rust side so
/// they survive an execution stopped by a limit.
pub type LogSink = Rc<RefCell<Logs>>;

/// One execution's console output, capped at [`MAX_LOG_BYTES`].
#[derive(Debug, Default)]
pub struct Logs {
    lines: Vec<String>,
    bytes: usize,
    truncated: bool,
}

impl Logs {
    /// Adds a line, or drops it once the cap is reached.
    pub fn push(&mut self, line: String) {
        if self.truncated {
            return;
        }
        self.bytes = self.bytes.saturating_add(line.len());
        if self.bytes > MAX_LOG_BYTES {
            self.truncated = true;
            self.lines.push(TRUNCATED.to_owned());
        } else {
            self.lines.push(line);
        }
    }

    /// Whether the cap was reached: later lines are dropped.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Takes the lines and starts over.
    pub fn take(&mut self) -> Vec<String> {
        let lines = std::mem::take(&mut self.lines);
        *self = Self::default();
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_output_stops_at_the_cap_with_one_marker() {
        let mut logs = Logs::default();
        for _ in 0..100 {
            logs.push("x".repeat(1024));
        }
        let lines = logs.take();
        assert_eq!(lines.len(), 64 + 1);
        assert_eq!(lines.last().map(String::as_str), Some(TRUNCATED));
        logs.push("again".into());
        assert_eq!(logs.take(), vec!["again".to_owned()], "take starts over");
    }
}
