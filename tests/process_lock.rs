//! One client per database file across processes: while a child process holds a client on a
//! file, a client on that file in this process is refused with `DatabaseInUse`; once the child
//! is killed with SIGKILL (no clean-up of any kind), the next client opens the file at once and
//! delivers what the killed one had queued. An Android app whose `Application.onCreate` runs in
//! several processes relies on this for a single uploader.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
mod common;
mod reliability;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use app_conversions::{ConversionsClient, ConversionsError};
use common::{accepted_ids, app, config, device, privacy_with_id, sandbox, GAID};
use reliability::{child, child_role, closed_endpoint, env, lead};

const TEST: &str = "a_second_process_is_refused_until_the_holder_is_killed";
/// The holder ends by itself after this long if the parent never kills it.
const HOLDER_LIFETIME: Duration = Duration::from_secs(30);

#[test]
fn a_second_process_is_refused_until_the_holder_is_killed() {
    if child_role().as_deref() == Some("hold") {
        return hold();
    }
    let sandbox = sandbox();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("buffer.db");

    let mut holder = child(TEST, "hold")
        .env("LOCK_DB", &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the holder");
    let stdout = holder.stdout.take().expect("holder stdout");
    let ready = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains("HOLDING"));
    assert!(ready, "the holder did not report holding the database");

    let refused = ConversionsClient::new(
        config(&sandbox.base_url(), &db),
        app(),
        device(),
        privacy_with_id(GAID),
    );
    match refused {
        Err(ConversionsError::DatabaseInUse { path }) => assert_eq!(path, db.to_string_lossy()),
        Err(other) => panic!("expected DatabaseInUse, got {other:?}"),
        Ok(_) => panic!("a second process opened a database another process uses"),
    }

    holder.kill().expect("SIGKILL the holder");
    holder.wait().expect("reap the holder");

    let started = Instant::now();
    let next = ConversionsClient::new(
        config(&sandbox.base_url(), &db),
        app(),
        device(),
        privacy_with_id(GAID),
    )
    .expect("the lock of a killed process is free");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "opening waited for the lock"
    );
    let report = next.flush(10_000).expect("flush");
    assert_eq!(report.remaining, 0, "{report:?}");
    assert_eq!(accepted_ids(&sandbox), vec!["held-1".to_string()]);
    next.shutdown(5_000).expect("shutdown");
}

/// The child: holds a client on the file with one event queued (its endpoint refuses every
/// connection), says so, and waits to be killed.
fn hold() {
    let db = std::path::PathBuf::from(env("LOCK_DB"));
    let client = ConversionsClient::new(
        config(&closed_endpoint(), &db),
        app(),
        device(),
        privacy_with_id(GAID),
    )
    .expect("the holder opens the database");
    client.track(lead("held-1")).expect("track");
    // Committed, not delivered: the endpoint refuses connections.
    let report = client.flush(2_000).expect("flush");
    assert_eq!(report.remaining, 1, "{report:?}");
    println!("HOLDING");
    std::thread::sleep(HOLDER_LIFETIME);
}

const DELETED: &str = "a_deleted_lock_file_does_not_let_a_second_process_in";

/// Someone deletes `<db>.lock` while a process holds it: a second process must still be
/// refused (the database file itself is locked by the holder's connection).
#[test]
fn a_deleted_lock_file_does_not_let_a_second_process_in() {
    if child_role().as_deref() == Some("hold") {
        return hold();
    }
    let sandbox = sandbox();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("buffer.db");
    let mut holder = child(DELETED, "hold")
        .env("LOCK_DB", &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the holder");
    let stdout = holder.stdout.take().expect("holder stdout");
    let ready = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains("HOLDING"));
    assert!(ready, "the holder did not report holding the database");
    std::fs::remove_file(app_conversions_lock_path(&db)).expect("delete the lock file");
    let second = ConversionsClient::new(
        config(&sandbox.base_url(), &db),
        app(),
        device(),
        privacy_with_id(GAID),
    );
    holder.kill().expect("SIGKILL the holder");
    holder.wait().expect("reap the holder");
    match second {
        Err(ConversionsError::DatabaseInUse { .. }) => {}
        Err(other) => panic!("expected DatabaseInUse, got {other:?}"),
        Ok(_) => panic!("a second process opened a database another process uses"),
    }
}

fn app_conversions_lock_path(db: &std::path::Path) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    name.into()
}
