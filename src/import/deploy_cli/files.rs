//! Where the Deploy CLI keeps an Action's or Module's code, read only from
//! inside the export, and its keyword-replacement markers.
//!
//! The Deploy CLI resolves `code` from the export's directory (the one
//! holding `tenant.yaml`, or the directory-format root) and writes it as
//! `./actions/<name>/code.js`. A path that resolves outside that directory
//! (absolute, `..`, or through a symlink) is refused: the Deploy CLI
//! itself warns that it will block such paths, and an export handed to
//! `detour import` must not make it copy any file it can read (an SSH
//! key, say) into the Detour directory.

use std::path::{Path, PathBuf};

use crate::import::{Origin, Problem};

/// Where an Action's or Module's code may be: its `code` path from `root`
/// (as the Deploy CLI resolves it), then where the Deploy CLI writes it
/// (`<kind>/<name>/code.js`).
pub(super) fn code_candidates(
    root: &Path,
    code: Option<&str>,
    kind: &str,
    name: &str,
) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(code) = code.filter(|c| !c.is_empty()) {
        out.push(root.join(code.replace('\\', "/")));
    }
    out.push(root.join(kind).join(sanitize(name)).join("code.js"));
    out
}

/// The Deploy CLI's file-name sanitising (sanitize-filename, `-` as the
/// replacement): characters file systems refuse become `-`, and a name of
/// dots alone is `-`.
fn sanitize(name: &str) -> String {
    if name.is_empty() || name.chars().all(|c| c == '.') {
        return "-".to_owned();
    }
    name.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | '?' | '<' | '>' | ':' | '*' | '|' | '"') {
                '-'
            } else {
                c
            }
        })
        .collect()
}

/// The code at the first candidate that exists, or why there is none (or
/// why it is not read: outside `root`).
pub(super) fn load_code(
    root: &Path,
    origin: &Origin,
    code: Option<&str>,
    candidates: &[PathBuf],
) -> Result<String, Problem> {
    let problem = |message: String| Problem {
        origin: origin.clone(),
        message,
    };
    for path in candidates {
        if !path.is_file() {
            continue;
        }
        let inside = match (std::fs::canonicalize(root), std::fs::canonicalize(path)) {
            (Ok(root), Ok(file)) => file.starts_with(root),
            _ => false,
        };
        if !inside {
            return Err(problem(format!(
                "code file {} resolves outside the export directory: detour import reads code only from inside it (the Deploy CLI warns about such paths too); move the file into the export",
                path.display()
            )));
        }
        return std::fs::read_to_string(path)
            .map_err(|e| problem(format!("cannot read code file {}: {e}", path.display())));
    }
    Err(problem(match code.filter(|c| !c.is_empty()) {
        Some(code) => format!("code file {code} is missing"),
        None => "no `code` file given".to_owned(),
    }))
}

/// The Deploy CLI's keyword-replacement marker `text` is, if it is one
/// whole: `##KEY##` (a string) or `@@KEY@@` (an array), upper-case as the
/// Deploy CLI's own check has it.
pub fn keyword_marker(text: &str) -> Option<&str> {
    let text = text.trim();
    let is_marker = |fence: &str| {
        text.len() > 2 * fence.len()
            && text.starts_with(fence)
            && text.ends_with(fence)
            && text[fence.len()..text.len() - fence.len()]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    (is_marker("##") || is_marker("@@")).then_some(text)
}

/// The first keyword marker inside `code`, and its 1-based line: the
/// Deploy CLI replaces them when it deploys, so code holding one does not
/// run as the tenant runs it.
pub fn marker_in(code: &str) -> Option<(usize, String)> {
    for (i, line) in code.lines().enumerate() {
        for fence in ["##", "@@"] {
            let mut rest = line;
            while let Some(at) = rest.find(fence) {
                let after = &rest[at + fence.len()..];
                let key_len = after
                    .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                    .unwrap_or(after.len());
                if key_len > 0 && after[key_len..].starts_with(fence) {
                    return Some((i + 1, format!("{fence}{}{fence}", &after[..key_len])));
                }
                rest = after;
            }
        }
    }
    None
}

/// `@@KEY@@` markers left bare in YAML (where `@` cannot start a value)
/// wrapped in quotes, as the Deploy CLI does before it parses, so the
/// marker reaches the reader and is reported by name.
pub(super) fn quote_bare_markers(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len());
    let mut rest = yaml;
    while let Some(at) = rest.find("@@") {
        let after = &rest[at + 2..];
        let key_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let closed = key_len > 0 && after[key_len..].starts_with("@@");
        let before = rest[..at].chars().next_back();
        let next = after.get(key_len + 2..).and_then(|t| t.chars().next());
        let quoted = matches!(before, Some('"' | '\'')) || matches!(next, Some('"' | '\''));
        if closed && !quoted {
            out.push_str(&rest[..at]);
            out.push('"');
            out.push_str(&rest[at..at + 2 + key_len + 2]);
            out.push('"');
            rest = &after[key_len + 2..];
        } else {
            out.push_str(&rest[..at + 2]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_found_whole_and_inside_code() {
        assert_eq!(keyword_marker("##API_URL##"), Some("##API_URL##"));
        assert_eq!(keyword_marker("_VALUE_NOT_SHOWN_"), None);
        assert_eq!(keyword_marker("@@password@@"), None);
        assert_eq!(
            marker_in("a\nconst u = '##API_URL##/x';\n"),
            Some((2, "##API_URL##".to_owned()))
        );
        assert_eq!(marker_in("x = a ## b ## c; @@iterator"), None);
    }

    #[test]
    fn bare_array_markers_are_quoted_and_quoted_ones_kept() {
        assert_eq!(
            quote_bare_markers("a: @@DEPS@@\nb: '@@X@@'\n"),
            "a: \"@@DEPS@@\"\nb: '@@X@@'\n"
        );
    }

    #[test]
    fn dot_names_do_not_name_a_parent_directory() {
        assert_eq!(sanitize(".."), "-");
        assert_eq!(sanitize("a/../b"), "a-..-b");
    }
}
