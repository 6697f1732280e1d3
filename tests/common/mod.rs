//! What the browser tests share (`tests/browser.rs`, `tests/oidc.rs`): the
//! local stack on free ports (`stack`), headless Chromium over WebDriver
//! (`webdriver`), and [`Rig`], which starts both for one test and reports
//! where the browser was when a scenario fails.
//!
//! Needs Chromium and chromedriver: Debian's `chromium` and
//! `chromium-driver` (`./scripts/test.sh` installs them), or `CHROME_BIN` and
//! `CHROMEDRIVER` naming them. With `BROWSER_TEST_SCREENSHOTS=DIR` a test
//! saves a PNG of every page it reads there.

// Each test binary uses part of this module.
#![allow(dead_code)]

pub mod stack;
pub mod webdriver;

use std::time::Instant;

use anyhow::{Result, bail};
use tokio::sync::{Mutex, MutexGuard};

pub use stack::{Binaries, Parties, Stack};
pub use webdriver::{Browser, ChromeDriver, Session};

/// One stack and one browser at a time per test binary: the machine running
/// the tests may have two cores, and a page has 15 s to show each step.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// A running stack and a fresh browser session on it.
pub struct Rig {
    /// The browser (a fresh profile: no cookies).
    pub session: Session,
    driver: ChromeDriver,
    /// The stack's URLs.
    pub stack: Stack,
    started: Instant,
    _turn: MutexGuard<'static, ()>,
}

impl Rig {
    /// Builds the examples, starts the stack and a headless Chromium.
    pub async fn start(parties: Parties) -> Rig {
        let turn = ONE_AT_A_TIME.lock().await;
        let started = Instant::now();
        let browser = Browser::locate();
        let binaries = Binaries::build();
        let stack = Stack::start(&binaries, parties);
        let driver = ChromeDriver::start(&browser.chromedriver);
        let session = match Session::open(&driver, &browser.chromium).await {
            Ok(session) => session,
            Err(e) => panic!(
                "cannot start headless Chromium ({}) through chromedriver ({}): {e:#}",
                browser.chromium.display(),
                browser.chromedriver.display()
            ),
        };
        Rig {
            session,
            driver,
            stack,
            started,
            _turn: turn,
        }
    }

    /// Closes the browser and stops the stack; if the scenario failed,
    /// panics with its error, the page the browser is on and the stack's
    /// last log lines.
    pub async fn finish(self, outcome: Result<()>) {
        let page = if outcome.is_err() {
            self.session.describe().await
        } else {
            String::new()
        };
        self.session.close().await;
        drop(self.driver);
        if let Err(e) = outcome {
            panic!(
                "{e:#}\n\n--- the browser is at ---\n{page}\n--- the stack's output (last lines) ---\n{}",
                self.stack.log_tail(80)
            );
        }
        eprintln!("browser scenario done in {:.1?}", self.started.elapsed());
    }
}

/// Fails unless `rows` (a table's header and data cells) has `key` = `value`.
pub fn expect_row(rows: &[(String, String)], key: &str, value: &str, table: &str) -> Result<()> {
    match rows.iter().find(|(k, _)| k == key) {
        Some((_, v)) if v == value => Ok(()),
        Some((_, v)) => bail!("{table}: {key} is {v}, expected {value}"),
        None => bail!("{table} have no {key}: {rows:?}"),
    }
}
