//! Reading Detour's answers the way the upstream and the browser do:
//! where a redirect outcome sends the browser, the result token at
//! `return_to`, error bodies and pages, execution records and claims.

use reqwest::header::{CONTENT_TYPE, LOCATION};
use serde_json::Value;
use url::Url;

use super::tokens::verify_result_token;
use super::{PUBLIC_URL, RESULT_SECRET, UPSTREAM_ID};

/// Where a `redirect` outcome sends the browser.
#[derive(Debug, Clone)]
pub struct ExternalVisit {
    pub location: Url,
    pub state: String,
    /// All query parameters of `location`, in order.
    pub query: Vec<(String, String)>,
}

impl ExternalVisit {
    /// Reads the `location` of a `redirect` outcome.
    pub fn from_outcome(outcome: &Value) -> ExternalVisit {
        assert_eq!(
            outcome["outcome"], "redirect",
            "expected a redirect outcome, got {outcome:#}"
        );
        let location = outcome["location"]
            .as_str()
            .unwrap_or_else(|| panic!("redirect outcome without location: {outcome:#}"));
        ExternalVisit::from_location(location)
    }

    /// Reads a `Location` that points at an external site.
    pub fn from_location(location: &str) -> ExternalVisit {
        let location = Url::parse(location)
            .unwrap_or_else(|e| panic!("location {location:?} is not a URL: {e}"));
        let query: Vec<(String, String)> = location
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let state = query
            .iter()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no state in {location}"));
        ExternalVisit {
            location,
            state,
            query,
        }
    }

    /// The value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A final `/continue` answer: the `302` to `return_to?result=<JWT>`.
/// Returns the verified result claims and the `Location` URL.
pub async fn result_from_redirect(response: reqwest::Response, return_to: &str) -> (Value, Url) {
    let status = response.status().as_u16();
    let location = location_of(&response);
    let body = response.text().await.unwrap_or_default();
    assert_eq!(
        status, 302,
        "expected a 302 to return_to, got {status}: {body}"
    );
    let location = location.unwrap_or_else(|| panic!("302 without Location"));
    let url = Url::parse(&location).expect("Location is a URL");
    let expected = Url::parse(return_to).expect("return_to is a URL");
    assert_eq!(
        (url.scheme(), url.host_str(), url.port(), url.path()),
        (
            expected.scheme(),
            expected.host_str(),
            expected.port(),
            expected.path()
        ),
        "the final redirect must go to return_to, went to {location}"
    );
    let result = url
        .query_pairs()
        .find(|(k, _)| k == "result")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no result parameter in {location}"));
    (
        verify_result_token(RESULT_SECRET, UPSTREAM_ID, PUBLIC_URL, &result),
        url,
    )
}

/// The `Location` header, if any.
pub fn location_of(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().expect("Location is ASCII").to_owned())
}

/// Asserts the status and returns the JSON body.
pub async fn json_body(response: reqwest::Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let text = response.text().await.expect("read the body");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text}"))
}

/// Asserts a `400` HTML error page that names `invalid_request`; returns
/// the page.
pub async fn assert_invalid_request_page(response: reqwest::Response) -> String {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.text().await.expect("read the body");
    assert_eq!(
        status, 400,
        "expected the invalid_request page, got {status}: {body}"
    );
    assert!(
        content_type.starts_with("text/html"),
        "the error page should be HTML, content-type is {content_type:?}"
    );
    assert!(
        body.contains("invalid_request"),
        "the error page should name invalid_request: {body}"
    );
    body
}

/// The `(action, handler)` pairs of an outcome's execution records, in order.
pub fn executions(outcome: &Value) -> Vec<(String, String)> {
    outcome["executions"]
        .as_array()
        .unwrap_or_else(|| panic!("outcome without executions: {outcome:#}"))
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_owned(),
                e["handler"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// A claim of `section` (`id_token` or `access_token`), `None` when absent.
pub fn claim<'a>(outcome: &'a Value, section: &str, name: &str) -> Option<&'a Value> {
    outcome
        .get(section)
        .and_then(|s| s.get("claims"))
        .and_then(|c| c.get(name))
}
