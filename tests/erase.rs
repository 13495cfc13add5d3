//! An erase erases: after `forget()` returns, or after collection was disabled (even if it is
//! enabled again at once), no request carries an erased event, however the upload thread held
//! it (a batch in flight, a batch read ahead, the halves of a split 400), and each event is
//! counted once: delivered or purged, never both.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app_conversions::{ConversionsClient, PrivacyState};
use app_conversions_sandbox::{Fault, Sandbox};
use common::*;

const EVENTS: usize = 20;

/// 20 leads in batches of 5, every answer delayed `delay_ms`, a flush running on another
/// thread; returns once the first request has reached the server.
fn twenty_in_flight(
    sandbox: &Sandbox,
    delay_ms: u64,
) -> (Harness, HashSet<String>, std::thread::JoinHandle<()>) {
    for _ in 0..10 {
        sandbox.inject(Fault::Delay { millis: delay_ms });
    }
    let h = start_with(sandbox, |c| c.max_batch = 5);
    let ids: HashSet<String> = (0..EVENTS)
        .map(|_| h.client.track(checkout("1.00")).unwrap().event_id)
        .collect();
    let client = h.client.clone();
    let flusher = std::thread::spawn(move || {
        let _ = client.flush(10_000);
    });
    let give_up = Instant::now() + Duration::from_secs(10);
    while sandbox.requests().is_empty() {
        assert!(Instant::now() < give_up, "no request reached the server");
        std::thread::sleep(Duration::from_millis(5));
    }
    (h, ids, flusher)
}

/// Requests recorded from index `from` on that carry any of `ids`.
fn erased_sent_after(sandbox: &Sandbox, from: usize, ids: &HashSet<String>) -> Vec<String> {
    sandbox.requests()[from..]
        .iter()
        .flat_map(|r| body_ids(&r.body))
        .filter(|id| ids.contains(id))
        .collect()
}

fn counted_once(client: &Arc<ConversionsClient>) {
    let d = client.diagnostics();
    assert_eq!(
        d.delivered + d.dropped_purged,
        EVENTS as u64,
        "each event counted once: delivered {} + purged {}",
        d.delivered,
        d.dropped_purged
    );
}

#[test]
fn nothing_erased_is_sent_after_forget_returns() {
    let sandbox = sandbox();
    let (h, ids, flusher) = twenty_in_flight(&sandbox, 1500);
    std::thread::sleep(Duration::from_millis(300));
    h.client.forget(2000).unwrap();
    let after_forget = sandbox.requests().len();
    flusher.join().unwrap();
    h.client.flush(5000).unwrap();
    let late = erased_sent_after(&sandbox, after_forget, &ids);
    assert!(
        late.is_empty(),
        "{} erased events were sent after forget() returned",
        late.len()
    );
    counted_once(&h.client);
}

#[test]
fn nothing_purged_is_sent_after_consent_is_withdrawn_and_given_again() {
    let sandbox = sandbox();
    let (h, ids, flusher) = twenty_in_flight(&sandbox, 1500);
    std::thread::sleep(Duration::from_millis(300));
    let withdrawn = PrivacyState {
        collection_enabled: false,
        ..privacy_with_id(GAID)
    };
    h.client.set_privacy(withdrawn).unwrap();
    let after_purge = sandbox.requests().len();
    std::thread::sleep(Duration::from_millis(300));
    h.client.set_privacy(privacy_with_id(GAID)).unwrap();
    flusher.join().unwrap();
    h.client.flush(5000).unwrap();
    let late = erased_sent_after(&sandbox, after_purge, &ids);
    assert!(
        late.is_empty(),
        "{} purged events were sent after consent was withdrawn",
        late.len()
    );
    counted_once(&h.client);
}

#[test]
fn the_halves_of_a_split_batch_are_not_sent_after_forget() {
    let sandbox = sandbox();
    // The batch of five is refused whole: the uploader then holds two halves in memory and
    // sends them one after the other, each answered after a delay.
    sandbox.inject(Fault::Status {
        status: 400,
        retry_after: None,
        body: None,
    });
    sandbox.inject(Fault::Delay { millis: 1500 });
    sandbox.inject(Fault::Delay { millis: 1500 });
    let h = start_with(&sandbox, |c| c.max_batch = 5);
    let ids: HashSet<String> = (0..5)
        .map(|_| h.client.track(checkout("2.00")).unwrap().event_id)
        .collect();
    let client = h.client.clone();
    let flusher = std::thread::spawn(move || {
        let _ = client.flush(10_000);
    });
    let give_up = Instant::now() + Duration::from_secs(10);
    // Erase while the first half is in flight.
    while sandbox.requests().len() < 2 {
        assert!(Instant::now() < give_up, "the batch was not split");
        std::thread::sleep(Duration::from_millis(5));
    }
    h.client.forget(2000).unwrap();
    let after_forget = sandbox.requests().len();
    flusher.join().unwrap();
    h.client.flush(5000).unwrap();
    let late = erased_sent_after(&sandbox, after_forget, &ids);
    assert!(
        late.is_empty(),
        "the second half of a split batch was sent after forget(): {late:?}"
    );
    let d = h.client.diagnostics();
    assert_eq!(
        d.delivered + d.dropped_purged,
        5,
        "each event counted once: delivered {} + purged {}",
        d.delivered,
        d.dropped_purged
    );
}

#[test]
fn forget_does_not_reset_the_custom_name_limit() {
    let sandbox = sandbox();
    let h = start(&sandbox);
    let custom = |name: &str| app_conversions::Event {
        custom_event_name: Some(name.into()),
        ..app_conversions::Event::new(app_conversions::EventName::Custom)
    };
    for i in 0..15 {
        h.client.track(custom(&format!("Step{i}"))).unwrap();
    }
    h.client.forget(2000).unwrap();
    // The names are the app's event names, not the user's data: the limit of 15 per ad
    // account still counts them, or one device could use any number of names.
    let refused = h.client.track(custom("Step15"));
    assert!(
        matches!(refused, Err(app_conversions::ConversionsError::InvalidInput { ref field, .. }) if field == "custom_event_name"),
        "a 16th name after forget(): {refused:?}"
    );
}
