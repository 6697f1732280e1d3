//! The imported tenant, in each format, run for real: `detour deps`, the
//! npm packages in place, `detour check`, then a whole login through the
//! consent detour on the `detour` binary serving the imported directory.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::{
    BOUND_ORDER, CONSENT_SECRET, CONSENT_VAR, SIGNING_KEY, SIGNING_KEY_VAR, detour, fixtures,
    import, set_operator_part, test_operator_part,
};
use crate::helpers::process::DetourProcess;
use crate::helpers::tokens::{returned_token_claims, sign_hs256, verify_session_token};
use crate::helpers::{
    API_KEY, ExternalVisit, PreparedConfig, RESULT_SECRET, RETURN_TO, USER_ID, claim, copy_tree,
    executions, json_body, login_event, result_from_redirect,
};

fn pinned_version(package: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/npm-real/package.json");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("package.json")).expect("JSON");
    manifest["dependencies"][package]
        .as_str()
        .expect("pinned")
        .to_owned()
}

/// Imports `source`, does what the report says (operator part, npm step,
/// variables), runs `detour check`, then a whole login through the
/// consent detour on the `detour` binary serving the imported directory.
async fn import_check_and_detour(source: &Path) {
    // Arrange: the import, the upstream, the packages, the variables.
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path();
    let run = import(source, out);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    set_operator_part(out, &test_operator_part());
    let config = out.join("detour.toml");
    let deps = detour(&["deps", "--config", &config.to_string_lossy()], &[]);
    let package: Value = serde_json::from_str(&deps.stdout)
        .unwrap_or_else(|e| panic!("detour deps: {e}: {}{}", deps.stdout, deps.stderr));
    for name in ["ipaddr.js", "jsonwebtoken"] {
        assert_eq!(
            package["dependencies"][name].as_str(),
            Some(pinned_version(name).as_str())
        );
    }
    let npm_real =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/npm-real/node_modules");
    assert!(
        npm_real.is_dir(),
        "tests/fixtures/npm-real/node_modules is missing: run scripts/test.sh"
    );
    copy_tree(&npm_real, &out.join("node_modules"));
    let env: HashMap<String, String> = [
        ("DEMO_API_KEY", API_KEY),
        ("DEMO_RESULT_SECRET", RESULT_SECRET),
        (SIGNING_KEY_VAR, SIGNING_KEY),
        (CONSENT_VAR, CONSENT_SECRET),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let env_pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

    // Act + Assert: `detour check` accepts it.
    let check = detour(
        &["check", "--config", &config.to_string_lossy()],
        &env_pairs,
    );
    assert_eq!(
        check.code, 0,
        "detour check: {}{}",
        check.stdout, check.stderr
    );
    assert!(
        check.stdout.contains("4 action(s) compiled"),
        "{}",
        check.stdout
    );

    // Act: a login, to the consent site and back.
    let toml = std::fs::read_to_string(&config).expect("detour.toml");
    let prepared = PreparedConfig { dir, toml, env };
    let gateway = DetourProcess::start(&prepared, &[]);
    let outcome = json_body(gateway.post_login(login_event()).await, 200).await;
    let visit = ExternalVisit::from_outcome(&outcome);
    assert_eq!(visit.location.host_str(), Some("consent.example.com"));
    verify_session_token(
        CONSENT_SECRET,
        visit.param("session_token").expect("session_token"),
    );
    let mut claims = returned_token_claims(&visit.state, USER_ID);
    claims["consent"] = "yes".into();
    let back = gateway
        .client
        .post(format!("{}/continue", gateway.address))
        .form(&[
            ("state", visit.state.as_str()),
            ("session_token", &sign_hs256(CONSENT_SECRET, &claims)),
        ])
        .send()
        .await
        .expect("POST /continue");
    let (result, _) = result_from_redirect(back, RETURN_TO).await;

    // Assert: every Action ran, in the bound order, with its packages,
    // Module and secrets.
    let ran: Vec<(String, String)> = executions(&result);
    let first_handlers: Vec<&str> = ran
        .iter()
        .filter(|(_, handler)| handler == "onExecutePostLogin")
        .map(|(action, _)| action.as_str())
        .collect();
    assert_eq!(first_handlers, BOUND_ORDER, "{result:#}");
    assert!(
        ran.contains(&(
            "Consent Redirect".to_owned(),
            "onContinuePostLogin".to_owned()
        )),
        "{result:#}"
    );
    assert_eq!(
        claim(&result, "id_token", "https://detour.test/network"),
        Some(&Value::from("corporate")),
        "ipaddr.js: {result:#}"
    );
    assert_eq!(
        claim(&result, "id_token", "https://detour.test/roles"),
        Some(&serde_json::json!(["admin", "editor"])),
        "the Module: {result:#}"
    );
    let session = claim(&result, "id_token", "https://detour.test/session")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no session claim: {result:#}"));
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let signed = jsonwebtoken::decode::<Value>(
        session,
        &jsonwebtoken::DecodingKey::from_secret(SIGNING_KEY.as_bytes()),
        &validation,
    )
    .unwrap_or_else(|e| panic!("jsonwebtoken's claim does not verify with the secret: {e}"));
    assert_eq!(signed.claims["sub"], USER_ID);
    assert_eq!(
        claim(&result, "id_token", "https://detour.test/consent"),
        Some(&Value::from("yes"))
    );
    assert_eq!(
        result["user"]["app_metadata"]["consent_given"], true,
        "{result:#}"
    );
}

#[tokio::test]
async fn an_imported_terraform_export_passes_detour_check_and_runs_a_full_detour() {
    import_check_and_detour(&fixtures().join("terraform")).await;
}

#[tokio::test]
async fn an_imported_deploy_cli_tenant_yaml_passes_detour_check_and_runs_a_full_detour() {
    import_check_and_detour(&fixtures().join("deploy-cli/tenant.yaml")).await;
}

#[tokio::test]
async fn an_imported_deploy_cli_directory_passes_detour_check_and_runs_a_full_detour() {
    import_check_and_detour(&fixtures().join("deploy-cli")).await;
}

#[tokio::test]
async fn an_imported_management_api_export_passes_detour_check_and_runs_a_full_detour() {
    import_check_and_detour(&fixtures().join("management-api")).await;
}
