//! `track()` cost on the calling thread and sustained commit throughput.
//!
//! Prints p50/p99/p99.9 of `track()` over 200,000 back-to-back calls (validation,
//! normalisation, SHA-256 of an email and the advertising id, JSON, hand-off to the worker),
//! the same percentiles for 100,000 calls at an app-like pace (one every 50 µs), those of a bare
//! channel send of a comparable message in the same run, a control (a fixed computation about
//! as long as `track()`, whose tail is the machine's own noise), and events/s committed to SQLite
//! with `synchronous=FULL` and group commits. On Linux it also sorts the timed calls by what the
//! kernel counted on the calling thread during each one (a page fault, a wait on a lock, a
//! preemption, or none of these), times writing to fresh and reused memory pages, and measures
//! how much of the wall clock a busy thread gets here, so a tail can be traced to its cause.
//! A last control inserts the same rows into SQLite directly: the ceiling for the commit rate.
//! Run: `cargo bench --bench track`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

#[path = "common/call_causes.rs"]
mod call_causes;
mod common;

use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use app_conversions::{
    ActionSource, AppInfo, ClientConfig, ConversionsClient, CustomData, DeviceInfo, Event,
    EventName, LogLevel, PrivacyState, TrackingAuthorization, UserData,
};
use sha2::{Digest, Sha256};

use call_causes::{page_touch_micros, thread_counters, CallsByCause};
use common::percentile;

const CALLS: usize = 200_000;
const WARM_UP: usize = 10_000;
const PACED_CALLS: usize = 100_000;
const PACE_MICROS: u64 = 50;

/// Sorts `nanos` and formats its p50, p99 and p99.9 in microseconds.
fn percentiles(nanos: &mut [u64]) -> String {
    nanos.sort_unstable();
    format!(
        "p50 {:>7.2} µs   p99 {:>7.2} µs   p99.9 {:>7.2} µs",
        percentile(nanos, 0.50),
        percentile(nanos, 0.99),
        percentile(nanos, 0.999)
    )
}

fn summary(label: &str, mut nanos: Vec<u64>) -> f64 {
    println!("{label:<28} {}", percentiles(&mut nanos));
    percentile(&nanos, 0.99)
}

fn event(i: usize) -> Event {
    Event {
        name: EventName::Checkout,
        custom_event_name: None,
        event_id: None,
        event_time: None,
        event_source_url: None,
        user_data: Some(UserData {
            emails: vec![format!("Person{}@Example.com", i % 1000)],
            ..Default::default()
        }),
        custom_data: Some(CustomData {
            currency: Some("USD".into()),
            value: Some("19.99".into()),
            ..Default::default()
        }),
    }
}

fn main() {
    // Before anything else, so "fresh" means memory this process never had.
    let page_touch = page_touch_micros();
    let dir = tempfile::tempdir().expect("temp dir");
    // Nothing listens at the endpoint: this measures recording and committing, not delivery.
    let config = ClientConfig {
        max_queued_events: (WARM_UP + CALLS + PACED_CALLS) as u32,
        max_event_age_secs: 86_400,
        flush_interval_secs: 3600,
        retry_base_delay_ms: 3_600_000,
        log_level: Some(LogLevel::Off),
        ..ClientConfig::new(
            "http://127.0.0.1:9",
            "549768257474",
            "bench-token",
            dir.path().join("bench.db").to_string_lossy(),
            ActionSource::AppIos,
        )
    };
    let device = DeviceInfo {
        brand: Some("Apple".into()),
        model: Some("iPhone15,2".into()),
        os_version: Some("18.1".into()),
        language: Some("en".into()),
        user_agent: Some("Shop/3 CFNetwork/1568.200.51 Darwin/24.1.0".into()),
        ..Default::default()
    };
    let privacy = PrivacyState {
        tracking_authorization: Some(TrackingAuthorization::Authorized),
        advertising_id: Some("6D92078A-8246-4BA4-AE5B-76104861E7DC".into()),
        ..Default::default()
    };
    let client = ConversionsClient::new(
        config.clone(),
        AppInfo::default(),
        device.clone(),
        privacy.clone(),
    )
    .expect("client");

    // Warm up (allocator, worker, database open).
    for i in 0..WARM_UP {
        client.track(event(i)).expect("track");
    }
    client.diagnostics();

    let events: Vec<Event> = (0..CALLS).map(event).collect();
    let mut track_nanos = Vec::with_capacity(CALLS);
    let mut by_cause = CallsByCause::default();
    let started = Instant::now();
    for e in events {
        let before = thread_counters();
        let t = Instant::now();
        client.track(e).expect("track");
        let nanos = t.elapsed().as_nanos() as u64;
        track_nanos.push(nanos);
        by_cause.add(nanos, before, thread_counters());
    }
    let tracked_in = started.elapsed();
    // shutdown() returns once the worker has committed everything tracked before it.
    client.shutdown(600_000).expect("shutdown");
    let committed_in = started.elapsed();
    let reopened = ConversionsClient::new(config, AppInfo::default(), device, privacy)
        .expect("reopen the buffer");
    // Opening a large buffer can outlast diagnostics()'s 2 s wait: ask again.
    let reopening = Instant::now();
    let mut queued = 0;
    while queued == 0 && reopening.elapsed() < Duration::from_secs(600) {
        queued = reopened.diagnostics().queued;
    }
    let reopened_in = reopening.elapsed();
    assert_eq!(queued, (WARM_UP + CALLS) as u64, "every event committed");

    // The same calls at an app-like pace (one every PACE_MICROS, the thread busy in between),
    // so the worker is not saturating the other core while the calls are timed.
    let events: Vec<Event> = (0..PACED_CALLS).map(event).collect();
    let mut paced_nanos = Vec::with_capacity(PACED_CALLS);
    let paced_start = Instant::now();
    for (i, e) in events.into_iter().enumerate() {
        let slot = paced_start + Duration::from_micros(i as u64 * PACE_MICROS);
        while Instant::now() < slot {
            std::hint::spin_loop();
        }
        let t = Instant::now();
        reopened.track(e).expect("track");
        paced_nanos.push(t.elapsed().as_nanos() as u64);
    }
    reopened.shutdown(600_000).expect("shutdown");
    let sqlite_rows_per_sec = bare_sqlite_inserts(&dir.path().join("bench.db"));

    let (sender, receiver) = channel::<(String, String, i64)>();
    let drain = std::thread::spawn(move || receiver.iter().count());
    let mut send_nanos = Vec::with_capacity(CALLS);
    for i in 0..CALLS {
        let message = (format!("{i:032}"), "x".repeat(400), i as i64);
        let t = Instant::now();
        sender.send(message).expect("send");
        send_nanos.push(t.elapsed().as_nanos() as u64);
    }
    drop(sender);
    drain.join().expect("drain");

    // Control: a fixed computation about as long as track() (SHA-256 of 2 KiB, no allocation,
    // no other thread busy). Its tail is this machine's own noise (preemption, stolen CPU time).
    let block = [7u8; 2048];
    let mut control_nanos = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let t = Instant::now();
        std::hint::black_box(Sha256::digest(std::hint::black_box(&block)));
        control_nanos.push(t.elapsed().as_nanos() as u64);
    }

    println!("track() on the calling thread, {CALLS} calls (email + IDFA hashed, custom data)");
    let track_p99 = summary("track()", track_nanos);
    by_cause.print(CALLS);
    summary(&format!("track() every {PACE_MICROS} µs"), paced_nanos);
    let send_p99 = summary("bare channel send", send_nanos);
    summary("control: SHA-256 of 2 KiB", control_nanos);
    if let Some((fresh, reused)) = page_touch {
        println!(
            "control: write a page        fresh {fresh:>7.2} µs   reused {reused:>7.2} µs   (per 4 KiB page)"
        );
    }
    common::print_cpu_availability(Duration::from_secs(3));
    println!(
        "p99 ratio track()/send        {:>7.1}x",
        track_p99 / send_p99.max(0.001)
    );
    println!(
        "tracking rate                 {:>9.0} events/s on the calling thread",
        CALLS as f64 / tracked_in.as_secs_f64()
    );
    println!(
        "committed (synchronous=FULL)  {:>9.0} events/s ({CALLS} events durable after {:.2} s)",
        CALLS as f64 / committed_in.as_secs_f64(),
        committed_in.as_secs_f64()
    );
    println!(
        "reopened and counted          {:>9.2} s ({} events)",
        reopened_in.as_secs_f64(),
        WARM_UP + CALLS
    );
    println!(
        "control: bare SQLite inserts  {sqlite_rows_per_sec:>9.0} rows/s (same table and rows, \
         synchronous=FULL, 1,000 per commit)"
    );
}

/// Control: the ceiling SQLite sets on this machine for the commit rate. Inserts `CALLS` rows
/// into a new database beside `sdk_database`, with the queue table and its indexes as the SDK
/// created them there, each row carrying a body the SDK committed, in transactions of 1,000
/// with `synchronous=FULL`. Returns rows per second.
fn bare_sqlite_inserts(sdk_database: &std::path::Path) -> f64 {
    let sdk = rusqlite::Connection::open(sdk_database).expect("open the SDK's database");
    let body: String = sdk
        .query_row("SELECT body FROM events LIMIT 1", [], |row| row.get(0))
        .expect("a committed body");
    // The table first, then its indexes.
    let schema: Vec<String> = sdk
        .prepare(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'events' AND sql IS NOT NULL
             ORDER BY type = 'index'",
        )
        .and_then(|mut query| query.query_map([], |row| row.get(0))?.collect())
        .expect("the queue's schema");
    let conn = rusqlite::Connection::open(sdk_database.with_file_name("bare.db")).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("WAL");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("FULL");
    conn.execute_batch(&schema.join(";\n")).expect("schema");
    let started = Instant::now();
    for chunk in 0..CALLS / 1000 {
        let tx = conn.unchecked_transaction().expect("begin");
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO events (event_id, event_name, body, event_time, created_at, flags)
                     VALUES (?1, 'checkout', ?2, ?3, ?3, 0)",
                )
                .expect("prepare");
            for i in chunk * 1000..(chunk + 1) * 1000 {
                let id = format!("{i:08x}-0000-4000-8000-000000000000");
                insert
                    .execute(rusqlite::params![id, body, 1_700_000_000 + i as i64])
                    .expect("insert");
            }
        }
        tx.commit().expect("commit");
    }
    CALLS as f64 / started.elapsed().as_secs_f64()
}
