//! What links a conversion to an ad: the click id (`epik`) of a URL that opened the app, kept
//! beside the buffer and added to later events for its lifetime, and the install referrer's
//! click id on the install. Both routes; every body checked against the official schema; time
//! from a manual clock.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use app_conversions::{
    ActionSource, Clock, ConversionsClient, EventName, InstallReferrer, ManualClock, PrivacyState,
    TrackingAuthorization, UserData,
};
use common::routes::{Endpoint, Route, ROUTES};
use common::*;
use serde_json::Value;

const WAIT_MS: u64 = 10_000;
const DAY: Duration = Duration::from_secs(86_400);
const EPIK: &str = "dj0yJnU9b2JDcFFHekV4SHJNcmVrbFBkUEdqakh0akdUT1VjVVUmcD0yJm49cnNBQ3F2Q2dOVDBXWWhkWklrUGxBUSZ0PUFBQUFBR1BaY3Bv";
const AD_LINK: &str = "https://shop.example.com/p/runner?utm_source=pinterest&epik=";

struct Phone {
    endpoint: Endpoint,
    dir: tempfile::TempDir,
    clock: Arc<ManualClock>,
}

impl Phone {
    fn new(route: Route) -> Phone {
        Phone {
            endpoint: Endpoint::start(route),
            dir: tempfile::tempdir().unwrap(),
            clock: Arc::new(ManualClock::new(app_conversions::SystemClock.now_ms())),
        }
    }

    fn db(&self) -> std::path::PathBuf {
        self.dir.path().join("buffer.db")
    }

    fn start_with(
        &self,
        privacy: PrivacyState,
        change: impl FnOnce(&mut app_conversions::ClientConfig),
    ) -> Arc<ConversionsClient> {
        let mut cfg = self.endpoint.config(&self.db());
        change(&mut cfg);
        let clock: Arc<dyn Clock> = self.clock.clone();
        ConversionsClient::with_clock(cfg, app(), device(), privacy, clock).unwrap()
    }

    fn start(&self) -> Arc<ConversionsClient> {
        self.start_with(privacy_with_id(GAID), |_| {})
    }

    fn pass(&self, client: &ConversionsClient, by: Duration) {
        self.clock.advance(by);
        assert!(client.settle(WAIT_MS), "the SDK did not settle");
    }

    /// The events delivered so far, every body checked against the official schema.
    fn arrived(&self, client: &ConversionsClient) -> Vec<Value> {
        let report = client.flush(WAIT_MS).unwrap();
        assert!(!report.timed_out, "{report:?}");
        self.endpoint.arrived()
    }
}

fn click_ids(events: &[Value]) -> Vec<Option<&str>> {
    events
        .iter()
        .map(|e| e["user_data"]["click_id"].as_str())
        .collect()
}

fn lead() -> app_conversions::Event {
    event(EventName::Lead)
}

fn click_file(db: &Path) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".click");
    name.into()
}

#[test]
fn an_opened_ad_link_gives_its_click_id_to_later_events_for_thirty_days() {
    for route in ROUTES {
        let phone = Phone::new(route);
        let client = phone.start();
        client.track(lead()).unwrap();
        assert!(client.handle_open_url(format!("{AD_LINK}{EPIK}")).unwrap());
        client.track(lead()).unwrap();
        let own = app_conversions::Event {
            user_data: Some(UserData {
                click_id: Some("the-apps-own".into()),
                ..Default::default()
            }),
            ..lead()
        };
        client.track(own).unwrap();
        phone.arrived(&client);
        phone.pass(&client, 29 * DAY);
        client.track(lead()).unwrap();
        phone.pass(&client, DAY);
        client.track(lead()).unwrap();
        let arrived = phone.arrived(&client);
        assert_eq!(
            click_ids(&arrived),
            [None, Some(EPIK), Some("the-apps-own"), Some(EPIK), None],
            "{route:?}: before the click, after it, the app's own, day 29, day 30"
        );
    }
}

#[test]
fn a_newer_click_replaces_an_older_one_and_both_outlive_a_restart() {
    let phone = Phone::new(Route::Direct);
    let client = phone.start();
    assert!(client.handle_open_url(format!("{AD_LINK}first")).unwrap());
    phone.pass(&client, DAY);
    assert!(client
        .handle_open_url("shop://product/7#epik=second".into())
        .unwrap());
    assert!(!client
        .handle_open_url("https://shop.example.com/p/7?utm_source=mail".into())
        .unwrap());
    assert!(
        !client
            .handle_open_url(format!("{AD_LINK}has%20a%20space"))
            .unwrap(),
        "an unusable click id is ignored"
    );
    client.shutdown(WAIT_MS).unwrap();

    let client = phone.start();
    phone.pass(&client, DAY);
    client.track(lead()).unwrap();
    assert_eq!(click_ids(&phone.arrived(&client)), [Some("second")]);
    // Its lifetime counts from its arrival, not from the restart.
    phone.pass(&client, 29 * DAY);
    client.track(lead()).unwrap();
    assert_eq!(click_ids(&phone.arrived(&client))[1], None);
}

#[test]
fn the_click_lifetime_is_configurable_and_bounded() {
    let phone = Phone::new(Route::Direct);
    let client = phone.start_with(privacy_with_id(GAID), |c| c.click_id_ttl_secs = 3600);
    client.handle_open_url(format!("{AD_LINK}{EPIK}")).unwrap();
    phone.pass(&client, Duration::from_secs(3599));
    client.track(lead()).unwrap();
    phone.pass(&client, Duration::from_secs(1));
    client.track(lead()).unwrap();
    assert_eq!(click_ids(&phone.arrived(&client)), [Some(EPIK), None]);
    client.shutdown(WAIT_MS).unwrap();

    for ttl in [0, 91 * 86_400] {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(&phone.endpoint.sandbox.base_url(), &dir.path().join("b.db"));
        cfg.click_id_ttl_secs = ttl;
        match ConversionsClient::new(cfg, app(), device(), PrivacyState::default()) {
            Err(app_conversions::ConversionsError::InvalidConfig { field, .. }) => {
                assert_eq!(field, "click_id_ttl_secs")
            }
            _ => panic!("{ttl} accepted"),
        }
    }
}

#[test]
fn without_consent_a_click_is_neither_kept_nor_sent_and_forget_erases_it() {
    let phone = Phone::new(Route::Direct);
    let client = phone.start();
    client.handle_open_url(format!("{AD_LINK}{EPIK}")).unwrap();
    assert!(client.settle(WAIT_MS));
    assert!(click_file(&phone.db()).exists());
    let without_consent = PrivacyState {
        collection_enabled: false,
        ..privacy_with_id(GAID)
    };
    client.set_privacy(without_consent.clone()).unwrap();
    assert!(
        !client.handle_open_url(format!("{AD_LINK}later")).unwrap(),
        "not kept while collection is disabled"
    );
    assert!(client.settle(WAIT_MS));
    assert!(!click_file(&phone.db()).exists(), "erased with the buffer");
    client.set_privacy(privacy_with_id(GAID)).unwrap();
    client.track(lead()).unwrap();
    assert_eq!(click_ids(&phone.arrived(&client)), [None]);

    client.handle_open_url(format!("{AD_LINK}{EPIK}")).unwrap();
    client.forget(WAIT_MS).unwrap();
    assert!(!click_file(&phone.db()).exists(), "forget() erases it");
    client.track(lead()).unwrap();
    assert_eq!(click_ids(&phone.arrived(&client)), [None, None]);
    client.shutdown(WAIT_MS).unwrap();
    let client = phone.start();
    client.track(lead()).unwrap();
    assert_eq!(
        click_ids(&phone.arrived(&client))[2],
        None,
        "not back after a restart"
    );
}

#[test]
fn on_ios_the_click_waits_for_tracking_authorization_also_for_queued_events() {
    let ios = |authorization| PrivacyState {
        tracking_authorization: Some(authorization),
        ..Default::default()
    };
    let phone = Phone::new(Route::Relay);
    let client = phone.start_with(ios(TrackingAuthorization::Denied), |c| {
        c.action_source = ActionSource::AppIos
    });
    client.handle_open_url(format!("{AD_LINK}{EPIK}")).unwrap();
    client.track(lead()).unwrap();
    assert_eq!(click_ids(&phone.arrived(&client)), [None], "withheld");
    client
        .set_privacy(ios(TrackingAuthorization::Authorized))
        .unwrap();
    client.track(lead()).unwrap();
    client
        .set_privacy(ios(TrackingAuthorization::Denied))
        .unwrap();
    let arrived = phone.arrived(&client);
    assert_eq!(
        click_ids(&arrived),
        [None, None],
        "revoked before sending: taken out of the queued event"
    );
    client
        .set_privacy(ios(TrackingAuthorization::Authorized))
        .unwrap();
    client.track(lead()).unwrap();
    assert_eq!(click_ids(&phone.arrived(&client))[2], Some(EPIK));
}

fn referrer(referrer: &str, click_time: i64, install_begin_time: i64) -> InstallReferrer {
    InstallReferrer {
        referrer: Some(referrer.into()),
        click_time: Some(click_time),
        install_begin_time: Some(install_begin_time),
    }
}

#[test]
fn the_first_launch_waits_for_the_install_referrer_and_the_install_carries_its_click() {
    for route in ROUTES {
        let phone = Phone::new(route);
        let client = phone.start_with(privacy_with_id(GAID), |c| {
            c.first_launch_wait_for_install_referrer_secs = 5
        });
        client.on_launch().unwrap();
        phone.pass(&client, Duration::from_secs(2));
        assert!(phone.endpoint.sandbox.requests().is_empty(), "held");
        let now = phone.clock.now_secs();
        client
            .set_install_referrer(Some(referrer(
                &format!("utm_source=pinterest&utm_medium=cpc&epik={EPIK}"),
                now - 120,
                now - 60,
            )))
            .unwrap();
        client.track(lead()).unwrap();
        let arrived = phone.arrived(&client);
        assert_eq!(arrived[0]["event_name"], "app_install", "{route:?}");
        assert_eq!(click_ids(&arrived), [Some(EPIK), Some(EPIK)], "{route:?}");
        client.shutdown(WAIT_MS).unwrap();
    }
}

#[test]
fn an_install_referrer_that_never_answers_holds_the_install_only_for_the_wait() {
    let phone = Phone::new(Route::Direct);
    let client = phone.start_with(privacy_with_id(GAID), |c| {
        c.first_launch_wait_for_install_referrer_secs = 5
    });
    client.on_launch().unwrap();
    phone.pass(&client, Duration::from_secs(4));
    assert!(phone.endpoint.sandbox.requests().is_empty(), "held");
    phone.pass(&client, Duration::from_secs(1));
    let arrived = phone.arrived(&client);
    assert_eq!(arrived.len(), 1, "released by the wait running out");
    assert_eq!(arrived[0]["event_name"], "app_install");
    assert_eq!(click_ids(&arrived), [None]);
    client.shutdown(WAIT_MS).unwrap();

    // An unreadable referrer (None) releases it at once.
    let phone = Phone::new(Route::Direct);
    let client = phone.start_with(privacy_with_id(GAID), |c| {
        c.first_launch_wait_for_install_referrer_secs = 5
    });
    client.on_launch().unwrap();
    assert!(client.settle(WAIT_MS));
    client.set_install_referrer(None).unwrap();
    assert_eq!(phone.arrived(&client)[0]["event_name"], "app_install");
}

#[test]
fn the_install_referrer_never_replaces_the_click_of_a_link_opened_since() {
    let phone = Phone::new(Route::Direct);
    let client = phone.start_with(privacy_with_id(GAID), |c| {
        c.first_launch_wait_for_install_referrer_secs = 5
    });
    assert!(client
        .handle_open_url(format!("{AD_LINK}opened-link"))
        .unwrap());
    client.on_launch().unwrap();
    assert!(client.settle(WAIT_MS));
    client
        .set_install_referrer(Some(InstallReferrer {
            referrer: Some("utm_source=pinterest&epik=install-click".into()),
            click_time: None,
            install_begin_time: None,
        }))
        .unwrap();
    client.track(lead()).unwrap();
    let arrived = phone.arrived(&client);
    assert_eq!(arrived[0]["event_name"], "app_install");
    assert_eq!(
        click_ids(&arrived),
        [Some("opened-link"), Some("opened-link")]
    );
}
