//! What both stores promise, checked on each through the library's `Store`
//! (the HTTP tests of suspended logins run once, on Redis, and lean on this
//! for the in-memory store):
//! a suspended login is taken once, even by racing takers; a key is saved
//! once; the first browser binding wins; result details are read once, by
//! their own upstream; an Action's cache keeps its live entries.

use std::time::Duration;

use detour::domain::state::{StateKey, StateParam};
use detour::store::cache::{CacheChanges, CacheEntry, now_ms};
use detour::store::{MemoryStore, RedisStore, Store, StoreError};
use detour::token::result::new_jti;

use crate::helpers::redis::TestRedis;

const TTL: Duration = Duration::from_secs(60);

/// A store under test, with what keeps it alive.
struct Subject {
    store: Store,
    _redis: Option<TestRedis>,
}

fn memory() -> Subject {
    Subject {
        store: Store::Memory(MemoryStore::new()),
        _redis: None,
    }
}

fn redis() -> Subject {
    let redis = TestRedis::start();
    let store = RedisStore::connect(&redis.url()).expect("connect to the test Redis");
    Subject {
        store: Store::Redis(store),
        _redis: Some(redis),
    }
}

fn new_key() -> StateKey {
    StateParam::generate().key()
}

/// Runs an `async fn(Store)` check once per store: `name::in_memory` and
/// `name::on_redis`.
macro_rules! contract {
    ($($check:ident),+ $(,)?) => {
        $(
            mod $check {
                #[tokio::test]
                async fn in_memory() {
                    let subject = super::memory();
                    super::$check(subject.store.clone()).await
                }

                #[tokio::test]
                async fn on_redis() {
                    let subject = super::redis();
                    super::$check(subject.store.clone()).await
                }
            }
        )+
    };
}

contract!(
    a_saved_login_can_be_peeked_and_then_taken_once,
    of_many_racing_takes_exactly_one_gets_the_login,
    a_second_save_under_one_key_is_refused,
    the_first_binding_of_a_login_wins,
    result_details_are_read_once_and_only_by_their_upstream,
    the_cache_keeps_live_entries_drops_deleted_and_expired_ones,
);

async fn a_saved_login_can_be_peeked_and_then_taken_once(store: Store) {
    let key = new_key();
    store.put_login(&key, b"login".to_vec(), TTL).await.unwrap();

    let peeked = store.peek_login(&key).await.unwrap();
    let first = store.take_login(&key).await.unwrap();
    let second = store.take_login(&key).await.unwrap();

    assert_eq!(peeked.as_deref(), Some(&b"login"[..]));
    assert_eq!(first.as_deref(), Some(&b"login"[..]));
    assert_eq!(second, None);
    assert_eq!(store.peek_login(&key).await.unwrap(), None);
}

async fn of_many_racing_takes_exactly_one_gets_the_login(store: Store) {
    let key = new_key();
    store.put_login(&key, b"login".to_vec(), TTL).await.unwrap();

    let takes = (0..50).map(|_| {
        let (store, key) = (store.clone(), key.clone());
        tokio::spawn(async move { store.take_login(&key).await.unwrap() })
    });
    let mut got = 0;
    for take in takes.collect::<Vec<_>>() {
        if take.await.unwrap().is_some() {
            got += 1;
        }
    }

    assert_eq!(got, 1);
}

async fn a_second_save_under_one_key_is_refused(store: Store) {
    let key = new_key();
    store.put_login(&key, b"first".to_vec(), TTL).await.unwrap();

    let second = store.put_login(&key, b"second".to_vec(), TTL).await;

    assert!(matches!(second, Err(StoreError::Exists)), "{second:?}");
    assert_eq!(
        store.take_login(&key).await.unwrap().as_deref(),
        Some(&b"first"[..])
    );
}

async fn the_first_binding_of_a_login_wins(store: Store) {
    let key = new_key();
    store.put_binding(&key, "first-browser", TTL).await.unwrap();

    let second = store.put_binding(&key, "second-browser", TTL).await;

    assert!(matches!(second, Err(StoreError::Exists)), "{second:?}");
    assert_eq!(
        store.binding(&key).await.unwrap().as_deref(),
        Some("first-browser")
    );
    assert_eq!(store.binding(&new_key()).await.unwrap(), None);
}

async fn result_details_are_read_once_and_only_by_their_upstream(store: Store) {
    let jti = new_jti();
    store
        .put_result_details("demo", &jti, b"details".to_vec(), TTL)
        .await
        .unwrap();

    let by_another = store.take_result_details("other", &jti).await.unwrap();
    let by_its_own = store.take_result_details("demo", &jti).await.unwrap();
    let again = store.take_result_details("demo", &jti).await.unwrap();

    assert_eq!(by_another, None);
    assert_eq!(by_its_own.as_deref(), Some(&b"details"[..]));
    assert_eq!(again, None);
}

async fn the_cache_keeps_live_entries_drops_deleted_and_expired_ones(store: Store) {
    let live = |value: &str| CacheEntry {
        value: value.to_owned(),
        expires_at: now_ms() + 60_000,
    };
    let expired = CacheEntry {
        value: "old".to_owned(),
        expires_at: now_ms() - 1,
    };
    store
        .cache_apply(
            "action",
            CacheChanges {
                set: vec![
                    ("kept".into(), live("a")),
                    ("deleted".into(), live("b")),
                    ("expired".into(), expired),
                ],
                delete: Vec::new(),
            },
        )
        .await
        .unwrap();
    store
        .cache_apply(
            "action",
            CacheChanges {
                set: Vec::new(),
                delete: vec!["deleted".into()],
            },
        )
        .await
        .unwrap();

    let mut entries = store.cache_load("action").await.unwrap();
    let other_action = store.cache_load("another-action").await.unwrap();

    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["kept"]);
    assert_eq!(entries[0].1.value, "a");
    assert!(other_action.is_empty());
}
