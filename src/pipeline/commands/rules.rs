//! The generic rules the namespaces share: non-empty text, a size in
//! bytes, an absolute http(s) URL.

use serde_json::Value;

use crate::pipeline::limits::MAX_URL_BYTES;

/// `s` is not empty.
pub(super) fn non_empty(what: &str, s: &str) -> Result<(), String> {
    if s.is_empty() {
        Err(format!("{what} must not be empty"))
    } else {
        Ok(())
    }
}

/// `s` is at most `max` bytes long.
pub(super) fn max_bytes(what: &str, s: &str, max: usize) -> Result<(), String> {
    if s.len() > max {
        Err(format!("{what} must be at most {max} bytes"))
    } else {
        Ok(())
    }
}

/// The length of `v` as JSON (`usize::MAX` if it cannot be serialized).
pub(super) fn json_len(v: &Value) -> usize {
    serde_json::to_vec(v).map_or(usize::MAX, |b| b.len())
}

/// An absolute http(s) URL with a host: never `javascript:`, `data:` or a
/// relative path, which would run or land anywhere in the browser.
pub(super) fn http_url(what: &str, raw: &str) -> Result<(), String> {
    max_bytes(what, raw, MAX_URL_BYTES)?;
    let url = url::Url::parse(raw).map_err(|_| format!("{what} is not a valid URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{what} must be an absolute http or https URL"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::check_one;
    use crate::engine::Command;

    #[test]
    fn redirects_go_only_to_absolute_http_urls() {
        for bad in [
            "javascript:alert(1)//https://x.example",
            "data:text/html,<script>alert(1)</script>",
            "/relative",
            "https://",
            "not a url",
        ] {
            let r = check_one(Command::Redirect { url: bad.into() });
            assert!(r.is_err(), "{bad}");
        }
        assert!(
            check_one(Command::Redirect {
                url: "https://mfa.example.com/start?x=1".into()
            })
            .is_ok()
        );
    }
}
