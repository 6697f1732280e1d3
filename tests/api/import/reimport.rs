//! Importing again into a directory an import wrote: the operator's part
//! of `detour.toml` kept byte for byte (CRLF included) with each Action's
//! `allow_hosts` however it is written, files of removed Actions removed,
//! and code never written through a symlink out of `--out`.

use std::path::Path;

use super::{
    action, action_names, config_of, copy_tree, fixtures, import, set_operator_part,
    test_operator_part,
};

#[test]
fn a_symlink_where_a_code_file_goes_is_replaced_not_written_through() {
    // Arrange
    let root = tempfile::tempdir().expect("temp dir");
    let victim = root.path().join("victim.txt");
    std::fs::write(&victim, "VICTIM").expect("write victim");
    let out = root.path().join("out");
    std::fs::create_dir_all(out.join("actions")).expect("mkdir");
    std::os::unix::fs::symlink(&victim, out.join("actions/consent-redirect.js")).expect("symlink");

    // Act
    let run = import(&fixtures().join("terraform"), &out);

    // Assert
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        std::fs::read_to_string(&victim).ok().as_deref(),
        Some("VICTIM")
    );
    let written = out.join("actions/consent-redirect.js");
    assert!(!written.is_symlink());
    assert!(
        std::fs::read_to_string(&written)
            .expect("code")
            .contains("onExecutePostLogin")
    );
}

#[test]
fn the_temporary_files_an_interrupted_import_left_are_removed_by_the_next() {
    // Arrange: what an import killed between writing and renaming leaves.
    let out = tempfile::tempdir().expect("temp dir");
    assert_eq!(import(&fixtures().join("terraform"), out.path()).code, 0);
    let leftovers = [
        out.path().join(".detour.toml.detour-import-4242.tmp"),
        out.path()
            .join("actions/.consent-redirect.js.detour-import-4242.tmp"),
    ];
    for path in &leftovers {
        std::fs::write(path, "half").expect("write a leftover");
    }

    // Act
    let run = import(&fixtures().join("terraform"), out.path());

    // Assert
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for path in &leftovers {
        assert!(!path.exists(), "{} is still there", path.display());
    }
}

#[test]
fn importing_again_keeps_the_mode_the_operator_gave_detour_toml() {
    use std::os::unix::fs::PermissionsExt as _;
    // Arrange
    let out = tempfile::tempdir().expect("temp dir");
    assert_eq!(import(&fixtures().join("terraform"), out.path()).code, 0);
    let path = out.path().join("detour.toml");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");

    // Act
    let run = import(&fixtures().join("terraform"), out.path());

    // Assert
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn a_code_directory_that_is_a_symlink_out_of_out_is_one_line_and_nothing_is_written_there() {
    // Arrange
    let root = tempfile::tempdir().expect("temp dir");
    let elsewhere = root.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("mkdir");
    let out = root.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    std::os::unix::fs::symlink(&elsewhere, out.join("modules")).expect("symlink");

    // Act
    let run = import(&fixtures().join("terraform"), &out);

    // Assert
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("a symlink"), "{}", run.stderr);
    assert_eq!(std::fs::read_dir(&elsewhere).expect("read").count(), 0);
}

#[test]
fn a_crlf_operator_part_is_kept_byte_for_byte_with_a_multi_line_allow_hosts() {
    // Arrange: an import whose file an editor turned to CRLF, with the
    // operator's part and a multi-line allow_hosts.
    let out = tempfile::tempdir().expect("temp dir");
    assert_eq!(import(&fixtures().join("terraform"), out.path()).code, 0);
    let operator =
        "# ours  \r\n[server]\r\npublic_url = \"https://id.example.com\"  # café\r\n\r\n";
    set_operator_part(out.path(), operator);
    let path = out.path().join("detour.toml");
    let text = std::fs::read_to_string(&path).expect("detour.toml");
    let text = text.replacen(
        "allow_hosts = []",
        "allow_hosts = [\n  \"geo.example.com\",   # the geo lookup\n  \"ip.example.com\",\n]",
        1,
    );
    std::fs::write(&path, text.replace("\r\n", "\n").replace('\n', "\r\n")).expect("write");

    // Act
    let run = import(&fixtures().join("terraform"), out.path());

    // Assert
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let bytes = std::fs::read(&path).expect("detour.toml");
    assert!(
        bytes.starts_with(operator.as_bytes()),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(
        action(&config_of(out.path()), "Corporate Network")["allow_hosts"],
        toml::Value::Array(vec!["geo.example.com".into(), "ip.example.com".into()])
    );
}

#[test]
fn importing_an_export_without_an_action_removes_its_code_file_and_says_so() {
    // Arrange
    let export = tempfile::tempdir().expect("temp dir");
    copy_tree(&fixtures().join("management-api"), export.path());
    let out = tempfile::tempdir().expect("temp dir");
    assert_eq!(import(export.path(), out.path()).code, 0);
    let gone = out.path().join("actions/consent-redirect.js");
    assert!(gone.is_file());
    let own = out.path().join("actions/ours.js");
    std::fs::write(&own, "// the operator's").expect("write");
    drop_action(export.path(), "Consent Redirect");

    // Act
    let run = import(export.path(), out.path());

    // Assert
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(!gone.exists());
    assert!(own.is_file(), "a file the import did not write was removed");
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("note: removed actions/consent-redirect.js")),
        "{}",
        run.stdout
    );
}

/// Removes Action `name` and its binding from a Management API directory.
fn drop_action(dir: &Path, name: &str) {
    for file in ["actions.json", "post-login-bindings.json"] {
        let path = dir.join(file);
        let mut value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
        for key in ["actions", "bindings"] {
            if let Some(list) = value.get_mut(key).and_then(|v| v.as_array_mut()) {
                list.retain(|a| a["name"] != name && a["action"]["name"] != name);
            }
        }
        std::fs::write(&path, value.to_string()).expect("write");
    }
}

#[test]
fn importing_a_changed_export_again_keeps_the_operators_part_and_allow_hosts_and_follows_the_new_order()
 {
    // Arrange: an import the operator edited: their upstream, and hosts
    // for one Action.
    let export = tempfile::tempdir().expect("temp dir");
    copy_tree(&fixtures().join("terraform"), export.path());
    let out = tempfile::tempdir().expect("temp dir");
    assert_eq!(import(export.path(), out.path()).code, 0);
    let operator = format!("# our gateway\n{}", test_operator_part());
    set_operator_part(out.path(), &operator);
    let path = out.path().join("detour.toml");
    let text = std::fs::read_to_string(&path).expect("detour.toml");
    let edited = text.replacen("allow_hosts = []", "allow_hosts = [\"geo.example.com\"]", 1);
    std::fs::write(&path, edited).expect("edit allow_hosts");
    // The tenant changes: Consent Redirect now runs before Sign Session
    // Claim, and Corporate Network's code changed.
    let main_tf = export.path().join("main.tf");
    let tf = std::fs::read_to_string(&main_tf).expect("main.tf");
    let tf = tf
        .replace("auth0_action.sign_session.", "auth0_action.PLACEHOLDER.")
        .replace(
            "auth0_action.consent_redirect.",
            "auth0_action.sign_session.",
        )
        .replace(
            "auth0_action.PLACEHOLDER.",
            "auth0_action.consent_redirect.",
        );
    std::fs::write(&main_tf, tf).expect("write main.tf");
    let code = export.path().join("code/corporate-network.js");
    let new_code = format!("// v2\n{}", std::fs::read_to_string(&code).expect("code"));
    std::fs::write(&code, &new_code).expect("write the code");

    // Act
    let run = import(export.path(), out.path());

    // Assert
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let text = std::fs::read_to_string(&path).expect("detour.toml");
    assert!(
        text.starts_with(&operator),
        "the operator's part changed:\n{text}"
    );
    let config = config_of(out.path());
    assert_eq!(
        action_names(&config),
        [
            "Corporate Network",
            "Add Roles to Tokens",
            "Consent Redirect",
            "Sign Session Claim"
        ]
    );
    assert_eq!(
        action(&config, "Corporate Network")["allow_hosts"],
        toml::Value::Array(vec!["geo.example.com".into()])
    );
    assert_eq!(
        std::fs::read_to_string(out.path().join("actions/corporate-network.js")).ok(),
        Some(new_code)
    );
}

#[test]
fn importing_again_refuses_when_the_imported_part_was_edited_by_hand() {
    // Arrange
    let out = tempfile::tempdir().expect("temp dir");
    assert_eq!(import(&fixtures().join("terraform"), out.path()).code, 0);
    let path = out.path().join("detour.toml");
    let text = std::fs::read_to_string(&path).expect("detour.toml");
    let edited = text.replace(
        "file = \"actions/consent-redirect.js\"",
        "file = \"actions/our-consent.js\"",
    );
    std::fs::write(&path, &edited).expect("edit the imported part");

    // Act
    let run = import(&fixtures().join("terraform"), out.path());

    // Assert: one line saying what would be lost; nothing rewritten.
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("was edited since the last import")
            && run.stderr.contains("would lose"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&path).ok(), Some(edited));
}

#[test]
fn importing_over_a_detour_toml_that_import_did_not_write_refuses() {
    // Arrange
    let out = tempfile::tempdir().expect("temp dir");
    let own = "[server]\npublic_url = \"https://id.example.com\"\n";
    std::fs::write(out.path().join("detour.toml"), own).expect("write detour.toml");

    // Act
    let run = import(&fixtures().join("terraform"), out.path());

    // Assert
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("was not written by detour import"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(out.path().join("detour.toml"))
            .ok()
            .as_deref(),
        Some(own)
    );
}
