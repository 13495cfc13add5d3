//! The harness's integrator tools, run as an app developer would: `inspect` reads a buffer
//! without changing it (and refuses a newer schema), `validate` names each problem's field and
//! rule and exits 1, and `replay` sends a buffer's events again from a copy.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn harness() -> PathBuf {
    let mut path = std::env::current_exe().expect("test binary path");
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    path.join("examples")
        .join(format!("harness{}", std::env::consts::EXE_SUFFIX))
}

/// Runs the harness: (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(harness())
        .args(args)
        .output()
        .expect("harness runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Every file of `dir` with its bytes, to show nothing changed or appeared.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

const CHECKOUT: &str = r#"{"event_name":"checkout","event_id":"order-77","custom_data":{"currency":"USD","value":"9.99"},"user_data":{"em":["Person@Example.com"]}}"#;

/// A buffer as a device leaves it: an install delivered, a checkout still queued, and a custom
/// event the endpoint refused (a dead letter).
fn device_buffer(dir: &Path) -> String {
    let db = dir.join("app-conversions.db");
    let db = db.to_str().unwrap().to_string();
    let id = "38400000-8cf0-11bd-b23e-10b96e40000d";
    let (code, out, err) = run(&["--db", &db, "--advertising-id", id, "launch"]);
    assert_eq!(code, 0, "{out}{err}");
    // The sandbox refuses advertiser-defined names it was not told about.
    let (code, out, err) = run(&[
        "--db",
        &db,
        "track",
        "--json",
        r#"{"event_name":"TookSurvey","user_data":{"em":["a@b.co"]}}"#,
    ]);
    assert_eq!(code, 1, "the refusal is reported: {out}{err}");
    let (code, out, err) = run(&["--db", &db, "--no-flush", "track", "--json", CHECKOUT]);
    assert_eq!(code, 0, "{out}{err}");
    db
}

#[test]
fn inspect_shows_a_buffer_and_leaves_the_file_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let db = device_buffer(dir.path());
    let before = snapshot(dir.path());
    let (code, out, err) = run(&["inspect", "--db", &db]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        snapshot(dir.path()),
        before,
        "no byte changed, no file appeared"
    );
    assert!(out.contains("schema version 5"), "{out}");
    assert!(out.contains("install record: "), "{out}");
    assert!(out.contains("queued: 1"), "{out}");
    let row = out
        .lines()
        .find(|l| l.contains("order-77"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        row.contains("checkout") && row.trim_end().ends_with("due"),
        "{row}"
    );
    // The ATTEMPTS column: the count ends where its heading ends.
    let header = out
        .lines()
        .find(|l| l.contains("ATTEMPTS"))
        .unwrap_or_else(|| panic!("{out}"));
    let end = header.find("ATTEMPTS").unwrap() + "ATTEMPTS".len();
    assert!(
        row[..end].ends_with(" 0") && row[end..].starts_with("  "),
        "aligned:\n{header}\n{row}"
    );
    assert!(out.contains("dead letters: 1"), "{out}");
    assert!(out.contains("TookSurvey"), "{out}");
    assert!(out.contains("backoff: none"), "{out}");
    assert!(!out.contains("Person@Example.com"), "no raw email: {out}");

    let (code, out, _) = run(&["inspect", "--db", &db, "--json"]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(json["queued"][0]["event_id"], "order-77");
    assert_eq!(json["queued"][0]["attempts"], 0);
    assert_eq!(json["dead_letters"][0]["event_name"], "TookSurvey");
    assert!(json["dead_letters"][0]["error_message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert_eq!(json["counters"]["delivered"], 1, "{json}");
    assert_eq!(json["install"]["existing_user"], false);
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn inspect_reads_the_wal_pulled_beside_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = device_buffer(dir.path());
    let pulled = tempfile::tempdir().unwrap();
    {
        // A running app: the newest rows are still in the -wal file when the buffer is pulled.
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.execute(
            "INSERT INTO dead_letters (event_id, event_name, error_message, dead_lettered_at)
             VALUES ('e-wal', 'lead', 'only in the wal', 1)",
            [],
        )
        .unwrap();
        for name in ["app-conversions.db", "app-conversions.db-wal"] {
            std::fs::copy(dir.path().join(name), pulled.path().join(name)).unwrap();
        }
    }
    let pulled_db = pulled.path().join("app-conversions.db");
    let before = snapshot(pulled.path());
    let (code, out, err) = run(&["inspect", "--db", pulled_db.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("only in the wal"), "{out}");
    assert_eq!(snapshot(pulled.path()), before);
}

#[test]
fn inspect_refuses_a_newer_schema_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = device_buffer(dir.path());
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let before = snapshot(dir.path());
    let (code, out, err) = run(&["inspect", "--db", &db]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("newer SDK") && err.contains("schema version 99"),
        "{err}"
    );
    assert!(out.is_empty(), "nothing half-read is printed: {out}");
    assert_eq!(snapshot(dir.path()), before);

    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, "not a database").unwrap();
    let (code, _, err) = run(&["inspect", "--db", junk.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("not an SQLite database"), "{err}");
}

#[test]
fn validate_passes_a_good_event_and_exits_zero() {
    let (code, out, err) = run(&["validate", "--json", CHECKOUT]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        !out.contains("event 1"),
        "valid events are not listed: {out}"
    );
    assert!(out.contains("1 of 1 events valid"), "{out}");
    let (code, out, err) = run(&["validate", "--json", CHECKOUT, "--all"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("event 1 checkout: ok"),
        "--all lists it: {out}"
    );
}

#[test]
fn validate_of_a_large_file_prints_only_problems_a_summary_and_progress() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let mut lines = vec![CHECKOUT.to_string(); 599];
    lines.insert(300, r#"{"event_name":"lead"}"#.to_string());
    std::fs::write(&file, lines.join("\n")).unwrap();
    let (code, out, err) = run(&["validate", "--file", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    let listed: Vec<&str> = out.lines().filter(|l| l.starts_with("event ")).collect();
    assert_eq!(listed, ["event 301 lead: 1 problem(s)"], "{out}");
    assert!(out.contains("599 of 600 events valid"), "{out}");
    assert!(
        err.contains("validated 250 of 600 events"),
        "progress on stderr: {err}"
    );
}

#[test]
fn validate_names_each_field_and_rule_and_exits_one() {
    let events = r#"[
        {"event_name":"checkout","custom_data":{"currency":"dollars"},"user_data":{"em":["a@b.co"]}},
        {"event_name":"lead"},
        {"event_name":"lead","action_source":"app_ios","event_time":1.5,"user_data":{"em":["x"]},"surprise":1},
        {"event_name":"checkout","user_data":{"em":["a@b.co"]},"colour":"red"}
    ]"#;
    let (code, out, err) = run(&["validate", "--json", events]);
    assert_eq!(code, 1, "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    let has = |text: &str| lines.iter().any(|l| l.contains(text));
    assert!(has("custom_data.currency: must be a three-letter"), "{out}");
    assert!(has("(SDK validation)"), "{out}");
    assert!(
        has("user_data: needs em, hashed_maids, or client_ip_address"),
        "{out}"
    );
    assert!(
        has("event_id: 'event_id' is a required property (official schema)"),
        "{out}"
    );
    assert!(
        has("event_time: 1.5 is not of type 'integer' (official schema)"),
        "{out}"
    );
    assert!(
        has("Additional properties are not allowed ('surprise' was unexpected) (official schema)"),
        "{out}"
    );
    assert!(has("colour: is not a field the harness reads"), "{out}");
    assert!(has("0 of 4 events valid"), "{out}");

    let (code, out, _) = run(&[
        "validate",
        "--json",
        r#"{"event_name":"lead"}"#,
        "--relay",
        "--json",
    ]);
    assert_eq!(code, 0, "a relay adds the IP: {out}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(json["valid"], true);
}

#[test]
fn validate_reads_a_file_of_events_one_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    std::fs::write(
        &file,
        format!("{CHECKOUT}\n{}\n", r#"{"event_name":"checkout","custom_data":{"value":"-3"},"user_data":{"em":["a@b.co"]}}"#),
    )
    .unwrap();
    let (code, out, err) = run(&["validate", "--file", file.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1, "{out}{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(json["events"][0]["valid"], true, "{json}");
    assert_eq!(
        json["events"][1]["problems"][0]["field"], "custom_data.value",
        "{json}"
    );
    assert_eq!(
        json["events"][1]["problems"][0]["check"], "SDK validation",
        "{json}"
    );
}

#[test]
fn replay_sends_a_buffer_from_a_copy_and_leaves_the_file_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let db = device_buffer(dir.path());
    let before = snapshot(dir.path());
    let (code, out, err) = run(&["replay", "--db", &db, "--test-mode"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("replaying 1 queued event"), "{out}");
    assert!(
        out.contains("this replay sent 1 event: 1 processed, 0 refused, 0 still waiting"),
        "what this replay did, not the copy's lifetime count: {out}"
    );
    let post = out
        .lines()
        .position(|l| l.contains("POST 1 event (test mode): checkout"));
    let answer = out.lines().position(|l| l.contains("200 processed 1"));
    assert!(post.is_some() && post < answer, "{out}");
    assert_eq!(snapshot(dir.path()), before, "the original is not touched");
    let (_, again, _) = run(&["inspect", "--db", &db]);
    assert!(
        again.contains("queued: 1"),
        "still queued in the original: {again}"
    );

    let (code, _, err) = run(&[
        "replay",
        "--db",
        &db,
        "--endpoint",
        "https://api.example.com",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("--test-mode"), "{err}");
}
