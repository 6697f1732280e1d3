//! Hostile Actions and hostile browsers: every rule an Action or a browser
//! could once talk its way past now holds, because Rust enforces it on
//! what leaves the engine and on what the browser sends.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::helpers::{
    ActionFixture, ExternalVisit, PUBLIC_URL, RETURN_TO, StoreKind, TestApp, TestConfig, claim,
    json_body, login_event, result_from_redirect, spawn_app, spawn_app_with,
};

/// What the engine writes when it cuts an execution's console output.
const TRUNCATED: &str = "[console output truncated: more than 64 KiB]";
/// The console cap of one execution.
const MAX_LOG_BYTES: usize = 64 * 1024;

/// An ID-token claim of an outcome or result (`null` when absent).
fn id_claim(outcome: &Value, name: &str) -> Value {
    claim(outcome, "id_token", name)
        .cloned()
        .unwrap_or(Value::Null)
}

fn event_with_query(query: Value) -> Value {
    let mut event = login_event();
    event["request"]["query"] = query;
    event
}

async fn metrics(app: &TestApp) -> String {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    response.text().await.expect("metrics body")
}

fn counter(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}

// ---- 1. the console cap ----------------------------------------------------

#[tokio::test]
async fn the_console_cap_holds_whatever_the_action_does_to_the_engines_js() {
    // Before the fix the cap was counted in JS, on a record an Action could
    // reach through an Object.prototype getter and reset, and the run
    // function was a global the Action could re-enter with a fresh 64 KiB
    // each time: this fixture then kept all 650 KB of its output.
    let app = spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("console-cap-attack")],
    )
    .await;

    let outcome = app.post_login_outcome(login_event()).await;

    assert_eq!(
        outcome["outcome"], "allow",
        "{}",
        outcome["error_description"]
    );
    let lines: Vec<String> = outcome["executions"]
        .as_array()
        .expect("executions")
        .iter()
        .flat_map(|e| e["logs"].as_array().cloned().unwrap_or_default())
        .map(|line| line.as_str().expect("a log line is a string").to_owned())
        .collect();
    let bytes: usize = lines.iter().map(String::len).sum();
    assert!(
        bytes <= MAX_LOG_BYTES + TRUNCATED.len(),
        "{bytes} bytes of console output kept in {} lines",
        lines.len()
    );
    assert_eq!(lines.last().map(String::as_str), Some(TRUNCATED));
    assert_eq!(
        lines.iter().filter(|l| l.as_str() == TRUNCATED).count(),
        1,
        "one marker, at the end"
    );
    // Neither way in is open any more.
    assert_eq!(id_claim(&outcome, "run_type"), json!("undefined"));
    assert_eq!(id_claim(&outcome, "record_leaked"), json!(false));
}

// ---- 2. canRedirect ----------------------------------------------------------

const CAN_REDIRECT: &str = "https://detour.test/can-redirect";

#[tokio::test]
async fn prompt_none_on_the_continue_url_does_not_switch_off_can_redirect_for_later_actions() {
    // Before the fix canRedirect() was computed again from the /continue
    // request, so a browser adding `prompt=none` there made later Actions
    // (an MFA step that skips itself when it cannot redirect) see false.
    let app = spawn_app(
        StoreKind::InMemory,
        vec![
            ActionFixture::named("always-redirect"),
            ActionFixture::named("can-redirect-probe"),
        ],
    )
    .await;
    let outcome = app.post_login_outcome(login_event()).await;
    let visit = ExternalVisit::from_outcome(&outcome);

    let response = app
        .continue_get(&[("state", visit.state.as_str()), ("prompt", "none")])
        .await;

    let (result, _) = result_from_redirect(response, RETURN_TO).await;
    assert_eq!(result["outcome"], "allow", "{result:#}");
    assert_eq!(id_claim(&result, "https://detour.test/mfa"), json!("done"));
    assert_eq!(id_claim(&result, CAN_REDIRECT), json!(true));
}

#[tokio::test]
async fn a_fresh_prompt_none_login_still_cannot_redirect() {
    let app = spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("can-redirect-probe")],
    )
    .await;
    let mut event = login_event();
    event["request"]["query"]["prompt"] = json!("none");

    let outcome = app.post_login_outcome(event).await;

    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    assert_eq!(id_claim(&outcome, CAN_REDIRECT), json!(false));
}

// ---- 3. forged reports ---------------------------------------------------------

/// The forged command lists `forged-report.js` can hand over, by name.
const FORGERIES: &[&str] = &[
    "javascript",
    "data",
    "unparsable",
    "cache",
    "cache-many",
    "cache-big",
    "primary-user",
    "multifactor",
    "transaction-metadata",
    "cookie-mode",
    "unknown-op",
];

#[tokio::test]
async fn a_forged_report_never_produces_an_outcome_rust_did_not_validate() {
    // Before the fix the Action could replace JSON.stringify and hand Rust
    // any commands: a javascript: or data: redirect went to the browser, an
    // unparsable one was a 500, and cache entries of any size and lifetime
    // were written. Today's route (an inherited toJSON, which the error
    // report still meets) reaches Rust too, where every command is checked.
    let app = spawn_app(
        StoreKind::Redis,
        vec![ActionFixture::named("forged-report")],
    )
    .await;
    let redis = app.redis.as_ref().expect("a Redis store");

    for attack in FORGERIES {
        let response = app
            .post_login(event_with_query(json!({ "attack": attack })), RETURN_TO)
            .await;

        let outcome = json_body(response, 200).await;
        assert_eq!(outcome["outcome"], "deny", "{attack}: {outcome:#}");
        assert_eq!(outcome["error"], "access_denied", "{attack}: {outcome:#}");
        assert_eq!(outcome.get("location"), None, "{attack}: {outcome:#}");
        let description = outcome["error_description"].as_str().unwrap_or_default();
        assert!(
            description.starts_with("Action \"forged-report\" "),
            "{attack}: {description}"
        );
    }

    let cache_keys: Vec<String> = redis
        .keys()
        .into_iter()
        .filter(|k| k.starts_with("detour:cache:"))
        .collect();
    assert_eq!(
        cache_keys,
        Vec::<String>::new(),
        "no forged cache entry is written"
    );
}

#[tokio::test]
async fn an_action_that_replaces_everything_the_engine_might_use_gets_only_what_rust_validated() {
    // The fixture replaces JSON, Object, Array and Promise methods,
    // Reflect.apply, Function.prototype.call/apply, String and Error with
    // versions that slip in a javascript: redirect and a "scope" claim,
    // then calls the api like any Action and throws. Its inherited toJSON
    // still reaches the error report, so Rust sees the forged commands and
    // refuses them; before the fix the redirect went to the browser.
    let app = spawn_app(
        StoreKind::InMemory,
        vec![ActionFixture::named("overrides-everything")],
    )
    .await;

    for _ in 0..2 {
        let outcome = app.post_login_outcome(login_event()).await;

        assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
        assert_eq!(outcome["error"], "access_denied", "{outcome:#}");
        assert_eq!(outcome.get("location"), None, "{outcome:#}");
        let description = outcome["error_description"].as_str().unwrap_or_default();
        assert!(
            description.starts_with("Action \"overrides-everything\" made an invalid api call: "),
            "{description}"
        );
        assert_eq!(claim(&outcome, "id_token", "scope"), None, "{outcome:#}");
        assert_eq!(
            claim(&outcome, "id_token", "https://detour.test/legit"),
            None,
            "a refused execution's commands are discarded: {outcome:#}"
        );
    }
}

// ---- 4 and 5. browser binding --------------------------------------------------

async fn bound_app(store: StoreKind) -> TestApp {
    let mut config = TestConfig::new(store, vec![ActionFixture::favorite_color()]);
    config.server_extra = "browser_binding = true".into();
    spawn_app_with(config).await
}

/// The upstream's redirect outcome of a bound login: Detour's `/redirect`
/// URL (as a path) and the raw state in it.
async fn start_a_bound_login(app: &TestApp) -> (String, String) {
    let outcome = app.post_login_outcome(login_event()).await;
    let bounce = outcome["location"].as_str().expect("location").to_owned();
    let path = bounce
        .strip_prefix(PUBLIC_URL)
        .unwrap_or_else(|| panic!("{bounce} is not on Detour"))
        .to_owned();
    assert!(path.starts_with("/redirect?state="), "{bounce}");
    let state = ExternalVisit::from_location(&bounce).state;
    (path, state)
}

/// The browser follows `/redirect`: the binding cookie and the external
/// site it is sent to.
async fn open_the_detour(app: &TestApp, path: &str) -> (ExternalVisit, String) {
    let response = app.get(path).await;
    assert_eq!(response.status(), 302);
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("a binding cookie")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    let external = response.headers()[LOCATION]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(
        external.starts_with("https://my-app.example.com/"),
        "{external}"
    );
    (ExternalVisit::from_location(&external), cookie)
}

async fn continue_with_cookie(
    app: &TestApp,
    visit: &ExternalVisit,
    cookie: Option<&str>,
) -> reqwest::Response {
    let token = app.token_from_external_site(visit, json!({ "favorite_color": "red" }));
    let mut request = app.client.post(format!("{}/continue", app.address)).form(&[
        ("state", visit.state.as_str()),
        ("session_token", token.as_str()),
    ]);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request.send().await.expect("POST /continue")
}

/// Every key in Redis with its value, whatever its type.
fn redis_dump(redis: &crate::helpers::redis::TestRedis) -> Vec<(String, String)> {
    redis
        .keys()
        .into_iter()
        .map(|key| {
            let kind = redis.cli(&["--raw", "TYPE", &key]);
            let value = match kind.trim() {
                "string" => redis.cli(&["--raw", "GET", &key]),
                "hash" => redis.cli(&["--raw", "HGETALL", &key]),
                "list" => redis.cli(&["--raw", "LRANGE", &key, "0", "-1"]),
                "set" => redis.cli(&["--raw", "SMEMBERS", &key]),
                "zset" => redis.cli(&["--raw", "ZRANGE", &key, "0", "-1", "WITHSCORES"]),
                other => panic!("key {key} has an unexpected type {other}"),
            };
            (key, value)
        })
        .collect()
}

#[tokio::test]
async fn a_bound_login_keeps_no_raw_state_in_redis_and_still_completes() {
    // Before the fix the bound record kept the external URL, `state=`
    // included, in clear: anyone who could read Redis could continue the
    // login.
    let app = bound_app(StoreKind::Redis).await;
    let redis = app.redis.as_ref().expect("a Redis store");

    let (path, state) = start_a_bound_login(&app).await;

    let dump = redis_dump(redis);
    assert!(!dump.is_empty(), "the suspended login is stored");
    for (key, value) in &dump {
        assert!(!key.contains(&state), "the raw state is in the key {key}");
        assert!(
            !value.contains(&state),
            "the raw state is in the value of {key}: {value}"
        );
    }
    let (visit, cookie) = open_the_detour(&app, &path).await;
    assert_eq!(visit.state, state);
    for (key, value) in redis_dump(redis) {
        assert!(
            !value.contains(&state),
            "the raw state is in the value of {key} after /redirect: {value}"
        );
    }
    let response = continue_with_cookie(&app, &visit, Some(&cookie)).await;
    let (result, _) = result_from_redirect(response, RETURN_TO).await;
    assert_eq!(result["outcome"], "allow", "{result:#}");
}

#[tokio::test]
async fn a_continue_before_the_first_redirect_is_refused_and_burns_nothing() {
    // Before the fix such a /continue (no cookie: no browser was bound yet)
    // took the login out of the StoreKind::Redis before refusing, so the real user's
    // /redirect found nothing.
    let app = bound_app(StoreKind::Redis).await;
    let (path, state) = start_a_bound_login(&app).await;
    let early = ExternalVisit::from_location(&format!("https://my-app.example.com/?state={state}"));

    let refused = continue_with_cookie(&app, &early, None).await;
    let refused_json = app
        .continue_get_accepting_json(&[("state", state.as_str())])
        .await;

    let page = crate::helpers::assert_invalid_request_page(refused).await;
    assert!(page.contains("not opened through Detour"), "{page}");
    let body = json_body(refused_json, 400).await;
    assert_eq!(body["error"], "invalid_request", "{body:#}");
    let (visit, cookie) = open_the_detour(&app, &path).await;
    let response = continue_with_cookie(&app, &visit, Some(&cookie)).await;
    let (result, _) = result_from_redirect(response, RETURN_TO).await;
    assert_eq!(result["outcome"], "allow", "{result:#}");
}

// ---- 6. breaches come from the host ----------------------------------------------

async fn breach_words_app() -> TestApp {
    let mut config = TestConfig::new(
        StoreKind::InMemory,
        vec![ActionFixture::named("throws-breach-words")],
    );
    // One engine, so every login meets the same runtime.
    config.engine_extra = "workers = 1\ninline = false".into();
    spawn_app_with(config).await
}

/// What `throw_between_two_logins` saw.
struct Between {
    /// The outcome of the throwing login.
    thrown: Value,
    /// The module's execution count in the logins before and after it.
    counts: [Value; 2],
    /// Metrics just before and just after the throwing login.
    before: String,
    after: String,
}

const SERIES: &str = "detour_action_executions_total{action=\"throws-breach-words\",result=";
const SLOW: &str = "detour_action_slow_executions_total{action=\"throws-breach-words\"}";

impl Between {
    /// How much the execution counter for `result` moved.
    fn delta(&self, result: &str) -> u64 {
        let series = format!("{SERIES}\"{result}\"}}");
        counter(&self.after, &series) - counter(&self.before, &series)
    }
}

/// On a fresh server, logs in once normally, once throwing `throw`, once
/// normally again. A slow execution (a loaded machine) lets a spare engine,
/// with its own runtime, take a login; then the module's count says
/// nothing about the runtime, and the three logins run again on a new
/// server.
async fn throw_between_two_logins(throw: &str) -> Between {
    for attempt in 1..=3 {
        let app = breach_words_app().await;
        let first = app.post_login_outcome(login_event()).await;
        assert_eq!(first["outcome"], "allow", "{first:#}");
        let before = metrics(&app).await;
        let thrown = app
            .post_login_outcome(event_with_query(json!({ "throw": throw })))
            .await;
        let after = metrics(&app).await;
        let last = app.post_login_outcome(login_event()).await;
        assert_eq!(last["outcome"], "allow", "{last:#}");
        if counter(&metrics(&app).await, SLOW) == 0 || attempt == 3 {
            return Between {
                thrown,
                counts: [
                    id_claim(&first, "executions"),
                    id_claim(&last, "executions"),
                ],
                before,
                after,
            };
        }
    }
    unreachable!("the last attempt returns")
}

/// What the engine reports when an Action breaks its own error handling.
const FAILED: &str = "Action \"throws-breach-words\" failed";

#[tokio::test]
async fn an_error_that_says_out_of_memory_is_the_actions_error_not_a_memory_breach() {
    // Before the fix a breach was read from the error's text: this deny said
    // "exceeded the memory limit", counted as out_of_memory, and the
    // Action's runtime was thrown away (its module state with it).
    let seen = throw_between_two_logins("oom").await;

    let outcome = &seen.thrown;
    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    assert_eq!(outcome["error"], "access_denied", "{outcome:#}");
    assert_eq!(outcome["error_description"], "billing API: out of memory");
    assert_eq!(seen.delta("out_of_memory"), 0, "{}", seen.after);
    assert_eq!(seen.delta("error"), 1, "{}", seen.after);
    assert_eq!(seen.counts, [json!(1), json!(3)], "the runtime was kept");
}

#[tokio::test]
async fn an_out_of_memory_text_that_escapes_the_engines_js_is_not_a_memory_breach() {
    // The same text, made to escape the engine's own run function: the old
    // engine read "out of memory" there as a breach too.
    let seen = throw_between_two_logins("oom-escape").await;

    let outcome = &seen.thrown;
    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    assert_eq!(outcome["error"], "access_denied", "{outcome:#}");
    assert_eq!(outcome["error_description"], FAILED);
    assert_eq!(seen.delta("out_of_memory"), 0, "{}", seen.after);
    assert_eq!(seen.delta("error"), 1, "{}", seen.after);
}

#[tokio::test]
async fn an_error_that_says_interrupted_is_never_a_timeout() {
    // The old engine took "interrupted" in a failure of its run function
    // for the deadline's interrupt: a timeout, well inside the 20 s budget.
    // (A plain throw of that text was already the Action's error; it is
    // kept here so it stays so.)
    let thrown = throw_between_two_logins("interrupted").await;
    let escaped = throw_between_two_logins("interrupted-escape").await;

    assert_eq!(thrown.thrown["outcome"], "deny", "{:#}", thrown.thrown);
    assert_eq!(thrown.thrown["error_description"], "interrupted");
    assert_eq!(thrown.counts, [json!(1), json!(3)], "the runtime was kept");
    assert_eq!(escaped.thrown["outcome"], "deny", "{:#}", escaped.thrown);
    assert_eq!(escaped.thrown["error_description"], FAILED);
    for seen in [thrown, escaped] {
        assert_eq!(seen.delta("timeout"), 0, "{}", seen.after);
        assert_eq!(seen.delta("error"), 1, "{}", seen.after);
    }
}

#[tokio::test]
async fn throwing_null_is_a_deny_not_a_memory_breach() {
    // A null carries no text to read a breach from: only the allocator can
    // say memory ran out. Thrown by the handler it is the Action's error;
    // escaping the engine's run function it is a plain failure (the old
    // engine showed its own text for it: "could not run: engine
    // failure: ...").
    let thrown = throw_between_two_logins("null").await;
    let escaped = throw_between_two_logins("null-escape").await;

    assert_eq!(thrown.thrown["outcome"], "deny", "{:#}", thrown.thrown);
    assert_eq!(
        thrown.thrown["error"], "access_denied",
        "{:#}",
        thrown.thrown
    );
    assert_eq!(thrown.thrown["error_description"], "null");
    assert_eq!(thrown.counts, [json!(1), json!(3)], "the runtime was kept");
    assert_eq!(escaped.thrown["outcome"], "deny", "{:#}", escaped.thrown);
    assert_eq!(escaped.thrown["error_description"], FAILED);
    for seen in [thrown, escaped] {
        assert_eq!(seen.delta("out_of_memory"), 0, "{}", seen.after);
        assert_eq!(seen.delta("error"), 1, "{}", seen.after);
    }
}

// ---- 7. memory is per Action --------------------------------------------------------

#[tokio::test]
async fn one_actions_memory_never_fails_another() {
    // Before the fix every Action shared one runtime and one limit: the
    // 40 MiB the first Action keeps plus the 40 MiB the second allocates
    // broke the 64 MiB limit, and the second was blamed.
    let mut config = TestConfig::new(
        StoreKind::InMemory,
        vec![
            ActionFixture::named("holds-40-mib"),
            ActionFixture::named("allocates-40-mib"),
        ],
    );
    config.engine_extra = "workers = 1\ninline = false".into();
    assert!(config.toml(None).contains("memory_limit_mb = 64"));
    let app = spawn_app_with(config).await;

    for _ in 0..3 {
        let outcome = app.post_login_outcome(login_event()).await;

        assert_eq!(
            outcome["outcome"], "allow",
            "{}",
            outcome["error_description"]
        );
        assert_eq!(id_claim(&outcome, "hoard_mib"), json!(40));
        assert_eq!(id_claim(&outcome, "scratch_mib"), json!(40));
    }

    let mut bomb = login_event();
    bomb["user"]["user_metadata"] = json!({ "misbehave": true });
    let outcome = app.post_login_outcome(bomb).await;
    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    assert_eq!(
        outcome["error_description"],
        "Action \"allocates-40-mib\" exceeded the memory limit"
    );
    let after = app.post_login_outcome(login_event()).await;
    assert_eq!(after["outcome"], "allow", "{}", after["error_description"]);
}

// ---- 8. module-scope timers -----------------------------------------------------------

#[tokio::test]
async fn a_module_scope_timer_of_one_action_never_runs_during_anothers_execution() {
    // Before the fix module-scope timers ran on the one shared runtime, so
    // the spinning timer of the second Action fired while the first waited
    // and the first was blamed for the time limit.
    let mut config = TestConfig::new(
        StoreKind::InMemory,
        vec![
            ActionFixture::named("waits-300-ms"),
            ActionFixture::named("module-timer-spins"),
        ],
    );
    config.timeout_ms = 2000;
    config.engine_extra = "workers = 1\ninline = false".into();
    let app = spawn_app_with(config).await;

    let outcome = app.post_login_outcome(login_event()).await;

    let description = outcome["error_description"].as_str().unwrap_or_default();
    assert!(
        !description.contains("waits-300-ms"),
        "the waiting Action is blamed: {outcome:#}"
    );
    match outcome["outcome"].as_str() {
        Some("allow") => assert_eq!(id_claim(&outcome, "waited"), json!(true)),
        Some("deny") => assert!(
            description.starts_with("Action \"module-timer-spins\" "),
            "{outcome:#}"
        ),
        _ => panic!("unexpected outcome {outcome:#}"),
    }
    let records = crate::helpers::executions(&outcome);
    assert_eq!(
        records.first().map(|(action, _)| action.as_str()),
        Some("waits-300-ms")
    );
    assert!(outcome["executions"][0]["error"].is_null(), "{outcome:#}");
}
