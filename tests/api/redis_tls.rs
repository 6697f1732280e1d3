//! Redis over TLS (`rediss://`): the server's certificate is verified
//! against the system roots or the bundle `SSL_CERT_FILE` names, so a
//! private CA is trusted the usual way and a certificate nobody vouches for
//! is refused. These run the `detour` binary, because `SSL_CERT_FILE` is
//! process-wide.

use serde_json::Value;

use crate::helpers::cluster::TestCluster;
use crate::helpers::process::DetourProcess;
use crate::helpers::redis::TestRedis;
use crate::helpers::tls::TestCa;
use crate::helpers::{
    ActionFixture, PreparedConfig, StoreKind, TestConfig, error_chain, login_event,
};

fn config() -> TestConfig {
    TestConfig::new(StoreKind::Redis, vec![ActionFixture::favorite_color()])
}

#[tokio::test]
async fn detour_keeps_logins_in_a_tls_redis_whose_ca_is_in_ssl_cert_file() {
    let ca = TestCa::generate();
    let redis = TestRedis::start_tls(&ca);
    let prepared = PreparedConfig::new(&config(), Some(&redis.url()));
    let ca_file = ca.ca_cert().to_string_lossy().into_owned();
    let detour = DetourProcess::start(&prepared, &[("SSL_CERT_FILE", &ca_file)]);

    let ready = detour.get("/readyz").await.status();
    let response = detour.post_login(login_event()).await;
    let status = response.status();
    let outcome: Value = response.json().await.unwrap_or_default();

    assert_eq!(ready, 200, "{}", detour.log());
    assert_eq!(status, 200, "{outcome:#}\n{}", detour.log());
    assert_eq!(outcome["outcome"], "redirect", "{outcome:#}");
    let keys = redis.keys();
    assert!(
        keys.iter().any(|k| k.starts_with("detour:login:")),
        "{keys:?}"
    );
}

#[tokio::test]
async fn detour_refuses_a_tls_redis_whose_certificate_no_trusted_ca_signed() {
    let ca = TestCa::generate();
    let stranger = TestCa::generate();
    let redis = TestRedis::start_tls(&ca);
    let prepared = PreparedConfig::new(&config(), Some(&redis.url()));
    let other_ca = stranger.ca_cert().to_string_lossy().into_owned();
    let detour = DetourProcess::start(&prepared, &[("SSL_CERT_FILE", &other_ca)]);

    let ready = detour.get("/readyz").await.status();
    let login = detour.post_login(login_event()).await.status();

    assert_eq!(ready, 503, "{}", detour.log());
    assert_eq!(login, 503);
    assert_eq!(redis.keys(), Vec::<String>::new());
}

#[tokio::test]
async fn detour_keeps_logins_in_a_tls_redis_cluster() {
    let ca = TestCa::generate();
    let cluster = tokio::task::spawn_blocking(move || {
        let cluster = TestCluster::start_tls(&ca);
        (cluster, ca)
    })
    .await
    .expect("cluster starts");
    let (cluster, ca) = cluster;
    let mut config = config();
    config.store_extra = "redis_cluster = true".into();
    let prepared = PreparedConfig::new(&config, Some(&cluster.seeds()));
    let ca_file = ca.ca_cert().to_string_lossy().into_owned();
    let detour = DetourProcess::start(&prepared, &[("SSL_CERT_FILE", &ca_file)]);

    let ready = detour.get("/readyz").await.status();
    let mut outcomes = Vec::new();
    for _ in 0..6 {
        let response = detour.post_login(login_event()).await;
        outcomes.push(response.json::<Value>().await.unwrap_or_default());
    }

    assert_eq!(ready, 200, "{}", detour.log());
    for outcome in &outcomes {
        assert_eq!(
            outcome["outcome"],
            "redirect",
            "{outcome:#}\n{}",
            detour.log()
        );
    }
    let stored: usize = cluster.nodes.iter().map(|n| n.keys().len()).sum();
    assert_eq!(stored, 6);
}

#[tokio::test]
async fn a_rediss_url_that_turns_verification_off_is_refused_at_start_up() {
    let prepared = PreparedConfig::new(&config(), Some("rediss://localhost:6380/#insecure"));
    let settings = prepared
        .load()
        .unwrap_or_else(|e| panic!("config: {}", error_chain(&e)));

    let error = match detour::startup::Application::build(settings).await {
        Ok(_) => panic!("Detour started with #insecure"),
        Err(e) => format!("{e:#}"),
    };

    assert!(error.contains("store.redis_url"), "{error}");
    assert!(error.contains("SSL_CERT_FILE"), "{error}");
}
