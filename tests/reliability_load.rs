//! Load: a flood of events into a buffer capped at 10,000 (`max_queued_events`), with an
//! endpoint where nothing listens, so no delivery interferes.
//!
//! The flood runs in a child process so that its peak resident memory (VmHWM from
//! `/proc/self/status`) measures the SDK and nothing else. Asserted: evictions are counted
//! exactly (`dropped_evicted == events - 10_000` once everything is committed, and 10,000 stay
//! queued), the database file stays bounded, and peak memory stays bounded — the same limit
//! holds whatever the number of events.
//!
//! Events: 200,000 by default (CI, debug build), `RELIABILITY_LOAD_EVENTS=N` or
//! `RELIABILITY_SOAK=1` (1,000,000) for the full run.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
mod common;
mod reliability;

use std::path::Path;
use std::time::{Duration, Instant};

use app_conversions::ConversionsClient;
use common::{app, config, device, privacy_with_id, GAID};
use reliability::*;

const TEST: &str = "a_flood_stays_within_the_queue_cap";
const CAP: u64 = 10_000;
/// Peak RSS allowed for the whole child process (test harness, SDK and SQLite cache).
const MAX_PEAK_RSS_KIB: u64 = 256 * 1024;
/// Database plus WAL allowed for 10,000 queued events of about 700 bytes.
const MAX_DATABASE_BYTES: u64 = 64 * 1024 * 1024;

#[test]
fn a_flood_stays_within_the_queue_cap() {
    if child_role().as_deref() == Some("flood") {
        return flood();
    }
    let events = size("RELIABILITY_LOAD_EVENTS", 200_000, 1_000_000);
    let mut command = child(TEST, "flood");
    command.env("RELIABILITY_EVENTS", events.to_string());
    let r = results(&run_child(command, "flood"));
    let evicted = result_u64(&r, "dropped_evicted");
    let queued = result_u64(&r, "queued");
    let peak = result_u64(&r, "peak_rss_kib");
    let (db, wal) = (result_u64(&r, "db_bytes"), result_u64(&r, "wal_bytes"));
    assert_eq!(evicted, events - CAP, "every eviction counted, exactly");
    assert_eq!(queued, CAP);
    assert_eq!(result_u64(&r, "worker_panics"), 0);
    assert!(peak < MAX_PEAK_RSS_KIB, "peak RSS {peak} KiB");
    assert!(
        db + wal < MAX_DATABASE_BYTES,
        "database {db} + WAL {wal} bytes"
    );
    metric(
        "load",
        &[
            ("events", events.to_string()),
            ("cap", CAP.to_string()),
            ("dropped_evicted", evicted.to_string()),
            ("queued", queued.to_string()),
            ("peak_rss_mib", format!("{:.1}", peak as f64 / 1024.0)),
            ("db_mib", format!("{:.1}", db as f64 / 1_048_576.0)),
            ("wal_mib", format!("{:.1}", wal as f64 / 1_048_576.0)),
            (
                "db_after_shutdown_mib",
                format!(
                    "{:.1}",
                    result_u64(&r, "db_after_shutdown_bytes") as f64 / 1_048_576.0
                ),
            ),
            ("track_s", r["track_s"].clone()),
            ("total_s", r["total_s"].clone()),
        ],
    );
}

/// Child: track `RELIABILITY_EVENTS` events as fast as one thread can, wait until all are
/// committed, then report counters, peak memory and file sizes.
fn flood() {
    let events: u64 = env("RELIABILITY_EVENTS").parse().expect("event count");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("buffer.db");
    let mut cfg = config(&closed_endpoint(), &db);
    cfg.max_queued_events = CAP as u32;
    cfg.retry_base_delay_ms = 1_000;
    let client =
        ConversionsClient::new(cfg, app(), device(), privacy_with_id(GAID)).expect("client");
    let started = Instant::now();
    for i in 0..events {
        client.track(lead(&format!("flood-{i}"))).expect("track");
    }
    let track_s = started.elapsed().as_secs_f64();
    // diagnostics() commits everything tracked before it; it gives up after 2 s while the
    // worker is still catching up, so poll.
    let mut d = client.diagnostics();
    let committed = poll(Duration::from_secs(600), Duration::from_millis(100), || {
        d = client.diagnostics();
        d.dropped_evicted + d.queued >= events
    });
    assert!(committed, "not all committed: {d:?}");
    let total_s = started.elapsed().as_secs_f64();
    let peak = peak_rss_kib();
    let (db_bytes, wal_bytes) = database_bytes(&db);
    client.shutdown(60_000).expect("shutdown");
    let (db_after, _) = database_bytes(Path::new(&db));
    result_line(&[
        ("dropped_evicted", d.dropped_evicted.to_string()),
        ("queued", d.queued.to_string()),
        ("worker_panics", d.worker_panics.to_string()),
        ("peak_rss_kib", peak.to_string()),
        ("db_bytes", db_bytes.to_string()),
        ("wal_bytes", wal_bytes.to_string()),
        ("db_after_shutdown_bytes", db_after.to_string()),
        ("track_s", format!("{track_s:.1}")),
        ("total_s", format!("{total_s:.1}")),
    ]);
}
