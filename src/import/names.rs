//! Names Detour derives from Auth0's: file names, Module names, variables.

/// The longest slug: with `-NN` and `.js` it stays far below the 255
/// bytes file systems allow in a name, whatever the export's name.
const SLUG_MAX: usize = 60;

/// A file-name-safe form of `name`: lower-case ASCII letters and digits,
/// runs of anything else as one `-` (`Add Roles & Scopes` → `add-roles-scopes`),
/// at most [`SLUG_MAX`] characters. The export's names are untrusted text:
/// `..`, `/`, NUL or a 10 000-character name all come out as a plain name.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len().min(SLUG_MAX));
    for c in name.chars() {
        if out.len() >= SLUG_MAX {
            break;
        }
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_owned();
    if out.is_empty() {
        "unnamed".to_owned()
    } else {
        out
    }
}

/// `slug(name)`, made distinct from every name in `taken` with `-2`, `-3`…
pub fn unique_slug(name: &str, taken: &[String]) -> String {
    let base = slug(name);
    let mut candidate = base.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    candidate
}

/// The environment variable holding secret `secret` of the Action whose
/// file slug is `slug`: `DETOUR_<ACTION>_<SECRET>`, upper case, `_` for
/// anything but letters and digits.
pub fn secret_var(slug: &str, secret: &str) -> String {
    let part = |s: &str| {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect::<String>()
    };
    format!("DETOUR_{}_{}", part(slug), part(secret))
}

/// `name` made distinct from every name in `taken` with `_2`, `_3`… (for
/// environment variables: two secrets must never share one).
pub fn unique_var(name: &str, taken: &[String]) -> String {
    let mut candidate = name.to_owned();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{name}_{n}");
        n += 1;
    }
    candidate
}

/// A Detour Module name for an Auth0 one: kept when Detour accepts it (no
/// spaces, no `:`), else its slug.
pub fn module_name(name: &str) -> String {
    if !name.is_empty() && !name.contains(|c: char| c.is_whitespace() || c == ':') {
        name.to_owned()
    } else {
        slug(name)
    }
}

/// A TOML basic string for `s`.
pub fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// A TOML key: bare when it can be, quoted otherwise.
pub fn toml_key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        s.to_owned()
    } else {
        toml_string(s)
    }
}

/// The 1-based line of byte offset `at` in `text`.
pub fn line_of(text: &str, at: usize) -> usize {
    text.get(..at.min(text.len()))
        .map_or(0, |head| head.matches('\n').count())
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_file_safe_and_unique() {
        assert_eq!(slug("Add Roles & Scopes"), "add-roles-scopes");
        assert_eq!(slug("../../etc/passwd"), "etc-passwd");
        assert_eq!(slug("日本"), "unnamed");
        assert_eq!(unique_slug("A b", &["a-b".into(), "a-b-2".into()]), "a-b-3");
        assert_eq!(slug(&"x".repeat(10_000)).len(), SLUG_MAX);
        assert_eq!(slug("a\0b/../c"), "a-b-c");
    }

    #[test]
    fn secret_variables_are_upper_case_identifiers() {
        assert_eq!(
            secret_var("consent-site", "SHARED.secret"),
            "DETOUR_CONSENT_SITE_SHARED_SECRET"
        );
    }
}
