//! The desktop harness, run as a user would: the demo passes, and two `launch` runs on one
//! database give one app_install and then one app_open.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
use std::path::PathBuf;
use std::process::Command;

/// The harness example binary, which `cargo test` builds beside the test binaries.
fn harness() -> PathBuf {
    let mut path = std::env::current_exe().expect("test binary path");
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    path.join("examples")
        .join(format!("harness{}", std::env::consts::EXE_SUFFIX))
}

fn run(args: &[&str]) -> (bool, String) {
    let output = Command::new(harness())
        .args(args)
        .output()
        .expect("harness runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[test]
fn the_demo_delivers_everything_and_exits_zero() {
    let (ok, out) = run(&["demo"]);
    assert!(ok, "{out}");
    assert!(out.contains("demo passed"), "{out}");
    assert!(
        out.contains("\"opt_out\": true"),
        "the Limit Ad Tracking step is shown: {out}"
    );
    assert!(out.contains("HTTP 503"), "the outage is shown: {out}");
}

#[test]
fn the_demo_runs_through_the_relay() {
    let (ok, out) = run(&["demo", "--via-relay"]);
    assert!(ok, "{out}");
    assert!(out.contains("(relay, app-scoped token)"), "{out}");
    assert!(
        out.contains("\"client_ip_address\": \"127.0.0.1\""),
        "the relay's IP is shown: {out}"
    );
    assert!(out.contains("demo passed"), "{out}");
}

#[test]
fn two_launches_on_one_database_give_install_then_open() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("harness.db");
    let db = db.to_str().unwrap();
    let (ok, first) = run(&[
        "--db",
        db,
        "--advertising-id",
        "38400000-8cf0-11bd-b23e-10b96e40000d",
        "launch",
    ]);
    assert!(ok, "{first}");
    assert!(first.contains("\"event_name\": \"app_install\""), "{first}");
    let (ok, second) = run(&[
        "--db",
        db,
        "--advertising-id",
        "38400000-8cf0-11bd-b23e-10b96e40000d",
        "launch",
    ]);
    assert!(ok, "{second}");
    assert!(second.contains("\"event_name\": \"app_open\""), "{second}");
    assert!(!second.contains("app_install"), "{second}");
}

#[test]
fn track_json_and_clear_errors() {
    let event = r#"{"event_name":"checkout","custom_data":{"currency":"USD","value":"9.99"},"user_data":{"em":["Person@Example.com"]}}"#;
    let (ok, out) = run(&["track", "--json", event]);
    assert!(ok, "{out}");
    assert!(
        out.contains("542d240129883c019e106e3b1b2d3f3cb3537c43c425364de8e951d5a3083345"),
        "hashed email shown: {out}"
    );
    let (ok, out) = run(&[
        "track",
        "--json",
        r#"{"event_name":"checkout","custom_data":{"currency":"dollars"}}"#,
    ]);
    assert!(!ok);
    assert!(out.contains("custom_data.currency"), "{out}");
    let (ok, out) = run(&["--platform", "windows", "demo"]);
    assert!(!ok && out.contains("--platform"), "{out}");
}

#[test]
fn diagnostics_print_json() {
    let (ok, out) = run(&["diagnostics"]);
    assert!(ok, "{out}");
    let json: serde_json::Value = serde_json::from_str(out.trim()).expect("JSON on stdout");
    assert_eq!(json["queued"], 0);
}
