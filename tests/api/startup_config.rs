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
