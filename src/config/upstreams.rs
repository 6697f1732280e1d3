//! The `[[upstreams]]`: ids, `return_to` URLs, and their keys resolved
//! from the environment.

use secrecy::ExposeSecret;
use url::Url;

use super::file::EnvLookup;
use super::load::{field_err, secret};
use super::raw::RawUpstream;
use super::{ConfigError, Upstream};

/// Shortest upstream result secret accepted: 32 bytes, the output size of
/// HS256's SHA-256 (RFC 7518 §3.2 requires a key at least that long).
pub const MIN_RESULT_SECRET_BYTES: usize = 32;

/// Checks the upstreams and resolves their secrets.
pub(super) fn upstreams(
    raw: Vec<RawUpstream>,
    env: &EnvLookup<'_>,
) -> Result<Vec<Upstream>, ConfigError> {
    let mut upstreams = Vec::with_capacity(raw.len());
    for (i, u) in raw.into_iter().enumerate() {
        if u.id.is_empty() {
            return Err(field_err(
                &format!("upstreams[{i}].id"),
                "must not be empty",
            ));
        }
        // Two upstreams with one id would share an `aud`: a result token
        // issued for one would verify at the other.
        if upstreams.iter().any(|x: &Upstream| x.id == u.id) {
            return Err(field_err(
                &format!("upstreams[{i}].id"),
                &format!("`{}` is used twice", u.id),
            ));
        }
        for (j, url) in u.return_to.iter().enumerate() {
            let parsed = Url::parse(url).map_err(|e| {
                field_err(&format!("upstreams[{i}].return_to[{j}]"), &e.to_string())
            })?;
            if parsed.scheme() != "https" && parsed.scheme() != "http" {
                return Err(field_err(
                    &format!("upstreams[{i}].return_to[{j}]"),
                    "must be an http or https URL",
                ));
            }
        }
        let result_field = format!("upstreams[{i}].result_secret_env");
        let result_secret = secret(env, &u.result_secret_env, result_field.clone())?;
        // Result tokens are HS256: whoever guesses the key forges outcomes.
        let length = result_secret.expose_secret().len();
        if length < MIN_RESULT_SECRET_BYTES {
            return Err(ConfigError::WeakSecret {
                var: u.result_secret_env,
                field: result_field,
                upstream: u.id,
                length,
                minimum: MIN_RESULT_SECRET_BYTES,
            });
        }
        upstreams.push(Upstream {
            api_key: secret(env, &u.api_key_env, format!("upstreams[{i}].api_key_env"))?,
            result_secret,
            id: u.id,
            return_to: u.return_to,
            result_details: u.result_details,
        });
    }
    Ok(upstreams)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::ResultDetails;
    use super::super::actions::Sources;
    use super::super::file::{fake_env as env, parse};
    use super::super::load::settings as resolve;

    #[test]
    fn missing_secret_variable_is_named() {
        let raw = parse(
            "[server]\npublic_url='http://x'\n[[upstreams]]\nid='a'\napi_key_env='K'\nresult_secret_env='S'\nreturn_to=['http://x/cb']\n",
            &env(&[("K", "k")]),
        )
        .ok()
        .unwrap();
        let err = resolve(raw, &env(&[("K", "k")]), Sources::Disk(Path::new(".")))
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "environment variable S (named by `upstreams[0].result_secret_env`) is not set"
        );
    }

    #[test]
    fn result_details_default_to_none_and_an_unknown_mode_names_the_field() {
        let upstream = "[server]\npublic_url='http://x'\n[[upstreams]]\nid='a'\napi_key_env='K'\nresult_secret_env='S'\nreturn_to=['http://x/cb']\n";
        let vars = env(&[("K", "k"), ("S", "a-result-secret-of-at-least-32-bytes")]);
        let load = |extra: &str| {
            parse(&format!("{upstream}{extra}"), &vars)
                .and_then(|raw| resolve(raw, &vars, Sources::Disk(Path::new("."))))
        };
        let upstreams = |extra: &str| load(extra).ok().unwrap().upstreams;
        assert_eq!(upstreams("")[0].result_details, ResultDetails::None);
        assert_eq!(
            upstreams("result_details = 'back_channel'\n")[0].result_details,
            ResultDetails::BackChannel
        );
        let err = load("result_details = 'full'\n").err().unwrap().to_string();
        assert!(err.contains("result_details"), "{err}");
    }
}
