//! The `event` an Action sees (docs/auth0-compatibility.md#event-fields-always-present): every field Auth0 always
//! provides is there with Auth0's type even when the upstream sends a
//! sparse event, what the upstream sent reaches the Action unchanged, and
//! an always-present field sent with the wrong type is refused by name.

use serde_json::{Value, json};

use crate::helpers::{
    ActionFixture, RETURN_TO, StoreKind, TestConfig, claim, json_body, login_event, spawn_app,
    spawn_app_with,
};

async fn outcome(fixture: &'static str, event: Value) -> Value {
    let app = spawn_app(StoreKind::InMemory, vec![ActionFixture::named(fixture)]).await;
    app.post_login_outcome(event).await
}

/// Merges `extra` into `target`, object by object.
fn deep_merge(target: &mut Value, extra: Value) {
    match (target, extra) {
        (Value::Object(t), Value::Object(e)) => {
            for (k, v) in e {
                deep_merge(t.entry(k).or_insert(Value::Null), v);
            }
        }
        (t, e) => *t = e,
    }
}

#[tokio::test]
async fn a_minimal_event_gets_every_always_present_field_with_auth0s_type() {
    let outcome = outcome("event-field-types", json!({"user": {"user_id": "u"}})).await;

    let types = claim(&outcome, "id_token", "https://detour.test/types")
        .unwrap_or_else(|| panic!("no types claim: {outcome:#}"));
    assert_eq!(
        types,
        &json!({
            "user.user_id": "string",
            "user.created_at": "string",
            "user.updated_at": "string",
            "user.email_verified": "boolean",
            "user.app_metadata": "object",
            "user.user_metadata": "object",
            "user.identities": "array",
            "request.ip": "string",
            "request.method": "string",
            "request.query": "object",
            "request.body": "object",
            "request.geoip": "object",
            "request.hostname": "string",
            "transaction.metadata": "object",
            "authorization.roles": "array",
            "client.client_id": "string",
            "client.name": "string",
            "client.metadata": "object",
            "connection.id": "string",
            "connection.name": "string",
            "connection.strategy": "string",
            "connection.metadata": "object",
            "stats.logins_count": "number",
            "tenant.id": "string",
            "secrets": "object",
            "configuration": "object",
            // Auth0's optional fields stay absent.
            "session": "undefined",
            "organization": "undefined",
            "user.email": "undefined",
        })
    );
}

#[tokio::test]
async fn a_full_event_reaches_the_action_unchanged() {
    let mut event = login_event();
    deep_merge(
        &mut event,
        json!({
            "user": { "app_metadata": { "plan": "gold", "n": [1, 2] },
                      "user_metadata": { "favorite_color": "blue" },
                      "phone_verified": false, "multifactor": ["guardian"],
                      "custom_profile_field": { "deep": true } },
            "request": { "asn": "AS64500", "body": { "k": "v" } },
            "client": { "metadata": { "tier": "internal" } },
            "connection": { "metadata": { "region": "nz" } },
            "transaction": { "metadata": { "step": 2, "ok": true },
                             "acr_values": [], "ui_locales": ["en-NZ"], "prompt": ["login"] },
            "organization": { "id": "org_1", "name": "acme", "display_name": "Acme",
                              "metadata": {} },
            "session": { "id": "sess_1", "device": { "last_ip": "203.0.113.7" } },
            "resource_server": { "identifier": "https://api.corp.test" },
            "custom_domain": { "domain": "login.corp.test", "domain_metadata": {} },
            "security_context": { "ja3": "abc", "ja4": "def" },
            "agent": { "anything": 1 },
        }),
    );
    let mut expected = event.clone();
    expected
        .as_object_mut()
        .expect("the event is an object")
        .remove("secrets");

    let outcome = outcome("event-echo", event).await;

    let seen = claim(&outcome, "id_token", "https://detour.test/event")
        .unwrap_or_else(|| panic!("no event claim: {outcome:#}"));
    assert_eq!(seen, &expected);
}

#[tokio::test]
async fn a_wrongly_typed_always_present_field_is_refused_by_name() {
    let app = spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("event-field-types")],
    )
    .await;
    for (event, field, expected) in [
        (
            json!({"user": {"user_id": "u", "app_metadata": "x"}}),
            "event.user.app_metadata",
            "an object",
        ),
        (
            json!({"user": {"user_id": "u", "identities": {}}}),
            "event.user.identities",
            "an array",
        ),
        (
            json!({"user": {"user_id": "u"}, "authorization": {"roles": "admin"}}),
            "event.authorization.roles",
            "an array",
        ),
        (
            json!({"user": {"user_id": "u"}, "request": {"geoip": []}}),
            "event.request.geoip",
            "an object",
        ),
        (
            json!({"user": {"user_id": "u"}, "stats": {"logins_count": "3"}}),
            "event.stats.logins_count",
            "a number",
        ),
        (
            json!({"user": {"user_id": "u"}, "transaction": 5}),
            "event.transaction",
            "an object",
        ),
    ] {
        let response = app.post_login(event, RETURN_TO).await;
        let error = json_body(response, 400).await;
        assert_eq!(error["error"], "invalid_request", "{error:#}");
        let description = error["error_description"].as_str().unwrap_or_default();
        assert!(
            description.starts_with(&format!("{field} must be {expected}")),
            "{field}: {description:?}"
        );
    }
}

#[tokio::test]
async fn an_event_read_every_way_shows_its_own_fields_and_an_actions_changes_stay_its_own() {
    // Fields reach a kept context one at a time, on first read
    // (docs/performance.md): whichever way the Action reads them, it sees
    // the event it was given, an earlier login's event kept in module scope
    // still reads that login's fields, and what the Action changes reaches
    // no later Action.
    // One engine thread, so both logins meet the same kept context.
    let mut config = TestConfig::new(
        StoreKind::InMemory,
        vec![
            ActionFixture::named("event-views"),
            ActionFixture::named("event-echo"),
        ],
    );
    config.engine_extra = "workers = 1\ninline = false".into();
    let app = spawn_app_with(config).await;
    let login = |user: &str, n: &str| {
        let mut event = login_event();
        deep_merge(
            &mut event,
            json!({ "user": { "user_id": user }, "request": { "query": { "n": n } } }),
        );
        event
    };

    let first = app.post_login_outcome(login("auth0|first", "1")).await;
    let second = app.post_login_outcome(login("auth0|second", "2")).await;

    let views = claim(&second, "id_token", "https://detour.test/views")
        .unwrap_or_else(|| panic!("no views claim: {second:#}"));
    // The keys as the next Action (which reads the whole event) sees them.
    let echoed = claim(&second, "id_token", "https://detour.test/event")
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("no event claim: {second:#}"));
    let mut keys: Vec<Value> = echoed.keys().map(|k| json!(k)).collect();
    keys.push(json!("secrets"));
    let keys = Value::Array(keys);
    assert_eq!(views["keys"], keys, "{views:#}");
    assert_eq!(views["json_keys"], keys, "{views:#}");
    for check in [
        "has_user",
        "same_object",
        "change_sticks",
        "assigned",
        "deleted",
        "frozen_read",
    ] {
        assert_eq!(views[check], true, "{check}: {views:#}");
    }
    assert_eq!(views["through_prototype"], "auth0|second");
    assert_eq!(views["spread"], "auth0|second");
    assert_eq!(views["previous_user"], "auth0|first");
    assert_eq!(views["previous_unread"], "1");
    assert_eq!(views["keys_after"][1], "client");
    assert!(
        !views["keys_after"]
            .as_array()
            .is_some_and(|k| k.contains(&json!("connection")))
    );

    for outcome in [&first, &second] {
        let echoed = claim(outcome, "id_token", "https://detour.test/event")
            .unwrap_or_else(|| panic!("no event claim: {outcome:#}"));
        assert_eq!(echoed["user"]["app_metadata"], json!({}), "{echoed:#}");
        assert_eq!(echoed["client"]["name"], "Corp Portal", "{echoed:#}");
        assert_eq!(echoed["connection"]["strategy"], "auth0", "{echoed:#}");
    }
}

#[tokio::test]
async fn one_kept_context_reads_logins_whose_events_have_different_fields() {
    // A kept context reuses the accessors of the last sequence of keys it
    // saw: a login with other keys (an organization, a session) must get
    // its own, and the next plain login the plain ones again.
    let mut config = TestConfig::new(
        StoreKind::InMemory,
        vec![ActionFixture::named("event-echo")],
    );
    config.engine_extra = "workers = 1\ninline = false".into();
    let app = spawn_app_with(config).await;
    let plain = login_event();
    let mut with_org = login_event();
    deep_merge(
        &mut with_org,
        json!({ "organization": { "id": "org_1", "name": "acme", "display_name": "Acme",
                                  "metadata": {} } }),
    );
    let mut with_session = login_event();
    deep_merge(
        &mut with_session,
        json!({ "session": { "id": "sess_1" },
                "organization": { "id": "org_2", "name": "beta", "display_name": "Beta",
                                  "metadata": {} } }),
    );
    // What each event shows in a context of its own.
    let mut alone = Vec::new();
    for event in [&plain, &with_org, &with_session] {
        let outcome = outcome("event-echo", event.clone()).await;
        alone.push(claim(&outcome, "id_token", "https://detour.test/event").cloned());
    }
    for (event, i) in [
        (&plain, 0),
        (&with_org, 1),
        (&plain, 0),
        (&with_session, 2),
        (&with_org, 1),
        (&plain, 0),
    ] {
        let outcome = app.post_login_outcome(event.clone()).await;
        let seen = claim(&outcome, "id_token", "https://detour.test/event")
            .unwrap_or_else(|| panic!("no event claim: {outcome:#}"));
        assert_eq!(Some(seen), alone[i].as_ref(), "login of event {i}");
        let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
        assert_eq!(
            keys(seen),
            alone[i].as_ref().and_then(keys),
            "keys of event {i}"
        );
        assert!(seen["organization"].is_object() == (i > 0), "{seen:#}");
    }
}

#[tokio::test]
async fn a_metadata_setter_refuses_metadata_the_action_made_a_non_object_and_needs_no_read_otherwise()
 {
    // The check reads event.user only when the Action could have changed
    // it: a user still unread is the one Detour built.
    let app = spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("metadata-format")],
    )
    .await;
    let with_query = |query: Value| {
        let mut event = login_event();
        deep_merge(&mut event, json!({ "request": { "query": query } }));
        event
    };

    let unread = app.post_login_outcome(with_query(json!({}))).await;
    let broken = app
        .post_login_outcome(with_query(json!({ "break": "yes" })))
        .await;

    assert_eq!(unread["outcome"], "allow", "{unread:#}");
    assert_eq!(
        unread["user"]["user_metadata"],
        json!({ "checked": true }),
        "{unread:#}"
    );
    assert_eq!(broken["outcome"], "deny", "{broken:#}");
    assert_eq!(
        broken["error_description"],
        "Unexpected user_metadata format. Must be a valid JSON object"
    );
}

#[tokio::test]
async fn an_event_read_through_a_proxy_another_receiver_or_copied_descriptors_shows_its_fields_in_both_isolation_modes()
 {
    // A kept context's fields are accessors until read: each must answer
    // as a data property does, whatever the receiver, and an assignment to
    // the sealed event must stick.
    for isolation in ["per_instance", "per_execution"] {
        let mut config = TestConfig::new(
            StoreKind::InMemory,
            vec![ActionFixture::named("event-other-receivers")],
        );
        config.isolation = isolation;
        let app = spawn_app_with(config).await;

        let outcome = app.post_login_outcome(login_event()).await;

        let seen = claim(&outcome, "id_token", "https://detour.test/receivers")
            .unwrap_or_else(|| panic!("{isolation}: no claim: {outcome:#}"));
        assert_eq!(
            seen,
            &json!({
                "proxy": login_event()["user"]["user_id"],
                "reflect_receiver": "Corp Portal",
                "descriptor_copy": "auth0",
                "hidden_read": true,
                "hidden_assigned": true,
                "sealed_assign": true,
            }),
            "{isolation}"
        );
    }
}
