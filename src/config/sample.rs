//! The bundled sample configuration, used when `detour` starts with no
//! config at all: the sample Actions from `actions/`, the demo upstream and
//! the in-memory store. Its files are compiled into the binary so the sample
//! works from any directory.

use super::file::{self, EnvLookup};
use super::load;
use super::{ConfigError, Settings};

const SAMPLE_CONFIG: &str = include_str!("../../actions/detour.toml");
const SAMPLE_FILES: &[(&str, &str)] = &[
    (
        "roles-claims.js",
        include_str!("../../actions/roles-claims.js"),
    ),
    (
        "block-by-domain.js",
        include_str!("../../actions/block-by-domain.js"),
    ),
    (
        "favorite-color.js",
        include_str!("../../actions/favorite-color.js"),
    ),
];

/// Well-known values for the sample's secrets, used only when the variable
/// is unset, so the README walkthrough works with no setup. They are
/// printed at start-up; nobody should mistake them for real secrets.
pub const DEMO_SECRETS: &[(&str, &str)] = &[
    ("DETOUR_DEMO_API_KEY", "demo-api-key"),
    (
        "DETOUR_DEMO_RESULT_SECRET",
        "demo-result-secret-for-laptops-only",
    ),
    ("DETOUR_FAVORITE_COLOR_SECRET", "demo-favorite-color-secret"),
];

/// Builds the sample settings. Returns them with the names of the variables
/// that fell back to a demo value.
pub fn sample_settings(env: &EnvLookup<'_>) -> Result<(Settings, Vec<&'static str>), ConfigError> {
    let mut defaulted = Vec::new();
    for (var, _) in DEMO_SECRETS {
        if env(var).is_none() {
            defaulted.push(*var);
        }
    }
    let with_demo = |var: &str| {
        env(var).or_else(|| {
            DEMO_SECRETS
                .iter()
                .find(|(v, _)| *v == var)
                .map(|(_, value)| (*value).to_owned())
        })
    };
    let raw = file::parse(SAMPLE_CONFIG, &with_demo)?;
    let settings = load::embedded_settings(raw, &with_demo, SAMPLE_FILES)?;
    Ok((settings, defaulted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_config_loads_with_no_environment() {
        let (settings, defaulted) = sample_settings(&|_| None).ok().unwrap();
        assert_eq!(settings.actions.len(), 3);
        assert_eq!(defaulted.len(), DEMO_SECRETS.len());
        assert!(settings.store.redis_url.is_none());
    }
}
