//! Shutdown ends the client, whatever the network does: with a request in flight that will not
//! come back for a long time, `shutdown` returns within its timeout, answers a waiting flush,
//! releases the file (a new client opens it at once) and the abandoned request changes
//! nothing. Dropping a client releases its file before the drop returns. After shutdown every
//! call fails with `ShutDown`, a second `shutdown` says what is true, and `diagnostics` shows
//! the last state rather than zeros.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
mod common;

use std::time::{Duration, Instant};

use app_conversions::{ConversionsClient, ConversionsError, EventName, PrivacyState};
use app_conversions_sandbox::Fault;
use common::*;

#[test]
fn shutdown_with_a_request_in_flight_returns_in_time_and_releases_the_file() {
    let sandbox = sandbox();
    // Answered after 8 s, within the 30 s request timeout: the request is simply slow.
    sandbox.inject(Fault::Delay { millis: 8000 });
    let h = start_with(&sandbox, |c| c.request_timeout_secs = 30);
    let id = h.client.track(checkout("1.00")).unwrap().event_id;
    let client = h.client.clone();
    let flusher = std::thread::spawn(move || {
        let started = Instant::now();
        let report = client.flush(20_000);
        (started.elapsed(), report)
    });
    let give_up = Instant::now() + Duration::from_secs(10);
    while sandbox.requests().is_empty() {
        assert!(Instant::now() < give_up, "no request reached the server");
        std::thread::sleep(Duration::from_millis(5));
    }
    let started = Instant::now();
    let result = h.client.shutdown(1000);
    let took = started.elapsed();
    assert!(result.is_ok(), "shutdown: {result:?}");
    assert!(took < Duration::from_millis(1500), "shutdown took {took:?}");
    let (waited, _) = flusher.join().unwrap();
    assert!(
        waited < Duration::from_millis(2500),
        "a waiting flush is answered by shutdown, not by the request: {waited:?}"
    );
    // The file is free at once, and still holds the event (its outcome never came).
    let again = reopen(&sandbox, h.dir.path(), privacy_with_id(GAID));
    let report = again.flush(10_000).unwrap();
    assert_eq!(report.remaining, 0);
    assert!(sandbox.times_accepted(&id) >= 1);
    assert!(matches!(h.client.shutdown(0), Ok(())));
    again.shutdown(5000).unwrap();
}

#[test]
fn a_dropped_client_releases_its_file_before_the_drop_returns() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let mut in_use = 0;
    for _ in 0..100 {
        let client = reopen(&sandbox, dir.path(), privacy_with_id(GAID));
        client.track(checkout("1.00")).unwrap();
        drop(client);
        match ConversionsClient::new(
            config(&sandbox.base_url(), &dir.path().join("buffer.db")),
            app(),
            device(),
            privacy_with_id(GAID),
        ) {
            Ok(next) => drop(next),
            Err(ConversionsError::DatabaseInUse { .. }) => in_use += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(in_use, 0, "DatabaseInUse right after a drop, of 100 cycles");
}

#[test]
fn every_call_after_shutdown_fails_with_shut_down() {
    let sandbox = sandbox();
    let h = start_with(&sandbox, |c| c.endpoint = "http://127.0.0.1:9".into());
    for _ in 0..3 {
        h.client.track(checkout("1.00")).unwrap();
    }
    h.client.shutdown(5000).unwrap();
    let c = &h.client;
    let shut = |r: Result<(), ConversionsError>, call: &str| {
        assert!(
            matches!(r, Err(ConversionsError::ShutDown)),
            "{call} after shutdown: {r:?}"
        );
    };
    shut(c.track(event(EventName::Lead)).map(drop), "track");
    shut(c.set_token("new-token".into()), "set_token");
    shut(c.update_device(device()), "update_device");
    shut(c.set_privacy(privacy_with_id(GAID)), "set_privacy");
    let disabled = PrivacyState {
        collection_enabled: false,
        ..Default::default()
    };
    shut(c.set_privacy(disabled), "set_privacy (disabled)");
    shut(c.on_launch(), "on_launch");
    shut(c.on_foreground(), "on_foreground");
    shut(c.on_background(), "on_background");
    shut(c.on_network_available(), "on_network_available");
    shut(c.flush(100).map(drop), "flush");
    shut(c.forget(100), "forget");
    shut(c.clear_dead_letters(100), "clear_dead_letters");
    // A second shutdown: everything is closed, so it is done.
    assert!(matches!(c.shutdown(100), Ok(())));
    // The last state, not zeros.
    assert_eq!(c.diagnostics().queued, 3);
}
