//! WHATWG URL parsing and setters for the JS `URL` class, from the `url`
//! crate. URLs cross the engine boundary as JSON.

use serde_json::{Value, json};

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
