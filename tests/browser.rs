//! The local demo stack in a real browser.
//!
//! Starts `scripts/local-stack.sh` on free loopback ports (redis-server,
//! Detour on `examples/demo/detour.toml`, the demo upstream and the demo
//! terms site), then drives headless Chromium through chromedriver over the
//! W3C WebDriver protocol, as a person would: open the upstream, log in,
//! accept the terms on the demo site, come back through Detour's
//! `/continue`, and read the claims page. A second login then goes straight
//! through, because the upstream stored the accepted terms in the user's
//! `app_metadata`.
//!
//! Detour and the upstream are on `localhost`, the terms site on
//! `127.0.0.1`: another site for the browser, as a real external site is,
//! so its POST back to `/continue` is cross-site (what `SameSite` cookies
//! see).
//!
//! Needs Chromium and chromedriver: Debian's `chromium` and
//! `chromium-driver` (`./scripts/test.sh` installs them), or `CHROME_BIN` and
//! `CHROMEDRIVER` naming them. With `BROWSER_TEST_SCREENSHOTS=DIR` it saves a
//! PNG of every page it reads there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed assumption fails the test

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use reqwest::Method;
use serde_json::{Value, json};

/// The claim the sample roles Action sets.
const ROLES_CLAIM: &str = "https://my-app.example.com/roles";
/// How long one page may take to show what a step waits for.
const STEP_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the stack may take to answer once its binaries are built.
const STACK_TIMEOUT: Duration = Duration::from_secs(60);
/// The key of an element reference in W3C WebDriver answers.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

#[tokio::test]
async fn a_person_walks_the_whole_detour_in_chromium() {
    let started = Instant::now();
    let browser = Browser::locate();
    let binaries = Binaries::build();
    let built = started.elapsed();
    let stack = Stack::start(&binaries);
    let driver = ChromeDriver::start(&browser.chromedriver);
    let session = match Session::open(&driver, &browser.chromium).await {
        Ok(session) => session,
        Err(e) => panic!(
            "cannot start headless Chromium ({}) through chromedriver ({}): {e:#}",
            browser.chromium.display(),
            browser.chromedriver.display()
        ),
    };

    let outcome = walk_the_detour(&session, &stack).await;
    let page = if outcome.is_err() {
        session.describe().await
    } else {
        String::new()
    };
    session.close().await;
    drop(driver);

    if let Err(e) = outcome {
        panic!(
            "{e:#}\n\n--- the browser is at ---\n{page}\n--- the stack's output (last lines) ---\n{}",
            stack.log_tail(80)
        );
    }
    eprintln!(
        "browser test done in {:.1?} (of which building the examples {built:.1?})",
        started.elapsed()
    );
}

/// The scenario: login, terms, accept, claims page; then a second login.
async fn walk_the_detour(session: &Session, stack: &Stack) -> Result<()> {
    // The one URL a person opens.
    session.goto(&stack.upstream_url).await?;
    let login = session.find("#login").await?;
    session.screenshot("1-login").await?;
    let label = session.text(&login).await?;
    if label != "Log in as Jane" {
        bail!("the login page's button says {label:?}");
    }
    session.click(&login).await?;

    // Detour's terms Action sent the browser to the demo site.
    session
        .wait_for_url(&format!("{}/terms?", stack.site_url))
        .await
        .context("after Log in, the browser should be on the terms site")?;
    let accept = session.find("#accept").await?;
    session.screenshot("2-terms").await?;
    let terms = session.body_text().await?;
    for expected in [
        "Our terms of service changed",
        "jane@yourcompany.com",
        "2025-06",
    ] {
        if !terms.contains(expected) {
            bail!("the terms page does not show {expected:?}:\n{terms}");
        }
    }
    session.click(&accept).await?;

    // The site posted back to Detour's /continue, which sent the browser to
    // the upstream's callback with the result token.
    session
        // `?result=…`, or a POST by Detour's auto-submitting page when long.
        .wait_for_url(&format!("{}/callback", stack.upstream_url))
        .await
        .context("after Accept, the browser should come back through /continue to the callback")?;
    let outcome = session.find("#outcome").await?;
    session.screenshot("3-callback").await?;
    let heading = session.text(&outcome).await?;
    if heading != "Logged in: outcome allow" {
        bail!("the callback page says {heading:?}");
    }
    let claims = session.table("#id-token-claims").await?;
    expect_row(
        &claims,
        ROLES_CLAIM,
        r#"["admin","editor"]"#,
        "ID token claims",
    )?;
    let access = session.table("#access-token-claims").await?;
    expect_row(
        &access,
        ROLES_CLAIM,
        r#"["admin","editor"]"#,
        "access token claims",
    )?;
    let metadata = session.table("#metadata-changes").await?;
    expect_row(
        &metadata,
        "app_metadata.tos_accepted",
        "true",
        "metadata changes",
    )?;
    expect_row(
        &metadata,
        "app_metadata.tos_accepted_version",
        r#""2025-06""#,
        "metadata changes",
    )?;
    let page = session.body_text().await?;
    if !page.contains("Verified result token from Detour") {
        bail!("the callback page does not say the result token was verified:\n{page}");
    }
    // The token came through the browser without the Actions' console
    // output; the upstream fetched it from Detour's back channel.
    let executions = session.table("#executions").await?;
    let terms = executions
        .iter()
        .find(|(k, _)| k == "terms onContinuePostLogin")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    if !terms.contains("accepted by") {
        bail!("the terms Action's console output is not on the callback page: {executions:?}");
    }

    // The upstream applied the metadata: the next login needs no detour.
    session.goto(&stack.upstream_url).await?;
    let home = session.body_text().await?;
    if !home.contains(r#""tos_accepted":true"#) {
        bail!("the login page does not show the stored app_metadata:\n{home}");
    }
    let login = session.find("#login").await?;
    session.click(&login).await?;
    session
        .wait_for_url(&format!("{}/login", stack.upstream_url))
        .await
        .context("the second login should be answered at once, without a detour")?;
    let outcome = session.find("#outcome").await?;
    session.screenshot("4-second-login").await?;
    let heading = session.text(&outcome).await?;
    if heading != "Logged in: outcome allow" {
        bail!("the second login's page says {heading:?}");
    }
    let claims = session.table("#id-token-claims").await?;
    expect_row(
        &claims,
        ROLES_CLAIM,
        r#"["admin","editor"]"#,
        "ID token claims",
    )?;
    Ok(())
}

fn expect_row(rows: &[(String, String)], key: &str, value: &str, table: &str) -> Result<()> {
    match rows.iter().find(|(k, _)| k == key) {
        Some((_, v)) if v == value => Ok(()),
        Some((_, v)) => bail!("{table}: {key} is {v}, expected {value}"),
        None => bail!("{table} have no {key}: {rows:?}"),
    }
}

// --- the tools ---------------------------------------------------------------

struct Browser {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

impl Browser {
    /// Finds Chromium and chromedriver, or fails saying how to get them.
    fn locate() -> Browser {
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

/// A free loopback port (released again for the process that will bind it).
fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port"))
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().expect("local address").port())
}

/// Sends `signal` to a process group.
fn signal_group(pgid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

/// Waits up to `limit` for `child` to exit.
fn wait_up_to(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

// --- the stack -----------------------------------------------------------------

/// Detour and the two demo examples, built with the profile of this test.
struct Binaries {
    detour: PathBuf,
    upstream: PathBuf,
    site: PathBuf,
}

impl Binaries {
    /// Cargo builds the `detour` binary for integration tests but not the
    /// examples when only this test is selected, so build them (a no-op when
    /// `cargo test` already did).
    fn build() -> Binaries {
        let detour = PathBuf::from(env!("CARGO_BIN_EXE_detour"));
        let out_dir = detour
            .parent()
            .expect("the binary's directory")
            .to_path_buf();
        let profile = match out_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => "dev".to_owned(),
            Some(other) => other.to_owned(),
            None => "dev".to_owned(),
        };
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let output = Command::new(&cargo)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["build", "--quiet", "--profile", &profile])
            .args(["--example", "demo_upstream", "--example", "demo_site"])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cargo}: {e}"));
        assert!(
            output.status.success(),
            "building the demo examples failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        Binaries {
            detour,
            upstream: out_dir.join("examples/demo_upstream"),
            site: out_dir.join("examples/demo_site"),
        }
    }
}

/// `scripts/local-stack.sh` running on free ports.
struct Stack {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    upstream_url: String,
    site_url: String,
}

impl Stack {
    fn start(binaries: &Binaries) -> Stack {
        let [redis, detour, upstream, site] = free_ports::<4>();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/local-stack.sh");
        let mut child = Command::new("bash")
            .arg(&script)
            .env("DEMO_HOST", "localhost")
            .env("DEMO_SITE_HOST", "127.0.0.1")
            .env("DEMO_REDIS_PORT", redis.to_string())
            .env("DEMO_DETOUR_PORT", detour.to_string())
            .env("DEMO_UPSTREAM_PORT", upstream.to_string())
            .env("DEMO_SITE_PORT", site.to_string())
            .env("DEMO_DETOUR_BIN", &binaries.detour)
            .env("DEMO_UPSTREAM_BIN", &binaries.upstream)
            .env("DEMO_SITE_BIN", &binaries.site)
            .env("DEMO_API_KEY", "browser-test-api-key-4c1d9e")
            .env("DEMO_RESULT_SECRET", "browser-test-result-secret-77aa01")
            .env("DEMO_TOS_SECRET", "browser-test-tos-secret-e3b0c4")
            .env("DEMO_WAIT_SECS", STACK_TIMEOUT.as_secs().to_string())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so nothing outlives the test.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", script.display()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = mpsc::channel();
        collect_lines(child.stdout.take(), &log, Some(ready_tx.clone()));
        collect_lines(child.stderr.take(), &log, Some(ready_tx));
        let stack = Stack {
            child,
            log,
            upstream_url: format!("http://localhost:{upstream}"),
            site_url: format!("http://127.0.0.1:{site}"),
        };
        let deadline = Instant::now() + STACK_TIMEOUT + Duration::from_secs(5);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match ready_rx.recv_timeout(left) {
                Ok(line) if line.starts_with("local-stack: ready:") => return stack,
                Ok(_) => continue,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                    "scripts/local-stack.sh did not report the stack ready within {STACK_TIMEOUT:?}:\n{}",
                    stack.log_tail(80)
                ),
                Err(mpsc::RecvTimeoutError::Disconnected) => panic!(
                    "scripts/local-stack.sh ended before the stack was ready:\n{}",
                    stack.log_tail(80)
                ),
            }
        }
    }

    fn log_tail(&self, lines: usize) -> String {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log[log.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Stack {
    /// SIGTERM to the script, which stops the four processes; the whole
    /// process group is killed if that takes too long.
    fn drop(&mut self) {
        let pid = self.child.id();
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        if !wait_up_to(&mut self.child, Duration::from_secs(20)) {
            signal_group(pid, "KILL");
            let _ = self.child.wait();
        }
    }
}

/// Reads `stream` line by line into `log` on a thread, forwarding each line
/// to `lines` while someone listens.
fn collect_lines<R: Read + Send + 'static>(
    stream: Option<R>,
    log: &Arc<Mutex<Vec<String>>>,
    lines: Option<mpsc::Sender<String>>,
) {
    let Some(stream) = stream else { return };
    let log = Arc::clone(log);
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Some(tx) = &lines {
                let _ = tx.send(line.clone());
            }
            log.lock().unwrap_or_else(|e| e.into_inner()).push(line);
        }
    });
}

// --- WebDriver ------------------------------------------------------------------

/// A chromedriver process on a free port, in its own process group (with the
/// browsers it starts).
struct ChromeDriver {
    child: Child,
    url: String,
}

impl ChromeDriver {
    fn start(binary: &Path) -> ChromeDriver {
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
struct Session {
    http: reqwest::Client,
    url: String,
    _profile: tempfile::TempDir,
}

impl Session {
    /// Waits for chromedriver, then starts headless Chromium with a fresh
    /// profile.
    async fn open(driver: &ChromeDriver, chromium: &Path) -> Result<Session> {
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

    async fn goto(&self, url: &str) -> Result<()> {
        self.command(Method::POST, "/url", json!({ "url": url }))
            .await
            .map(drop)
    }

    async fn current_url(&self) -> Result<String> {
        let url = self.command(Method::GET, "/url", Value::Null).await?;
        Ok(url.as_str().unwrap_or_default().to_owned())
    }

    /// Waits until the current URL starts with `prefix`.
    async fn wait_for_url(&self, prefix: &str) -> Result<()> {
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
    async fn find(&self, css: &str) -> Result<String> {
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

    async fn click(&self, element: &str) -> Result<()> {
        self.command(
            Method::POST,
            &format!("/element/{element}/click"),
            json!({}),
        )
        .await
        .map(drop)
    }

    /// The element's visible text.
    async fn text(&self, element: &str) -> Result<String> {
        let text = self
            .command(
                Method::GET,
                &format!("/element/{element}/text"),
                Value::Null,
            )
            .await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    async fn body_text(&self) -> Result<String> {
        let body = self.find("body").await?;
        self.text(&body).await
    }

    /// The visible (header cell, data cell) pairs of the table `css`.
    async fn table(&self, css: &str) -> Result<Vec<(String, String)>> {
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
    async fn screenshot(&self, name: &str) -> Result<()> {
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
    async fn describe(&self) -> String {
        let url = self
            .current_url()
            .await
            .unwrap_or_else(|e| format!("{e:#}"));
        let text = self.body_text().await.unwrap_or_else(|e| format!("{e:#}"));
        format!("{url}\n{text}")
    }

    /// Ends the session, which closes the browser.
    async fn close(&self) {
        let _ = self.command(Method::DELETE, "", Value::Null).await;
    }
}
