//! A hostile or broken endpoint: answers too large to read, answers that trickle in, resets,
//! lies about the number of results, redirects, absurd `Retry-After` values, and a server that
//! never recovers.
//!
//! Each case asserts what an app relies on: no panic (`worker_panics == 0`), no event lost
//! (every event is accepted exactly once in the end, or still queued), and bounded retries —
//! counted as requests the sandbox saw: one per hostile answer, never a follow-up to a
//! redirect, and a bounded number against a server that keeps failing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
mod common;
mod reliability;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app_conversions::{BatchOutcome, ConversionsClient, DeliveryListener, LogLevel, LogSink};
use app_conversions_sandbox::{Fault, Sandbox};
use common::{
    accepted_ids, app, body_ids, config, device, privacy_with_id, sandbox, start_with, Harness,
    GAID, TOKEN,
};
use reliability::{database_bytes, lead, loopback_server, metric, soak};

const WAIT: u64 = 30_000;

/// Hears every batch outcome.
#[derive(Default)]
struct Recorder(Mutex<Vec<BatchOutcome>>);

impl DeliveryListener for Recorder {
    fn on_batch(&self, outcome: BatchOutcome) {
        self.0.lock().expect("recorder").push(outcome);
    }
}

impl Recorder {
    fn messages(&self) -> Vec<String> {
        let outcomes = self.0.lock().expect("recorder");
        outcomes.iter().filter_map(|o| o.message.clone()).collect()
    }
}

/// A client with fast retries and the given cap, listened to.
fn client(sandbox: &Sandbox, retry_max_delay_secs: u64) -> (Harness, Arc<Recorder>) {
    let h = start_with(sandbox, |c| {
        c.retry_base_delay_ms = 10;
        c.retry_max_delay_secs = retry_max_delay_secs;
    });
    let recorder = Arc::new(Recorder::default());
    h.client.set_delivery_listener(Some(recorder.clone()));
    (h, recorder)
}

fn track(client: &ConversionsClient, ids: &[&str]) {
    for id in ids {
        client.track(lead(id)).expect("track");
    }
}

/// Every event delivered exactly once, nothing left, nothing refused, nothing caught.
fn assert_delivered_once(sandbox: &Sandbox, client: &ConversionsClient, ids: &[&str]) {
    for id in ids {
        assert_eq!(sandbox.times_accepted(id), 1, "{id}");
    }
    let d = client.diagnostics();
    assert_eq!(
        (d.queued, d.dead_lettered, d.worker_panics),
        (0, 0, 0),
        "{d:?}"
    );
}

#[test]
fn an_answer_larger_than_the_limit_is_not_read_whole_and_is_retried() {
    let sandbox = sandbox();
    let (h, recorder) = client(&sandbox, 60);
    track(&h.client, &["huge-1", "huge-2"]);
    // 64 MiB of answer; the transport stops reading at 2 MiB.
    sandbox.inject(Fault::HugeBody {
        bytes: 64 * 1024 * 1024,
    });
    let started = Instant::now();
    let report = h.client.flush(WAIT).expect("flush");
    assert_eq!(
        (report.remaining, report.timed_out),
        (0, false),
        "{report:?}"
    );
    assert_eq!(sandbox.requests().len(), 2, "one retry");
    assert!(
        recorder.messages()[0].contains("larger than the limit"),
        "{:?}",
        recorder.messages()
    );
    assert_delivered_once(&sandbox, &h.client, &["huge-1", "huge-2"]);
    metric(
        "server_huge_body",
        &[
            ("answer_bytes", (64u64 << 20).to_string()),
            ("requests", "2".into()),
            ("lost", "0".into()),
            ("runtime_ms", started.elapsed().as_millis().to_string()),
        ],
    );
}

#[test]
fn a_large_answer_within_the_limit_without_results_is_retried() {
    let sandbox = sandbox();
    let (h, recorder) = client(&sandbox, 60);
    track(&h.client, &["big-1"]);
    sandbox.inject(Fault::HugeBody { bytes: 1024 * 1024 });
    let report = h.client.flush(WAIT).expect("flush");
    assert_eq!(report.remaining, 0, "{report:?}");
    assert_eq!(sandbox.requests().len(), 2);
    assert!(
        recorder.messages()[0].contains("without the expected per-event results"),
        "{:?}",
        recorder.messages()
    );
    assert_delivered_once(&sandbox, &h.client, &["big-1"]);
}

#[test]
fn a_trickled_answer_is_waited_for_and_counted_once() {
    let sandbox = sandbox();
    let (h, _) = client(&sandbox, 60);
    track(&h.client, &["slow-1"]);
    // About 200 bytes of head and body at 300 bytes/s: well over half a second.
    sandbox.inject(Fault::Trickle { bytes_per_sec: 300 });
    let started = Instant::now();
    let report = h.client.flush(WAIT).expect("flush");
    let elapsed = started.elapsed();
    assert_eq!((report.processed, report.remaining), (1, 0), "{report:?}");
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    assert_eq!(
        sandbox.requests().len(),
        1,
        "a slow answer is not a failure"
    );
    assert_delivered_once(&sandbox, &h.client, &["slow-1"]);
    let mut pairs = vec![("trickle_ms", elapsed.as_millis().to_string())];

    if soak() {
        // Slower than the 30 s request timeout: the request is abandoned and retried. The
        // sandbox had accepted the event before it began trickling, so it arrives twice —
        // the at-least-once promise, deduplicated by event_id on the server.
        track(&h.client, &["slower-1"]);
        sandbox.inject(Fault::Trickle { bytes_per_sec: 4 });
        let started = Instant::now();
        let report = h.client.flush(120_000).expect("flush");
        assert_eq!(report.remaining, 0, "{report:?}");
        assert_eq!(sandbox.times_accepted("slower-1"), 2);
        pairs.push((
            "timeout_trickle_ms",
            started.elapsed().as_millis().to_string(),
        ));
        pairs.push(("timeout_trickle_duplicates", "1".into()));
    }
    metric("server_trickle", &pairs);
}

#[test]
fn absurd_retry_after_values_are_capped_at_retry_max_delay() {
    let mut worst = Duration::ZERO;
    for retry_after in [
        "999999999",
        "18446744073709551615",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "-5",
        "soon",
    ] {
        let sandbox = sandbox();
        let (h, _) = client(&sandbox, 1);
        track(&h.client, &["patient"]);
        sandbox.inject(Fault::Status {
            status: 503,
            retry_after: Some(retry_after.into()),
            body: None,
        });
        let started = Instant::now();
        let report = h.client.flush(WAIT).expect("flush");
        let elapsed = started.elapsed();
        assert_eq!(report.remaining, 0, "{retry_after}: {report:?}");
        assert!(
            elapsed < Duration::from_secs(10),
            "{retry_after}: waited {elapsed:?} with retry_max_delay_secs = 1"
        );
        assert_eq!(sandbox.requests().len(), 2, "{retry_after}");
        assert_delivered_once(&sandbox, &h.client, &["patient"]);
        worst = worst.max(elapsed);
    }
    metric(
        "server_retry_after",
        &[
            ("cap_s", "1".into()),
            ("worst_wait_ms", worst.as_millis().to_string()),
        ],
    );
}

#[test]
fn hostile_answers_in_a_row_cost_one_request_each_and_lose_nothing() {
    let sandbox = sandbox();
    let (h, _) = client(&sandbox, 1);
    let ids = ["storm-1", "storm-2", "storm-3"];
    track(&h.client, &ids);
    let elsewhere = format!("{}/v5/ad_accounts/999/events", sandbox.base_url());
    let faults = vec![
        Fault::GarbageBody,
        Fault::HugeBody {
            bytes: 3 * 1024 * 1024,
        },
        Fault::ResetMidResponse,
        Fault::WrongEventCount,
        Fault::Redirect {
            location: elsewhere,
        },
        Fault::DropConnection,
        Fault::Status {
            status: 200,
            retry_after: None,
            body: Some(r#"{"num_events_received":3}"#.into()),
        },
        Fault::Status {
            status: 200,
            retry_after: None,
            body: Some(
                r#"{"events":[{"status":"maybe"},{"status":"maybe"},{"status":"maybe"}]}"#.into(),
            ),
        },
        Fault::Status {
            status: 422,
            retry_after: None,
            body: Some(r#"{"code":953,"message":"x","details":{"events":[]}}"#.into()),
        },
        Fault::Status {
            status: 500,
            retry_after: None,
            body: Some("\u{0}\u{1}not json".into()),
        },
    ];
    let hostile = faults.len();
    for fault in faults {
        sandbox.inject(fault);
    }
    let started = Instant::now();
    let report = h.client.flush(WAIT).expect("flush");
    assert_eq!(
        (report.remaining, report.timed_out),
        (0, false),
        "{report:?}"
    );
    let requests = sandbox.requests();
    assert_eq!(
        requests.len(),
        hostile + 1,
        "exactly one retry per hostile answer"
    );
    for request in &requests {
        assert_eq!(body_ids(&request.body), ids, "the same events every time");
        assert_eq!(
            request.path, requests[0].path,
            "the redirect was not followed"
        );
    }
    assert_eq!(accepted_ids(&sandbox), ids);
    assert_delivered_once(&sandbox, &h.client, &ids);
    assert_eq!(h.client.diagnostics().consecutive_failures, 0);
    metric(
        "server_storm",
        &[
            ("hostile_answers", hostile.to_string()),
            ("requests", requests.len().to_string()),
            ("lost", "0".into()),
            ("duplicates", "0".into()),
            ("runtime_ms", started.elapsed().as_millis().to_string()),
        ],
    );
}

#[test]
fn a_server_that_never_recovers_gets_a_bounded_number_of_requests() {
    let sandbox = sandbox();
    let h = start_with(&sandbox, |c| {
        c.retry_base_delay_ms = 50;
        c.retry_max_delay_secs = 1;
    });
    let ids = ["kept-1", "kept-2", "kept-3"];
    track(&h.client, &ids);
    for _ in 0..1_000 {
        sandbox.inject(Fault::Status {
            status: 503,
            retry_after: None,
            body: None,
        });
    }
    let report = h.client.flush(3_000).expect("flush");
    let requests = sandbox.requests().len();
    // Full jitter over 50 ms doubling to 1 s: about eight requests in three seconds. Thirty
    // would need two dozen near-zero draws in a row.
    assert!((2..=30).contains(&requests), "{requests} requests in 3 s");
    assert_eq!(report.remaining, 3, "{report:?}");
    let d = h.client.diagnostics();
    assert_eq!((d.queued, d.dead_lettered), (3, 0));
    assert!(d.consecutive_failures >= requests as u64 - 1, "{d:?}");

    // The server comes back; the same events go through once.
    sandbox.reset();
    h.client.on_network_available().expect("network back");
    let report = h.client.flush(WAIT).expect("flush");
    assert_eq!(report.remaining, 0, "{report:?}");
    assert_delivered_once(&sandbox, &h.client, &ids);
    metric(
        "server_never_recovers",
        &[
            ("window_s", "3".into()),
            ("requests", requests.to_string()),
            ("lost", "0".into()),
        ],
    );
}

#[test]
fn retry_after_is_honoured_while_the_server_keeps_refusing() {
    let sandbox = sandbox();
    let (h, _) = client(&sandbox, 1);
    track(&h.client, &["polite"]);
    for _ in 0..100 {
        sandbox.inject(Fault::Status {
            status: 429,
            retry_after: Some("1".into()),
            body: None,
        });
    }
    h.client.flush(3_500).expect("flush");
    let requests = sandbox.requests().len();
    // One at once, then at most one a second.
    assert!((2..=5).contains(&requests), "{requests} requests in 3.5 s");
    assert_eq!(h.client.diagnostics().queued, 1);
}

/// Keeps every log line.
#[derive(Default)]
struct Lines(Mutex<Vec<String>>);

impl LogSink for Lines {
    fn log(&self, _level: LogLevel, message: String) {
        self.0.lock().expect("lines").push(message);
    }
}

/// A client of `endpoint` in a fresh folder, listened to and logged at debug level.
fn loopback_client(
    endpoint: &str,
) -> (
    tempfile::TempDir,
    Arc<ConversionsClient>,
    Arc<Recorder>,
    Arc<Lines>,
) {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = app_conversions::ClientConfig {
        retry_base_delay_ms: 10,
        log_level: Some(LogLevel::Debug),
        ..config(endpoint, &dir.path().join("buffer.db"))
    };
    let client = common::new_client(cfg, app(), device(), privacy_with_id(GAID)).expect("client");
    let recorder = Arc::new(Recorder::default());
    client.set_delivery_listener(Some(recorder.clone()));
    let lines = Arc::new(Lines::default());
    client.set_log_sink(Some(lines.clone()));
    (dir, client, recorder, lines)
}

/// Every piece of server text the SDK keeps or shows: diagnostics, dead letters, listener
/// messages and per-event messages, log lines.
fn shown_texts(client: &ConversionsClient, recorder: &Recorder, lines: &Lines) -> Vec<String> {
    let d = client.diagnostics();
    let mut texts: Vec<String> = d
        .last_error
        .iter()
        .chain(&d.paused_reason)
        .cloned()
        .collect();
    texts.extend(
        d.recent_dead_letters
            .iter()
            .map(|l| l.error_message.clone()),
    );
    for outcome in recorder.0.lock().expect("recorder").iter() {
        texts.extend(outcome.message.clone());
        for result in &outcome.results {
            texts.extend(result.error_message.clone());
            texts.extend(result.warning_message.clone());
        }
    }
    texts.extend(lines.0.lock().expect("lines").iter().cloned());
    texts
}

/// Issue 19, trigger 6: a 400 whose message is 1.9 MB. Its text is cut to a few KB in one
/// place, before it is stored (dead letters), logged, reported or shown, so the buffer file
/// and one `diagnostics()` call stay small; splitting stays within its request budget.
#[test]
fn a_huge_server_message_is_truncated_before_it_is_stored_logged_or_shown() {
    const EVENTS: usize = 100;
    let huge = "m".repeat(1_900_000);
    let answer = format!(r#"{{"code":1,"message":"refused: {huge}"}}"#);
    let (endpoint, requests) = loopback_server(move |_| (400, answer.clone()));
    let (dir, client, recorder, lines) = loopback_client(&endpoint);
    let ids: Vec<String> = (0..EVENTS).map(|i| format!("huge-msg-{i}")).collect();
    for id in &ids {
        client.track(lead(id)).expect("track");
    }
    let started = Instant::now();
    let report = client.flush(WAIT).expect("flush");
    let d = client.diagnostics();
    let diagnostics_bytes = format!("{d:?}").len();
    let (file, side) = database_bytes(&dir.path().join("buffer.db"));
    let requests = requests.load(std::sync::atomic::Ordering::SeqCst);
    let texts = shown_texts(&client, &recorder, &lines);
    let longest = texts.iter().map(String::len).max().unwrap_or(0);
    println!(
        "1.9 MB message: {requests} requests, buffer {} bytes, diagnostics {diagnostics_bytes} bytes, longest text {longest} bytes, {} ms",
        file + side,
        started.elapsed().as_millis()
    );
    assert_eq!(
        (report.remaining, d.dead_lettered),
        (0, EVENTS as u64),
        "{report:?}"
    );
    // 4 requests per level of the split (split_budget) plus the first one.
    assert!(requests <= 1 + 4 * 7, "{requests} requests");
    assert!(longest <= 4_096, "a text of {longest} bytes is kept");
    assert!(
        d.recent_dead_letters
            .iter()
            .all(|l| l.error_message.starts_with("HTTP 400: refused: mmm")
                && l.error_message.contains("(truncated)")),
        "{:?}",
        d.recent_dead_letters.first()
    );
    assert!(file + side < 2 << 20, "buffer of {} bytes", file + side);
    assert!(diagnostics_bytes < 128 << 10, "{diagnostics_bytes} bytes");
    assert_eq!(d.worker_panics, 0);
    metric(
        "server_huge_message",
        &[
            ("message_bytes", "1900000".into()),
            ("events", EVENTS.to_string()),
            ("requests", requests.to_string()),
            ("buffer_bytes", (file + side).to_string()),
            ("diagnostics_bytes", diagnostics_bytes.to_string()),
            ("longest_text", longest.to_string()),
        ],
    );
}

/// Issue 19, trigger 9: a server that echoes the bearer token in its error text. The token
/// must not reach diagnostics (last_error, paused_reason, dead letters), the listener, the
/// log, or the buffer file.
#[test]
fn a_server_echoing_the_token_never_gets_it_shown_or_stored() {
    for status in [400u16, 401] {
        let (endpoint, _) = loopback_server(move |authorization| {
            let echo = format!(r#"{{"code":2,"message":"token {authorization} refused"}}"#);
            (status, echo)
        });
        let (dir, client, recorder, lines) = loopback_client(&endpoint);
        client.track(lead("echo-1")).expect("track");
        let _ = client.flush(3_000);
        let texts = shown_texts(&client, &recorder, &lines);
        assert!(
            texts.iter().any(|t| t.contains("[redacted]")),
            "HTTP {status}: the echo is reported: {texts:?}"
        );
        let leaks: Vec<&String> = texts.iter().filter(|t| t.contains(TOKEN)).collect();
        assert!(leaks.is_empty(), "HTTP {status}: token shown in {leaks:?}");
        client.shutdown(WAIT).expect("shutdown");
        let db = dir.path().join("buffer.db");
        for file in [db.clone(), db.with_extension("db-wal")] {
            let bytes = std::fs::read(&file).unwrap_or_default();
            assert!(
                !bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
                "HTTP {status}: token stored in {}",
                file.display()
            );
        }
    }
}
