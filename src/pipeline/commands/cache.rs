//! `api.cache`: Auth0's limits on keys, values, entries and writes, held
//! across one execution's `set` and `delete` calls against the cache as
//! the run loaded it.

use serde_json::{Map, Value};

use super::rules::max_bytes;
use crate::pipeline::limits::cache as limits;
use crate::store::cache::now_ms;

/// The Action's cache as this execution changes it, to hold Auth0's
/// limits across its `set` and `delete` calls.
pub(super) struct CacheView {
    /// Live entries: key to value length in bytes.
    entries: Map<String, Value>,
    writes: usize,
    now: u64,
}

impl CacheView {
    /// The view of the cache as loaded, without its expired entries.
    pub(super) fn new(loaded: &Map<String, Value>) -> Self {
        let now = now_ms();
        let entries = loaded
            .iter()
            .filter(|(_, e)| e.get("expires_at").and_then(Value::as_u64) > Some(now))
            .map(|(k, e)| {
                let len = e.get("value").and_then(Value::as_str).map_or(0, str::len);
                (k.clone(), Value::from(len))
            })
            .collect();
        Self {
            entries,
            writes: 0,
            now,
        }
    }

    fn write(&mut self) -> Result<(), String> {
        self.writes += 1;
        if self.writes > limits::MAX_WRITES {
            return Err(format!(
                "api.cache: at most {} writes per execution",
                limits::MAX_WRITES
            ));
        }
        Ok(())
    }

    /// One `api.cache.set`.
    pub(super) fn set(&mut self, key: &str, value: &str, expires_at: u64) -> Result<(), String> {
        self.write()?;
        max_bytes("an api.cache key", key, limits::MAX_KEY_BYTES)?;
        max_bytes("an api.cache value", value, limits::MAX_VALUE_BYTES)?;
        let latest = self.now + limits::MAX_TTL_MS + limits::CLOCK_SLACK_MS;
        if expires_at + limits::CLOCK_SLACK_MS <= self.now || expires_at > latest {
            return Err("api.cache: an entry must expire within 24 hours".into());
        }
        self.entries
            .insert(key.to_owned(), Value::from(value.len()));
        if self.entries.len() > limits::MAX_ENTRIES {
            return Err(format!(
                "api.cache: at most {} entries",
                limits::MAX_ENTRIES
            ));
        }
        let total: usize = self
            .entries
            .iter()
            .map(|(k, len)| k.len() + len.as_u64().unwrap_or(0) as usize)
            .sum();
        if total > limits::MAX_TOTAL_BYTES {
            return Err("api.cache: keys and values must be at most 8 KB in total".into());
        }
        Ok(())
    }

    /// One `api.cache.delete`.
    pub(super) fn delete(&mut self, key: &str) -> Result<(), String> {
        self.write()?;
        max_bytes("an api.cache key", key, limits::MAX_KEY_BYTES)?;
        self.entries.remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Map;

    use super::super::{Context, check, check_one};
    use crate::engine::{Command, Handler};
    use crate::pipeline::mutations::Mutations;
    use crate::store::cache::now_ms;

    #[test]
    fn cache_writes_past_auth0s_limits_are_refused() {
        let far = now_ms() + 1000 * 60 * 60 * 24 * 365 * 1000;
        let r = check_one(Command::CacheSet {
            key: "k".into(),
            value: "v".into(),
            expires_at: far,
        });
        assert!(r.is_err(), "a lifetime of a thousand years");
        let soon = now_ms() + 60_000;
        let many: Vec<Command> = (0..21)
            .map(|i| Command::CacheSet {
                key: format!("k{i}"),
                value: "v".into(),
                expires_at: soon,
            })
            .collect();
        let (mutations, cache) = (Mutations::default(), Map::new());
        let event = crate::pipeline::event::Event::default();
        let context = Context {
            handler: Handler::Execute,
            mutations: &mutations,
            cache: &cache,
            event: &event,
        };
        assert!(check(&many, &context).is_err(), "21 entries");
        let big = Command::CacheSet {
            key: "k".into(),
            value: "x".repeat(5000),
            expires_at: soon,
        };
        assert!(check_one(big).is_err(), "a 5000-byte value");
    }
}
