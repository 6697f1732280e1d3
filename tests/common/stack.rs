//! `scripts/local-stack.sh` on free loopback ports, with the binaries of this
//! test's profile.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

/// How long the stack may take to answer once its binaries are built.
pub const STACK_TIMEOUT: Duration = Duration::from_secs(60);

/// Free loopback ports (released again for the processes that will bind them).
pub fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port"))
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().expect("local address").port())
}

/// Sends `signal` to a process group.
pub fn signal_group(pgid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

/// Waits up to `limit` for `child` to exit.
pub fn wait_up_to(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Detour and the two demo examples, built with the profile of this test.
pub struct Binaries {
    detour: PathBuf,
    upstream: PathBuf,
    site: PathBuf,
}

impl Binaries {
    /// Cargo builds the `detour` binary for integration tests but not the
    /// examples when only one test is selected, so build them (a no-op when
    /// `cargo test` already did).
    pub fn build() -> Binaries {
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

/// What runs besides Redis, Detour, the demo upstream and the terms site.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Parties {
    /// Only those four.
    Demo,
    /// Also the OpenID Provider and the relying party of
    /// `integrations/oidc-provider` (`--oidc`; needs node).
    Oidc,
}

/// `scripts/local-stack.sh` running on free ports.
pub struct Stack {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    /// Detour as the browser reaches it.
    pub detour_url: String,
    /// The demo upstream.
    pub upstream_url: String,
    /// The terms site, on `127.0.0.1`: another site than the others.
    pub site_url: String,
    /// The OpenID Provider (with [`Parties::Oidc`]).
    pub op_url: String,
    /// The relying party (with [`Parties::Oidc`]).
    pub rp_url: String,
}

impl Stack {
    /// Starts the stack and waits until the script says it is ready.
    pub fn start(binaries: &Binaries, parties: Parties) -> Stack {
        let [redis, detour, upstream, site, op, rp] = free_ports::<6>();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/local-stack.sh");
        let mut command = Command::new("bash");
        command.arg(&script);
        if parties == Parties::Oidc {
            command.arg("--oidc");
        }
        let mut child = command
            .env("DEMO_HOST", "localhost")
            .env("DEMO_SITE_HOST", "127.0.0.1")
            .env("DEMO_REDIS_PORT", redis.to_string())
            .env("DEMO_DETOUR_PORT", detour.to_string())
            .env("DEMO_UPSTREAM_PORT", upstream.to_string())
            .env("DEMO_SITE_PORT", site.to_string())
            .env("DEMO_OP_PORT", op.to_string())
            .env("DEMO_RP_PORT", rp.to_string())
            .env("DEMO_DETOUR_BIN", &binaries.detour)
            .env("DEMO_UPSTREAM_BIN", &binaries.upstream)
            .env("DEMO_SITE_BIN", &binaries.site)
            .env("DEMO_API_KEY", "browser-test-api-key-4c1d9e")
            .env("DEMO_RESULT_SECRET", "browser-test-result-secret-77aa01")
            .env("DEMO_TOS_SECRET", "browser-test-tos-secret-e3b0c4")
            .env("OIDC_API_KEY", "browser-test-oidc-api-key-9f2b51")
            .env(
                "OIDC_RESULT_SECRET",
                "browser-test-oidc-result-secret-5d0e7a",
            )
            .env("RP_CLIENT_SECRET", "browser-test-rp-secret-81c3f0")
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
            detour_url: format!("http://localhost:{detour}"),
            upstream_url: format!("http://localhost:{upstream}"),
            site_url: format!("http://127.0.0.1:{site}"),
            op_url: format!("http://localhost:{op}"),
            rp_url: format!("http://localhost:{rp}"),
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

    /// The last `lines` lines the stack's processes wrote.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log[log.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Stack {
    /// SIGTERM to the script, which stops its processes; the whole process
    /// group is killed if that takes too long.
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
