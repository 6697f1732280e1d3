//! `DetourProcess`: the built `detour` binary serving a prepared config in
//! its own process, with an environment of the test's choosing (for what is
//! process-global: `SSL_CERT_FILE`, `HTTP_PROXY`). Killed on drop.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use serde_json::Value;

use super::PreparedConfig;

/// How long the binary may take to say it listens.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// A running `detour` process.
pub struct DetourProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    pub client: reqwest::Client,
    log: Arc<Mutex<Vec<String>>>,
}

impl DetourProcess {
    /// Runs `detour --config <prepared>/detour.toml` with only the prepared
    /// environment plus `extra_env`, and waits until it listens.
    pub fn start(prepared: &PreparedConfig, extra_env: &[(&str, &str)]) -> DetourProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_detour"))
            .arg("--config")
            .arg(prepared.dir.path().join("detour.toml"))
            .env_clear()
            .envs(&prepared.env)
            .envs(extra_env.iter().copied())
            .env("DETOUR_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the detour binary");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = mpsc::channel::<u64>();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let log = log.clone();
            let port_tx = port_tx.clone();
            // Drained until the process ends, so its pipes never fill up.
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if let Ok(entry) = serde_json::from_str::<Value>(&line)
                        && entry["message"] == "detour is listening"
                        && let Some(port) = entry["port"].as_u64()
                    {
                        let _ = port_tx.send(port);
                    }
                    log.lock().expect("log lock").push(line);
                }
            });
        }
        let port = match port_rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "detour did not start:\n{}",
                    log.lock().expect("log lock").join("\n")
                );
            }
        };
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("build the HTTP client");
        DetourProcess {
            child,
            address: format!("http://127.0.0.1:{port}"),
            client,
            log,
        }
    }

    /// `GET <path>`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// `POST /v1/post-login` as the `demo` upstream.
    pub async fn post_login(&self, event: Value) -> reqwest::Response {
        self.client
            .post(format!("{}/v1/post-login", self.address))
            .bearer_auth(super::API_KEY)
            .json(&serde_json::json!({
                "event": event,
                "return_to": super::RETURN_TO,
                "transaction_id": super::TRANSACTION_ID,
            }))
            .send()
            .await
            .expect("POST /v1/post-login")
    }

    /// Everything it logged so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log lock").join("\n")
    }
}

impl Drop for DetourProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
