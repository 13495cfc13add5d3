//! The `/_sandbox/` control endpoints and the standalone binary that serves them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use app_conversions_sandbox::Sandbox;
use common::*;
use serde_json::{json, Value};

fn get(port: u16, path: &str) -> Answer {
    raw(port, "GET", path, &[], b"")
}

fn post(port: u16, path: &str, body: &str) -> Answer {
    raw(
        port,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

#[test]
fn health() {
    let sandbox = start();
    let answer = get(sandbox.port(), "/_sandbox/health");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({"status": "ok"}));
}

#[test]
fn accepted_and_requests_mirror_the_rust_api() {
    let sandbox = start();
    post_events(&sandbox, &batch(vec![event("a"), event("b")]));
    post_events_to(
        &sandbox,
        &format!("{}?test=true", events_path()),
        &batch(vec![event("t")]),
    );
    let accepted = get(sandbox.port(), "/_sandbox/accepted").json();
    assert_eq!(accepted, Value::Array(sandbox.accepted()));
    assert_eq!(accepted.as_array().unwrap().len(), 2);
    assert_eq!(sandbox.accepted_count(), 2, "test-mode events are not kept");
    let requests = get(sandbox.port(), "/_sandbox/requests").json();
    let requests = requests.as_array().unwrap();
    assert_eq!(requests.len(), 2, "control requests are not recorded");
    let first = &requests[0];
    for field in [
        "path",
        "query",
        "test_mode",
        "authorization",
        "user_agent",
        "body",
        "status",
    ] {
        assert!(first.get(field).is_some(), "{field} in {first}");
    }
    assert_eq!(first["status"], 200);
    assert_eq!(first["authorization"], "Bearer sandbox-token");
    assert_eq!(requests[1]["test_mode"], true);
    assert_eq!(requests[1]["query"], "test=true");
    assert_eq!(
        get(sandbox.port(), "/_sandbox/accepted/").status,
        200,
        "trailing slash ok"
    );
}

#[test]
fn faults_are_queued_with_count_and_kinds() {
    let sandbox = start();
    let answer = post(
        sandbox.port(),
        "/_sandbox/faults",
        r#"{"status":503,"retry_after":"1","count":2}"#,
    );
    assert_eq!(answer.json(), json!({"queued": 2}));
    let answer = post(
        sandbox.port(),
        "/_sandbox/faults",
        r#"[{"kind":"drop_connection"},{"kind":"redirect","location":"http://127.0.0.1:9/"},{"kind":"delay","millis":10}]"#,
    );
    assert_eq!(answer.json(), json!({"queued": 3}));
    let body = batch(vec![event("a")]);
    let first = post_events(&sandbox, &body);
    assert_eq!(
        (first.status, first.header("retry-after")),
        (503, Some("1"))
    );
    assert_eq!(post_events(&sandbox, &body).status, 503);
    assert_eq!(post_events(&sandbox, &body).status, 0);
    assert_eq!(post_events(&sandbox, &body).status, 307);
    assert_eq!(post_events(&sandbox, &body).status, 200);
    assert_eq!(post_events(&sandbox, &body).status, 200);
    assert_eq!(sandbox.times_accepted("a"), 2);
}

#[test]
fn every_fault_kind_is_accepted_by_the_control_endpoint() {
    let sandbox = start();
    let kinds = r#"[{"kind":"status","status":429},{"kind":"delay","millis":1},
        {"kind":"drop_connection"},{"kind":"reset_mid_response"},{"kind":"garbage_body"},
        {"kind":"huge_body","bytes":100},{"kind":"trickle","bytes_per_sec":100000},
        {"kind":"wrong_event_count"},{"kind":"redirect","location":"http://x/"}]"#;
    assert_eq!(
        post(sandbox.port(), "/_sandbox/faults", kinds).json(),
        json!({"queued": 9})
    );
    let statuses: Vec<u16> = (0..9)
        .map(|_| post_events(&sandbox, &batch(vec![event("k")])).status)
        .collect();
    assert_eq!(statuses, [429, 200, 0, 200, 200, 200, 200, 200, 307]);
}

#[test]
fn bad_fault_specs_are_400() {
    let sandbox = start();
    for body in [
        r#"{"kind":"teleport"}"#,
        r#"{"kind":"delay"}"#,
        "nope",
        r#"{"status":503,"colour":"red"}"#,
    ] {
        let answer = post(sandbox.port(), "/_sandbox/faults", body);
        assert_eq!(answer.status, 400, "{body}");
        assert!(answer.json()["message"].is_string());
    }
    assert_eq!(
        post_events(&sandbox, &batch(vec![event("a")])).status,
        200,
        "nothing queued"
    );
}

#[test]
fn reset_forgets_everything() {
    let sandbox = start();
    post_events(&sandbox, &batch(vec![event("a")]));
    post(sandbox.port(), "/_sandbox/faults", r#"{"status":500}"#);
    assert_eq!(
        post(sandbox.port(), "/_sandbox/reset", "").json(),
        json!({"reset": true})
    );
    assert!(sandbox.accepted().is_empty());
    assert!(sandbox.requests().is_empty());
    assert_eq!(sandbox.times_accepted("a"), 0);
    assert_eq!(post_events(&sandbox, &batch(vec![event("a")])).status, 200);
}

#[test]
fn custom_event_names_can_be_registered() {
    let sandbox = start();
    let mut survey = event("s");
    survey["event_name"] = json!("tooksurvey");
    assert_eq!(
        post_events(&sandbox, &batch(vec![survey.clone()])).status,
        422
    );
    let answer = post(
        sandbox.port(),
        "/_sandbox/custom_event_names",
        r#"{"name":"TookSurvey"}"#,
    );
    assert_eq!(answer.json(), json!({"registered": "TookSurvey"}));
    assert_eq!(post_events(&sandbox, &batch(vec![survey])).status, 200);
    for bad in [
        r#"{"name":""}"#,
        r#"{"name":"has space"}"#,
        r#"{"names":["x"]}"#,
        "[]",
    ] {
        assert_eq!(
            post(sandbox.port(), "/_sandbox/custom_event_names", bad).status,
            400,
            "{bad}"
        );
    }
    let long = format!(r#"{{"name":"{}"}}"#, "a".repeat(101));
    assert_eq!(
        post(sandbox.port(), "/_sandbox/custom_event_names", &long).status,
        400
    );
}

#[test]
fn unknown_control_paths_and_methods() {
    let sandbox = start();
    assert_eq!(get(sandbox.port(), "/_sandbox/nothing").status, 404);
    assert_eq!(get(sandbox.port(), "/_sandbox/reset").status, 405);
    assert_eq!(post(sandbox.port(), "/_sandbox/accepted", "").status, 405);
}

/// The standalone binary, killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str], token: Option<&str>) -> (Process, u16) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_app-conversions-sandbox"));
    command
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    match token {
        Some(t) => command.env("SANDBOX_TOKEN", t),
        None => command.env_remove("SANDBOX_TOKEN"),
    };
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let process = Process(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let port = line
        .trim()
        .strip_prefix("sandbox listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();
    (process, port)
}

fn post_as(port: u16, account: &str, token: &str, body: &str) -> Answer {
    raw(
        port,
        "POST",
        &format!("/v5/ad_accounts/{account}/events"),
        &[("Authorization", &format!("Bearer {token}"))],
        body.as_bytes(),
    )
}

#[test]
fn the_binary_serves_until_killed_and_is_driven_over_http() {
    let (_process, port) = spawn(
        &[
            "--port",
            "0",
            "--token",
            "tok",
            "--ad-account",
            "42",
            "--custom-event",
            "TookSurvey",
        ],
        None,
    );
    assert_eq!(get(port, "/_sandbox/health").status, 200);
    let mut survey = event("s");
    survey["event_name"] = json!("TOOKSURVEY");
    assert_eq!(
        post_as(port, "42", "tok", &batch(vec![event("a"), survey])).status,
        200
    );
    assert_eq!(
        post_as(port, "42", "sandbox-token", &batch(vec![event("a")])).status,
        401
    );
    assert_eq!(
        post_as(port, ACCOUNT, "tok", &batch(vec![event("a")])).status,
        403
    );
    post(port, "/_sandbox/faults", r#"{"kind":"garbage_body"}"#);
    assert!(post_as(port, "42", "tok", &batch(vec![event("b")]))
        .body
        .starts_with(b"<html>"));
    let accepted = get(port, "/_sandbox/accepted").json();
    assert_eq!(accepted.as_array().unwrap().len(), 2);
    assert_eq!(
        get(port, "/_sandbox/requests")
            .json()
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn the_binary_reads_the_token_from_the_environment() {
    let (_process, port) = spawn(&["--port=0"], Some("from-env"));
    assert_eq!(
        post_as(port, ACCOUNT, "from-env", &batch(vec![event("a")])).status,
        200
    );
    let (_other, port) = spawn(&["--port", "0", "--token", "flag-wins"], Some("from-env"));
    assert_eq!(
        post_as(port, ACCOUNT, "from-env", &batch(vec![event("a")])).status,
        401
    );
    assert_eq!(
        post_as(port, ACCOUNT, "flag-wins", &batch(vec![event("a")])).status,
        200
    );
}

#[test]
fn the_binary_prints_help_and_rejects_bad_flags() {
    let bin = env!("CARGO_BIN_EXE_app-conversions-sandbox");
    let help = Command::new(bin).arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--custom-event NAME"));
    let bad = Command::new(bin).arg("--bogus").output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--bogus"));
    // A taken port is an error, not a hang.
    let sandbox = Sandbox::start(Default::default()).unwrap();
    let busy = Command::new(bin)
        .args(["--port", &sandbox.port().to_string()])
        .output()
        .unwrap();
    assert_eq!(busy.status.code(), Some(2));
}

/// `--host 0.0.0.0` (a phone on the same network) serves on every interface, says so on
/// stderr, and still prints a base URL this machine can use.
#[test]
fn the_binary_listens_on_every_interface_only_when_asked_and_warns() {
    let bin = env!("CARGO_BIN_EXE_app-conversions-sandbox");
    let mut child = Command::new(bin)
        .args(["--host", "0.0.0.0", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let mut warning = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut warning)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.starts_with("sandbox listening on http://127.0.0.1:"),
        "{line}"
    );
    assert!(
        warning.contains("warning") && warning.contains("0.0.0.0"),
        "{warning}"
    );
    let port: u16 = line.trim().rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0);
    let in_process = Sandbox::start(app_conversions_sandbox::SandboxConfig {
        host: "0.0.0.0".parse().unwrap(),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(get(in_process.port(), "/_sandbox/health").status, 200);
    assert!(in_process.base_url().starts_with("http://127.0.0.1:"));
}
