//! Start-up fails fast, and says why: a missing environment variable is
//! named, a broken Action is reported with its file and line.

use crate::helpers::{ActionFixture, PreparedConfig, StoreKind, TestConfig, error_chain};

/// Loads the config and builds the application; both must not succeed.
/// Returns the error text of whichever step failed.
async fn start_up_error(config: &TestConfig) -> String {
    start_up_error_of(&PreparedConfig::new(config, None)).await
}

async fn start_up_error_of(prepared: &PreparedConfig) -> String {
    let settings = match prepared.load() {
        Err(error) => return error_chain(&error),
        Ok(settings) => settings,
    };
    match detour::startup::Application::build(settings).await {
        Err(error) => format!("{error:#}"),
        Ok(_) => panic!(
            "Detour started with a broken configuration:\n{}",
            prepared.toml
        ),
    }
}

#[tokio::test]
async fn the_test_configuration_itself_starts() {
    // Arrange
    let config = TestConfig::new(
        StoreKind::InMemory,
        vec![
            ActionFixture::favorite_color(),
            ActionFixture::named("roles-claims"),
        ],
    );
    let prepared = PreparedConfig::new(&config, None);

    // Act
    let settings = prepared.load().map_err(|e| error_chain(&e));
    let built = match settings {
        Ok(settings) => detour::startup::Application::build(settings)
            .await
            .map(|_| ())
            .map_err(|e| format!("{e:#}")),
        Err(e) => Err(e),
    };

    // Assert
    assert_eq!(built, Ok(()));
}

#[tokio::test]
async fn a_missing_api_key_variable_is_named_in_the_start_up_error() {
    // Arrange
    let mut config = TestConfig::new(
        StoreKind::InMemory,
        vec![ActionFixture::named("roles-claims")],
    );
    config.env.remove("DEMO_API_KEY");

    // Act
    let error = start_up_error(&config).await;

    // Assert
    assert!(
        error.contains("DEMO_API_KEY"),
        "the error does not name the variable: {error}"
    );
}

#[tokio::test]
async fn a_missing_result_secret_variable_is_named_in_the_start_up_error() {
    // Arrange
    let mut config = TestConfig::new(
        StoreKind::InMemory,
        vec![ActionFixture::named("roles-claims")],
    );
    config.env.remove("DEMO_RESULT_SECRET");

    // Act
    let error = start_up_error(&config).await;

    // Assert
    assert!(
        error.contains("DEMO_RESULT_SECRET"),
        "the error does not name the variable: {error}"
    );
}

#[tokio::test]
async fn a_missing_action_secret_variable_is_named_in_the_start_up_error() {
    // Arrange
    let mut config = TestConfig::new(StoreKind::InMemory, vec![ActionFixture::favorite_color()]);
    config.env.remove("FAV_SECRET");

    // Act
    let error = start_up_error(&config).await;

    // Assert
    assert!(
        error.contains("FAV_SECRET"),
        "the error does not name the variable: {error}"
    );
}

#[tokio::test]
async fn an_action_with_a_syntax_error_stops_start_up_with_the_file_and_line() {
    // Arrange
    let config = TestConfig::new(
        StoreKind::InMemory,
        vec![
            ActionFixture::named("roles-claims"),
            ActionFixture::named("syntax-error"),
        ],
    );

    // Act
    let error = start_up_error(&config).await;

    // Assert
    assert!(
        error.contains("syntax-error.js"),
        "the error does not name the file: {error}"
    );
    assert!(
        error.contains("syntax-error.js:5") || error.contains("line 5"),
        "the error does not give line 5: {error}"
    );
}

#[tokio::test]
async fn a_missing_action_file_is_named_in_the_start_up_error() {
    // Arrange
    let config = TestConfig::new(
        StoreKind::InMemory,
        vec![ActionFixture::named("roles-claims")],
    );
    let mut prepared = PreparedConfig::new(&config, None);
    prepared.toml = prepared
        .toml
        .replace("file = \"roles-claims.js\"", "file = \"no-such-action.js\"");

    // Act
    let error = start_up_error_of(&prepared).await;

    // Assert
    assert!(
        error.contains("no-such-action.js"),
        "the error does not name the file: {error}"
    );
}

/// A result secret anyone could guess lets anyone forge result tokens: it
/// stops start-up, naming the upstream and the variable, never the value.
#[tokio::test]
async fn a_result_secret_shorter_than_32_bytes_stops_start_up_naming_the_upstream_and_variable() {
    for weak in ["", "demo-result-secret", "0123456789abcdef0123456789abcde"] {
        // Arrange
        let mut config = TestConfig::new(
            StoreKind::InMemory,
            vec![ActionFixture::named("roles-claims")],
        );
        config.env.insert("DEMO_RESULT_SECRET".into(), weak.into());

        // Act
        let error = start_up_error(&config).await;

        // Assert
        assert!(error.contains("DEMO_RESULT_SECRET"), "{error}");
        assert!(error.contains("upstream `demo`"), "{error}");
        assert!(error.contains("at least 32"), "{error}");
        assert!(weak.is_empty() || !error.contains(weak), "{error}");
    }
}

#[tokio::test]
async fn a_result_secret_of_exactly_32_bytes_starts() {
    // Arrange
    let mut config = TestConfig::new(
        StoreKind::InMemory,
        vec![ActionFixture::named("roles-claims")],
    );
    config.env.insert(
        "DEMO_RESULT_SECRET".into(),
        "0123456789abcdef0123456789abcdef".into(),
    );
    let prepared = PreparedConfig::new(&config, None);

    // Act
    let loaded = prepared.load().map(|_| ()).map_err(|e| error_chain(&e));

    // Assert
    assert_eq!(loaded, Ok(()));
}

#[tokio::test]
async fn two_upstreams_with_the_same_id_stop_start_up() {
    // Arrange
    let config = TestConfig::new(
        StoreKind::InMemory,
        vec![ActionFixture::named("roles-claims")],
    );
    let mut prepared = PreparedConfig::new(&config, None);
    prepared.toml.push_str(
        "\n[[upstreams]]\nid = \"demo\"\napi_key_env = \"DEMO_API_KEY\"\nresult_secret_env = \"DEMO_RESULT_SECRET\"\nreturn_to = [\"http://127.0.0.1:9/other\"]\n",
    );

    // Act
    let error = start_up_error_of(&prepared).await;

    // Assert
    assert!(error.contains("upstreams[1].id"), "{error}");
    assert!(error.contains("`demo` is used twice"), "{error}");
}

#[tokio::test]
async fn two_actions_with_the_same_name_stop_start_up() {
    // Arrange
    let config = TestConfig::new(
        StoreKind::InMemory,
        vec![
            ActionFixture::named("roles-claims"),
            ActionFixture::named("roles-claims"),
        ],
    );

    // Act
    let error = start_up_error(&config).await;

    // Assert
    assert!(error.contains("actions[1].name"), "{error}");
    assert!(error.contains("`roles-claims` is used twice"), "{error}");
}

#[tokio::test]
async fn a_public_url_that_is_not_http_stops_start_up() {
    for url in ["ftp://id.example.com/", "https://id.example.com/detour?x=1"] {
        // Arrange
        let mut config = TestConfig::new(
            StoreKind::InMemory,
            vec![ActionFixture::named("roles-claims")],
        );
        config
            .env
            .insert("DETOUR_SERVER__PUBLIC_URL".into(), url.into());

        // Act
        let error = start_up_error(&config).await;

        // Assert
        assert!(error.contains("server.public_url"), "{url}: {error}");
    }
}
