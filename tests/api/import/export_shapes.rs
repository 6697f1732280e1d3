//! `detour import` on what real exports hold beyond the happy path: the
//! Deploy CLI's keyword markers and obfuscated values, code paths outside
//! the export, Terraform's write-only secrets, and exports with nothing in
//! them.

use std::path::Path;

use super::{action_names, config_of, copy_tree, fixtures, import, line_about};

const CODE: &str = "exports.onExecutePostLogin = async (event, api) => {};\n";

/// A Deploy CLI `tenant.yaml` action entry bound to post-login.
fn yaml_action(name: &str, code: &str, extra: &str) -> String {
    format!(
        "  - name: {name}\n    code: {code}\n    supported_triggers:\n      - id: post-login\n        version: v3\n{extra}"
    )
}

fn write_tenant(dir: &Path, actions: &[String]) -> std::path::PathBuf {
    let names: Vec<String> = actions
        .iter()
        .filter_map(|a| a.lines().next())
        .map(|l| l.trim_start_matches("  - name: ").to_owned())
        .collect();
    let bindings: String = names
        .iter()
        .map(|n| format!("    - action_name: {n}\n"))
        .collect();
    let path = dir.join("tenant.yaml");
    std::fs::write(
        &path,
        format!(
            "actions:\n{}triggers:\n  post-login:\n{bindings}",
            actions.concat()
        ),
    )
    .expect("write tenant.yaml");
    path
}

#[test]
fn a_deploy_cli_code_path_outside_the_export_is_not_read_whether_relative_absolute_or_a_symlink() {
    // Arrange
    let root = tempfile::tempdir().expect("temp dir");
    let export = root.path().join("export");
    std::fs::create_dir_all(export.join("actions")).expect("mkdir");
    let outside = root.path().join("id_rsa");
    std::fs::write(&outside, "OUTSIDE-PRIVATE-CONTENT").expect("write outside");
    std::os::unix::fs::symlink(&outside, export.join("actions/link.js")).expect("symlink");
    let source = write_tenant(
        &export,
        &[
            yaml_action("Dots", "../id_rsa", ""),
            yaml_action("Absolute", &outside.to_string_lossy(), ""),
            yaml_action("Linked", "./actions/link.js", ""),
        ],
    );
    let out = root.path().join("out");

    // Act
    let run = import(&source, &out);

    // Assert
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    for name in ["Dots", "Absolute", "Linked"] {
        let line = line_about(&run.stdout, name);
        assert!(
            line.contains("not imported") && line.contains("resolves outside the export directory"),
            "{line}"
        );
    }
    for entry in std::fs::read_dir(out.join("actions")).expect("actions/") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).unwrap_or_default();
        assert!(!text.contains("OUTSIDE-PRIVATE-CONTENT"));
    }
}

#[test]
fn deploy_cli_keyword_markers_are_reported_by_name_and_obfuscated_values_are_not_values() {
    // Arrange
    let root = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(root.path().join("code")).expect("mkdir");
    std::fs::write(root.path().join("code/plain.js"), CODE).expect("write");
    std::fs::write(
        root.path().join("code/marked.js"),
        "exports.onExecutePostLogin = async (event, api) => {\n  await fetch('##API_URL##/audit');\n};\n",
    )
    .expect("write");
    let source = write_tenant(
        root.path(),
        &[
            yaml_action("Marked Code", "./code/marked.js", ""),
            yaml_action(
                "Keyword Secrets",
                "./code/plain.js",
                "    secrets: '@@KEYWORD_SECRETS@@'\n",
            ),
            yaml_action(
                "Bare Dependencies",
                "./code/plain.js",
                "    dependencies: @@DEPS@@\n",
            ),
            yaml_action(
                "Hidden Values",
                "./code/plain.js",
                "    secrets:\n      - name: SHOWN_NOT\n        value: _VALUE_NOT_SHOWN_\n      - name: MAPPED\n        value: '##HIDDEN_MAPPED##'\n",
            ),
        ],
    );
    let out = root.path().join("out");

    // Act
    let run = import(&source, &out);

    // Assert
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let marked = line_about(&run.stdout, "Marked Code");
    assert!(
        marked.contains("actions/marked-code.js:2: holds the keyword marker ##API_URL##"),
        "{marked}"
    );
    let secrets = line_about(&run.stdout, "Keyword Secrets");
    assert!(
        secrets.contains("`secrets` is the keyword marker @@KEYWORD_SECRETS@@"),
        "{secrets}"
    );
    let deps = line_about(&run.stdout, "Bare Dependencies");
    assert!(
        deps.contains("`dependencies` is the keyword marker @@DEPS@@"),
        "{deps}"
    );
    let hidden = line_about(&run.stdout, "Hidden Values");
    assert!(hidden.contains("imported"), "{hidden}");
    for var in [
        "DETOUR_HIDDEN_VALUES_SHOWN_NOT",
        "DETOUR_HIDDEN_VALUES_MAPPED",
    ] {
        let line = run
            .stdout
            .lines()
            .find(|l| l.contains(var))
            .unwrap_or_else(|| panic!("{var} not printed:\n{}", run.stdout));
        assert!(!line.contains("literal value"), "{line}");
    }
}

#[test]
fn terraform_write_only_secrets_are_mapped_and_only_literal_strings_count_as_values() {
    // Arrange
    let root = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        root.path().join("main.tf"),
        format!(
            "resource \"auth0_action\" \"a\" {{\n  name = \"WO\"\n  code = <<-EOT\n    {CODE}  EOT\n  supported_triggers {{\n    id = \"post-login\"\n    version = \"v3\"\n  }}\n  secrets_wo {{\n    name  = \"API_KEY\"\n    value = var.api_key\n  }}\n  secrets_wo {{\n    name  = \"TEMPLATED\"\n    value = \"${{var.prefix}}-x\"\n  }}\n}}\nresource \"auth0_trigger_actions\" \"login\" {{\n  trigger = \"post-login\"\n  actions {{\n    id = auth0_action.a.id\n  }}\n}}\n"
        ),
    )
    .expect("write main.tf");
    let out = root.path().join("out");

    // Act
    let run = import(root.path(), &out);

    // Assert
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let config = config_of(&out);
    let secrets = &config["actions"][0]["secrets"];
    assert_eq!(secrets["API_KEY"].as_str(), Some("DETOUR_WO_API_KEY"));
    assert_eq!(secrets["TEMPLATED"].as_str(), Some("DETOUR_WO_TEMPLATED"));
    for line in run.stdout.lines().filter(|l| l.contains("DETOUR_WO_")) {
        assert!(!line.contains("literal value"), "{line}");
    }
}

#[test]
fn an_export_with_no_actions_or_of_the_wrong_shape_is_one_line_and_writes_nothing() {
    let root = tempfile::tempdir().expect("temp dir");
    let cases = [
        ("empty.yaml", ""),
        ("empty.tf", ""),
        ("object.json", "{}"),
        ("empty.json", ""),
        ("wrong-type.json", "{\"actions\": 5}"),
        ("wrong-type.yaml", "actions:\n  - name: [1, 2]\n"),
        ("not-hcl.tf", "resource \"auth0_action\" {{{\n"),
    ];
    for (file, text) in cases {
        let source = root.path().join(file);
        std::fs::write(&source, text).expect("write the export");
        let out = root.path().join("out");

        let run = import(&source, &out);

        assert_eq!(run.code, 2, "{file}: {}{}", run.stdout, run.stderr);
        assert_eq!(
            run.stderr.trim().lines().count(),
            1,
            "{file}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(file), "{file}: {}", run.stderr);
        assert!(!out.exists(), "{file}: wrote {}", out.display());
    }
}

#[test]
fn a_deploy_cli_yaml_export_named_by_its_directory_is_read_from_its_tenant_yaml() {
    // Arrange: `a0deploy export --format yaml --output_folder export`
    // writes export/tenant.yaml and export/actions/<name>/code.js.
    let export = tempfile::tempdir().expect("temp dir");
    let source = fixtures().join("deploy-cli");
    std::fs::copy(
        source.join("tenant.yaml"),
        export.path().join("tenant.yaml"),
    )
    .expect("copy");
    copy_tree(&source.join("actions"), &export.path().join("actions"));
    copy_tree(
        &source.join("action-modules"),
        &export.path().join("action-modules"),
    );
    for entry in std::fs::read_dir(export.path().join("actions")).expect("actions/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            std::fs::remove_file(path).expect("remove the directory format's JSON");
        }
    }
    let out = tempfile::tempdir().expect("temp dir");

    // Act
    let run = import(export.path(), out.path());

    // Assert
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("(Auth0 Deploy CLI)"), "{}", run.stdout);
    assert_eq!(
        action_names(&config_of(out.path())).len(),
        4,
        "{}",
        run.stdout
    );
}

#[test]
fn an_action_of_another_trigger_bound_to_post_login_is_stopped_not_run_or_dropped() {
    // Arrange
    let root = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        root.path().join("main.tf"),
        "resource \"auth0_action\" \"m2m\" {\n  name = \"M2M\"\n  code = \"exports.onExecuteCredentialsExchange = async () => {};\"\n  supported_triggers {\n    id = \"credentials-exchange\"\n    version = \"v2\"\n  }\n}\nresource \"auth0_trigger_action\" \"bound\" {\n  trigger = \"post-login\"\n  action_id = auth0_action.m2m.id\n}\n",
    )
    .expect("write main.tf");
    let out = root.path().join("out");

    // Act
    let run = import(root.path(), &out);

    // Assert
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let line = line_about(&run.stdout, "M2M");
    assert!(
        line.contains("not imported: main.tf:9: bound to post-login, but the Action supports only the credentials-exchange trigger"),
        "{line}"
    );
    assert_eq!(action_names(&config_of(&out)), ["M2M"]);
}

#[test]
fn an_action_written_for_an_older_post_login_version_is_imported_with_a_note_naming_it() {
    // Arrange
    let root = tempfile::tempdir().expect("temp dir");
    std::fs::write(root.path().join("plain.js"), CODE).expect("write");
    let source = write_tenant(
        root.path(),
        &[
            yaml_action("Current", "./plain.js", ""),
            yaml_action("Older", "./plain.js", "").replace("version: v3", "version: v2"),
        ],
    );
    let out = root.path().join("out");

    // Act
    let run = import(&source, &out);

    // Assert
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let notes: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("is written for post-login"))
        .collect();
    assert_eq!(notes.len(), 1, "{}", run.stdout);
    assert!(
        notes[0].starts_with("note: tenant.yaml:")
            && notes[0].contains("action \"Older\" is written for post-login v2; Detour runs Actions as post-login v3"),
        "{}",
        notes[0]
    );
}

#[test]
fn a_secret_or_package_listed_twice_still_gives_a_detour_toml_that_loads() {
    // Arrange
    let root = tempfile::tempdir().expect("temp dir");
    std::fs::write(root.path().join("plain.js"), CODE).expect("write");
    let source = write_tenant(
        root.path(),
        &[
            yaml_action(
                "Twice",
                "./plain.js",
                "    secrets:\n      - name: KEY\n      - name: KEY\n    dependencies:\n      - name: lodash\n        version: 4.17.21\n      - name: lodash\n        version: 4.17.21\n",
            ),
            yaml_action(
                "Two Versions",
                "./plain.js",
                "    dependencies:\n      - name: lodash\n        version: 4.17.21\n      - name: lodash\n        version: 4.17.20\n",
            ),
        ],
    );
    let out = root.path().join("out");

    // Act
    let run = import(&source, &out);

    // Assert
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let config = config_of(&out);
    assert_eq!(action_names(&config), ["Twice", "Two Versions"]);
    let twice = line_about(&run.stdout, "Twice");
    assert!(twice.contains("imported"), "{twice}");
    let versions = line_about(&run.stdout, "Two Versions");
    assert!(
        versions.contains("dependency lodash is listed at 4.17.21 and at 4.17.20"),
        "{versions}"
    );
}

#[test]
fn an_action_defined_twice_is_imported_once_and_the_second_definition_is_named() {
    // Arrange
    let root = tempfile::tempdir().expect("temp dir");
    std::fs::write(root.path().join("plain.js"), CODE).expect("write");
    let source = write_tenant(
        root.path(),
        &[
            yaml_action("Twice", "./plain.js", ""),
            yaml_action("Twice", "./plain.js", ""),
        ],
    );
    let out = root.path().join("out");

    // Act
    let run = import(&source, &out);

    // Assert
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(action_names(&config_of(&out)), ["Twice"]);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("note: tenant.yaml:")
                && l.contains("action \"Twice\" is defined again here")),
        "{}",
        run.stdout
    );
}

#[test]
fn a_dependency_without_a_version_is_one_line_naming_the_missing_field_and_its_line() {
    let root = tempfile::tempdir().expect("temp dir");
    let source = root.path().join("tenant.yaml");
    std::fs::write(
        &source,
        "actions:\n  - name: a\n    code: ./a.js\n    dependencies:\n      - name: lodash\n",
    )
    .expect("write");

    let run = import(&source, &root.path().join("out"));

    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("tenant.yaml")
            && run.stderr.contains("line 5")
            && run.stderr.contains("missing field `version`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_management_api_export_with_null_lists_imports() {
    let root = tempfile::tempdir().expect("temp dir");
    let source = root.path().join("export.json");
    let export = serde_json::json!({
        "actions": [{
            "name": "Nulls",
            "code": CODE,
            "dependencies": null,
            "secrets": null,
            "modules": null,
            "supported_triggers": [{ "id": "post-login", "version": "v3" }],
        }],
        "bindings": [{ "action": { "name": "Nulls" } }],
        "modules": null,
    });
    std::fs::write(&source, export.to_string()).expect("write");
    let out = root.path().join("out");

    let run = import(&source, &out);

    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(action_names(&config_of(&out)), ["Nulls"]);
}
