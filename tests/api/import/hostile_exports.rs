//! `detour import` fed exports written to hurt: names and paths that try
//! to leave `--out`, forge report lines or collide; secrets that try to
//! reach a file or a message.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{action_names, config_of, detour, import, line_about};

const CODE: &str = "exports.onExecutePostLogin = async (event, api) => {};\n";

/// A Management API export of `actions` (name, secret names), all bound
/// to post-login in that order, written to `dir/export.json`.
fn management_export(dir: &Path, actions: &[(&str, &[&str])]) -> PathBuf {
    let listed: Vec<Value> = actions
        .iter()
        .map(|(name, secrets)| {
            json!({
                "name": name,
                "code": CODE,
                "secrets": secrets.iter().map(|s| json!({ "name": s })).collect::<Vec<_>>(),
                "supported_triggers": [{ "id": "post-login", "version": "v3" }],
            })
        })
        .collect();
    let bindings: Vec<Value> = actions
        .iter()
        .map(|(name, _)| json!({ "action": { "name": name } }))
        .collect();
    let path = dir.join("export.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&json!({ "actions": listed, "bindings": bindings }))
            .expect("JSON"),
    )
    .expect("write the export");
    path
}

/// Every file under `dir`, relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(dir).expect("under dir");
                out.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn hostile_action_names_become_distinct_plain_files_inside_out_and_one_report_line_each() {
    // Arrange
    let root = tempfile::tempdir().expect("temp dir");
    let long = "L".repeat(10_000);
    let names = [
        "../../escape",
        "/etc/cron.d/x",
        "nul\0name",
        long.as_str(),
        "日本",
        "中文",
        "line\nbreak \u{1b}[31mred",
        "Add Roles",
        "add-roles",
    ];
    let actions: Vec<(&str, &[&str])> = names.iter().map(|n| (*n, &[][..])).collect();
    let export_dir = root.path().join("export");
    std::fs::create_dir(&export_dir).expect("mkdir");
    let source = management_export(&export_dir, &actions);
    let out = root.path().join("out");

    // Act
    let run = import(&source, &out);

    // Assert: every Action imported, each to its own plain file in out.
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains('\u{1b}'), "{}", run.stdout);
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.contains("imported (actions/"))
            .count(),
        names.len(),
        "{}",
        run.stdout
    );
    line_about(&run.stdout, "line\\nbreak \\u{1b}[31mred");
    let files = files_under(&out);
    let code_files: Vec<&String> = files.iter().filter(|f| f.ends_with(".js")).collect();
    assert_eq!(code_files.len(), names.len(), "{files:?}");
    for file in &code_files {
        let stem = file
            .strip_prefix("actions/")
            .and_then(|f| f.strip_suffix(".js"))
            .unwrap_or_else(|| panic!("{file} is not in actions/"));
        assert!(
            !stem.is_empty()
                && stem.len() <= 64
                && stem
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{file}"
        );
    }
    let mut beside: Vec<String> = std::fs::read_dir(root.path())
        .expect("read root")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(
        beside,
        ["export", "out"],
        "a file was written outside --out"
    );
    assert_eq!(action_names(&config_of(&out)), names);
    let check = detour(
        &[
            "check",
            "--config",
            &out.join("detour.toml").to_string_lossy(),
        ],
        &[
            ("DETOUR_UPSTREAM_API_KEY", "k"),
            (
                "DETOUR_UPSTREAM_RESULT_SECRET",
                "0123456789abcdef0123456789abcdef",
            ),
        ],
    );
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
}

#[test]
fn secrets_whose_variables_would_collide_each_get_their_own_variable() {
    // Arrange: "A b"/C and "a"/B_C both give DETOUR_A_B_C; one Action's
    // api-key and API_KEY both give DETOUR_KEYS_API_KEY.
    let root = tempfile::tempdir().expect("temp dir");
    let source = management_export(
        root.path(),
        &[
            ("A b", &["C"]),
            ("a", &["B_C"]),
            ("keys", &["api-key", "API_KEY"]),
        ],
    );
    let out = root.path().join("out");

    // Act
    let run = import(&source, &out);

    // Assert
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let config = config_of(&out);
    let mut vars: Vec<String> = config["actions"]
        .as_array()
        .expect("[[actions]]")
        .iter()
        .flat_map(|a| {
            a.get("secrets")
                .and_then(|s| s.as_table())
                .map(|t| {
                    t.values()
                        .map(|v| v.as_str().unwrap_or_default().to_owned())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(vars.len(), 4);
    vars.sort();
    vars.dedup();
    assert_eq!(vars.len(), 4, "two secrets share a variable: {vars:?}");
    for var in &vars {
        assert!(
            run.stdout.contains(var.as_str()),
            "{var} not printed:\n{}",
            run.stdout
        );
    }
}

#[test]
fn a_literal_secret_on_a_line_that_does_not_parse_is_never_in_the_error() {
    // Arrange: each format, broken next to a secret's value.
    let root = tempfile::tempdir().expect("temp dir");
    let literal = "hunter2-literal-secret-value";
    let cases = [
        (
            "main.tf",
            format!(
                "resource \"auth0_action\" \"a\" {{\n  name = \"a\"\n  code = \"x\"\n  secrets {{\n    name = \"K\"\n    value = \"{literal}\n  }}\n}}\n"
            ),
        ),
        (
            "tenant.yaml",
            format!(
                "actions:\n  - name: a\n    secrets:\n      - name: K\n        value: \"{literal}\n"
            ),
        ),
        (
            "export.json",
            format!("{{\"actions\": [{{\"name\": \"a\", \"secrets\": \"{literal}\"}}]}}"),
        ),
        (
            "actions.yaml",
            format!("actions:\n  - name: a\n    secrets: [{{name: K, value: \"{literal}\"}}\n"),
        ),
    ];
    for (file, text) in cases {
        let source = root.path().join(file);
        std::fs::write(&source, text).expect("write the export");

        // Act
        let run = import(&source, &root.path().join("out"));

        // Assert
        assert_eq!(run.code, 2, "{file}: {}{}", run.stdout, run.stderr);
        assert_eq!(
            run.stderr.trim().lines().count(),
            1,
            "{file}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(file), "{file}: {}", run.stderr);
        assert!(!run.stderr.contains(literal), "{file}: {}", run.stderr);
        assert!(!run.stdout.contains(literal), "{file}: {}", run.stdout);
    }
}
