//! Launches as real apps reach them: a consent dialog at first launch, consent given after a
//! restart or a day later, withdrawn and given again, a buffer lost to a recovery, and the
//! lifecycle events the app may not track itself. Exactly one app_install per install, in
//! every order; time comes from a manual clock.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use app_conversions::{
    Clock, ConversionsClient, ConversionsError, EventName, ManualClock, PrivacyState,
};
use app_conversions_sandbox::Sandbox;
use common::*;

const SETTLE_MS: u64 = 10_000;
const WAIT_MS: u64 = 10_000;
const HOUR: Duration = Duration::from_secs(3600);

/// A phone whose app was installed at the clock's start.
struct Phone {
    sandbox: Sandbox,
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
    installed_at: i64,
}

impl Phone {
    fn new() -> Phone {
        let clock = Arc::new(ManualClock::new(app_conversions::SystemClock.now_ms()));
        Phone {
            sandbox: lenient_sandbox(),
            dir: tempfile::tempdir().unwrap(),
            installed_at: clock.now_secs(),
            clock,
        }
    }

    fn db(&self) -> std::path::PathBuf {
        self.dir.path().join("buffer.db")
    }

    /// A cold start of the app with `consent` (collection enabled or not).
    fn start(&self, consent: bool) -> Arc<ConversionsClient> {
        let mut app = app();
        app.first_install_time = Some(self.installed_at);
        let clock: Arc<dyn Clock> = self.clock.clone();
        let client = ConversionsClient::with_clock(
            config(&self.sandbox.base_url(), &self.db()),
            app,
            device(),
            privacy(consent),
            clock,
        )
        .unwrap();
        client.on_launch().unwrap();
        client
    }

    /// A whole app session: a cold start with `consent`, what it sends, and a clean stop.
    fn session(&self, consent: bool) {
        let client = self.start(consent);
        deliver(&client);
        stop(client);
    }

    fn names(&self) -> Vec<String> {
        self.sandbox
            .accepted()
            .iter()
            .map(|e| e["event_name"].as_str().unwrap().to_string())
            .collect()
    }

    fn pass(&self, client: &ConversionsClient, by: Duration) {
        self.clock.advance(by);
        assert!(client.settle(SETTLE_MS), "the SDK did not settle");
    }
}

fn privacy(consent: bool) -> PrivacyState {
    PrivacyState {
        collection_enabled: consent,
        ..privacy_with_id(GAID)
    }
}

fn deliver(client: &ConversionsClient) {
    let report = client.flush(WAIT_MS).unwrap();
    assert!(!report.timed_out, "{report:?}");
}

fn stop(client: Arc<ConversionsClient>) {
    client.shutdown(WAIT_MS).unwrap();
}

#[test]
fn consent_before_launch_records_the_install_once() {
    let phone = Phone::new();
    phone.session(true);
    phone.session(true);
    assert_eq!(phone.names(), ["app_install", "app_open"]);
}

#[test]
fn consent_given_after_the_launch_records_the_install_in_that_process() {
    let phone = Phone::new();
    let client = phone.start(false);
    phone.pass(&client, Duration::from_secs(20)); // the consent dialog is showing
    assert!(
        phone.sandbox.requests().is_empty(),
        "nothing before consent"
    );
    client.set_privacy(privacy(true)).unwrap();
    deliver(&client);
    assert_eq!(phone.names(), ["app_install"], "the launch is not lost");
    let install = &phone.sandbox.accepted()[0];
    assert_eq!(
        install["event_time"], phone.installed_at,
        "the install keeps the launch's time"
    );
    stop(client);
    phone.session(true);
    assert_eq!(phone.names(), ["app_install", "app_open"]);
}

#[test]
fn consent_given_after_a_restart_records_the_install() {
    let phone = Phone::new();
    let client = phone.start(false);
    stop(client); // the user killed the app with the dialog showing
    phone.clock.advance(HOUR);
    let client = phone.start(false);
    client.set_privacy(privacy(true)).unwrap();
    deliver(&client);
    stop(client);
    assert_eq!(phone.names(), ["app_install"]);
}

#[test]
fn consent_a_day_later_in_the_same_process_is_still_a_new_install() {
    let phone = Phone::new();
    let client = phone.start(false);
    phone.pass(&client, 25 * HOUR);
    client.set_privacy(privacy(true)).unwrap();
    deliver(&client);
    stop(client);
    assert_eq!(
        phone.names(),
        ["app_install"],
        "the install window counts from the first launch the SDK saw"
    );
    assert_eq!(phone.sandbox.accepted().len(), 1);
}

#[test]
fn consent_at_a_launch_a_day_later_is_still_a_new_install() {
    let phone = Phone::new();
    stop(phone.start(false));
    phone.clock.advance(25 * HOUR);
    let client = phone.start(true);
    deliver(&client);
    let d = client.diagnostics();
    stop(client);
    assert_eq!(phone.names(), ["app_install"]);
    assert_eq!(d.existing_user_installs, 0);
}

#[test]
fn consent_withdrawn_and_given_again_never_makes_a_second_install() {
    let phone = Phone::new();
    let client = phone.start(true);
    deliver(&client);
    client.set_privacy(privacy(false)).unwrap();
    client.set_privacy(privacy(true)).unwrap();
    client.set_privacy(privacy(false)).unwrap();
    client.set_privacy(privacy(true)).unwrap();
    deliver(&client);
    stop(client);
    phone.clock.advance(HOUR);
    let client = phone.start(false);
    client.set_privacy(privacy(true)).unwrap();
    deliver(&client);
    stop(client);
    assert_eq!(phone.names(), ["app_install", "app_open"]);
}

#[test]
fn a_return_to_the_foreground_missed_while_withdrawn_is_an_open_once_consent_comes_back() {
    let phone = Phone::new();
    let client = phone.start(true);
    deliver(&client);
    client.set_privacy(privacy(false)).unwrap();
    client.on_background().unwrap();
    phone.pass(&client, Duration::from_secs(60));
    client.on_foreground().unwrap();
    client.set_privacy(privacy(true)).unwrap();
    deliver(&client);
    stop(client);
    assert_eq!(phone.names(), ["app_install", "app_open"]);
}

#[test]
fn an_existing_user_stays_one_whenever_consent_comes() {
    let phone = Phone::new();
    phone.clock.advance(30 * 24 * HOUR); // installed a month before the SDK came
    let client = phone.start(false);
    client.set_privacy(privacy(true)).unwrap();
    deliver(&client);
    let d = client.diagnostics();
    stop(client);
    assert_eq!(phone.names(), ["app_open"]);
    assert_eq!(d.existing_user_installs, 1);
}

#[test]
fn consent_never_given_records_nothing() {
    let phone = Phone::new();
    let client = phone.start(false);
    client.on_background().unwrap();
    phone.pass(&client, HOUR);
    client.on_foreground().unwrap();
    stop(client);
    assert!(phone.sandbox.requests().is_empty());
}

/// The buffer lost (deleted, emptied or replaced by garbage): a recovery must not turn into a
/// second install.
fn no_second_install_after(lose: impl Fn(&Path)) {
    let phone = Phone::new();
    phone.session(true);
    lose(&phone.db());
    phone.session(true);
    assert_eq!(phone.names(), ["app_install", "app_open"]);
}

#[test]
fn a_deleted_buffer_does_not_record_a_second_install() {
    no_second_install_after(|db| {
        std::fs::remove_file(db).unwrap();
        let _ = std::fs::remove_file(db.with_extension("db-wal"));
    });
}

#[test]
fn an_emptied_buffer_does_not_record_a_second_install() {
    no_second_install_after(|db| {
        std::fs::File::create(db).unwrap(); // truncated to 0 bytes
    });
}

#[test]
fn a_garbage_buffer_moved_aside_does_not_record_a_second_install() {
    no_second_install_after(|db| {
        std::fs::write(db, vec![0x5a; 64 * 1024]).unwrap();
    });
}

#[test]
fn the_app_cannot_track_lifecycle_events_itself() {
    let phone = Phone::new();
    let client = phone.start(true);
    for name in [EventName::AppInstall, EventName::AppOpen] {
        match client.track(event(name)) {
            Err(ConversionsError::InvalidInput { field, rule }) => {
                assert_eq!(field, "name");
                assert!(rule.contains("on_launch"), "{rule}");
            }
            other => panic!("{name:?} was accepted: {other:?}"),
        }
    }
    deliver(&client);
    stop(client);
    assert_eq!(phone.names(), ["app_install"]);
}

#[test]
fn a_zeroed_advertising_id_opts_out() {
    let phone = Phone::new();
    let client = phone.start(true);
    deliver(&client);
    client
        .set_privacy(privacy_with_id("00000000-0000-0000-0000-000000000000"))
        .unwrap();
    client.track(checkout("5.00")).unwrap();
    deliver(&client);
    stop(client);
    let checkout = &phone.sandbox.accepted()[1];
    assert_eq!(checkout["event_name"], "checkout");
    assert_eq!(checkout["opt_out"], true, "{checkout}");
    assert!(checkout["user_data"].get("hashed_maids").is_none());
}
