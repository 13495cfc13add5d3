//! The buffer's rules, against real SQLite files in a temporary folder.
use super::*;
use crate::core::record::{PendingEvent, QueuedEvent, Resolution};

fn pending(id: &str, name: &str) -> PendingEvent {
    PendingEvent {
        event_id: id.into(),
        chosen_id: true,
        event_name: name.into(),
        event_time: 1_000,
        body: format!("{{\"event_id\":\"{id}\"}}"),
        has_email: false,
        has_advertising_id: false,
        has_ip_and_user_agent: false,
        opted_out: false,
        limited_data_processing: false,
        user_data_withheld: false,
        custom_name: None,
    }
}

fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("buffer.db"), 1_000).unwrap().0
}

fn ids(store: &Store) -> Vec<String> {
    store
        .due_events(i64::MAX, 0, 100)
        .unwrap()
        .into_iter()
        .map(|e| e.event_id)
        .collect()
}

#[test]
fn evicts_oldest_but_never_a_pending_install() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    store
        .insert(
            &[pending("install", "app_install"), pending("a", "lead")],
            "1",
            2,
            1_000,
        )
        .unwrap();
    let report = store
        .insert(&[pending("b", "lead"), pending("c", "lead")], "1", 2, 1_000)
        .unwrap();
    assert_eq!(report.evicted, 2);
    assert_eq!(ids(&store), ["install", "c"]);
    assert_eq!(store.queued(), 2);
    assert_eq!(store.counter(Counter::DroppedEvicted).unwrap(), 2);
}

#[test]
fn duplicate_ids_are_dropped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let report = store
        .insert(
            &[pending("a", "lead"), pending("a", "lead")],
            "1",
            10,
            1_000,
        )
        .unwrap();
    assert_eq!((report.inserted, report.invalid), (1, 1));
    assert_eq!(store.counter(Counter::DroppedInvalid).unwrap(), 1);
}

#[test]
fn generated_ids_skip_the_uniqueness_check_but_chosen_ids_keep_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let mut generated = pending("g", "lead");
    generated.chosen_id = false;
    let report = store
        .insert(
            &[
                generated.clone(),
                pending("g", "lead"),
                pending("g", "lead"),
            ],
            "1",
            10,
            1_000,
        )
        .unwrap();
    // The generated row is not in the unique index; of the two chosen copies one is kept.
    assert_eq!((report.inserted, report.invalid), (2, 1));
}

#[test]
fn a_version_1_buffer_is_migrated_and_keeps_its_events_unique() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("buffer.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO events (event_id, event_name, body, event_time, created_at, flags)
             VALUES ('v1', 'lead', '{}', 1000, 1000, 0)",
            [],
        )
        .unwrap();
    }
    let (mut store, _) = Store::open(&path, 1_000).unwrap();
    assert_eq!(store.queued(), 1);
    let version: u32 = store
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, schema::SCHEMA_VERSION);
    let report = store
        .insert(&[pending("v1", "lead")], "1", 10, 1_000)
        .unwrap();
    assert_eq!(report.inserted, 0, "a v1 row keeps its id unique");
    assert_eq!(ids(&store), ["v1"]);
}

#[test]
fn expired_events_are_dropped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let mut old = pending("old", "lead");
    old.event_time = 10;
    store
        .insert(&[old, pending("new", "lead")], "1", 10, 1_000)
        .unwrap();
    assert_eq!(store.drop_expired(1_000, 500).unwrap(), 1);
    assert_eq!(ids(&store), ["new"]);
    assert_eq!(store.counter(Counter::DroppedExpired).unwrap(), 1);
}

#[test]
fn resolution_deletes_dead_letters_and_reschedules() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let events: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|id| pending(id, "lead"))
        .collect();
    store.insert(&events, "1", 10, 1_000).unwrap();
    let rows: Vec<i64> = store
        .due_events(0, 0, 10)
        .unwrap()
        .iter()
        .map(|e| e.row)
        .collect();
    store
        .resolve(
            &Resolution {
                delivered: vec![rows[0]],
                dead: vec![(rows[1], "bad".into())],
                retry: vec![rows[2]],
                retry_at_ms: 5_000,
                ..Default::default()
            },
            1_000,
        )
        .unwrap();
    assert_eq!(store.queued(), 1);
    assert_eq!(store.next_retry_at(1_000).unwrap(), Some(5_000));
    assert_eq!(
        store.next_retry_at(5_000).unwrap(),
        None,
        "only retries still ahead"
    );
    assert!(
        store.due_events(4_999, 0, 10).unwrap().is_empty(),
        "not due before its retry time"
    );
    let retried = store.due_events(5_000, 0, 10).unwrap();
    assert_eq!(
        (retried[0].event_id.as_str(), retried[0].attempts),
        ("c", 1)
    );
    let dead = store.recent_dead_letters(5).unwrap();
    assert_eq!(
        (dead[0].event_id.as_str(), dead[0].error_message.as_str()),
        ("b", "bad")
    );
    assert_eq!(store.counter(Counter::Delivered).unwrap(), 1);
}

#[test]
fn the_next_retry_is_read_from_the_retry_index_not_a_scan_of_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let plan: Vec<String> = store
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {}", queue::NEXT_RETRY_SQL))
        .unwrap()
        .query_map([0], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        plan.iter().any(|step| step.contains("events_retry")),
        "plan: {plan:?}"
    );
}

#[test]
fn a_batch_taken_after_a_row_skips_the_batch_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let events: Vec<_> = (0..5).map(|i| pending(&format!("e{i}"), "lead")).collect();
    store.insert(&events, "1", 10, 1_000).unwrap();
    let first = store.due_events(0, 0, 2).unwrap();
    let next = store.due_events(0, first[1].row, 2).unwrap();
    let ids = |batch: &[QueuedEvent]| -> Vec<String> {
        batch.iter().map(|e| e.event_id.clone()).collect()
    };
    assert_eq!(ids(&first), ["e0", "e1"]);
    assert_eq!(ids(&next), ["e2", "e3"], "the next two, oldest first");
}

#[test]
fn dead_letters_keep_the_newest_thousand() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let events: Vec<_> = (0..1005)
        .map(|i| pending(&format!("e{i}"), "lead"))
        .collect();
    store.insert(&events, "1", 2000, 1_000).unwrap();
    let dead = store
        .due_events(0, 0, 2000)
        .unwrap()
        .iter()
        .map(|e| (e.row, "refused".to_string()))
        .collect();
    store
        .resolve(
            &Resolution {
                dead,
                ..Default::default()
            },
            1_000,
        )
        .unwrap();
    assert_eq!(store.dead_letter_count().unwrap(), 1000);
    assert_eq!(store.recent_dead_letters(1).unwrap()[0].event_id, "e1004");
    store.clear_dead_letters().unwrap();
    assert_eq!(store.dead_letter_count().unwrap(), 0);
}

#[test]
fn custom_names_are_remembered_per_ad_account_and_never_refused_here() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let named = |i: usize, account_name: &str| {
        let mut e = pending(&format!("{account_name}{i}"), "Custom");
        e.custom_name = Some(format!("name{i}"));
        e
    };
    // track() enforces the 15-name limit; what it accepted is stored, even a 16th name.
    let events: Vec<_> = (0..16).map(|i| named(i, "x")).collect();
    let report = store.insert(&events, "1", 100, 1_000).unwrap();
    assert_eq!((report.inserted, report.invalid), (16, 0));
    assert_eq!(store.custom_names("1").unwrap().len(), 16);
    let again = store.insert(&[named(3, "y")], "1", 100, 1_000).unwrap();
    assert_eq!(again.inserted, 1);
    assert_eq!(store.custom_names("1").unwrap().len(), 16);
    store.insert(&[named(15, "z")], "2", 100, 1_000).unwrap();
    assert_eq!(
        store.custom_names("2").unwrap(),
        ["name15"],
        "per ad account"
    );
}

#[test]
fn a_row_too_big_to_store_is_dead_lettered_alone_and_the_rest_commit() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    // SQLite's own limit is 1e9 bytes; lowered here so a poison row fits in a test.
    // SAFETY: the handle is the open connection's, used on this thread only.
    unsafe {
        rusqlite::ffi::sqlite3_limit(
            store.conn.handle(),
            rusqlite::ffi::SQLITE_LIMIT_LENGTH,
            10_000,
        );
    }
    let mut poison = pending("poison", "lead");
    poison.body = format!(
        "{{\"event_id\":\"poison\",\"x\":\"{}\"}}",
        "\\u0000".repeat(5_000)
    );
    let report = store
        .insert(
            &[pending("a", "lead"), poison, pending("b", "lead")],
            "1",
            100,
            1_000,
        )
        .expect("one poison row does not fail the commit");
    assert_eq!(report.inserted, 2);
    assert_eq!(report.too_big, ["poison"]);
    assert_eq!(ids(&store), ["a", "b"]);
    assert_eq!(store.queued(), 2);
    let dead = store.recent_dead_letters(5).unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].event_id, "poison");
    assert!(dead[0].error_message.contains("too big"), "{dead:?}");
    let later = store
        .insert(&[pending("c", "lead")], "1", 100, 1_000)
        .unwrap();
    assert_eq!(later.inserted, 1, "later commits are not blocked");
}

#[test]
fn a_corrupt_file_is_moved_aside_and_recreated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("buffer.db");
    std::fs::write(&path, vec![0xA5u8; 8192]).unwrap();
    let (mut store, report) = Store::open(&path, 77).unwrap();
    let aside = report.moved_aside.expect("moved aside");
    assert_eq!(aside, dir.path().join("buffer.db.corrupt-77"));
    assert!(aside.exists());
    store
        .insert(&[pending("a", "lead")], "1", 10, 1_000)
        .unwrap();
    assert_eq!(ids(&store), ["a"]);
}

#[test]
fn a_folder_in_place_of_the_file_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("buffer.db");
    std::fs::create_dir(&path).unwrap();
    assert!(Store::open(&path, 1).is_err());
}

#[test]
fn install_record_survives_forget_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("buffer.db");
    {
        let mut store = Store::open(&path, 1).unwrap().0;
        let record = InstallRecord {
            install_id: "i-1".into(),
            existing_user: false,
        };
        store
            .record_install(
                &record,
                Some(&pending("app_install-i-1", "app_install")),
                1_000,
            )
            .unwrap();
        store
            .insert(&[pending("a", "lead")], "1", 10, 1_000)
            .unwrap();
        assert_eq!(store.forget().unwrap(), 2);
        assert_eq!(store.queued(), 0);
    }
    let store = Store::open(&path, 1).unwrap().0;
    assert_eq!(store.install_record().unwrap().unwrap().install_id, "i-1");
    assert!(ids(&store).is_empty());
}

#[test]
fn backoff_deadline_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("buffer.db");
    Store::open(&path, 1)
        .unwrap()
        .0
        .set_not_before(123_456)
        .unwrap();
    assert_eq!(
        Store::open(&path, 1).unwrap().0.not_before().unwrap(),
        123_456
    );
}

#[test]
fn a_backlog_larger_than_the_capacity_evicts_before_it_inserts() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let old: Vec<_> = (0..3)
        .map(|i| pending(&format!("old{i}"), "lead"))
        .collect();
    store.insert(&old, "1", 3, 1_000).unwrap();
    let backlog: Vec<_> = (0..10)
        .map(|i| pending(&format!("new{i}"), "lead"))
        .collect();
    let report = store.insert(&backlog, "1", 3, 1_000).unwrap();
    assert_eq!((report.inserted, report.evicted), (3, 10));
    assert_eq!(ids(&store), ["new7", "new8", "new9"]);
    assert_eq!(store.queued(), 3);
    assert_eq!(store.counter(Counter::DroppedEvicted).unwrap(), 10);
}

#[test]
fn a_recovery_copies_what_the_moved_file_still_holds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("buffer.db");
    let (mut store, _) = Store::open(&path, 1).unwrap();
    let events: Vec<_> = (0..300)
        .map(|i| pending(&format!("e{i}"), "lead"))
        .collect();
    store.insert(&events, "1", 1_000, 1_000).unwrap();
    store.add(Counter::Delivered, 7).unwrap();
    let last = store.last_row();
    drop(store);
    let (store, report) = Store::recover(&path, 2).unwrap();
    assert_eq!(report.salvaged, 300, "readable rows are all copied");
    assert_eq!(store.queued(), 300);
    assert_eq!(store.last_row(), last, "with their row ids");
    assert_eq!(
        store.counter(Counter::Delivered).unwrap(),
        7,
        "counters too"
    );
    assert!(
        dir.path().join("buffer.db.corrupt-2").exists(),
        "the file is kept"
    );
    drop(store);
    let (_, again) = Store::recover(&path, 2).unwrap();
    assert_eq!(
        again.moved_aside,
        Some(dir.path().join("buffer.db.corrupt-2-2")),
        "an earlier file moved aside is never overwritten"
    );
}

#[test]
fn an_outcome_for_rows_erased_meanwhile_counts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    store
        .insert(
            &[pending("a", "lead"), pending("b", "lead")],
            "1",
            10,
            1_000,
        )
        .unwrap();
    let rows: Vec<i64> = store
        .due_events(i64::MAX, 0, 10)
        .unwrap()
        .iter()
        .map(|e| e.row)
        .collect();
    assert_eq!(store.purge_queue().unwrap(), 2);
    // The server's answer for the request in flight during the purge arrives now.
    let outcome = Resolution {
        delivered: rows,
        warnings: 1,
        ..Default::default()
    };
    store.resolve(&outcome, 1_000).unwrap();
    assert_eq!(store.counter(Counter::DroppedPurged).unwrap(), 2);
    assert_eq!(
        store.counter(Counter::Delivered).unwrap(),
        0,
        "counted once"
    );
    assert_eq!(store.counter(Counter::Warnings).unwrap(), 0);
}
