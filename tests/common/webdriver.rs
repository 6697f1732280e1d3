//! Headless Chromium through chromedriver, over the W3C WebDriver protocol:
//! just the commands the browser tests use.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

use anyhow::{Context, Result, anyhow, bail};
use reqwest::Method;
use serde_json::{Value, json};

use super::stack::{free_ports, signal_group, wait_up_to};

/// How long one page may take to show what a step waits for.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(15);
/// The key of an element reference in W3C WebDriver answers.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

impl Browser {
    /// Finds Chromium and chromedriver, or fails saying how to get them.
    pub fn locate() -> Browser {
        const INSTALL: &str = "Debian: `apt-get install chromium chromium-driver`; \
                               ./scripts/test.sh installs them when missing";
        let chromium = from_env("CHROME_BIN")
            .or_else(|| {
                // Debian's browser itself, not the /usr/bin/chromium shell wrapper.
                let debian = Path::new("/usr/lib/chromium/chromium");
                debian.exists().then(|| debian.to_path_buf())
            })
            .or_else(|| on_path(&["chromium", "chromium-browser", "google-chrome"]))
            .unwrap_or_else(|| {
                panic!("the browser test needs headless Chromium, and none was found ({INSTALL}; or set CHROME_BIN)")
            });
        let chromedriver = from_env("CHROMEDRIVER")
            .or_else(|| on_path(&["chromedriver"]))
            .unwrap_or_else(|| {
                panic!("the browser test needs chromedriver, and none was found ({INSTALL}; or set CHROMEDRIVER)")
            });
        Browser {
            chromium,
            chromedriver,
        }
    }
}

/// The file an environment variable names, if it is set.
fn from_env(var: &str) -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var_os(var)?);
    assert!(path.is_file(), "{var}={} is not a file", path.display());
    Some(path)
}

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

// --- WebDriver ------------------------------------------------------------------

/// A chromedriver process on a free port, in its own process group (with the
/// browsers it starts).
pub struct ChromeDriver {
    child: Child,
    url: String,
}

impl ChromeDriver {
    pub fn start(binary: &Path) -> ChromeDriver {
        let [port] = free_ports::<1>();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        ChromeDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let pgid = self.child.id();
        signal_group(pgid, "TERM");
        if !wait_up_to(&mut self.child, Duration::from_secs(5)) {
            signal_group(pgid, "KILL");
            let _ = self.child.wait();
        }
    }
}

/// One browser session.
pub struct Session {
    http: reqwest::Client,
    url: String,
    _profile: tempfile::TempDir,
}

impl Session {
    /// Waits for chromedriver, then starts headless Chromium with a fresh
    /// profile.
    pub async fn open(driver: &ChromeDriver, chromium: &Path) -> Result<Session> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let status = http.get(format!("{}/status", driver.url)).send().await;
            if let Ok(response) = status
                && let Ok(body) = response.json::<Value>().await
                && body["value"]["ready"] == true
            {
                break;
            }
            if Instant::now() > deadline {
                bail!("chromedriver did not answer at {}", driver.url);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir()?;
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--window-size=1200,900".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "goog:chromeOptions": { "binary": chromium, "args": args }
                }
            }
        });
        let response = http
            .post(format!("{}/session", driver.url))
            .json(&capabilities)
            .send()
            .await?;
        let body: Value = response.json().await?;
        let id = body["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow!("no session: {body}"))?;
        let session = Session {
            http,
            url: format!("{}/session/{id}", driver.url),
            _profile: profile,
        };
        session
            .command(
                Method::POST,
                "/timeouts",
                json!({"implicit": 0, "pageLoad": 15_000, "script": 5_000}),
            )
            .await?;
        Ok(session)
    }

    async fn command(&self, method: Method, path: &str, body: Value) -> Result<Value> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.url));
        if method == Method::POST {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("WebDriver {method} {path}"))?;
        let status = response.status();
        let answer: Value = response
            .json()
            .await
            .with_context(|| format!("WebDriver {method} {path}: not JSON"))?;
        if !status.is_success() {
            let error = &answer["value"];
            bail!(
                "WebDriver {method} {path}: {} ({})",
                error["error"].as_str().unwrap_or("?"),
                error["message"]
                    .as_str()
                    .unwrap_or("")
                    .lines()
                    .next()
                    .unwrap_or("")
            );
        }
        Ok(answer["value"].clone())
    }

    pub async fn goto(&self, url: &str) -> Result<()> {
        self.command(Method::POST, "/url", json!({ "url": url }))
            .await
            .map(drop)
    }

    pub async fn current_url(&self) -> Result<String> {
        let url = self.command(Method::GET, "/url", Value::Null).await?;
        Ok(url.as_str().unwrap_or_default().to_owned())
    }

    /// Waits until the current URL starts with `prefix`.
    pub async fn wait_for_url(&self, prefix: &str) -> Result<()> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let url = self.current_url().await?;
            if url.starts_with(prefix) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("waited {STEP_TIMEOUT:?} for {prefix}…, the browser is at {url}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Result<String> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let found = self
                .command(
                    Method::POST,
                    "/element",
                    json!({"using": "css selector", "value": css}),
                )
                .await;
            match found {
                Ok(element) => {
                    return element[ELEMENT_KEY]
                        .as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| anyhow!("not an element reference: {element}"));
                }
                Err(e) if Instant::now() > deadline => {
                    return Err(e.context(format!("no {css} on the page")));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    pub async fn click(&self, element: &str) -> Result<()> {
        self.command(
            Method::POST,
            &format!("/element/{element}/click"),
            json!({}),
        )
        .await
        .map(drop)
    }

    /// Types `text` into the element (an input).
    pub async fn type_into(&self, element: &str, text: &str) -> Result<()> {
        self.command(
            Method::POST,
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        )
        .await
        .map(drop)
    }

    /// The element's DOM property `name` (e.g. an input's `value`), as text.
    pub async fn property(&self, element: &str, name: &str) -> Result<String> {
        let value = self
            .command(
                Method::GET,
                &format!("/element/{element}/property/{name}"),
                Value::Null,
            )
            .await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// The element's visible text.
    pub async fn text(&self, element: &str) -> Result<String> {
        let text = self
            .command(
                Method::GET,
                &format!("/element/{element}/text"),
                Value::Null,
            )
            .await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    pub async fn body_text(&self) -> Result<String> {
        let body = self.find("body").await?;
        self.text(&body).await
    }

    /// The visible (header cell, data cell) pairs of the table `css`.
    pub async fn table(&self, css: &str) -> Result<Vec<(String, String)>> {
        self.find(css).await?;
        let mut rows = Vec::new();
        for cell in ["th", "td"] {
            let found = self
                .command(
                    Method::POST,
                    "/elements",
                    json!({"using": "css selector", "value": format!("{css} tr > {cell}")}),
                )
                .await?;
            let mut texts = Vec::new();
            for element in found.as_array().into_iter().flatten() {
                let id = element[ELEMENT_KEY].as_str().unwrap_or_default();
                texts.push(self.text(id).await?);
            }
            rows.push(texts);
        }
        let values = rows.pop().unwrap_or_default();
        let keys = rows.pop().unwrap_or_default();
        Ok(keys.into_iter().zip(values).collect())
    }

    /// Saves a PNG of the page as `DIR/<name>.png` when
    /// `BROWSER_TEST_SCREENSHOTS=DIR` is set.
    pub async fn screenshot(&self, name: &str) -> Result<()> {
        use base64::Engine as _;
        let Some(dir) = std::env::var_os("BROWSER_TEST_SCREENSHOTS") else {
            return Ok(());
        };
        let png = self
            .command(Method::GET, "/screenshot", Value::Null)
            .await?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .context("the screenshot is not base64")?;
        let path = Path::new(&dir).join(format!("{name}.png"));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(&path, png).with_context(|| format!("write {}", path.display()))
    }

    /// Where the browser is and what it shows, for failure messages.
    pub async fn describe(&self) -> String {
        let url = self
            .current_url()
            .await
            .unwrap_or_else(|e| format!("{e:#}"));
        let text = self.body_text().await.unwrap_or_else(|e| format!("{e:#}"));
        format!("{url}\n{text}")
    }

    /// Ends the session, which closes the browser.
    pub async fn close(&self) {
        let _ = self.command(Method::DELETE, "", Value::Null).await;
    }
}
