//! Redis going away and coming back, a Redis Cluster, and concurrent
//! double-submits: no lost login, no login completed twice.

use std::time::Duration;

use serde_json::json;

use crate::helpers::cluster::TestCluster;
use crate::helpers::redis::TestRedis;
use crate::helpers::{
    ActionFixture, ExternalVisit, RETURN_TO, StoreKind, TestConfig, json_body, login_event,
    result_from_redirect, spawn_app, spawn_instance,
};

#[tokio::test]
async fn fifty_concurrent_continues_complete_the_login_exactly_once() {
    let app = spawn_app(StoreKind::Redis, vec![ActionFixture::favorite_color()]).await;
    let outcome = app.post_login_outcome(login_event()).await;
    let visit = ExternalVisit::from_outcome(&outcome);
    let token = app.token_from_external_site(&visit, json!({ "favorite_color": "red" }));

    let form = [
        ("state", visit.state.as_str()),
        ("session_token", token.as_str()),
    ];
    let attempts = (0..50).map(|_| app.continue_post(&form));
    let responses = join_all(attempts.map(Box::pin).collect()).await;

    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 302).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 400).count(),
        49,
        "{statuses:?}"
    );
}

/// Drives every future to completion together (no extra crate needed).
async fn join_all<F: std::future::Future>(
    mut futures: Vec<std::pin::Pin<Box<F>>>,
) -> Vec<F::Output> {
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, future) in futures.iter_mut().enumerate() {
            if outputs[i].is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => outputs[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs
        .into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}

#[tokio::test]
async fn a_login_suspended_before_a_redis_restart_with_aof_completes_afterwards() {
    let data = tempfile::tempdir().expect("data dir");
    let dir = data.path().to_string_lossy().into_owned();
    let mut redis = TestRedis::start_with(&[
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--dir",
        &dir,
    ]);
    let config = TestConfig::new(StoreKind::Redis, vec![ActionFixture::favorite_color()]);
    let app = spawn_instance(&config, Some(&redis.url())).await;
    let visit = ExternalVisit::from_outcome(&app.post_login_outcome(login_event()).await);
    let token = app.token_from_external_site(&visit, json!({ "favorite_color": "red" }));

    // Redis dies mid-flow: the browser gets an error page, the API a 503.
    redis.stop();
    let down_page = app
        .continue_post(&[("state", &visit.state), ("session_token", &token)])
        .await;
    let down_api = app.post_login(login_event(), RETURN_TO).await;
    let ready_while_down = app.get("/readyz").await.status();

    assert_eq!(down_page.status(), 503);
    let page = down_page.text().await.unwrap_or_default();
    assert!(page.contains("temporarily_unavailable"), "{page}");
    let body = json_body(down_api, 503).await;
    assert_eq!(body["error"], "temporarily_unavailable");
    assert_eq!(ready_while_down, 503);

    // Redis comes back with its AOF: Detour recovers by itself and the
    // suspended login completes.
    redis.restart();
    let mut ready = app.get("/readyz").await.status();
    for _ in 0..50 {
        if ready == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        ready = app.get("/readyz").await.status();
    }
    assert_eq!(ready, 200, "Detour did not reconnect to Redis");
    let response = app
        .continue_post(&[("state", &visit.state), ("session_token", &token)])
        .await;
    let (result, _) = result_from_redirect(response, RETURN_TO).await;
    assert_eq!(result["outcome"], "allow", "{result:#}");
    assert_eq!(result["user"]["user_metadata"]["favorite_color"], "red");
}

#[tokio::test]
async fn the_first_reads_after_a_redis_restart_succeed_without_a_503() {
    let mut redis = TestRedis::start();
    let mut config = TestConfig::new(StoreKind::Redis, vec![ActionFixture::favorite_color()]);
    // With binding on, `/continue` reads the binding (a plain GET) before
    // it takes the login (a GETDEL, never retried).
    config.server_extra = "browser_binding = true".into();
    let app = spawn_instance(&config, Some(&redis.url())).await;
    let visit = ExternalVisit::from_outcome(&app.post_login_outcome(login_event()).await);
    assert_eq!(app.get("/readyz").await.status(), 200);

    // Redis restarts between two calls (empty: persistence is off); the
    // connection Detour holds is now dead, and it does not know yet.
    redis.restart();
    let ready = app.get("/readyz").await.status();
    // Again, and the first call is `/continue`'s binding read: the login is
    // gone with the data, which is an `invalid_request`, not a 503.
    redis.restart();
    let token = app.token_from_external_site(&visit, json!({ "favorite_color": "red" }));
    let continued = app
        .continue_get_accepting_json(&[("state", &visit.state), ("session_token", &token)])
        .await
        .status();

    assert_eq!(ready, 200);
    assert_eq!(continued, 400);
}

#[tokio::test]
async fn the_full_detour_passes_on_a_three_master_redis_cluster() {
    let cluster = tokio::task::spawn_blocking(TestCluster::start)
        .await
        .expect("cluster starts");
    let mut config = TestConfig::new(
        StoreKind::Redis,
        vec![
            ActionFixture::favorite_color(),
            ActionFixture::named("cache-counter"),
        ],
    );
    config.store_extra = "redis_cluster = true".into();
    let app = spawn_instance(&config, Some(&cluster.seeds())).await;
    let other = spawn_instance(&config, Some(&cluster.seeds())).await;

    let mut logins = Vec::new();
    for _ in 0..5 {
        let visit = ExternalVisit::from_outcome(&app.post_login_outcome(login_event()).await);
        let token = app.token_from_external_site(&visit, json!({ "favorite_color": "red" }));
        logins.push((visit, token));
    }
    let ready = app.get("/readyz").await.status();

    assert_eq!(ready, 200);
    let mut visits = Vec::new();
    for (visit, token) in logins {
        // Continued on the other instance, through whichever node holds it.
        let response = other
            .continue_post(&[("state", &visit.state), ("session_token", &token)])
            .await;
        let (result, _) = result_from_redirect(response, RETURN_TO).await;
        assert_eq!(result["outcome"], "allow", "{result:#}");
        assert_eq!(result["user"]["user_metadata"]["favorite_color"], "red");
        visits.push(result["id_token"]["claims"]["visits"].clone());
    }
    // api.cache works through the cluster too: each login saw the last.
    assert_eq!(
        visits,
        vec![json!(1), json!(2), json!(3), json!(4), json!(5)]
    );
}
