//! A file is the file: the client notices when its database is moved or deleted under it and
//! keeps what was queued; it keeps no shared-memory index that a full or read-only file system
//! could turn into a SIGBUS; and a buffer recreated after a loss gets the install record back,
//! so an SDK version that reads only the database does not record a second app_install.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
mod common;
mod reliability;

use app_conversions::{ConversionsClient, ConversionsError};
use common::*;
use reliability::{closed_endpoint, lead};

fn client_at(endpoint: &str, db: &std::path::Path) -> std::sync::Arc<ConversionsClient> {
    ConversionsClient::new(config(endpoint, db), app(), device(), privacy_with_id(GAID)).unwrap()
}

#[test]
fn no_shared_memory_file_is_kept_beside_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("buffer.db");
    let client = client_at(&closed_endpoint(), &db);
    client.track(lead("a")).unwrap();
    client.flush(2_000).unwrap();
    // The WAL index lives in the process's heap (EXCLUSIVE locking mode): no -shm file to map,
    // so a file system that stops taking writes cannot fault a mapped page (SIGBUS).
    assert!(
        !dir.path().join("buffer.db-shm").exists(),
        "a -shm file is mapped while the client runs"
    );
    client.shutdown(5_000).unwrap();
}

#[test]
fn a_database_moved_away_is_a_storage_fault_and_nothing_queued_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("buffer.db");
    let client = client_at(&closed_endpoint(), &db);
    for i in 0..20 {
        client.track(lead(&format!("before-{i}"))).unwrap();
    }
    assert_eq!(client.flush(2_000).unwrap().remaining, 20);
    std::fs::rename(&db, dir.path().join("elsewhere.db")).unwrap();
    for i in 0..5 {
        client.track(lead(&format!("after-{i}"))).unwrap();
    }
    match client.flush(2_000) {
        Err(ConversionsError::Storage { message }) => {
            assert!(message.contains("moved"), "{message}")
        }
        other => panic!("a flush after the file moved must report it: {other:?}"),
    }
    // Reopened at its path with everything that was queued.
    let report = client.flush(2_000).unwrap();
    assert_eq!(report.remaining, 25, "{report:?}");
    assert!(client.diagnostics().storage_error.is_none());
    client.shutdown(5_000).unwrap();
    let next = client_at(&closed_endpoint(), &db);
    assert_eq!(next.diagnostics().queued, 25);
    next.shutdown(5_000).unwrap();
}

#[test]
fn a_recreated_buffer_gets_the_install_record_back() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("buffer.db");
    let first = client_at(&sandbox.base_url(), &db);
    first.on_launch().unwrap();
    first.flush(10_000).unwrap();
    first.shutdown(5_000).unwrap();
    let install_id = |path: &std::path::Path| -> Option<String> {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.query_row("SELECT install_id FROM install WHERE id = 1", [], |r| {
            r.get(0)
        })
        .ok()
    };
    let recorded = install_id(&db).expect("the install is recorded in the database");
    // The buffer is lost (cleared storage, a restore without it); the sidecar stays.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let second = client_at(&sandbox.base_url(), &db);
    second.on_launch().unwrap();
    second.flush(10_000).unwrap();
    second.shutdown(5_000).unwrap();
    assert_eq!(
        install_id(&db).as_deref(),
        Some(recorded.as_str()),
        "the recreated database holds the same install record"
    );
    let installs = sandbox
        .accepted()
        .iter()
        .filter(|e| e["event_name"] == "app_install")
        .count();
    assert_eq!(installs, 1);
}
