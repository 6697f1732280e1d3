//! npm dependencies of Actions: Node's resolution of `require()` against a
//! `node_modules` tree under the actions root, Actions Modules
//! (`require('actions:<name>')`), and the start-up checks that refuse what
//! would fail a login later.
//!
//! Fixture layout (copy it to add tests with real npm packages): the whole
//! directory `tests/fixtures/npm/` is copied into the config's directory,
//! which is the actions root (`TestConfig::tree = Some("npm")`):
//!
//! ```text
//! tests/fixtures/npm/
//!   <action>.js              Actions (ActionFixture::named("<action>"))
//!   modules/logger.js        an Actions Module ([[modules]] in extra_toml)
//!   node_modules/<pkg>/      hand-written packages: package.json + files
//! ```
//!
//! For real packages, put a `package.json` with the exact versions next to
//! the Actions, run `npm ci --omit=dev --ignore-scripts` there once, and
//! commit (or build in the test) the resulting `node_modules`; declare the
//! same versions in `ActionFixture::dependencies`.

use std::process::Command;

use serde_json::json;

use crate::helpers::{
    ActionFixture, ExternalVisit, PreparedConfig, RETURN_TO, StoreKind, TestConfig,
    assert_invalid_request_page, claim, login_event, result_from_redirect, spawn_app_with,
};

const LOGGER_MODULE: &str = "\n[[modules]]\nname = \"logger\"\nfile = \"modules/logger.js\"\nversion = \"3\"\ndependencies = { \"cond-pkg\" = \"1.2.3\" }\n";

fn npm(actions: Vec<ActionFixture>) -> TestConfig {
    TestConfig {
        tree: Some("npm"),
        extra_toml: LOGGER_MODULE.into(),
        ..TestConfig::new(StoreKind::InMemory, actions)
    }
}

fn uses_packages() -> ActionFixture {
    ActionFixture {
        dependencies: vec![
            ("cond-pkg", "1.2.3"),
            ("main-only", "0.4.0"),
            ("@acme/scoped", "2.0.0"),
            ("pkg-a", "1.0.0"),
            ("pkg-b", "1.0.0"),
            ("cycle-pkg", "1.0.0"),
            ("broken-branch", "1.0.0"),
        ],
        ..ActionFixture::named("uses-packages")
    }
}

/// The message start-up (config loading) fails with.
fn start_up_error(config: &TestConfig) -> String {
    let prepared = PreparedConfig::new(config, None);
    match prepared.load() {
        Ok(_) => panic!("the config must be refused"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn an_action_requires_packages_through_exports_main_scopes_and_nested_node_modules() {
    for isolation in ["per_instance", "per_execution"] {
        let app = spawn_app_with(TestConfig {
            isolation,
            ..npm(vec![uses_packages()])
        })
        .await;

        let outcome = app.post_login_outcome(login_event()).await;

        assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
        let claims = &outcome["id_token"]["claims"];
        // `exports`: the `require` condition, the first matching condition
        // in the package's key order (`browser`, before `node`), a `*`
        // pattern, an exported package.json.
        assert_eq!(claims["cond"], "cjs", "{claims:#}");
        assert_eq!(claims["feature"], "browser");
        assert_eq!(claims["shout"], "HI");
        assert_eq!(claims["cond_version"], "1.2.3");
        // `main` without extension, a relative require and JSON inside it.
        assert_eq!(claims["main_only"], 42);
        assert_eq!(
            claims["main_only_file"],
            "node_modules/main-only/lib/entry.js"
        );
        assert_eq!(claims["resolved"], "node_modules/main-only/lib/entry.js");
        assert_eq!(claims["scoped"], "@acme");
        // pkg-a's own node_modules has pkg-c@1; pkg-b gets the top one, @2.
        assert_eq!(claims["a"], "a uses c@1");
        assert_eq!(claims["b"], "b uses c@2");
        // A cycle sees partial exports, as in Node.
        assert_eq!(
            claims["cycle"],
            json!({"early": "early", "late": "late", "bSawEarly": "early", "bSawLate": "undefined"})
        );
        assert_eq!(claims["same_instance"], true);
        // A package file that does not compile fails only when required.
        assert_eq!(claims["broken_branch"], "node");
        let broken = claims["broken_file"].as_str().unwrap_or_default();
        assert!(
            broken.starts_with("node_modules/broken-branch/browser-esm.js:1: SyntaxError"),
            "{broken}"
        );
        // Requires built at run time obey the same rules.
        let hidden = claims["hidden"].as_str().unwrap_or_default();
        assert!(
            hidden.contains("'./cjs/hidden' is not exported"),
            "{hidden}"
        );
        let undeclared = claims["undeclared"].as_str().unwrap_or_default();
        assert!(
            undeclared.contains(
                "'pkg-c' is not among the dependencies of the Action or Module this file belongs to"
            ),
            "{undeclared}"
        );
        let escape = claims["escape"].as_str().unwrap_or_default();
        assert!(escape.contains("outside the actions root"), "{escape}");
        let into = claims["into_node_modules"].as_str().unwrap_or_default();
        assert!(into.contains("require packages by name"), "{into}");
    }
}

#[tokio::test]
async fn node_built_ins_that_would_open_the_sandbox_are_refused_by_name_when_used() {
    let app = spawn_app_with(npm(vec![ActionFixture::named("refused-builtins")])).await;

    let outcome = app.post_login_outcome(login_event()).await;

    let claims = &outcome["id_token"]["claims"];
    assert_eq!(
        claims["net"],
        "Cannot use 'net' in an Action: Detour does not give Actions raw sockets; use fetch",
        "{outcome:#}"
    );
    assert_eq!(
        claims["node:fs"],
        "Cannot use 'node:fs' in an Action: Actions have no file system"
    );
    assert_eq!(
        claims["https"],
        "Cannot use 'https' in an Action: Detour does not give Actions Node's HTTP stack; use fetch"
    );
    assert_eq!(
        claims["child_process"],
        "Cannot use 'child_process' in an Action: Actions cannot start processes or threads"
    );
    assert_eq!(
        claims["vm"],
        "Cannot use 'vm' in an Action: it would reach outside the Action's sandbox"
    );
    assert_eq!(claims["crypto"], "function");
    // Only the client calls (`request`, `get`, carried by fetch) are there.
    assert_eq!(
        claims["http"],
        "object undefined [object Object] 2 node:http"
    );
}

#[tokio::test]
async fn a_commonjs_browser_build_is_preferred_and_an_es_module_browser_build_is_skipped_for_the_node_one()
 {
    let app = spawn_app_with(npm(vec![ActionFixture {
        dependencies: vec![("browser-cjs", "1.0.0"), ("browser-esm", "1.0.0")],
        ..ActionFixture::named("picks-browser-builds")
    }]))
    .await;

    let outcome = app.post_login_outcome(login_event()).await;

    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    let claims = &outcome["id_token"]["claims"];
    assert_eq!(claims["browser_cjs"], "browser-cjs", "{claims:#}");
    assert_eq!(
        claims["resolved"],
        "node_modules/browser-cjs/dist/browser.cjs"
    );
    // Its browser build is an ES module: the CommonJS Node build loads,
    // and its `https.get` is a client over fetch (whose allowlist fails
    // this request later, as an 'error' event).
    assert_eq!(claims["browser_esm"], "node-cjs");
    assert_eq!(claims["remote"], "used");
}

#[tokio::test]
async fn a_package_that_requires_http_at_load_but_never_calls_it_works() {
    let app = spawn_app_with(npm(vec![ActionFixture {
        dependencies: vec![("http-at-load", "1.0.0")],
        ..ActionFixture::named("requires-http-at-load")
    }]))
    .await;

    let outcome = app.post_login_outcome(login_event()).await;

    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    let greeting = outcome["id_token"]["claims"]["greeting"]
        .as_str()
        .unwrap_or_default();
    assert!(greeting.starts_with("hello "), "{outcome:#}");
}

#[tokio::test]
async fn a_package_that_calls_http_get_goes_through_fetch_and_the_actions_allow_hosts() {
    let app = spawn_app_with(npm(vec![ActionFixture {
        dependencies: vec![("http-calls", "1.0.0")],
        ..ActionFixture::named("calls-http")
    }]))
    .await;

    let outcome = app.post_login_outcome(login_event()).await;

    // http.get is carried by fetch, so the Action's allowlist applies.
    assert_eq!(outcome["outcome"], "deny", "{outcome:#}");
    assert_eq!(
        outcome["error_description"],
        "fetch failed: example.com is not in this Action's allow_hosts; add it to the Action's config to call it"
    );
}

#[tokio::test]
async fn an_actions_module_is_shared_by_two_actions_and_requires_its_own_package() {
    let greet = |name| ActionFixture {
        uses: vec![("logger", "3")],
        ..ActionFixture::named(name)
    };
    let app = spawn_app_with(npm(vec![greet("greet-a"), greet("greet-b")])).await;

    let outcome = app.post_login_outcome(login_event()).await;

    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    let claims = &outcome["id_token"]["claims"];
    assert_eq!(claims["greet_a"], "[log] HELLO FROM A");
    assert_eq!(claims["greet_b"], "[log] HELLO FROM B");
    assert_eq!(
        claims["module_dependency"],
        "Cannot find module 'cond-pkg' from 'greet-a.js': 'cond-pkg' is not among the dependencies of the Action or Module this file belongs to"
    );
}

#[test]
fn detour_check_refuses_an_action_that_pins_another_module_version_naming_both() {
    let config = npm(vec![ActionFixture {
        uses: vec![("logger", "2")],
        ..ActionFixture::named("greet-a")
    }]);
    let prepared = PreparedConfig::new(&config, None);

    let output = Command::new(env!("CARGO_BIN_EXE_detour"))
        .arg("check")
        .arg("--config")
        .arg(prepared.dir.path().join("detour.toml"))
        .env_clear()
        .envs(&prepared.env)
        .output()
        .expect("run detour check");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "action \"greet-a\": pins module \"logger\" at version 2, but the config registers version 3"
        ),
        "{stderr}"
    );
}

#[test]
fn an_esm_only_package_stops_start_up_naming_the_package() {
    for (action, package, why) in [
        ("requires-esm-only", "esm-only", "it is an ES module only"),
        (
            "requires-esm-type",
            "esm-type",
            "is an ES module only (\"type\": \"module\")",
        ),
    ] {
        let message = start_up_error(&npm(vec![ActionFixture {
            dependencies: vec![(
                package,
                if package == "esm-only" {
                    "3.0.0"
                } else {
                    "1.0.0"
                },
            )],
            ..ActionFixture::named(action)
        }]));

        assert!(
            message.starts_with(&format!(
                "action \"{action}\": cannot resolve require('{package}')"
            )),
            "{message}"
        );
        assert!(
            message.contains(&format!("package '{package}'")),
            "{message}"
        );
        assert!(message.contains(why), "{message}");
    }
}

#[test]
fn a_require_leaving_the_actions_root_stops_start_up() {
    let message = start_up_error(&npm(vec![ActionFixture::named("escapes-root")]));

    assert_eq!(
        message,
        "action \"escapes-root\": cannot resolve require('../../etc/passwd') in escapes-root.js: the path leads outside the actions root"
    );
}

#[test]
fn a_package_linked_to_a_file_outside_the_actions_root_stops_start_up() {
    let config = npm(vec![ActionFixture {
        dependencies: vec![("linked", "1.0.0")],
        ..ActionFixture::named("requires-linked")
    }]);
    let prepared = PreparedConfig::new(&config, None);
    let outside = tempfile::tempdir().expect("outside dir");
    std::fs::write(
        outside.path().join("secret.js"),
        "module.exports = 'secret';",
    )
    .expect("write");
    let package = prepared.dir.path().join("node_modules/linked");
    std::fs::create_dir_all(&package).expect("package dir");
    std::fs::write(
        package.join("package.json"),
        r#"{"name": "linked", "version": "1.0.0"}"#,
    )
    .expect("package.json");
    std::os::unix::fs::symlink(outside.path().join("secret.js"), package.join("index.js"))
        .expect("symlink");

    let message = prepared
        .load()
        .map(|_| ())
        .expect_err("must be refused")
        .to_string();

    assert_eq!(
        message,
        "action \"requires-linked\": cannot resolve require('linked') in requires-linked.js: node_modules/linked/index.js is a link to a file outside the actions root"
    );
}

#[test]
fn an_unresolvable_require_inside_a_handler_stops_start_up() {
    let message = start_up_error(&npm(vec![ActionFixture::named("handler-requires-missing")]));

    assert_eq!(
        message,
        "action \"handler-requires-missing\": cannot resolve require('./lib/rarely-used') in handler-requires-missing.js: no such file"
    );
}

#[test]
fn a_bare_require_of_an_undeclared_package_stops_start_up_even_when_installed() {
    // pkg-c is installed (pkg-b depends on it) but the Action does not
    // declare it.
    let message = start_up_error(&npm(vec![ActionFixture {
        dependencies: vec![("cond-pkg", "1.2.3")],
        ..ActionFixture::named("uses-packages")
    }]));

    assert!(
        message.starts_with("action \"uses-packages\": uses-packages.js requires '"),
        "{message}"
    );
    assert!(
        message.ends_with("is not in its `dependencies` (Auth0 would not install it)"),
        "{message}"
    );
}

#[test]
fn a_missing_or_other_version_dependency_stops_start_up_naming_the_action_and_package() {
    let with = |dependencies| {
        start_up_error(&npm(vec![ActionFixture {
            dependencies,
            ..ActionFixture::named("refused-builtins")
        }]))
    };

    let missing = with(vec![("left-pad", "1.3.0")]);
    let other = with(vec![("cond-pkg", "1.2.4")]);

    assert!(
        missing.starts_with("action \"refused-builtins\": dependency left-pad@1.3.0 is not installed (run npm ci in /"),
        "{missing}"
    );
    assert!(
        other.starts_with("action \"refused-builtins\": dependency cond-pkg@1.2.4 is installed at version 1.2.3 in node_modules/cond-pkg (run npm ci in /"),
        "{other}"
    );
}

#[test]
fn detour_check_refuses_an_action_that_throws_while_loading() {
    let config = npm(vec![ActionFixture {
        dependencies: vec![("cond-pkg", "1.2.3")],
        ..ActionFixture::named("throws-while-loading")
    }]);
    let prepared = PreparedConfig::new(&config, None);

    let output = Command::new(env!("CARGO_BIN_EXE_detour"))
        .arg("check")
        .arg("--config")
        .arg(prepared.dir.path().join("detour.toml"))
        .env_clear()
        .envs(&prepared.env)
        .output()
        .expect("run detour check");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "action \"throws-while-loading\" throws while loading: expected the ESM build, got cjs"
        ),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_login_suspended_before_an_actions_module_changed_does_not_resume_on_the_new_code() {
    let action = || ActionFixture {
        uses: vec![("logger", "3")],
        secrets: vec![("MY_SHARED_SECRET", "FAV_SECRET")],
        ..ActionFixture::named("redirect-with-logger")
    };
    let app = spawn_app_with(npm(vec![action()])).await;
    let reload = |config: TestConfig| {
        let settings = PreparedConfig::new(&config, None).load().expect("config");
        app.reloader.reload(settings)
    };
    let first = ExternalVisit::from_outcome(&app.post_login_outcome(login_event()).await);

    // The same code again: the login resumes.
    reload(npm(vec![action()])).await.expect("reload");
    let token = app.token_from_external_site(&first, json!({ "favorite_color": "red" }));
    let response = app
        .continue_post(&[("state", &first.state), ("session_token", &token)])
        .await;
    let (result, _) = result_from_redirect(response, RETURN_TO).await;
    assert_eq!(
        claim(&result, "id_token", "logged"),
        Some(&json!("[log] RED"))
    );

    // The Action's source is unchanged, but its Module is now version 4.
    let second = ExternalVisit::from_outcome(&app.post_login_outcome(login_event()).await);
    reload(TestConfig {
        extra_toml: LOGGER_MODULE.replace("version = \"3\"", "version = \"4\""),
        ..npm(vec![ActionFixture {
            uses: vec![("logger", "4")],
            ..action()
        }])
    })
    .await
    .expect("reload");
    let token = app.token_from_external_site(&second, json!({ "favorite_color": "red" }));
    let response = app
        .continue_post(&[("state", &second.state), ("session_token", &token)])
        .await;

    let page = assert_invalid_request_page(response).await;
    assert!(page.contains("changed or was removed"), "{page}");
}

#[test]
fn detour_run_action_resolves_packages_like_the_server() {
    let root = tempfile::tempdir().expect("tempdir");
    crate::helpers::copy_tree(&crate::helpers::fixtures_dir().join("../npm"), root.path());
    let event = root.path().join("event.json");
    std::fs::write(&event, login_event().to_string()).expect("write event");

    // Run from the actions root: its node_modules, the versions installed.
    let output = Command::new(env!("CARGO_BIN_EXE_detour"))
        .current_dir(root.path())
        .args(["run-action", "uses-packages.js", "--event", "event.json"])
        .env_clear()
        .output()
        .expect("run detour run-action");

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("\"b\": \"b uses c@2\""), "{stdout}");
    assert!(stdout.contains("\"main_only\": 42"), "{stdout}");
    assert!(
        stdout.contains(
            "'pkg-c' is not among the dependencies of the Action or Module this file belongs to"
        ),
        "{stdout}"
    );
}

#[test]
fn detour_deps_prints_the_package_json_of_the_declared_packages_and_refuses_two_versions() {
    let deps = |config: &TestConfig| {
        // Nothing installed yet: deps reads the config file only.
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("detour.toml"), config.toml(None)).expect("toml");
        Command::new(env!("CARGO_BIN_EXE_detour"))
            .args(["deps", "--config"])
            .arg(dir.path().join("detour.toml"))
            .env_clear()
            .output()
            .expect("run detour deps")
    };
    let greet = ActionFixture {
        uses: vec![("logger", "3")],
        ..ActionFixture::named("greet-a")
    };

    let ok = deps(&npm(vec![uses_packages(), greet]));
    let conflict = deps(&npm(vec![ActionFixture {
        dependencies: vec![("cond-pkg", "1.0.0")],
        ..ActionFixture::named("refused-builtins")
    }]));

    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let package: serde_json::Value = serde_json::from_slice(&ok.stdout).expect("JSON");
    assert_eq!(
        package["dependencies"],
        json!({
            "@acme/scoped": "2.0.0", "cond-pkg": "1.2.3", "cycle-pkg": "1.0.0",
            "main-only": "0.4.0", "pkg-a": "1.0.0", "pkg-b": "1.0.0", "broken-branch": "1.0.0"
        })
    );
    assert!(!conflict.status.success());
    let stderr = String::from_utf8_lossy(&conflict.stderr);
    assert!(
        stderr.contains("module \"logger\" declares cond-pkg@1.2.3 but action \"refused-builtins\" declares cond-pkg@1.0.0"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_package_is_evaluated_once_per_context_not_once_per_login() {
    let action = || ActionFixture {
        dependencies: vec![("load-counter", "1.0.0")],
        ..ActionFixture::named("counts-loads")
    };
    for (isolation, second_login) in [("per_instance", 2), ("per_execution", 1)] {
        let app = spawn_app_with(TestConfig {
            isolation,
            // One engine thread: both logins meet the same context.
            engine_extra: "workers = 1\ninline = false\n".into(),
            ..npm(vec![action()])
        })
        .await;

        let first = app.post_login_outcome(login_event()).await;
        let second = app.post_login_outcome(login_event()).await;

        // The module scope lives on in per_instance (two logins), the
        // package was evaluated once in it; per_execution starts afresh.
        assert_eq!(
            claim(&first, "id_token", "evaluated"),
            Some(&json!(1)),
            "{first:#}"
        );
        assert_eq!(
            claim(&second, "id_token", "evaluated"),
            Some(&json!(1)),
            "{isolation}"
        );
        assert_eq!(
            claim(&second, "id_token", "logins"),
            Some(&json!(second_login)),
            "{isolation}"
        );
    }
}

#[tokio::test]
async fn zlib_inflates_what_node_deflated_and_round_trips_gzip_and_zlib_data() {
    let app = spawn_app_with(npm(vec![ActionFixture::named("uses-zlib")])).await;

    let outcome = app.post_login_outcome(login_event()).await;

    assert_eq!(outcome["outcome"], "allow", "{outcome:#}");
    let claims = &outcome["id_token"]["claims"];
    assert_eq!(claims["raw"], "hello hello hello", "{claims:#}");
    assert_eq!(claims["from_node_raw"], "hello hello hello");
    assert_eq!(claims["from_node_gzip"], "x");
    assert_eq!(claims["gzip_round_trip"], "gzip me");
    assert_eq!(claims["zlib_round_trip"], "zlib me");
    assert_eq!(claims["gzip_header"], "1f8b08");
    assert_eq!(claims["flush"], 2);
    assert_eq!(claims["bad"], "Z_DATA_ERROR: incorrect header check");
    assert_eq!(claims["callback"], "cb");
}
