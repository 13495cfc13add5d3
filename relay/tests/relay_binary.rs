//! The `app-conversions-relay` binary: `--help`, a config file plus environment, real stderr
//! logging without tokens, and graceful exit on SIGTERM.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use app_conversions_sandbox::{Sandbox, SandboxConfig};
use common::*;

const BIN: &str = env!("CARGO_BIN_EXE_app-conversions-relay");

fn relay_command() -> Command {
    let mut command = Command::new(BIN);
    for name in [
        "RELAY_CONFIG",
        "RELAY_LISTEN",
        "RELAY_UPSTREAM",
        "RELAY_CONVERSION_TOKEN",
        "RELAY_APP_TOKENS",
        "RELAY_TRUSTED_PROXIES",
        "RELAY_LOG",
    ] {
        command.env_remove(name);
    }
    // A test has no load balancer to drain for.
    command.env("RELAY_DRAIN_MS", "0");
    command
}

#[test]
fn help_is_printed() {
    let out = relay_command().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("USAGE"));
    assert!(text.contains("--config FILE"));
    assert!(text.contains("RELAY_CONVERSION_TOKEN"));
}

#[test]
fn a_bad_configuration_exits_with_a_message() {
    let out = relay_command().arg("--check").output().unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8(out.stderr).unwrap();
    assert!(text.contains("conversion_token"), "{text}");
}

#[cfg(unix)]
#[test]
fn serves_logs_without_tokens_and_stops_on_sigterm() {
    let sandbox = Sandbox::start(SandboxConfig {
        token: CONVERSION_TOKEN.to_string(),
        ad_account_id: AD_ACCOUNT.to_string(),
        ..Default::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("relay.toml");
    let mut file = std::fs::File::create(&path).unwrap();
    write!(
        file,
        "listen = \"127.0.0.1:0\"\nrate_limit_per_sec = 100\n\n[[app_tokens]]\ntoken = \"{APP_TOKEN}\"\nad_account_id = \"{AD_ACCOUNT}\"\n"
    )
    .unwrap();
    drop(file);

    let mut child = relay_command()
        .arg("--config")
        .arg(&path)
        .arg("--upstream")
        .arg(sandbox.base_url())
        .env("RELAY_CONVERSION_TOKEN", CONVERSION_TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            let _ = tx.send(line.clone());
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .trim_end_matches(',')
        .to_string();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = client();
        let ok = post_to(
            &client,
            &base,
            Some(APP_TOKEN),
            AD_ACCOUNT,
            "?test=true",
            batch(vec![event("bin-1"), event("bin-2")]),
            &[],
        )
        .await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        let denied = post_to(
            &client,
            &base,
            Some("nope"),
            AD_ACCOUNT,
            "",
            batch(vec![event("bin-3")]),
            &[],
        )
        .await;
        assert_eq!(denied.status, 401);
    });
    assert_eq!(
        sandbox.requests()[0].authorization.as_deref(),
        Some(format!("Bearer {CONVERSION_TOKEN}").as_str())
    );

    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "relay exited with {exit}");
    reader.join().unwrap();
    let mut lines = vec![first];
    lines.extend(rx.try_iter());
    assert_log_clean(&lines);
    let requests: Vec<_> = lines.iter().filter(|l| l.contains("method=POST")).collect();
    assert_eq!(requests.len(), 2, "{lines:#?}");
    assert!(requests[0].contains("test=true status=200 events=2 ips_added=2"));
    assert!(requests[1].contains("status=401"), "{}", requests[1]);
    assert!(!requests[1].contains("events="), "{}", requests[1]);
}

/// `GET /healthz` on a fresh connection; the status line, or the error.
fn health(addr: &str, timeout: Duration) -> Result<String, std::io::Error> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n")?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    Ok(reply.lines().next().unwrap_or_default().to_string())
}

/// Slow-loris: more idle connections than the process may hold file descriptors. Idle
/// connections are closed after the idle timeout and the relay caps its connections below
/// the descriptor limit, so a real client is served soon after, and no connection is kept
/// forever.
#[cfg(unix)]
#[test]
fn idle_connections_beyond_the_descriptor_limit_do_not_lock_clients_out() {
    // 1,030 connections to a relay under `ulimit -n 1024`, as the attack was found; a smaller
    // copy where this test process itself may not open that many.
    let (relay_limit, connections) = if own_open_files_limit() >= 1200 {
        (1024, 1030)
    } else {
        (256, 262)
    };
    let (base, child) = common::processes::spawn_relay(
        Some(relay_limit),
        &[
            ("RELAY_UPSTREAM", "http://127.0.0.1:9".to_string()),
            ("RELAY_CONVERSION_TOKEN", CONVERSION_TOKEN.to_string()),
            ("RELAY_APP_TOKENS", format!("{AD_ACCOUNT}:{APP_TOKEN}")),
            ("RELAY_IDLE_TIMEOUT_MS", "1000".to_string()),
        ],
    );
    let addr = base.trim_start_matches("http://").to_string();
    assert_eq!(health(&addr, WAIT_HEALTH).unwrap(), "HTTP/1.1 200 OK");
    let mut idle = Vec::new();
    for _ in 0..connections {
        match std::net::TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(3)) {
            Ok(stream) => idle.push(stream),
            Err(_) => break,
        }
    }
    assert!(
        idle.len() > relay_limit as usize,
        "only {} connections opened",
        idle.len()
    );
    let status = health(&addr, WAIT_HEALTH);
    // Every idle connection is closed by the relay within its timeout of being accepted.
    let deadline = std::time::Instant::now() + WAIT_HEALTH;
    let closed = idle
        .iter_mut()
        .filter(|s| {
            use std::io::Read;
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .unwrap();
            match (&**s).read(&mut [0u8; 1]) {
                Ok(0) => true,
                Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
                Ok(_) => false,
            }
        })
        .count();
    drop(child);
    assert_eq!(status.unwrap(), "HTTP/1.1 200 OK");
    assert_eq!(closed, idle.len(), "idle connections left open");
}

/// This process's soft limit on open files (0 if unknown).
fn own_open_files_limit() -> usize {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            let line = text
                .lines()
                .find(|l| l.starts_with("Max open files"))?
                .to_string();
            line.split_whitespace().nth(3)?.parse().ok()
        })
        .unwrap_or(0)
}

/// How long a health check may take while idle connections wait for their timeout.
const WAIT_HEALTH: Duration = Duration::from_secs(8);

/// A raw `GET path` on a fresh connection: the whole answer, or the error.
fn raw_get(addr: &str, path: &str) -> Result<String, std::io::Error> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n"
    )?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    Ok(reply)
}

#[cfg(unix)]
#[test]
fn sigterm_fails_readiness_and_keeps_serving_for_the_drain_period() {
    let sandbox = Sandbox::start(SandboxConfig {
        token: CONVERSION_TOKEN.to_string(),
        ad_account_id: AD_ACCOUNT.to_string(),
        ..Default::default()
    })
    .unwrap();
    let (base, mut relay) = common::processes::spawn_relay(
        None,
        &[
            ("RELAY_UPSTREAM", sandbox.base_url()),
            ("RELAY_CONVERSION_TOKEN", CONVERSION_TOKEN.to_string()),
            ("RELAY_APP_TOKENS", format!("{AD_ACCOUNT}:{APP_TOKEN}")),
            ("RELAY_DRAIN_MS", "1500".to_string()),
        ],
    );
    let addr = base.trim_start_matches("http://").to_string();
    let ready = raw_get(&addr, "/readyz").unwrap();
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    assert!(ready.contains(r#""redis":"off""#), "{ready}");
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(relay.0.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(300));
    let draining = raw_get(&addr, "/readyz").unwrap();
    assert!(draining.starts_with("HTTP/1.1 503"), "{draining}");
    assert!(draining.contains(r#""draining":true"#), "{draining}");
    // Still serving: the balancer may send a few more before it notices.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer = runtime.block_on(post_to(
        &client(),
        &base,
        Some(APP_TOKEN),
        AD_ACCOUNT,
        "",
        batch(vec![event("while-draining")]),
        &[],
    ));
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.headers["connection"], "close");
    let exit = relay.0.wait().unwrap();
    assert!(exit.success(), "relay exited with {exit}");
    assert!(raw_get(&addr, "/livez").is_err());
}

#[cfg(unix)]
#[test]
fn json_logs_carry_request_ids_and_upstream_calls_but_no_token() {
    let sandbox = Sandbox::start(SandboxConfig {
        token: CONVERSION_TOKEN.to_string(),
        ad_account_id: AD_ACCOUNT.to_string(),
        ..Default::default()
    })
    .unwrap();
    // Killed when dropped: a failed assertion must not leave the relay running.
    let mut child = common::processes::Killed(
        relay_command()
            .env("RELAY_LISTEN", "127.0.0.1:0")
            .env("RELAY_UPSTREAM", sandbox.base_url())
            .env("RELAY_CONVERSION_TOKEN", CONVERSION_TOKEN)
            .env("RELAY_APP_TOKENS", format!("{AD_ACCOUNT}:{APP_TOKEN}"))
            .env("RELAY_LOG", "stderr")
            .env("RELAY_LOG_FORMAT", "json")
            .env("RELAY_CALLS_PER_MINUTES", "100")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = child.0.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let _ = tx.send(line.unwrap());
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(first.contains("calls_per_minute=4000"), "{first}");
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap()
        .trim_end_matches(',')
        .to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = client();
        let ok = post_to(
            &client,
            &base,
            Some(APP_TOKEN),
            AD_ACCOUNT,
            "",
            batch(vec![event("log-1")]),
            &[("x-request-id", "req-abc-1")],
        )
        .await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        assert_eq!(ok.headers["x-request-id"], "req-abc-1");
        let denied = post_to(
            &client,
            &base,
            Some(CONVERSION_TOKEN),
            AD_ACCOUNT,
            "",
            batch(vec![event("log-2")]),
            &[],
        )
        .await;
        assert_eq!(denied.status, 401);
        let generated = denied.headers["x-request-id"].to_str().unwrap();
        assert_eq!(generated.len(), 16);
        assert_eq!(get(&client, format!("{base}/livez")).await.status, 200);
        assert_eq!(get(&client, format!("{base}/readyz")).await.status, 200);
    });
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.0.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.0.wait().unwrap().success());
    reader.join().unwrap();
    let lines: Vec<String> = std::iter::once(first).chain(rx.try_iter()).collect();
    assert_log_clean(&lines);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("unknown environment variable RELAY_CALLS_PER_MINUTES")),
        "{lines:#?}"
    );
    let events: Vec<serde_json::Value> = lines
        .iter()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let requests: Vec<_> = events.iter().filter(|e| e["target"] == "request").collect();
    assert_eq!(
        requests.len(),
        2,
        "health checks are not logged: {events:#?}"
    );
    assert_eq!(requests[0]["request_id"], "req-abc-1");
    assert_eq!(requests[0]["level"], "INFO");
    assert_eq!(requests[0]["status"], 200);
    assert_eq!(requests[1]["status"], 401);
    let calls: Vec<_> = events
        .iter()
        .filter(|e| e["target"] == "upstream")
        .collect();
    assert_eq!(calls.len(), 1, "{events:#?}");
    assert_eq!(calls[0]["status"], 200);
    assert_eq!(calls[0]["events"], 1);
}
