//! `detour import`: one tenant exported in each of the three formats
//! (Terraform, the Deploy CLI's YAML and directory formats, Management API
//! JSON) becomes a directory that `detour check` accepts and that runs a
//! whole detour; re-importing keeps the operator's edits; each error case
//! gives one line.
//!
//! The tenant (`tests/fixtures/import/`): four post-login Actions bound as
//! Corporate Network (ipaddr.js), Add Roles to Tokens (an Actions Module),
//! Sign Session Claim (jsonwebtoken, a secret), Consent Redirect (redirects,
//! a secret) — not their alphabetical order — and M2M Claims on the
//! credentials-exchange trigger. Its npm packages are the versions
//! `tests/fixtures/npm-real` pins; the tests copy that `node_modules` in
//! place of `npm install` (`full_detour.rs`). Hostile exports, the shapes
//! real exports take and re-imports have their own files.

use std::path::{Path, PathBuf};
use std::process::Command;

mod export_shapes;
mod full_detour;
mod hostile_exports;
mod reimport;

use crate::helpers::{RETURN_TO, copy_tree};

/// The post-login Actions in the order the tenant binds them.
const BOUND_ORDER: [&str; 4] = [
    "Corporate Network",
    "Add Roles to Tokens",
    "Sign Session Claim",
    "Consent Redirect",
];
/// The literal secret value main.tf holds for Sign Session Claim.
const TERRAFORM_LITERAL: &str = "tf-literal-signing-key-never-written-7c41";
const SIGNING_KEY_VAR: &str = "DETOUR_SIGN_SESSION_CLAIM_SIGNING_KEY";
const CONSENT_VAR: &str = "DETOUR_CONSENT_REDIRECT_CONSENT_SECRET";
const SIGNING_KEY: &str = "session-signing-key-for-the-import-test";
const CONSENT_SECRET: &str = "consent-site-shared-secret-0123456789";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import")
}

/// The tenant in each format: (what it is, the SOURCE argument).
fn exports() -> Vec<(&'static str, PathBuf)> {
    vec![
        ("terraform", fixtures().join("terraform")),
        ("deploy cli yaml", fixtures().join("deploy-cli/tenant.yaml")),
        ("deploy cli directory", fixtures().join("deploy-cli")),
        ("management api", fixtures().join("management-api")),
    ]
}

/// What one `detour` command said.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn detour(args: &[&str], env: &[(&str, &str)]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_detour"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("run the detour binary");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn import(source: &Path, out: &Path) -> Run {
    detour(
        &[
            "import",
            &source.to_string_lossy(),
            "--out",
            &out.to_string_lossy(),
        ],
        &[],
    )
}

/// The one report line about Action `name`.
fn line_about<'a>(report: &'a str, name: &str) -> &'a str {
    let needle = format!("action \"{name}\":");
    let lines: Vec<&str> = report.lines().filter(|l| l.contains(&needle)).collect();
    assert_eq!(lines.len(), 1, "one line about {name} expected:\n{report}");
    lines[0]
}

fn config_of(out: &Path) -> toml::Table {
    let text = std::fs::read_to_string(out.join("detour.toml")).expect("detour.toml written");
    toml::from_str(&text).unwrap_or_else(|e| panic!("detour.toml is not TOML ({e}):\n{text}"))
}

/// `[[actions]]` names, in order.
fn action_names(config: &toml::Table) -> Vec<String> {
    config["actions"]
        .as_array()
        .expect("[[actions]]")
        .iter()
        .map(|a| a["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn action<'a>(config: &'a toml::Table, name: &str) -> &'a toml::Value {
    config["actions"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["name"].as_str() == Some(name)))
        .unwrap_or_else(|| panic!("no [[actions]] named {name}"))
}

#[test]
fn every_format_imports_the_four_post_login_actions_in_their_bound_order_and_leaves_the_other_trigger_out()
 {
    for (format, source) in exports() {
        // Arrange
        let out = tempfile::tempdir().expect("temp dir");

        // Act
        let run = import(&source, out.path());

        // Assert: the report, one line per Action.
        assert_eq!(run.code, 0, "{format}: {}{}", run.stdout, run.stderr);
        for (i, name) in BOUND_ORDER.iter().enumerate() {
            let line = line_about(&run.stdout, name);
            assert!(
                line.trim_start().starts_with(&format!("{}. action", i + 1))
                    && line.contains("imported"),
                "{format}: {line}"
            );
        }
        let m2m = line_about(&run.stdout, "M2M Claims");
        assert!(
            m2m.contains("left out") && m2m.contains("credentials-exchange"),
            "{format}: {m2m}"
        );
        assert!(
            run.stdout.contains(SIGNING_KEY_VAR),
            "{format}: {}",
            run.stdout
        );
        assert!(run.stdout.contains(CONSENT_VAR), "{format}: {}", run.stdout);
        assert!(
            run.stdout.contains("detour deps --config detour.toml > package.json && npm install --omit=dev --ignore-scripts"),
            "{format}: the documented npm step is not printed:\n{}",
            run.stdout
        );

        // Assert: the config, in bound order, with what each Action needs.
        let config = config_of(out.path());
        assert_eq!(action_names(&config), BOUND_ORDER, "{format}");
        assert_eq!(
            action(&config, "Corporate Network")["dependencies"]["ipaddr.js"].as_str(),
            Some("2.5.0"),
            "{format}"
        );
        assert_eq!(
            action(&config, "Sign Session Claim")["dependencies"]["jsonwebtoken"].as_str(),
            Some("9.0.3"),
            "{format}"
        );
        assert_eq!(
            action(&config, "Sign Session Claim")["secrets"]["SIGNING_KEY"].as_str(),
            Some(SIGNING_KEY_VAR),
            "{format}"
        );
        let pinned = action(&config, "Add Roles to Tokens")["modules"]["claims-helper"].clone();
        let module = &config["modules"].as_array().expect("[[modules]]")[0];
        assert_eq!(module["name"].as_str(), Some("claims-helper"), "{format}");
        assert_eq!(Some(&module["version"]), Some(&pinned), "{format}");
        for file in [
            "actions/corporate-network.js",
            "actions/add-roles-to-tokens.js",
            "actions/sign-session-claim.js",
            "actions/consent-redirect.js",
            "modules/claims-helper.js",
        ] {
            assert!(out.path().join(file).is_file(), "{format}: {file} missing");
        }
        assert!(
            !out.path().join("actions/m2m-claims.js").exists(),
            "{format}: the credentials-exchange Action was written"
        );
    }
}

#[test]
fn a_literal_terraform_secret_is_never_written_and_the_report_names_the_variable_to_set() {
    // Arrange
    let out = tempfile::tempdir().expect("temp dir");

    // Act
    let run = import(&fixtures().join("terraform"), out.path());

    // Assert
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains(TERRAFORM_LITERAL), "{}", run.stdout);
    let mut stack = vec![out.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read the output") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                assert!(
                    !text.contains(TERRAFORM_LITERAL),
                    "{} holds the literal secret",
                    path.display()
                );
            }
        }
    }
    let signing = run
        .stdout
        .lines()
        .find(|l| l.contains(SIGNING_KEY_VAR))
        .unwrap_or_default();
    assert!(
        signing.contains("literal value") && signing.contains("not written"),
        "{signing}"
    );
    let consent = run
        .stdout
        .lines()
        .find(|l| l.contains(CONSENT_VAR))
        .unwrap_or_default();
    assert!(
        !consent.contains("literal value"),
        "var.consent_secret is not a literal: {consent}"
    );
}

/// The operator's part the tests put above the marker: the test upstream.
fn test_operator_part() -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\npublic_url = \"{}\"\n\n[[upstreams]]\nid = \"{}\"\napi_key_env = \"DEMO_API_KEY\"\nresult_secret_env = \"DEMO_RESULT_SECRET\"\nreturn_to = [\"{RETURN_TO}\"]\n\n",
        crate::helpers::PUBLIC_URL,
        crate::helpers::UPSTREAM_ID
    )
}

/// Replaces the part above the marker line of `out/detour.toml`.
fn set_operator_part(out: &Path, part: &str) {
    let path = out.join("detour.toml");
    let text = std::fs::read_to_string(&path).expect("detour.toml");
    let at = text
        .find(detour::import::MARKER)
        .expect("the marker line is in detour.toml");
    std::fs::write(&path, format!("{part}{}", &text[at..])).expect("write detour.toml");
}

// ---- each error case: one clear line --------------------------------------

#[test]
fn an_unknown_export_format_is_one_line_naming_the_formats_and_writes_nothing() {
    let out = tempfile::tempdir().expect("temp dir");
    let target = out.path().join("out");

    let run = import(&fixtures().join("errors/unknown/actions.csv"), &target);

    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("unknown export format") && run.stderr.contains("--format"),
        "{}",
        run.stderr
    );
    assert!(!target.exists());
}

#[test]
fn a_missing_code_file_is_one_line_with_the_tenant_yaml_line() {
    let out = tempfile::tempdir().expect("temp dir");

    let run = import(
        &fixtures().join("errors/missing-code/tenant.yaml"),
        out.path(),
    );

    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let line = line_about(&run.stdout, "Welcome Claim");
    assert!(
        line.contains(
            "not imported: tenant.yaml:2: code file ./actions/Welcome Claim/code.js is missing"
        ),
        "{line}"
    );
}

#[test]
fn an_unevaluable_terraform_expression_is_one_line_naming_the_resource_and_attribute() {
    let out = tempfile::tempdir().expect("temp dir");

    let run = import(&fixtures().join("errors/expression"), out.path());

    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let line = line_about(&run.stdout, "Welcome Claim");
    assert!(
        line.contains("not imported: main.tf:7: auth0_action.welcome `code = var.welcome_code`: an expression detour import cannot evaluate"),
        "{line}"
    );
}

#[test]
fn a_dependency_that_cannot_work_in_detour_is_one_line_at_the_require_that_uses_it() {
    let out = tempfile::tempdir().expect("temp dir");

    let run = import(&fixtures().join("errors/cannot-work.json"), out.path());

    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let line = line_about(&run.stdout, "Redis Counter");
    assert!(
        line.contains("not imported: actions/redis-counter.js:2: dependency ioredis@5.9.2 cannot work in Detour: it needs raw TCP sockets"),
        "{line}"
    );
    // It stays in detour.toml, so the gateway does not run without it.
    assert_eq!(action_names(&config_of(out.path())), ["Redis Counter"]);
}

#[test]
fn an_action_that_throws_while_loading_is_one_line_from_the_checks_detour_check_runs() {
    let out = tempfile::tempdir().expect("temp dir");

    let run = import(
        &fixtures().join("errors/throws-while-loading.json"),
        out.path(),
    );

    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let line = line_about(&run.stdout, "Tier Claim");
    assert!(
        line.contains("not imported: actions/tier-claim.js: action \"Tier Claim\" throws while loading: Unexpected end of JSON input"),
        "{line}"
    );
}

#[test]
fn importing_into_the_exports_own_directory_refuses_and_writes_nothing() {
    let export = tempfile::tempdir().expect("temp dir");
    copy_tree(&fixtures().join("deploy-cli"), export.path());

    let run = import(export.path(), export.path());

    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("is the export's own directory"),
        "{}",
        run.stderr
    );
    assert!(!export.path().join("detour.toml").exists());
}
