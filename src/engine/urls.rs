//! WHATWG URL parsing and setters for the JS `URL` class, from the `url`
//! crate, and the URL rule of `api.redirect.sendUserTo`. URLs cross the engine boundary as JSON.

use serde_json::{Map, Value, json};

fn url_parts(u: &url::Url) -> Value {
    use url::quirks;
    json!({
        "ok": true,
        "href": quirks::href(u), "origin": quirks::origin(u), "protocol": quirks::protocol(u),
        "username": quirks::username(u), "password": quirks::password(u), "host": quirks::host(u),
        "hostname": quirks::hostname(u), "port": quirks::port(u), "pathname": quirks::pathname(u),
        "search": quirks::search(u), "hash": quirks::hash(u),
    })
}

/// `new URL(input, base)`: the WHATWG components, or `{ok: false}`.
pub fn parse_url(input: &str, base: Option<&str>) -> String {
    let parsed = match base {
        Some(base) => url::Url::parse(base).and_then(|b| b.join(input)),
        None => url::Url::parse(input),
    };
    match parsed {
        Ok(u) => url_parts(&u),
        Err(e) => json!({ "ok": false, "error": format!("Invalid URL: {input} ({e})") }),
    }
    .to_string()
}

/// A WHATWG URL setter (`url.pathname = ...`): the new components.
pub fn set_url(href: &str, field: &str, value: &str) -> String {
    use url::quirks;
    let Ok(mut u) = url::Url::parse(href) else {
        return json!({ "ok": false, "error": format!("Invalid URL: {href}") }).to_string();
    };
    let result = match field {
        "href" => quirks::set_href(&mut u, value).map_err(|e| e.to_string()),
        "protocol" => quirks::set_protocol(&mut u, value).map_err(|()| String::new()),
        "username" => quirks::set_username(&mut u, value).map_err(|()| String::new()),
        "password" => quirks::set_password(&mut u, value).map_err(|()| String::new()),
        "host" => quirks::set_host(&mut u, value).map_err(|()| String::new()),
        "hostname" => quirks::set_hostname(&mut u, value).map_err(|()| String::new()),
        "port" => quirks::set_port(&mut u, value).map_err(|()| String::new()),
        "pathname" => {
            quirks::set_pathname(&mut u, value);
            Ok(())
        }
        "search" => {
            quirks::set_search(&mut u, value);
            Ok(())
        }
        "hash" => {
            quirks::set_hash(&mut u, value);
            Ok(())
        }
        _ => Ok(()),
    };
    match result {
        Err(e) if field == "href" => {
            json!({ "ok": false, "error": format!("Invalid URL: {value} ({e})") }).to_string()
        }
        // Like browsers, other invalid assignments leave the URL unchanged.
        _ => url_parts(&u).to_string(),
    }
}

/// `sendUserTo`'s URL rule: absolute http(s) URL; each query entry replaces
/// any parameter of the same name. The URL, or the message of the
/// `TypeError` the Action gets.
pub fn build_url(url: &str, query: &str) -> Result<String, String> {
    let mut parsed = url::Url::parse(url).map_err(|_| format!("Invalid URL: {url}"))?;
    if parsed.scheme() != "https" && parsed.scheme() != "http" {
        return Err(format!(
            "Invalid URL: {url} (only http and https can be redirected to)"
        ));
    }
    // Half a surrogate pair in a value (JSON.stringify escapes it) is
    // sent as U+FFFD, not refused as if the query were not an object.
    let query: Map<String, Value> = serde_json::from_str(&super::surrogates::well_formed(query))
        .map_err(|_| "sendUserTo: options.query must be an object".to_owned())?;
    if !query.is_empty() {
        let mut pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .filter(|(k, _)| !query.contains_key(k.as_ref()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        for (k, v) in &query {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            pairs.push((k.clone(), v));
        }
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    Ok(parsed.to_string())
}

/// `sendUserTo`'s command as the JSON text the prelude records: written
/// here, so the URL crosses the engine boundary once, not as a JSON reply
/// parsed and then serialized again. An error's message never starts with
/// `{`, which is how the prelude tells the two apart.
pub fn redirect_command(url: &str, query: &str) -> Result<String, String> {
    let url = build_url(url, query)?;
    let url = serde_json::to_string(&url).map_err(|e| e.to_string())?;
    Ok(format!(r#"{{"op":"redirect","url":{url}}}"#))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_entries_replace_same_named_parameters() {
        let url = build_url("https://x.example/p?a=1&b=2", r#"{"a":"9","c":"3"}"#).unwrap();
        assert_eq!(url, "https://x.example/p?b=2&a=9&c=3");
    }

    #[test]
    fn the_redirect_command_is_json_the_engine_reads() {
        let text = redirect_command("https://x.example/p", r#"{"q":"a\"b"}"#).unwrap();
        let command: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            command,
            json!({"op": "redirect", "url": "https://x.example/p?q=a%22b"})
        );
    }

    #[test]
    fn no_refusal_starts_like_a_command() {
        for (url, query) in [
            ("/x", "{}"),
            ("{x", "{}"),
            ("ftp://x.example/", "{}"),
            ("https://x.example/", "[]"),
        ] {
            let message = redirect_command(url, query).unwrap_err();
            assert!(!message.starts_with('{'), "{message}");
        }
    }

    #[test]
    fn relative_urls_are_refused() {
        assert_eq!(build_url("/x", "{}"), Err("Invalid URL: /x".to_owned()));
    }

    #[test]
    fn a_value_holding_half_a_surrogate_pair_is_sent_with_the_replacement_character() {
        // What JSON.stringify writes for a truncated emoji.
        let url = build_url("https://x.example/p", r#"{"name":"ana \ud83d"}"#).unwrap();
        assert_eq!(url, "https://x.example/p?name=ana+%EF%BF%BD");
    }
}
