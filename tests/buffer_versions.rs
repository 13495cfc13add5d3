//! Buffers written by other SDK versions. Every committed fixture in `tests/fixtures/buffers/`
//! (one per schema version, `v<N>.db` with the `v<N>.json` that says what it holds) opens with
//! this code and delivers what it queued once, with no second app_install, keeping its dead
//! letter and its backoff; a buffer of a newer schema is refused with an error naming both
//! versions and is left byte for byte as it was.
//!
//! The fixtures are written by [`write_fixture`] below. When a version changes the schema,
//! `this_schema_version_has_a_committed_fixture` fails until its fixture is committed:
//! `UPDATE_BUFFER_FIXTURES=1 cargo test --test buffer_versions` writes it beside the others,
//! which stay (they are what older SDK versions left on devices).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
mod common;
mod reliability;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use app_conversions::{
    ClientConfig, Clock, ConversionsClient, ConversionsError, Event, EventName, ManualClock,
    SystemClock,
};
use app_conversions_sandbox::{Fault, Sandbox, SandboxConfig};
use common::*;
use reliability::closed_endpoint;
use serde_json::{json, Value};

/// The backoff the fixture's server asks for, seconds (below `retry_max_delay_secs`).
const FIXTURE_BACKOFF_SECS: u64 = 1800;
const DEAD_LETTER_ID: &str = "fixture-dead-letter";

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/buffers")
}

/// `PRAGMA user_version` of a database file, read from its header (bytes 60..64) without
/// opening it in SQLite.
fn schema_version_of(db: &Path) -> u32 {
    let bytes = std::fs::read(db).unwrap();
    assert!(bytes.starts_with(b"SQLite format 3\0"), "{}", db.display());
    u32::from_be_bytes(bytes[60..64].try_into().unwrap())
}

fn client_with_clock(
    endpoint: &str,
    db: &Path,
    clock: &Arc<ManualClock>,
) -> Arc<ConversionsClient> {
    let clock: Arc<dyn Clock> = clock.clone();
    let cfg = ClientConfig {
        retry_max_delay_secs: 3600,
        ..config(endpoint, db)
    };
    ConversionsClient::with_clock(cfg, app(), device(), privacy_with_id(GAID), clock).unwrap()
}

/// A sandbox that accepts the fixture's event times, however long ago it was written, and does
/// not tell its own time (the client's clock is the fixture's).
fn timeless_sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        max_event_age_secs: 100 * 365 * 86_400,
        future_tolerance_secs: 100 * 365 * 86_400,
        ..lenient_sandbox_config()
    })
    .unwrap()
}

/// Writes the fixture of this SDK version into `dir` (`buffer.db`) and returns what it holds:
/// one dead letter (a custom event name the API does not know), then the install record and
/// its app_install with three checkouts, queued behind a 503 that asked for
/// [`FIXTURE_BACKOFF_SECS`]. The client is shut down normally.
fn write_fixture(dir: &Path) -> Value {
    let db = dir.join("buffer.db");
    let sandbox = timeless_sandbox();
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let client = client_with_clock(&sandbox.base_url(), &db, &clock);
    client
        .track(Event {
            custom_event_name: Some("not_known_at_the_api".into()),
            event_id: Some(DEAD_LETTER_ID.into()),
            ..checkout_event(EventName::Custom)
        })
        .unwrap();
    client.flush(10_000).unwrap();
    assert_eq!(client.diagnostics().dead_lettered, 1);

    sandbox.inject(Fault::Status {
        status: 503,
        retry_after: Some(FIXTURE_BACKOFF_SECS.to_string()),
        body: None,
    });
    client.on_launch().unwrap();
    for i in 1..=3 {
        client
            .track(Event {
                event_id: Some(format!("fixture-queued-{i}")),
                ..checkout_event(EventName::Checkout)
            })
            .unwrap();
    }
    settle(&client);
    let d = client.diagnostics();
    assert_eq!(
        (d.queued, d.dead_lettered, d.last_status),
        (4, 1, Some(503))
    );
    let next_attempt_time = d.next_attempt_time.expect("a stored backoff");
    let written_at_ms = clock.now_ms();
    client.shutdown(10_000).unwrap();

    // What it holds, read from a copy (the fixture itself is never opened by SQLite again).
    let copy = dir.join("copy.db");
    std::fs::copy(&db, &copy).unwrap();
    let conn = rusqlite::Connection::open(&copy).unwrap();
    let queued: Vec<(String, String)> = conn
        .prepare("SELECT event_id, event_name FROM events ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    drop(conn);
    std::fs::remove_file(&copy).unwrap();
    let install: Vec<&String> = queued
        .iter()
        .filter(|(_, name)| name == "app_install")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(install.len(), 1, "{queued:?}");
    json!({
        "schema_version": schema_version_of(&db),
        "sdk_version": env!("CARGO_PKG_VERSION"),
        "written_at_ms": written_at_ms,
        "next_attempt_time": next_attempt_time,
        "queued_event_ids": queued.iter().map(|(id, _)| id).collect::<Vec<_>>(),
        "app_install_event_id": install[0],
        "dead_letter_event_ids": [DEAD_LETTER_ID],
        "recipe": "tests/buffer_versions.rs write_fixture",
    })
}

fn checkout_event(name: EventName) -> Event {
    Event {
        name,
        ..checkout("12.50")
    }
}

#[test]
fn this_schema_version_has_a_committed_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_fixture(dir.path());
    let version = manifest["schema_version"].as_u64().unwrap();
    let db = fixtures_dir().join(format!("v{version}.db"));
    if std::env::var("UPDATE_BUFFER_FIXTURES").is_ok_and(|v| v == "1") && !db.exists() {
        std::fs::create_dir_all(fixtures_dir()).unwrap();
        std::fs::copy(dir.path().join("buffer.db"), &db).unwrap();
        let text = serde_json::to_string_pretty(&manifest).unwrap() + "\n";
        std::fs::write(db.with_extension("json"), text).unwrap();
    }
    assert!(
        db.exists() && db.with_extension("json").exists(),
        "no committed buffer of schema version {version}: run \
         UPDATE_BUFFER_FIXTURES=1 cargo test --test buffer_versions and commit {}",
        db.display()
    );
}

/// The committed fixtures, oldest schema first.
fn committed_fixtures() -> Vec<(PathBuf, Value)> {
    let mut fixtures: Vec<(PathBuf, Value)> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "db"))
        .map(|db| {
            let text = std::fs::read_to_string(db.with_extension("json")).unwrap();
            (db, serde_json::from_str(&text).unwrap())
        })
        .collect();
    fixtures.sort_by_key(|(_, manifest)| manifest["schema_version"].as_u64());
    fixtures
}

fn texts(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn app_installs(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .accepted()
        .iter()
        .filter(|e| e["event_name"] == "app_install")
        .map(|e| e["event_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_committed_buffer_delivers_its_events_once_with_one_app_install() {
    let fixtures = committed_fixtures();
    assert!(!fixtures.is_empty(), "no fixture in tests/fixtures/buffers");
    for (fixture, manifest) in fixtures {
        let name = fixture.display().to_string();
        assert_eq!(
            schema_version_of(&fixture),
            manifest["schema_version"].as_u64().unwrap() as u32,
            "{name}"
        );
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("buffer.db");
        std::fs::copy(&fixture, &db).unwrap();
        let queued = texts(&manifest["queued_event_ids"]);
        let dead = texts(&manifest["dead_letter_event_ids"]);
        let backoff_until = manifest["next_attempt_time"].as_i64().unwrap();

        // The app starts again a few seconds after the fixture was written.
        let sandbox = timeless_sandbox();
        let clock = Arc::new(ManualClock::new(
            manifest["written_at_ms"].as_i64().unwrap() + 5_000,
        ));
        let client = client_with_clock(&sandbox.base_url(), &db, &clock);
        client.on_launch().unwrap();
        settle(&client);
        let d = client.diagnostics();
        assert_eq!(d.dead_lettered, dead.len() as u64, "{name}: {d:?}");
        let dead_ids: Vec<&str> = d
            .recent_dead_letters
            .iter()
            .map(|l| l.event_id.as_str())
            .collect();
        assert_eq!(dead_ids, dead, "{name}");
        assert!(d.queued >= queued.len() as u64, "{name}: {d:?}");
        assert_eq!(
            d.next_attempt_time,
            Some(backoff_until),
            "{name}: the stored backoff holds"
        );

        // Nothing goes out before the backoff ends; everything does after it.
        let wait_ms = (backoff_until * 1000 - clock.now_ms() - 2_000).max(0);
        clock.advance(Duration::from_millis(wait_ms as u64));
        settle(&client);
        assert!(sandbox.requests().is_empty(), "{name}: sent during backoff");
        clock.advance(Duration::from_secs(3));
        settle(&client);
        assert_eq!(client.diagnostics().queued, 0, "{name}");
        client.shutdown(10_000).unwrap();

        // A second start sends nothing again and records no install.
        let client = client_with_clock(&sandbox.base_url(), &db, &clock);
        client.on_launch().unwrap();
        settle(&client);
        clock.advance(Duration::from_secs(60));
        settle(&client);
        let d = client.diagnostics();
        client.shutdown(10_000).unwrap();

        let mut arrivals: HashMap<String, usize> = HashMap::new();
        for id in accepted_ids(&sandbox) {
            *arrivals.entry(id).or_default() += 1;
        }
        for id in &queued {
            assert_eq!(arrivals.get(id), Some(&1), "{name}: {id} delivered once");
        }
        for id in &dead {
            assert_eq!(arrivals.get(id), None, "{name}: a dead letter is not sent");
        }
        assert_eq!(
            app_installs(&sandbox),
            [manifest["app_install_event_id"].as_str().unwrap()],
            "{name}: one app_install, the one the buffer queued"
        );
        assert_eq!(
            (d.queued, d.dead_lettered, d.worker_panics),
            (0, dead.len() as u64, 0),
            "{name}"
        );
    }
}

/// A buffer this version wrote, then marked as written by a later schema (`journal_mode` as
/// that version might have left it).
fn newer_buffer(dir: &Path, journal_mode: &str) -> (PathBuf, u32) {
    let db = dir.join("buffer.db");
    let client = new_client(
        config(&closed_endpoint(), &db),
        app(),
        device(),
        privacy_with_id(GAID),
    )
    .unwrap();
    client.track(checkout("1.00")).unwrap();
    client.flush(2_000).unwrap();
    client.shutdown(5_000).unwrap();
    let supported = schema_version_of(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mode: String = conn
        .query_row(&format!("PRAGMA journal_mode = {journal_mode}"), [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(mode, journal_mode.to_lowercase());
    conn.pragma_update(None, "user_version", supported + 3)
        .unwrap();
    drop(conn);
    for suffix in ["-wal", "-shm"] {
        assert!(!dir.join(format!("buffer.db{suffix}")).exists());
    }
    (db, supported)
}

#[test]
fn a_buffer_of_a_newer_schema_is_refused_and_never_rewritten() {
    for journal_mode in ["WAL", "DELETE"] {
        let dir = tempfile::tempdir().unwrap();
        let (db, supported) = newer_buffer(dir.path(), journal_mode);
        let found = supported + 3;
        let bytes = std::fs::read(&db).unwrap();
        let modified = std::fs::metadata(&db).unwrap().modified().unwrap();

        let client = new_client(
            config(&closed_endpoint(), &db),
            app(),
            device(),
            privacy_with_id(GAID),
        )
        .unwrap();
        client.track(checkout("2.00")).unwrap();
        let message = match client.flush(5_000) {
            Err(ConversionsError::Storage { message }) => message,
            other => panic!("{journal_mode}: a newer buffer must be refused: {other:?}"),
        };
        for version in [found, supported] {
            assert!(
                message.contains(&format!("{version}")),
                "{journal_mode}: the error names schema versions {found} and {supported}: \
                 {message}"
            );
        }
        assert!(message.contains("newer"), "{message}");
        assert_eq!(
            client.diagnostics().storage_error.as_deref(),
            Some(message.as_str())
        );
        // What was tracked could not be stored; shutdown may say so. The file is the point.
        let _ = client.shutdown(5_000);

        assert!(
            std::fs::read(&db).unwrap() == bytes,
            "{journal_mode}: the newer buffer was rewritten"
        );
        assert_eq!(
            std::fs::metadata(&db).unwrap().modified().unwrap(),
            modified,
            "{journal_mode}: the newer buffer's mtime changed"
        );
        for suffix in ["-wal", "-shm"] {
            let side = dir.path().join(format!("buffer.db{suffix}"));
            assert!(!side.exists(), "{journal_mode}: {} created", side.display());
        }
    }
}
