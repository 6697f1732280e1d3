//! The HTML pages Detour shows a browser, one askama struct per page.
//! Rendering errors are returned, never unwrapped.

use askama::Template;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    error: &'a str,
    description: &'a str,
}

#[derive(Template)]
#[template(path = "form_post.html")]
struct FormPostPage<'a> {
    action: &'a str,
    result: &'a str,
}

/// The error page.
pub fn error_page(error: &str, description: &str) -> Result<String, askama::Error> {
    ErrorPage { error, description }.render()
}

/// The auto-submitting form that carries a long result to `return_to`.
pub fn form_post_page(action: &str, result: &str) -> Result<String, askama::Error> {
    FormPostPage { action, result }.render()
}
