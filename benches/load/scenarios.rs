//! The scenarios, the requests they send, and the checks that run before
//! measuring.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value, json};

use crate::client::{Conn, Response, contains, find};
use crate::system::unix_now;
use crate::{API_KEY, BoxError, Config, EVENT, RESULT_SECRET, RETURN_TO, SESSION_SECRET};

#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    /// One `post-login` answered `allow`.
    Allow,
    /// `post-login` answered `redirect`, then `continue` answered `302`.
    Detour,
}

pub struct Scenario {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub addr: SocketAddr,
    pub pid: u32,
    pub login: Vec<u8>,
    pub continue_path: &'static str,
    /// Looping logins kept running beside this scenario's load.
    pub loopers: usize,
}

pub fn scenarios(config: &Config) -> Vec<Arc<Scenario>> {
    let event: Value = serde_json::from_str(EVENT).unwrap_or(Value::Null);
    let body = json!({"event": event, "return_to": RETURN_TO, "transaction_id": "tx-bench"});
    let body = body.to_string();
    let login = |addr: SocketAddr, path: &str| post(addr, path, "application/json", &body, true);
    let good_on_loops = |key, label, loopers| {
        Arc::new(Scenario {
            key,
            label,
            kind: Kind::Allow,
            addr: config.loops,
            pid: config.loops_pid,
            login: login(config.loops, "/v1/post-login"),
            continue_path: "",
            loopers,
        })
    };
    vec![
        Arc::new(Scenario {
            key: "A",
            label: "A  allow: 3 Actions",
            kind: Kind::Allow,
            addr: config.allow,
            pid: config.allow_pid,
            login: login(config.allow, "/v1/post-login"),
            continue_path: "",
            loopers: 0,
        }),
        Arc::new(Scenario {
            key: "FA",
            label: "FA floor of A (no JS)",
            kind: Kind::Allow,
            addr: config.floor_allow,
            pid: config.floor_allow_pid,
            login: login(config.floor_allow, "/floor/post-login"),
            continue_path: "",
            loopers: 0,
        }),
        Arc::new(Scenario {
            key: "B",
            label: "B  detour: login+continue",
            kind: Kind::Detour,
            addr: config.detour,
            pid: config.detour_pid,
            login: login(config.detour, "/v1/post-login"),
            continue_path: "/continue",
            loopers: 0,
        }),
        Arc::new(Scenario {
            key: "FB",
            label: "FB floor of B (no JS)",
            kind: Kind::Detour,
            addr: config.floor_detour,
            pid: config.floor_detour_pid,
            login: login(config.floor_detour, "/floor/post-login?mode=redirect"),
            continue_path: "/floor/continue",
            loopers: 0,
        }),
        good_on_loops("L", "L  A + a loop Action, alone", 0),
        good_on_loops("LL", "LL L beside looping logins", config.loopers),
    ]
}

/// A login that the loops server's last Action spins on until the time
/// limit.
pub fn looping_login(addr: SocketAddr) -> Vec<u8> {
    let mut event: Value = serde_json::from_str(EVENT).unwrap_or(Value::Null);
    event["user"]["user_metadata"]["misbehave"] = json!(true);
    let body = json!({"event": event, "return_to": RETURN_TO, "transaction_id": "tx-loop"});
    post(
        addr,
        "/v1/post-login",
        "application/json",
        &body.to_string(),
        true,
    )
}

/// Keeps `n` looping logins in flight until `stop`; returns how many ended
/// with the time limit, as they must.
pub fn start_loopers(
    scenario: &Scenario,
    n: usize,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<u64>> {
    (0..n)
        .map(|_| {
            let (addr, stop) = (scenario.addr, stop.clone());
            let request = looping_login(addr);
            tokio::spawn(async move {
                let mut timed_out = 0;
                let mut conn = None;
                while !stop.load(Ordering::Relaxed) {
                    if conn.is_none() {
                        conn = Conn::connect(addr).await.ok();
                    }
                    let Some(c) = conn.as_mut() else {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    };
                    match c.send(&request).await {
                        Ok(r) if contains(&r.body, b"execution time limit") => timed_out += 1,
                        Ok(_) => {}
                        Err(_) => conn = None,
                    }
                }
                timed_out
            })
        })
        .collect()
}

pub fn post(addr: SocketAddr, path: &str, content_type: &str, body: &str, auth: bool) -> Vec<u8> {
    let auth = if auth {
        format!("Authorization: Bearer {API_KEY}\r\n")
    } else {
        String::new()
    };
    format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One login (A) or one detour (B): every request, checked.
pub async fn one(conn: &mut Conn, scenario: &Scenario) -> Result<Response, BoxError> {
    let first = conn.send(&scenario.login).await?;
    if scenario.kind == Kind::Allow {
        if first.status != 200 || !contains(&first.body, b"\"outcome\":\"allow\"") {
            return Err(format!("post-login: {} {}", first.status, first.text()).into());
        }
        return Ok(first);
    }
    if first.status != 200 || !contains(&first.body, b"\"outcome\":\"redirect\"") {
        return Err(format!("post-login: {} {}", first.status, first.text()).into());
    }
    let state = state_of(&first.body).ok_or("no state in the redirect location")?;
    let form = format!("state={state}&session_token={}", session_token(&state)?);
    let request = post(
        scenario.addr,
        scenario.continue_path,
        "application/x-www-form-urlencoded",
        &form,
        false,
    );
    let second = conn.send(&request).await?;
    let delivered = second
        .location
        .as_deref()
        .is_some_and(|l| l.starts_with(&format!("{RETURN_TO}?result=")));
    if second.status != 302 || !delivered {
        return Err(format!("continue: {} {}", second.status, second.text()).into());
    }
    Ok(second)
}

/// The token the external site sends back (README: "A full detour").
pub fn session_token(state: &str) -> Result<String, BoxError> {
    let now = unix_now();
    let claims = json!({
        "sub": "auth0|5f7c8ec7c33c6c004bbafe82", "iss": "my-app.example.com",
        "iat": now, "exp": now + 60, "state": state, "favorite_color": "purple",
    });
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SESSION_SECRET.as_bytes()),
    )?)
}

pub fn state_of(body: &[u8]) -> Option<String> {
    let at = find(body, b"state=")? + b"state=".len();
    let state: String = body[at..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b'_')
        .map(|b| char::from(*b))
        .collect();
    (!state.is_empty()).then_some(state)
}

/// Runs each scenario once and checks what the upstream would see, so a
/// floor that skipped work, or a broken build, cannot pass for fast.
pub async fn preflight(scenarios: &[Arc<Scenario>]) -> Result<(), BoxError> {
    for scenario in scenarios {
        let mut conn = Conn::connect(scenario.addr).await?;
        let last = one(&mut conn, scenario)
            .await
            .map_err(|e| format!("{}: {e}", scenario.label))?;
        let outcome: Map<String, Value> = match scenario.kind {
            Kind::Allow => serde_json::from_slice(&last.body)?,
            Kind::Detour => {
                let location = last.location.unwrap_or_default();
                let result = location.rsplit("result=").next().unwrap_or_default();
                let mut validation = Validation::new(Algorithm::HS256);
                validation.set_audience(&["demo"]);
                jsonwebtoken::decode::<Map<String, Value>>(
                    result,
                    &DecodingKey::from_secret(RESULT_SECRET.as_bytes()),
                    &validation,
                )?
                .claims
            }
        };
        let expect = |pointer: &str, value: Value| -> Result<(), BoxError> {
            let outcome = Value::Object(outcome.clone());
            match outcome.pointer(pointer) {
                Some(v) if *v == value => Ok(()),
                other => Err(format!(
                    "{}: {pointer} is {other:?}, expected {value}",
                    scenario.label
                )
                .into()),
            }
        };
        expect("/outcome", json!("allow"))?;
        match scenario.kind {
            Kind::Allow => {
                let roles = "/id_token/claims/https:~1~1my-app.example.com~1roles";
                expect(roles, json!(["admin", "editor"]))?;
                expect("/user/user_metadata/logins_seen", json!(7))?;
            }
            Kind::Detour => {
                expect("/user/user_metadata/favorite_color", json!("purple"))?;
                expect("/transaction_id", json!("tx-bench"))?;
            }
        }
    }
    Ok(())
}

/// One operation on the client's connection, reconnecting after a failure.
pub async fn run_once(conn: &mut Option<Conn>, scenario: &Scenario) -> bool {
    if conn.is_none() {
        *conn = Conn::connect(scenario.addr).await.ok();
    }
    let Some(c) = conn.as_mut() else {
        tokio::time::sleep(Duration::from_millis(10)).await;
        return false;
    };
    match one(c, scenario).await {
        Ok(_) => true,
        Err(_) => {
            *conn = None;
            false
        }
    }
}
