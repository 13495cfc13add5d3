//! Storage faults: the database file overwritten with garbage, truncated, replaced by a folder,
//! its folder replaced by a file, read-only storage, a full disk, and a disk that is full
//! when a retry's backoff is to be stored and has room again before the backoff ends.
//!
//! Each case asserts: no panic (`worker_panics == 0`), a clear `storage_error` in diagnostics
//! while the fault lasts (and `flush()` failing with `Storage`, since it cannot commit), the
//! SDK recovering by itself once the fault is removed (the store worker retries every two
//! seconds), and no loss of events SQLite could keep: those committed before the fault and
//! those tracked during it (held in memory) are all delivered afterwards.
//!
//! Tests run as root, so permission bits stop nothing. Read-only storage and a full disk are
//! therefore real file systems: a child process enters a private mount namespace
//! (`unshare --mount`) and mounts a tmpfs there — remounted read-only, or filled to its size
//! limit with a ballast file — that no other process sees and that vanishes with the child.
//! This needs root with CAP_SYS_ADMIN, as the CI machine has.
//!
//! Linux only (mount namespaces, `renameat2`): elsewhere this file compiles to nothing, so
//! `cargo test` still builds on a Mac.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod common;
mod reliability;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use app_conversions::{ConversionsClient, ConversionsError};
use app_conversions_sandbox::Fault;
use common::{app, config, device, privacy_with_id, sandbox, GAID};
use reliability::*;

const WAIT: u64 = 10_000;
/// Longer than two storage retries of the worker.
const RECOVERY: Duration = Duration::from_secs(10);

/// A client on `db` whose endpoint refuses every connection: what it tracks stays queued.
fn offline_client(db: &Path) -> Arc<ConversionsClient> {
    let cfg = config(&closed_endpoint(), db);
    ConversionsClient::new(cfg, app(), device(), privacy_with_id(GAID)).expect("client")
}

fn online_client(endpoint: &str, db: &Path) -> Arc<ConversionsClient> {
    let cfg = config(endpoint, db);
    ConversionsClient::new(cfg, app(), device(), privacy_with_id(GAID)).expect("client")
}

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}

fn track_all(client: &ConversionsClient, ids: &[String]) {
    for id in ids {
        client.track(lead(id)).expect("track");
    }
}

/// Tracks `ids` offline and shuts down: they are committed to `db`.
fn commit_offline(db: &Path, ids: &[String]) {
    let client = offline_client(db);
    track_all(&client, ids);
    client.shutdown(WAIT).expect("shutdown commits");
    assert_eq!(inspect(db).queued.len(), ids.len());
}

/// Polls diagnostics until the storage error is gone; returns the error seen before.
fn wait_for_recovery(client: &ConversionsClient) {
    let recovered = poll(RECOVERY, Duration::from_millis(100), || {
        client.diagnostics().storage_error.is_none()
    });
    assert!(recovered, "still failing: {:?}", client.diagnostics());
}

/// The storage error the client reports (waiting for the worker's first attempt).
fn storage_error(client: &ConversionsClient) -> String {
    let mut error = None;
    let seen = poll(RECOVERY, Duration::from_millis(50), || {
        error = client.diagnostics().storage_error;
        error.is_some()
    });
    assert!(seen, "no storage_error reported");
    error.unwrap_or_default()
}

/// Issue 19, trigger 9: during one fault every `diagnostics()` call reports it (it used to
/// come and go as the store was reopened between calls).
fn assert_storage_error_stays(client: &ConversionsClient) {
    let seen: Vec<bool> = (0..10)
        .map(|_| client.diagnostics().storage_error.is_some())
        .collect();
    assert!(
        seen.iter().all(|s| *s),
        "storage_error came and went: {seen:?}"
    );
}

/// `flush()` cannot commit during the fault: it fails with `Storage`, promptly.
fn assert_flush_fails_with_storage(client: &ConversionsClient) {
    match client.flush(2_000) {
        Err(ConversionsError::Storage { message }) => assert!(!message.is_empty()),
        other => panic!("expected a storage error, got {other:?}"),
    }
}

fn assert_no_panic(client: &ConversionsClient) {
    assert_eq!(client.diagnostics().worker_panics, 0);
}

/// Delivers everything in `client`'s buffer and checks each id arrived exactly once.
fn assert_all_delivered(
    sandbox: &app_conversions_sandbox::Sandbox,
    client: &ConversionsClient,
    ids: &[String],
) {
    let report = client.flush(WAIT).expect("flush");
    assert_eq!(report.remaining, 0, "{report:?}");
    for id in ids {
        assert_eq!(sandbox.times_accepted(id), 1, "{id}");
    }
}

/// Swaps two paths in one step (Linux `renameat2` with `RENAME_EXCHANGE`).
fn exchange(a: &Path, b: &Path) {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c_path = |p: &Path| CString::new(p.as_os_str().as_bytes()).expect("path without NUL");
    let (a, b) = (c_path(a), c_path(b));
    // SAFETY: two valid NUL-terminated paths that outlive the call, which only renames.
    let status = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    assert_eq!(status, 0, "renameat2: {}", std::io::Error::last_os_error());
}

fn files_starting_with(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                // A database file, not the WAL or shared memory moved with it.
                n.starts_with(prefix) && !n.ends_with("-wal") && !n.ends_with("-shm")
            })
        })
        .collect()
}

#[test]
fn a_database_overwritten_with_garbage_is_moved_aside_and_recreated() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("buffer.db");
    commit_offline(&db, &ids("old", 10));
    let mut rng = Rng::new(7);
    let garbage: Vec<u8> = (0..64 * 1024).map(|_| rng.next_u64() as u8).collect();
    std::fs::write(&db, &garbage).expect("overwrite");

    let client = online_client(&sandbox.base_url(), &db);
    let new = ids("new", 5);
    track_all(&client, &new);
    assert_all_delivered(&sandbox, &client, &new);
    let d = client.diagnostics();
    assert_eq!(d.database_recoveries, 1, "{d:?}");
    assert_eq!((d.storage_error, d.worker_panics), (None, 0));
    let aside = files_starting_with(dir.path(), "buffer.db.corrupt-");
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read(&aside[0]).expect("moved-aside file"), garbage);
    // The garbage held nothing SQLite could read: the ten old events are gone, and said so
    // (database_recoveries), not silently.
    assert_eq!(sandbox.times_accepted("old-0"), 0);
    metric(
        "disk_garbage",
        &[
            ("recoveries", d.database_recoveries.to_string()),
            ("committed_before", "10".into()),
            ("recoverable", "0".into()),
            ("lost_after_recovery", "0".into()),
        ],
    );
}

#[test]
fn a_truncated_database_is_moved_aside_and_recreated() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("buffer.db");
    let old = ids("old", 200);
    commit_offline(&db, &old);
    let full = std::fs::metadata(&db).expect("db").len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .expect("open");
    file.set_len(full / 2).expect("truncate");
    drop(file);

    let client = online_client(&sandbox.base_url(), &db);
    let new = ids("new", 5);
    track_all(&client, &new);
    assert_all_delivered(&sandbox, &client, &new);
    let d = client.diagnostics();
    assert_eq!(d.database_recoveries, 1, "{d:?}");
    assert_eq!((d.storage_error, d.worker_panics), (None, 0));
    assert_eq!(
        files_starting_with(dir.path(), "buffer.db.corrupt-").len(),
        1
    );
    let survived = old
        .iter()
        .filter(|id| sandbox.times_accepted(id) > 0)
        .count();
    metric(
        "disk_truncated",
        &[
            ("file_bytes", full.to_string()),
            ("truncated_to", (full / 2).to_string()),
            ("recoveries", d.database_recoveries.to_string()),
            ("committed_before", old.len().to_string()),
            ("recoverable", survived.to_string()),
        ],
    );
}

#[test]
fn a_folder_in_place_of_the_database_is_reported_and_recovered() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("buffer.db");
    let before = ids("before", 10);
    commit_offline(&db, &before);
    let saved = dir.path().join("saved.db");
    std::fs::rename(&db, &saved).expect("move the file away");
    std::fs::create_dir(&db).expect("a folder in its place");

    let client = online_client(&sandbox.base_url(), &db);
    // Nothing tracked yet, but the buffer cannot be read: a flush must not report success
    // (issue 19, trigger 3: it answered `remaining: 0` from a file it never opened).
    assert_flush_fails_with_storage(&client);
    let during = ids("during", 5);
    track_all(&client, &during);
    let error = storage_error(&client);
    assert!(error.contains("unable to open"), "{error}");
    assert_flush_fails_with_storage(&client);
    assert_no_panic(&client);

    // One atomic swap puts the file back: removing the folder first would leave a moment
    // with no file at all, and a storage retry then would rightly start a new, empty buffer.
    exchange(&db, &saved);
    std::fs::remove_dir(&saved).expect("remove the folder");
    wait_for_recovery(&client);
    let all: Vec<String> = before.iter().chain(&during).cloned().collect();
    assert_all_delivered(&sandbox, &client, &all);
    assert_no_panic(&client);
    metric(
        "disk_folder_in_place",
        &[
            ("storage_error", quote(&error)),
            ("committed_before", before.len().to_string()),
            ("tracked_during", during.len().to_string()),
            ("lost", "0".into()),
        ],
    );
}

#[test]
fn a_file_where_the_database_folder_should_be_is_reported_and_recovered() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().expect("temp dir");
    let blocker = dir.path().join("data");
    std::fs::write(&blocker, b"not a folder").expect("blocker file");
    let db = blocker.join("buffer.db");

    let client = online_client(&sandbox.base_url(), &db);
    let during = ids("during", 5);
    track_all(&client, &during);
    let error = storage_error(&client);
    assert!(error.contains("unable to open"), "{error}");
    assert_flush_fails_with_storage(&client);

    std::fs::remove_file(&blocker).expect("remove the blocker");
    wait_for_recovery(&client);
    assert_all_delivered(&sandbox, &client, &during);
    assert_no_panic(&client);
    metric(
        "disk_file_as_folder",
        &[
            ("storage_error", quote(&error)),
            ("tracked_during", during.len().to_string()),
            ("lost", "0".into()),
        ],
    );
}

#[test]
fn read_only_storage_is_reported_and_recovered() {
    if child_role().as_deref() == Some("read-only") {
        return read_only_child();
    }
    let command =
        child_in_mount_namespace("read_only_storage_is_reported_and_recovered", "read-only");
    let r = results(&run_child(command, "read-only storage"));
    metric(
        "disk_read_only",
        &[
            ("storage_error", quote(&r["storage_error"])),
            ("committed_before", r["committed_before"].clone()),
            ("tracked_during", r["tracked_during"].clone()),
            ("lost", "0".into()),
        ],
    );
}

fn read_only_child() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().expect("temp dir");
    mount(
        &["-t", "tmpfs", "-o", "size=16m", "reliability"],
        dir.path(),
    );
    let db = dir.path().join("buffer.db");
    let before = ids("before", 20);
    commit_offline(&db, &before);
    mount(&["-o", "remount,ro"], dir.path());
    assert!(
        std::fs::write(dir.path().join("probe"), b"x").is_err(),
        "the mount is read-only, even for root"
    );

    let client = online_client(&sandbox.base_url(), &db);
    let during = ids("during", 10);
    track_all(&client, &during);
    let error = storage_error(&client);
    assert!(
        error.contains("readonly") || error.contains("unable to open"),
        "{error}"
    );
    assert_storage_error_stays(&client);
    assert_flush_fails_with_storage(&client);
    assert_no_panic(&client);

    mount(&["-o", "remount,rw"], dir.path());
    wait_for_recovery(&client);
    let all: Vec<String> = before.iter().chain(&during).cloned().collect();
    assert_all_delivered(&sandbox, &client, &all);
    assert_no_panic(&client);
    client.shutdown(WAIT).expect("shutdown");
    result_line(&[
        ("storage_error", error.replace(' ', "_")),
        ("committed_before", before.len().to_string()),
        ("tracked_during", during.len().to_string()),
    ]);
}

#[test]
fn a_full_disk_is_reported_and_recovered() {
    if child_role().as_deref() == Some("disk-full") {
        return disk_full_child();
    }
    let command = child_in_mount_namespace("a_full_disk_is_reported_and_recovered", "disk-full");
    let r = results(&run_child(command, "full disk"));
    metric(
        "disk_full",
        &[
            ("storage_error", quote(&r["storage_error"])),
            ("committed_before", r["committed_before"].clone()),
            ("tracked_during", r["tracked_during"].clone()),
            ("lost", "0".into()),
        ],
    );
}

fn disk_full_child() {
    let dir = tempfile::tempdir().expect("temp dir");
    mount(&["-t", "tmpfs", "-o", "size=8m", "reliability"], dir.path());
    let db = dir.path().join("buffer.db");
    let client = offline_client(&db);
    let before = ids("before", 20);
    track_all(&client, &before);
    assert_eq!(client.diagnostics().queued, 20, "committed");

    // Fill the file system to the last byte.
    let ballast = dir.path().join("ballast");
    fill(&ballast);

    // Track until the store can no longer commit (the WAL has some slack first).
    let mut during = Vec::new();
    let mut error = None;
    for round in 0..200 {
        let batch = ids(&format!("during{round}"), 20);
        track_all(&client, &batch);
        during.extend(batch);
        error = client.diagnostics().storage_error;
        if error.is_some() {
            break;
        }
    }
    let error = error.expect("a full disk is reported");
    assert!(error.contains("full"), "{error}");
    assert_storage_error_stays(&client);
    assert_flush_fails_with_storage(&client);
    assert_no_panic(&client);

    // Space comes back: everything tracked during the fault is committed.
    std::fs::remove_file(&ballast).expect("free the space");
    wait_for_recovery(&client);
    client.shutdown(WAIT).expect("shutdown commits");
    let state = inspect(&db);
    assert_eq!(state.integrity, "ok");
    let all: Vec<String> = before.iter().chain(&during).cloned().collect();
    let missing: Vec<&String> = all
        .iter()
        .filter(|id| !state.queued.contains(*id))
        .collect();
    assert!(missing.is_empty(), "lost on a full disk: {missing:?}");

    // And they are delivered, once each.
    let sandbox = sandbox();
    let client = online_client(&sandbox.base_url(), &db);
    assert_all_delivered(&sandbox, &client, &all);
    client.shutdown(WAIT).expect("shutdown");
    result_line(&[
        ("storage_error", error.replace(' ', "_")),
        ("committed_before", before.len().to_string()),
        ("tracked_during", during.len().to_string()),
    ]);
}

#[test]
fn a_flush_after_storage_recovers_during_a_backoff_waits_for_the_retry() {
    if child_role().as_deref() == Some("backoff") {
        return backoff_child();
    }
    let command = child_in_mount_namespace(
        "a_flush_after_storage_recovers_during_a_backoff_waits_for_the_retry",
        "backoff",
    );
    let r = results(&run_child(command, "storage failure during a backoff"));
    metric(
        "disk_full_during_backoff",
        &[
            ("flush_waited_ms", r["flush_waited_ms"].clone()),
            ("lost", "0".into()),
        ],
    );
}

/// A 503 with `Retry-After` starts a backoff, and the disk is full when the SDK goes to store
/// it. Space comes back before the backoff ends. A flush asked for after that must wait for
/// the retry and deliver, not answer at once from the storage failure that has passed; and
/// once the retry is stored, diagnostics no longer report the storage error.
fn backoff_child() {
    const RETRY_AFTER_SECS: u64 = 4;
    let sandbox = sandbox();
    let dir = tempfile::tempdir().expect("temp dir");
    mount(&["-t", "tmpfs", "-o", "size=8m", "reliability"], dir.path());
    let db = dir.path().join("buffer.db");
    let client = online_client(&sandbox.base_url(), &db);
    client.track(lead("kept")).expect("track");
    assert_eq!(client.diagnostics().queued, 1, "committed");

    sandbox.inject(Fault::Status {
        status: 503,
        retry_after: Some(RETRY_AFTER_SECS.to_string()),
        body: None,
    });
    let ballast = dir.path().join("ballast");
    fill(&ballast);
    // Nothing to commit, so the flush sends; storing the 503's retry fails, and the flush
    // says so instead of reporting success.
    match client.flush(WAIT) {
        Err(ConversionsError::Storage { message }) => {
            assert!(message.contains("full"), "{message}")
        }
        other => panic!("expected the storage failure, got {other:?}"),
    }
    let backoff_started = std::time::Instant::now();
    assert_eq!(sandbox.requests().len(), 1, "sent once, answered 503");
    assert_eq!(client.diagnostics().queued, 1, "the event is kept");
    let error = storage_error(&client);
    assert!(error.contains("full"), "storing the 503 failed: {error}");

    std::fs::remove_file(&ballast).expect("free the space");
    let asked = std::time::Instant::now();
    let report = client.flush(WAIT).expect("flush");
    let waited = asked.elapsed();
    assert!(
        asked < backoff_started + Duration::from_secs(RETRY_AFTER_SECS),
        "asked during the backoff"
    );
    assert_eq!(
        report.remaining, 0,
        "delivered after the backoff: {report:?}"
    );
    assert_eq!(sandbox.times_accepted("kept"), 1);
    assert!(
        backoff_started.elapsed() >= Duration::from_secs(RETRY_AFTER_SECS),
        "the retry waited for Retry-After"
    );
    assert_eq!(
        client.diagnostics().storage_error,
        None,
        "cleared by the stored retry"
    );
    assert_no_panic(&client);
    // Afterwards an empty queue costs nothing: no wake-up while idle, nothing paused.
    let woken = client.diagnostics().upload_wakeups;
    std::thread::sleep(Duration::from_secs(2));
    let d = client.diagnostics();
    assert_eq!(
        d.upload_wakeups, woken,
        "woke while idle after the recovery"
    );
    assert_eq!((d.queued, d.paused_reason), (0, None));
    client.shutdown(WAIT).expect("shutdown");
    result_line(&[("flush_waited_ms", waited.as_millis().to_string())]);
}

/// Runs `mount ARGS DIR` (inside the child's private mount namespace).
fn mount(args: &[&str], dir: &Path) {
    let status = Command::new("mount")
        .args(args)
        .arg(dir)
        .status()
        .expect("run mount");
    assert!(
        status.success(),
        "mount {args:?} {}: {status}",
        dir.display()
    );
}

/// Writes zeros to `path` until the file system is full.
fn fill(path: &Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).expect("ballast");
    let chunk = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        match file.write(&chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => written += n as u64,
        }
        assert!(written < 1 << 30, "the file system never filled up");
    }
    let _ = file.sync_all();
}

/// A value for a `key=value` metric: spaces become underscores.
fn quote(value: &str) -> String {
    value.replace(' ', "_")
}

/// A lead of about 1.2 KB on the wire, like an event with a product name and a few ids.
fn padded_lead(id: &str) -> app_conversions::Event {
    app_conversions::Event {
        custom_data: Some(app_conversions::CustomData {
            content_name: Some("x".repeat(1_000)),
            ..Default::default()
        }),
        ..lead(id)
    }
}

/// This process's resident set size now (VmRSS), KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_full_disk_keeps_memory_within_the_queue_capacity_and_recovers() {
    if child_role().as_deref() == Some("disk-full-backlog") {
        return disk_full_backlog_child();
    }
    let command = child_in_mount_namespace(
        "a_full_disk_keeps_memory_within_the_queue_capacity_and_recovers",
        "disk-full-backlog",
    );
    let r = results(&run_child(command, "full disk with a backlog"));
    metric(
        "disk_full_backlog",
        &[
            ("capacity", r["capacity"].clone()),
            ("tracked_during", r["tracked_during"].clone()),
            ("peak_queued", r["peak_queued"].clone()),
            ("rss_before_kib", r["rss_before_kib"].clone()),
            ("rss_after_kib", r["rss_after_kib"].clone()),
            ("evicted", r["evicted"].clone()),
            ("delivered", r["delivered"].clone()),
            ("idle_wakeups", r["idle_wakeups"].clone()),
        ],
    );
}

/// Issue 19, trigger 1: with the disk full and the connection open, tracking far more than
/// `max_queued_events` must not grow memory, and once space is back the newest `capacity`
/// events are committed (the rest evicted and counted), delivered once each, and the upload
/// thread sleeps.
fn disk_full_backlog_child() {
    const CAPACITY: u32 = 200;
    let tracked = size("DISK_FULL_BACKLOG_EVENTS", 30_000, 200_000) as usize;
    let dir = tempfile::tempdir().expect("temp dir");
    mount(&["-t", "tmpfs", "-o", "size=8m", "reliability"], dir.path());
    let db = dir.path().join("buffer.db");
    let cfg = app_conversions::ClientConfig {
        max_queued_events: CAPACITY,
        ..config(&closed_endpoint(), &db)
    };
    let client =
        ConversionsClient::new(cfg, app(), device(), privacy_with_id(GAID)).expect("client");
    let mut all = Vec::new();
    let before = ids("before", 20);
    track_all(&client, &before);
    all.extend(before);
    assert_eq!(client.diagnostics().queued, 20, "committed");

    let ballast = dir.path().join("ballast");
    fill(&ballast);
    // Track until the store can no longer commit (the WAL has some slack first).
    let mut round = 0;
    while client.diagnostics().storage_error.is_none() {
        let batch = ids(&format!("fill{round}"), 20);
        for id in &batch {
            client.track(padded_lead(id)).expect("track");
        }
        all.extend(batch);
        round += 1;
        assert!(round < 500, "the disk never filled up");
    }
    let rss_before = rss_kib();
    let mut peak_queued = 0;
    for i in 0..tracked {
        let id = format!("during-{i}");
        client.track(padded_lead(&id)).expect("track");
        all.push(id);
        if i % 5_000 == 4_999 {
            let d = client.diagnostics();
            assert!(d.storage_error.is_some(), "still full: {d:?}");
            peak_queued = peak_queued.max(d.queued);
        }
    }
    let d = client.diagnostics();
    peak_queued = peak_queued.max(d.queued);
    let rss_after = rss_kib();
    println!(
        "disk full: {tracked} events tracked, queued {}, RSS {rss_before} KiB -> {rss_after} KiB",
        d.queued
    );
    assert!(
        peak_queued <= u64::from(CAPACITY),
        "memory holds more than the capacity: queued {peak_queued}"
    );
    assert!(
        rss_after < rss_before + 16 * 1024,
        "RSS grew from {rss_before} to {rss_after} KiB"
    );
    assert_no_panic(&client);

    // Space comes back: the newest `CAPACITY` events are committed, the rest were evicted.
    std::fs::remove_file(&ballast).expect("free the space");
    wait_for_recovery(&client);
    let d = client.diagnostics();
    let expected_evicted = (all.len() - CAPACITY as usize) as u64;
    assert_eq!(
        (d.queued, d.dropped_evicted),
        (u64::from(CAPACITY), expected_evicted),
        "{d:?}"
    );
    client.shutdown(WAIT).expect("shutdown commits");
    let kept: Vec<String> = all[all.len() - CAPACITY as usize..].to_vec();
    let state = inspect(&db);
    assert_eq!(state.integrity, "ok");
    let mut stored: Vec<&String> = state.queued.iter().collect();
    stored.sort();
    let mut wanted: Vec<&String> = kept.iter().collect();
    wanted.sort();
    assert_eq!(stored, wanted, "the newest events are kept");

    // Delivered once each; afterwards the upload thread sleeps through an idle hour.
    let sandbox = sandbox();
    use app_conversions::Clock;
    let clock = Arc::new(app_conversions::ManualClock::new(
        app_conversions::SystemClock.now_ms(),
    ));
    let dyn_clock: Arc<dyn app_conversions::Clock> = clock.clone();
    let cfg = app_conversions::ClientConfig {
        max_queued_events: CAPACITY,
        ..config(&sandbox.base_url(), &db)
    };
    let client =
        ConversionsClient::with_clock(cfg, app(), device(), privacy_with_id(GAID), dyn_clock)
            .expect("client");
    let report = client.flush(WAIT).expect("flush");
    assert_eq!(
        (report.remaining, report.timed_out),
        (0, false),
        "{report:?}"
    );
    for id in &kept {
        assert_eq!(sandbox.times_accepted(id), 1, "{id}");
    }
    assert_eq!(
        sandbox.accepted_count(),
        kept.len(),
        "evicted events stay evicted"
    );
    assert!(client.settle(WAIT));
    let woken = client.diagnostics().upload_wakeups;
    for _ in 0..60 {
        clock.advance(Duration::from_secs(60));
        assert!(client.settle(WAIT), "settles");
    }
    let idle_wakeups = client.diagnostics().upload_wakeups - woken;
    assert_eq!(idle_wakeups, 0, "woke while idle after the recovery");
    assert_no_panic(&client);
    client.shutdown(WAIT).expect("shutdown");
    result_line(&[
        ("capacity", CAPACITY.to_string()),
        ("tracked_during", tracked.to_string()),
        ("peak_queued", peak_queued.to_string()),
        ("rss_before_kib", rss_before.to_string()),
        ("rss_after_kib", rss_after.to_string()),
        ("evicted", expected_evicted.to_string()),
        ("delivered", kept.len().to_string()),
        ("idle_wakeups", idle_wakeups.to_string()),
    ]);
}

/// Overwrites the first leaf page of the `events` table with garbage (a file closed cleanly:
/// no WAL); returns how many rows that page held.
fn corrupt_first_events_leaf(db: &Path) -> u64 {
    use std::io::{Read, Seek, SeekFrom, Write};
    let (page_size, root): (u64, u64) = {
        let conn = rusqlite::Connection::open(db).expect("open");
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .expect("checkpoint");
        let page_size = conn
            .query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0))
            .expect("page size");
        let root = conn
            .query_row(
                "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'events'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .expect("root page");
        (page_size as u64, root as u64)
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(db)
        .expect("open the file");
    let read_page = |file: &mut std::fs::File, number: u64| {
        let mut page = vec![0u8; page_size as usize];
        file.seek(SeekFrom::Start((number - 1) * page_size))
            .expect("seek");
        file.read_exact(&mut page).expect("read page");
        page
    };
    // The root of a table with a few hundred rows is an interior page (type 5): its first
    // cell starts with the page number of the leftmost child, a leaf (type 13).
    let root_page = read_page(&mut file, root);
    assert_eq!(root_page[0], 0x05, "the events root is an interior page");
    let first_cell = u16::from_be_bytes([root_page[12], root_page[13]]) as usize;
    let leaf = u32::from_be_bytes(root_page[first_cell..first_cell + 4].try_into().unwrap());
    let leaf_page = read_page(&mut file, u64::from(leaf));
    assert_eq!(leaf_page[0], 0x0d, "its first child is a leaf");
    let rows = u64::from(u16::from_be_bytes([leaf_page[3], leaf_page[4]]));
    let mut rng = Rng::new(19);
    let garbage: Vec<u8> = (0..page_size).map(|_| rng.next_u64() as u8).collect();
    file.seek(SeekFrom::Start((u64::from(leaf) - 1) * page_size))
        .expect("seek");
    file.write_all(&garbage).expect("overwrite the leaf");
    file.sync_all().expect("sync");
    rows
}

/// Issue 19, trigger 3: a leaf page of `events` overwritten. Opening succeeds (counting reads
/// an index), so the damage shows only when events are read. The SDK must handle it like
/// corruption at open: the rows it can still read are kept, the file is moved aside and a new
/// one created, `database_recoveries` counted; a flush that met the failure says so.
#[test]
fn corruption_found_after_open_is_moved_aside_and_the_rest_delivered() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("buffer.db");
    let old = ids("old", 300);
    commit_offline(&db, &old);
    let lost = corrupt_first_events_leaf(&db);
    assert!(lost > 0 && lost < 300, "{lost}");

    let client = online_client(&sandbox.base_url(), &db);
    // A flush says what happened: a storage failure, or the readable rows delivered (the
    // failure was met and recovered from before it waited); never success with nothing sent.
    let first = client.flush(WAIT);
    let delivered = |ids: &[String]| {
        ids.iter()
            .filter(|id| sandbox.times_accepted(id) == 1)
            .count() as u64
    };
    match &first {
        Err(ConversionsError::Storage { message }) => {
            assert!(message.contains("malformed"), "{message}")
        }
        Ok(report) => assert_eq!(
            (report.remaining, report.timed_out, delivered(&old)),
            (0, false, 300 - lost),
            "{report:?}"
        ),
        Err(other) => panic!("{other:?}"),
    }
    let new = ids("new", 5);
    track_all(&client, &new);
    let report = client.flush(WAIT).expect("flush after the recovery");
    let delivered_old = delivered(&old);
    let d = client.diagnostics();
    println!(
        "corrupt leaf: {lost} rows on it, first flush {first:?}, {delivered_old} of 300 old events delivered, report {report:?}, {d:?}"
    );
    assert_eq!(
        (report.remaining, report.timed_out),
        (0, false),
        "{report:?}"
    );
    for id in &new {
        assert_eq!(sandbox.times_accepted(id), 1, "{id}");
    }
    assert_eq!(delivered_old, 300 - lost, "every readable row is delivered");
    assert!(old.iter().all(|id| sandbox.times_accepted(id) <= 1));
    assert_eq!(d.database_recoveries, 1, "{d:?}");
    assert_eq!((d.queued, d.storage_error, d.worker_panics), (0, None, 0));
    let aside = files_starting_with(dir.path(), "buffer.db.corrupt-");
    assert_eq!(aside.len(), 1, "the damaged file is kept: {aside:?}");
    // Read once the client has closed it (its connection keeps the file locked while open).
    client.shutdown(WAIT).expect("shutdown");
    assert_eq!(inspect(&db).integrity, "ok");
    metric(
        "disk_corrupt_leaf",
        &[
            ("committed_before", "300".into()),
            ("rows_on_page", lost.to_string()),
            ("delivered", delivered_old.to_string()),
            ("recoveries", d.database_recoveries.to_string()),
        ],
    );
}
