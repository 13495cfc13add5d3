//! The demo: a first launch, a return to the foreground, a checkout, a Pinterest ad link that
//! opens the app, Limit Ad Tracking, and a server outage with recovery, told as a timeline. Exits non-zero unless every event arrived
//! exactly once with the expected privacy fields.

use std::sync::Arc;
use std::time::Duration;

use app_conversions::{CustomData, Event, EventName, FlushReport, PrivacyState, UserData};
use app_conversions_sandbox::{Fault, Sandbox};

use crate::cli::{self, Options};
use crate::proxy::Proxy;
use crate::report;
use crate::session::Session;
use crate::timeline::Timeline;

/// The app-scoped token the SDK uses with `--via-relay`; the relay holds the real one.
const DEMO_APP_TOKEN: &str = "demo-app-token";

/// The Pinterest ad link the demo opens: its `epik` is the click id later events carry.
const DEMO_AD_LINK: &str =
    "https://shop.example.com/p/runner?utm_source=pinterest&epik=dj0yJnU9ZGVtby1jbGljaw";

/// The click id in [`DEMO_AD_LINK`].
const DEMO_CLICK_ID: &str = "dj0yJnU9ZGVtby1jbGljaw";

/// Demo IDFA/GAID when none is given.
const DEMO_ADVERTISING_ID: &str = "6D92078A-8246-4BA4-AE5B-76104861E7DC";

struct Demo {
    session: Session,
    sandbox: Option<Sandbox>,
    problems: Vec<String>,
}

impl Demo {
    fn timeline(&self) -> &Timeline {
        &self.session.timeline
    }

    fn flush(&mut self, timeout_ms: u64) -> FlushReport {
        match self.session.flush(timeout_ms) {
            Ok(report) => report,
            Err(e) => {
                self.problems.push(format!("flush failed: {e}"));
                FlushReport::default()
            }
        }
    }

    fn track(&mut self, event: Event) -> Result<String, String> {
        self.session.track(event)
    }

    fn expect(&mut self, ok: bool, what: &str) {
        if !ok {
            self.problems.push(what.to_string());
        }
    }
}

fn buyer(name: EventName, value: &str) -> Event {
    Event {
        name,
        custom_event_name: None,
        event_id: None,
        event_time: None,
        event_source_url: None,
        user_data: Some(UserData {
            emails: vec!["Person@Example.com".into()],
            ..Default::default()
        }),
        custom_data: Some(CustomData {
            currency: Some("USD".into()),
            value: Some(value.into()),
            ..Default::default()
        }),
    }
}

/// Runs the demo.
pub fn run(options: &Options) -> Result<(), String> {
    let mut options = options.clone();
    if options.advertising_id.is_none() {
        options.advertising_id = Some(DEMO_ADVERTISING_ID.into());
    }
    let timeline = Arc::new(Timeline::new(options.mode()));
    let (sandbox_url, sandbox) = cli::endpoint(&options)?;
    // The SDK sends to a recording proxy; with --via-relay a second one sits between the relay
    // and the sandbox, so both hops show in the timeline.
    let mut proxies = Vec::new();
    let relay = match (&sandbox, options.via_relay) {
        (Some(_), true) => {
            let upstream = Proxy::start(&sandbox_url, "relay -> API", Arc::clone(&timeline))?;
            let relay = start_relay(&upstream.base_url(), &options.ad_account)?;
            proxies.push(upstream);
            Some(relay)
        }
        (None, true) => return Err("--via-relay runs the local chain; leave out --endpoint".into()),
        _ => None,
    };
    if relay.is_some() {
        options.token = Some(DEMO_APP_TOKEN.into());
        options.relay = true;
    }
    let (first_hop, label) = match &relay {
        Some(relay) => (relay.base_url(), "SDK -> relay"),
        None => (sandbox_url.clone(), ""),
    };
    if let Some(path) = options.db.as_deref().filter(|p| holds_a_buffer(p)) {
        return Err(format!(
            "{} already holds a buffer (an earlier demo's?): the demo tells an install's first \
             launch, which a buffer that has seen one cannot give again. Remove the file, give \
             another --db path, or leave out --db (a fresh temporary buffer)",
            path.display()
        ));
    }
    let proxy = Proxy::start(&first_hop, label, Arc::clone(&timeline))?;
    let (db, _temp) = cli::database(&options)?;
    timeline.info("app-conversions demo");
    match &relay {
        Some(_) => timeline.info(&format!(
            "  endpoint: {first_hop} (relay, app-scoped token) -> {sandbox_url} (embedded sandbox)"
        )),
        None if sandbox.is_some() => {
            timeline.info(&format!("  endpoint: {sandbox_url} (embedded sandbox)"))
        }
        None => timeline.info(&format!("  endpoint: {sandbox_url}")),
    }
    timeline.info(&format!("  buffer:   {}", db.display()));
    let session = Session::start(&options, &proxy.base_url(), db, 1, Arc::clone(&timeline))?;
    let mut demo = Demo {
        session,
        sandbox,
        problems: Vec::new(),
    };
    let (checkout, lead) = story(&mut demo)?;
    if demo.sandbox.is_some() {
        verify_sandbox(&mut demo, &checkout, &lead, relay.is_some());
    }
    demo.timeline().step("Diagnostics");
    let diagnostics = demo.session.client.diagnostics();
    report::print_diagnostics(demo.timeline(), &diagnostics);
    demo.expect(
        diagnostics.queued == 0 && diagnostics.dead_lettered == 0,
        "events left queued or refused",
    );
    demo.session.shutdown()?;
    drop(proxy);
    drop(proxies);
    if demo.problems.is_empty() {
        demo.timeline()
            .info("\ndemo passed: every event delivered exactly once");
        Ok(())
    } else {
        Err(format!("demo failed: {}", demo.problems.join("; ")))
    }
}

/// The six steps; returns the checkout's and the lead's event ids.
fn story(demo: &mut Demo) -> Result<(String, String), String> {
    let client = Arc::clone(&demo.session.client);
    demo.timeline().step("1. First launch: app_install");
    demo.timeline().action("launch");
    client.on_launch().map_err(|e| e.to_string())?;
    let r = demo.flush(10_000);
    demo.expect(
        r.remaining == 0 && r.processed >= 1,
        "app_install was not delivered",
    );

    demo.timeline()
        .step("2. Background, then back to the foreground after 1.1 s: app_open");
    demo.timeline().action("background");
    client.on_background().map_err(|e| e.to_string())?;
    std::thread::sleep(Duration::from_millis(1_100));
    demo.timeline().action("foreground");
    client.on_foreground().map_err(|e| e.to_string())?;
    let r = demo.flush(10_000);
    demo.expect(
        r.remaining == 0 && r.processed == 1,
        "app_open was not delivered",
    );

    demo.timeline()
        .step("3. A checkout of 24.99 USD by Person@Example.com (hashed on the device)");
    let checkout = demo.track(buyer(EventName::Checkout, "24.99"))?;
    let r = demo.flush(10_000);
    demo.expect(
        r.remaining == 0 && r.processed == 1,
        "the checkout was not delivered",
    );

    demo.timeline()
        .step("4. A Pinterest ad link opens the app: its click id goes on the next event");
    demo.timeline().action(&format!("open {DEMO_AD_LINK}"));
    let kept = client
        .handle_open_url(DEMO_AD_LINK.into())
        .map_err(|e| e.to_string())?;
    demo.expect(kept, "the ad link's click id was not kept");
    demo.track(buyer(EventName::ViewContent, "24.99"))?;
    let r = demo.flush(10_000);
    demo.expect(
        r.remaining == 0 && r.processed == 1,
        "the view_content was not delivered",
    );
    if let Some(sandbox) = &demo.sandbox {
        let sent = sandbox.accepted();
        let click_id = sent
            .last()
            .and_then(|e| e["user_data"]["click_id"].as_str())
            .unwrap_or("none")
            .to_string();
        demo.timeline().action(&format!(
            "view_content arrived with user_data.click_id {click_id}"
        ));
    }

    demo.timeline()
        .step("5. The user turns on Limit Ad Tracking; an add_to_cart follows");
    demo.timeline().action("set_privacy opt_out: true");
    client
        .set_privacy(PrivacyState {
            opt_out: true,
            ..Default::default()
        })
        .map_err(|e| e.to_string())?;
    demo.track(buyer(EventName::AddToCart, "9.99"))?;
    let r = demo.flush(10_000);
    demo.expect(
        r.remaining == 0 && r.processed == 1,
        "the add_to_cart was not delivered",
    );

    let mut lead = String::new();
    if let Some(sandbox) = &demo.sandbox {
        for _ in 0..2 {
            sandbox.inject(Fault::Status {
                status: 503,
                retry_after: Some("1".into()),
                body: None,
            });
        }
        demo.timeline()
            .step("6. Server outage: two 503 answers with Retry-After: 1, then recovery");
        lead = demo.track(buyer(EventName::Lead, "1.00"))?;
        let r = demo.flush(500);
        demo.expect(
            r.remaining == 1,
            "the lead should still wait during the outage",
        );
        demo.timeline()
            .action("flush again, with time for the backoff (up to 15 s)");
        let r = demo.flush(15_000);
        demo.expect(
            r.remaining == 0,
            "the lead was not delivered after the outage",
        );
    }
    Ok((checkout, lead))
}

/// Starts the reference relay in front of `upstream`; it holds the sandbox's token.
fn start_relay(
    upstream: &str,
    ad_account: &str,
) -> Result<app_conversions_relay::RelayHandle, String> {
    let mut config = app_conversions_relay::RelayConfig::new(upstream, cli::SANDBOX_TOKEN)
        .with_app_token(DEMO_APP_TOKEN, ad_account);
    config.log = app_conversions_relay::LogTarget::Off;
    app_conversions_relay::RelayHandle::start(config)
        .map_err(|e| format!("cannot start the relay: {e}"))
}

fn verify_sandbox(demo: &mut Demo, checkout_id: &str, lead_id: &str, via_relay: bool) {
    let Some(sandbox) = &demo.sandbox else { return };
    let accepted = sandbox.accepted();
    let names: Vec<&str> = accepted
        .iter()
        .filter_map(|e| e["event_name"].as_str())
        .collect();
    let expected = [
        "app_install",
        "app_open",
        "checkout",
        "view_content",
        "add_to_cart",
        "lead",
    ];
    let ok_names = names == expected;
    let once = sandbox.times_accepted(checkout_id) == 1 && sandbox.times_accepted(lead_id) == 1;
    let before_lat = accepted
        .iter()
        .take(4)
        .all(|e| e["opt_out"] == false && e["user_data"]["hashed_maids"].is_array());
    let after_lat = accepted
        .iter()
        .skip(4)
        .all(|e| e["opt_out"] == true && e["user_data"].get("hashed_maids").is_none());
    let outage_seen = sandbox
        .requests()
        .iter()
        .filter(|r| r.status == 503)
        .count()
        == 2;
    let with_ip = !via_relay
        || accepted
            .iter()
            .all(|e| e["user_data"]["client_ip_address"] == "127.0.0.1");
    demo.expect(ok_names, &format!("unexpected events arrived: {names:?}"));
    demo.expect(once, "an event arrived more than once");
    demo.expect(
        before_lat,
        "events before Limit Ad Tracking lack hashed_maids",
    );
    demo.expect(
        after_lat,
        "events after Limit Ad Tracking carry hashed_maids",
    );
    let click_ids: Vec<Option<&str>> = accepted
        .iter()
        .map(|e| e["user_data"]["click_id"].as_str())
        .collect();
    let clicked = click_ids.len() == expected.len()
        && click_ids[..3].iter().all(Option::is_none)
        && click_ids[3..].iter().all(|id| *id == Some(DEMO_CLICK_ID));
    demo.expect(
        clicked,
        "the ad link's click id is not on exactly the events after it",
    );
    demo.expect(outage_seen, "the outage was not exercised");
    demo.expect(with_ip, "the relay did not add the client IP");
}

/// Whether `path` is a buffer file that is not empty (an SDK has written to it).
fn holds_a_buffer(path: &std::path::Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() > 0)
}
