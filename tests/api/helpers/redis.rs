//! `TestRedis`: a throw-away `redis-server` for one test.
//!
//! Each test gets its own server on a free loopback port, with persistence
//! off, so tests never share keys and leave nothing on disk. The server is
//! killed when the value is dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long `redis-server` may take to say it accepts connections.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// A port picked as free may be taken before `redis-server` binds it; then we
/// try another one.
const START_ATTEMPTS: usize = 5;

/// A running `redis-server`, killed on drop.
pub struct TestRedis {
    child: Option<Child>,
    port: u16,
    /// Extra server options, kept so `restart` brings back the same server.
    options: Vec<String>,
    /// With TLS only (no plain port): the CA that signed its certificate.
    tls_ca: Option<PathBuf>,
}

impl TestRedis {
    /// Starts `redis-server` on a free loopback port and waits until it
    /// answers `PING`.
    pub fn start() -> TestRedis {
        Self::start_with(&["--appendonly", "no"])
    }

    /// Starts `redis-server` with extra options (e.g. AOF on, a data dir,
    /// cluster mode) on a free port.
    pub fn start_with(options: &[&str]) -> TestRedis {
        Self::start_on(options, None)
    }

    /// Starts `redis-server` that speaks only TLS on its port, with the
    /// server certificate of `ca` (clients need not present one).
    pub fn start_tls(ca: &super::tls::TestCa) -> TestRedis {
        Self::start_tls_with(ca, &["--appendonly", "no"])
    }

    /// `start_tls` with extra server options (e.g. cluster mode).
    pub fn start_tls_with(ca: &super::tls::TestCa, options: &[&str]) -> TestRedis {
        let path = |p: PathBuf| p.to_string_lossy().into_owned();
        let (cert, key, ca_cert) = (
            path(ca.server_cert()),
            path(ca.server_key()),
            path(ca.ca_cert()),
        );
        Self::start_on(
            &[
                options,
                &[
                    "--tls-cert-file",
                    &cert,
                    "--tls-key-file",
                    &key,
                    "--tls-ca-cert-file",
                    &ca_cert,
                    "--tls-auth-clients",
                    "no",
                ],
            ]
            .concat(),
            Some(ca.ca_cert()),
        )
    }

    fn start_on(options: &[&str], tls_ca: Option<PathBuf>) -> TestRedis {
        let options: Vec<String> = options.iter().map(|o| o.to_string()).collect();
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(free_port(), &options, tls_ca.clone()) {
                Ok(redis) => return redis,
                Err(error) => last_error = error,
            }
        }
        panic!("could not start redis-server after {START_ATTEMPTS} attempts: {last_error}");
    }

    /// Starts the stopped server again on the same port with the same
    /// options (and so the same data, when persistence is on).
    pub fn restart(&mut self) {
        self.stop();
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            match Self::try_start(self.port, &self.options, self.tls_ca.clone()) {
                Ok(mut redis) => {
                    self.child = redis.child.take();
                    return;
                }
                Err(error) => last_error = error,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "could not restart redis-server on port {}: {last_error}",
            self.port
        );
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn try_start(
        port: u16,
        options: &[String],
        tls_ca: Option<PathBuf>,
    ) -> Result<TestRedis, String> {
        let port_args = match tls_ca {
            Some(_) => vec![
                "--port".to_owned(),
                "0".into(),
                "--tls-port".into(),
                port.to_string(),
            ],
            None => vec!["--port".to_owned(), port.to_string()],
        };
        let mut child = Command::new("redis-server")
            .args(port_args)
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(options)
            .args(["--logfile", ""])
            .args(["--loglevel", "notice"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run redis-server (is it installed?): {e}"))?;

        // redis-server logs "Ready to accept connections" when it listens. A
        // thread keeps draining its output so the pipe never fills up.
        let stdout = child.stdout.take().expect("stdout is piped");
        let (ready_tx, ready_rx) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            let mut ready_tx = Some(ready_tx);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.contains("Ready to accept connections")
                    && let Some(tx) = ready_tx.take()
                {
                    let _ = tx.send(());
                }
            }
        });

        let mut redis = TestRedis {
            child: Some(child),
            port,
            options: options.to_vec(),
            tls_ca,
        };
        match ready_rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(()) => {}
            // The output ended (the server exited, e.g. port taken) or it
            // stayed silent too long: drop kills what is left, caller retries.
            Err(e) => return Err(format!("redis-server on port {port} did not start: {e}")),
        }
        if !redis.answers_ping() {
            redis.stop();
            return Err(format!("redis-server on port {port} does not answer PING"));
        }
        Ok(redis)
    }

    /// The `redis://` (or, with TLS, `rediss://localhost`) URL Detour
    /// should use.
    pub fn url(&self) -> String {
        match self.tls_ca {
            Some(_) => format!("rediss://localhost:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// Kills the server now (to simulate a store outage).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// All keys currently stored.
    pub fn keys(&self) -> Vec<String> {
        self.cli(&["--raw", "KEYS", "*"])
            .lines()
            .map(str::to_owned)
            .filter(|k| !k.is_empty())
            .collect()
    }

    /// Remaining time to live of `key` in seconds (-1: no TTL, -2: no key).
    pub fn ttl(&self, key: &str) -> i64 {
        let out = self.cli(&["--raw", "TTL", key]);
        out.trim()
            .parse()
            .unwrap_or_else(|_| panic!("TTL {key} answered {out:?}"))
    }

    /// Runs `redis-cli` against this server and returns its output.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(self.tls_cli_args())
            .args(args)
            .output()
            .expect("redis-cli runs");
        assert!(output.status.success(), "redis-cli {args:?} failed");
        String::from_utf8(output.stdout).expect("redis-cli prints UTF-8")
    }

    /// The `redis-cli` options that reach this server (TLS and its CA).
    pub fn tls_cli_args(&self) -> Vec<String> {
        match &self.tls_ca {
            Some(ca) => vec![
                "--tls".into(),
                "--cacert".into(),
                ca.to_string_lossy().into_owned(),
            ],
            None => Vec::new(),
        }
    }

    fn answers_ping(&self) -> bool {
        if self.tls_ca.is_some() {
            return Command::new("redis-cli")
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
                .args(self.tls_cli_args())
                .arg("PING")
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "PONG");
        }
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
        if stream.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}
