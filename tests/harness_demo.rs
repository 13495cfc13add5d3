//! The desktop harness, run as a user would: the demo tells its story as a timeline whose lines
//! come in the order things happened, and two `launch` runs on one database give one
//! app_install and then one app_open.
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

/// The timed lines of a text timeline: (seconds since the start, text).
fn timed_lines(out: &str) -> Vec<(f64, String)> {
    out.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("t+")?;
            let (time, text) = rest.split_once("  ")?;
            Some((time.parse().ok()?, text.trim().to_string()))
        })
        .collect()
}

/// Index of the first line at or after `from` that contains `needle`, or a failure naming it.
fn find(lines: &[(f64, String)], from: usize, needle: &str, out: &str) -> usize {
    lines[from..]
        .iter()
        .position(|(_, text)| text.contains(needle))
        .map(|i| from + i)
        .unwrap_or_else(|| panic!("no line with {needle:?} after line {from}:\n{out}"))
}

#[test]
fn the_demo_timeline_lists_each_step_in_the_order_it_happened() {
    let (ok, out) = run(&["demo"]);
    assert!(ok, "{out}");
    assert!(out.contains("demo passed"), "{out}");
    let lines = timed_lines(&out);
    assert!(
        lines.windows(2).all(|w| w[0].0 <= w[1].0),
        "times go forward: {out}"
    );
    // The story, in order: each request line comes before the answer it got, and the
    // wait before the retry that follows it.
    let story = [
        "launch",
        "POST 1 event: app_install",
        "200 processed 1",
        "background",
        "foreground",
        "POST 1 event: app_open",
        "200 processed 1",
        "track checkout",
        "POST 1 event: checkout",
        "200 processed 1",
        "open https://shop.example.com/p/runner?utm_source=pinterest&epik=",
        "track view_content",
        "POST 1 event: view_content",
        "200 processed 1",
        "view_content arrived with user_data.click_id dj0yJnU9ZGVtby1jbGljaw",
        "set_privacy opt_out: true",
        "track add_to_cart",
        "POST 1 event: add_to_cart",
        "privacy removed hashed_maids from add_to_cart (opt_out: true)",
        "200 processed 1",
        "track lead",
        "POST 1 event: lead",
        "503 Retry-After 1",
        "waiting 1.0 s (Retry-After)",
        "POST 1 event: lead",
        "503 Retry-After 1",
        "waiting 1.0 s (Retry-After)",
        "POST 1 event: lead",
        "200 processed 1",
    ];
    let mut at = 0;
    let mut found = Vec::new();
    for needle in story {
        at = find(&lines, at, needle, &out);
        found.push(at);
        at += 1;
    }
    // Every POST is answered before the next POST leaves.
    let posts: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].1.starts_with("POST"))
        .collect();
    assert_eq!(posts.len(), 8, "eight requests: {out}");
    for pair in posts.windows(2) {
        let answered =
            (pair[0]..pair[1]).any(|i| lines[i].1.starts_with(|c: char| c.is_ascii_digit()));
        assert!(answered, "request at line {} unanswered: {out}", pair[0]);
    }
    // The retries really waited for Retry-After: 1.
    let first_503 = found[22];
    let retry = found[24];
    assert!(
        lines[retry].0 - lines[first_503].0 >= 0.95,
        "the retry waited about a second: {out}"
    );
    assert!(
        out.contains("delivered              6"),
        "the diagnostics table: {out}"
    );
    assert!(
        !out.contains("\"data\""),
        "bodies only with --verbose: {out}"
    );
}

#[test]
fn verbose_shows_bodies_and_json_gives_one_object_per_line() {
    let (ok, out) = run(&["demo", "--verbose"]);
    assert!(ok, "{out}");
    assert!(out.contains("\"opt_out\": true"), "bodies shown: {out}");
    assert!(
        out.contains("\"num_events_processed\": 1"),
        "answers shown: {out}"
    );
    let output = Command::new(harness())
        .args(["demo", "--json"])
        .output()
        .expect("harness runs");
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let objects: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let kinds: Vec<&str> = objects.iter().filter_map(|o| o["kind"].as_str()).collect();
    let first_request = kinds.iter().position(|k| *k == "request");
    let first_answer = kinds.iter().position(|k| *k == "answer");
    assert!(first_request < first_answer, "{kinds:?}");
    assert!(kinds.contains(&"wait"), "{kinds:?}");
    let last = objects.last().expect("lines");
    assert_eq!(last["kind"], "info", "{last}");
    let diagnostics = objects
        .iter()
        .find(|o| o["kind"] == "diagnostics")
        .expect("diagnostics line");
    assert_eq!(diagnostics["diagnostics"]["delivered"], 6);
}

#[test]
fn the_demo_runs_through_the_relay() {
    let (ok, out) = run(&["demo", "--via-relay", "--verbose"]);
    assert!(ok, "{out}");
    assert!(out.contains("(relay, app-scoped token)"), "{out}");
    let lines = timed_lines(&out);
    let to_relay = find(&lines, 0, "POST 1 event (SDK -> relay): app_install", &out);
    let to_api = find(
        &lines,
        to_relay,
        "POST 1 event (relay -> API): app_install",
        &out,
    );
    let api_answer = find(&lines, to_api, "200 (relay -> API)", &out);
    find(&lines, api_answer, "200 (SDK -> relay)", &out);
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
    let id = "38400000-8cf0-11bd-b23e-10b96e40000d";
    let (ok, first) = run(&["--db", db, "--advertising-id", id, "launch"]);
    assert!(ok, "{first}");
    assert!(first.contains("POST 1 event: app_install"), "{first}");
    let (ok, second) = run(&["--db", db, "--advertising-id", id, "launch"]);
    assert!(ok, "{second}");
    assert!(second.contains("POST 1 event: app_open"), "{second}");
    assert!(!second.contains("app_install"), "{second}");
}

#[test]
fn track_json_and_clear_errors() {
    let event = r#"{"event_name":"checkout","custom_data":{"currency":"USD","value":"9.99"},"user_data":{"em":["Person@Example.com"]}}"#;
    let (ok, out) = run(&["track", "--json", event, "--verbose"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("542d240129883c019e106e3b1b2d3f3cb3537c43c425364de8e951d5a3083345"),
        "hashed email shown: {out}"
    );
    assert!(!out.contains("Person@Example.com"), "no raw email: {out}");
    // An invalid optional field is dropped, and the timeline says which and why.
    let (ok, out) = run(&[
        "track",
        "--json",
        r#"{"event_name":"checkout","user_data":{"em":["a@example.com"]},"custom_data":{"currency":"dollars"}}"#,
    ]);
    assert!(ok, "{out}");
    assert!(
        out.contains("dropped custom_data.currency: must be a three-letter"),
        "{out}"
    );
    let (ok, out) = run(&[
        "track",
        "--json",
        r#"{"event_name":"custom","custom_event_name":"took survey!"}"#,
    ]);
    assert!(!ok);
    assert!(out.contains("custom_event_name"), "{out}");
    let (ok, out) = run(&["--platform", "windows", "demo"]);
    assert!(!ok && out.contains("--platform"), "{out}");
}

#[test]
fn diagnostics_print_json_and_need_a_database() {
    let (ok, out) = run(&["diagnostics"]);
    assert!(!ok, "without --db it would show a fresh buffer: {out}");
    assert!(out.contains("--db") && out.contains("inspect"), "{out}");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let db = db.to_str().unwrap();
    let (ok, out) = run(&["--db", db, "launch"]);
    assert!(ok, "{out}");
    let (ok, table) = run(&["--db", db, "diagnostics"]);
    assert!(ok, "{table}");
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(
        rows[0].split_whitespace().collect::<Vec<_>>(),
        ["queued", "0"],
        "a table, queued first: {table}"
    );
    assert!(table.contains("delivered"), "{table}");
    assert!(!table.contains("Unix"), "{table}");
    let output = Command::new(harness())
        .args(["--db", db, "diagnostics", "--json"])
        .output()
        .expect("harness runs");
    assert!(output.status.success());
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(json["queued"], 0, "{json}");
    assert!(json["dropped"].is_object(), "{json}");
}

#[test]
fn single_steps_send_without_flags_with_a_printed_test_advertising_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("steps.db");
    let db = db.to_str().unwrap();
    let (ok, first) = run(&["--db", db, "launch"]);
    assert!(ok, "{first}");
    assert!(
        first.contains("advertising id 38400000-8cf0-11bd-b23e-10b96e40000d"),
        "the default is printed: {first}"
    );
    assert!(first.contains("POST 1 event: app_install"), "{first}");
    assert!(first.contains("1 processed, 0 waiting"), "{first}");
    let (ok, second) = run(&["--db", db, "launch"]);
    assert!(ok, "{second}");
    assert!(second.contains("POST 1 event: app_open"), "{second}");
}

#[test]
fn an_event_dropped_on_the_device_gets_a_line_with_the_reason() {
    // iOS before the tracking prompt is answered: the email and the IDFA are withheld, and the
    // embedded sandbox stands in for the API itself, where nothing else identifies the user.
    let event = r#"{"event_name":"checkout","custom_data":{"currency":"USD","value":"9.99"},"user_data":{"em":["Person@Example.com"]}}"#;
    let (ok, out) = run(&["--platform", "ios", "track", "--json", event]);
    assert!(!ok, "nothing was sent: {out}");
    assert!(out.contains("dropped on the device"), "{out}");
    assert!(out.contains("no identity"), "{out}");
    assert!(
        out.contains("--att authorized"),
        "the way out is named: {out}"
    );
}

#[test]
fn a_422_prints_each_refused_events_message() {
    // Through a "relay" that does not add the IP (the embedded sandbox), an opted-out launch
    // reaches the endpoint with nothing to identify it, and the endpoint refuses it.
    let (ok, out) = run(&["--relay", "--opt-out", "launch"]);
    assert!(!ok, "{out}");
    assert!(out.contains("422"), "{out}");
    assert!(
        out.contains("refused app_install")
            && out.contains("user_data must contain at least one of"),
        "{out}"
    );
}

#[test]
fn the_demo_on_a_database_that_holds_a_story_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("story.db");
    let db = db.to_str().unwrap();
    let (ok, first) = run(&["--db", db]);
    assert!(ok, "{first}");
    let (ok, again) = run(&["--db", db]);
    assert!(!ok, "{again}");
    assert!(
        again.contains("already holds a buffer") && again.contains("leave out --db"),
        "{again}"
    );
}

#[test]
fn a_flush_that_leaves_events_waiting_says_when_the_next_attempt_is() {
    // Nothing listens on port 1: the launch waits for a retry, and the line says when.
    let (ok, out) = run(&["--endpoint", "http://127.0.0.1:1", "--relay", "launch"]);
    assert!(!ok, "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("flush returned: 0 processed, 1 waiting"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        line.contains("; next attempt in ") && line.ends_with(" s"),
        "a relative time: {line}"
    );
    assert!(!out.contains("Unix"), "{out}");
}
