//! A stored body is sent only when the SDK can read it: a row whose body no longer parses
//! (a damaged page, a hand edit) cannot be narrowed to a stricter privacy state, so it is
//! dropped and counted (`dropped_invalid`), never sent as it was recorded.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
mod common;
mod reliability;

use app_conversions::{Event, PrivacyState};
use common::*;
use reliability::closed_endpoint;

fn checkout_with_id(id: &str) -> Event {
    Event {
        event_id: Some(id.into()),
        ..checkout("9.99")
    }
}

/// Replaces the stored body of `event_id` in the buffer at `db` (the client is shut down).
fn corrupt_body(db: &std::path::Path, event_id: &str) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let changed = conn
        .execute(
            "UPDATE events SET body = substr(body, 1, length(body) / 2) WHERE event_id = ?1",
            [event_id],
        )
        .unwrap();
    assert_eq!(changed, 1, "the row to corrupt is queued");
}

#[test]
fn an_unreadable_stored_body_is_never_sent_after_privacy_tightened_and_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("buffer.db");
    // Recorded with the advertising id, nothing delivered yet.
    let first = new_client(
        config(&closed_endpoint(), &db),
        app(),
        device(),
        privacy_with_id(GAID),
    )
    .unwrap();
    for id in ["kept-1", "damaged", "kept-2"] {
        first.track(checkout_with_id(id)).unwrap();
    }
    assert_eq!(first.flush(2_000).unwrap().remaining, 3);
    first.shutdown(5_000).unwrap();
    corrupt_body(&db, "damaged");

    // The user opted out since: every body must be narrowed before it is sent.
    let sandbox = sandbox();
    let opted_out = PrivacyState {
        opt_out: true,
        ..privacy_with_id(GAID)
    };
    let second = new_client(config(&sandbox.base_url(), &db), app(), device(), opted_out).unwrap();
    let report = second.flush(10_000).unwrap();
    let diagnostics = second.diagnostics();
    second.shutdown(5_000).unwrap();

    let posted: Vec<String> = sandbox.requests().iter().map(|r| r.body.clone()).collect();
    assert!(
        posted.iter().all(|body| !body.contains("damaged")),
        "the unreadable row was POSTed: {posted:?}"
    );
    let mut accepted = accepted_ids(&sandbox);
    accepted.sort();
    assert_eq!(accepted, ["kept-1", "kept-2"]);
    assert!(sandbox
        .accepted()
        .iter()
        .all(|e| e["opt_out"] == true && e["user_data"].get("hashed_maids").is_none()));
    assert_eq!(report.remaining, 0, "{report:?}");
    assert_eq!(diagnostics.queued, 0);
    assert_eq!(diagnostics.dropped_invalid, 1, "{diagnostics:?}");
    assert_eq!(diagnostics.dead_lettered, 0, "{diagnostics:?}");
}

#[test]
fn an_unreadable_stored_body_is_never_sent_as_recorded_either() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("buffer.db");
    let first = new_client(
        config(&closed_endpoint(), &db),
        app(),
        device(),
        privacy_with_id(GAID),
    )
    .unwrap();
    first.track(checkout_with_id("damaged")).unwrap();
    first.track(checkout_with_id("kept")).unwrap();
    assert_eq!(first.flush(2_000).unwrap().remaining, 2);
    first.shutdown(5_000).unwrap();
    corrupt_body(&db, "damaged");

    let sandbox = sandbox();
    let second = reopen(&sandbox, dir.path(), privacy_with_id(GAID));
    second.flush(10_000).unwrap();
    let diagnostics = second.diagnostics();
    second.shutdown(5_000).unwrap();

    assert!(sandbox
        .requests()
        .iter()
        .all(|r| !r.body.contains("damaged")));
    assert_eq!(accepted_ids(&sandbox), ["kept"]);
    assert_eq!(diagnostics.dropped_invalid, 1, "{diagnostics:?}");
    assert_eq!(diagnostics.queued, 0);
}
