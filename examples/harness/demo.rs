//! The demo: a first launch, a return to the foreground, a checkout, Limit Ad Tracking, and a
//! server outage with recovery, printing every request and answer. Exits non-zero unless
//! every event arrived exactly once with the expected privacy fields.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use app_conversions::{
    BatchOutcome, ConversionsClient, CustomData, DeliveryListener, Event, EventName, PrivacyState,
    UserData,
};
use app_conversions_sandbox::{Fault, Sandbox};

use crate::cli::{self, Options};
use crate::report;

/// The app-scoped token the SDK uses with `--via-relay`; the relay holds the real one.
const DEMO_APP_TOKEN: &str = "demo-app-token";

/// Demo IDFA/GAID when none is given.
const DEMO_ADVERTISING_ID: &str = "6D92078A-8246-4BA4-AE5B-76104861E7DC";

struct PrintingListener(Mutex<Vec<BatchOutcome>>);

impl DeliveryListener for PrintingListener {
    fn on_batch(&self, outcome: BatchOutcome) {
        println!(
            "  ← answer: {} events, status {}, processed {}, failed {}{}",
            outcome.events,
            outcome.status.map_or("none".into(), |s| s.to_string()),
            outcome.processed,
            outcome.failed,
            if outcome.will_retry {
                ", will retry"
            } else {
                ""
            }
        );
        if let Ok(mut seen) = self.0.lock() {
            seen.push(outcome);
        }
    }
}

struct Demo {
    client: Arc<ConversionsClient>,
    sandbox: Option<Sandbox>,
    printed: usize,
    problems: Vec<String>,
}

impl Demo {
    fn step(&mut self, title: &str) {
        println!("\n== {title}");
    }

    fn flush(&mut self, timeout_ms: u64) -> app_conversions::FlushReport {
        let report = match self.client.flush(timeout_ms) {
            Ok(report) => report,
            Err(e) => {
                self.problems.push(format!("flush failed: {e}"));
                return Default::default();
            }
        };
        if let Some(sandbox) = &self.sandbox {
            let requests = sandbox.requests();
            report::print_requests(&requests[self.printed.min(requests.len())..]);
            self.printed = requests.len();
        }
        report::print_flush(&report);
        report
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
    let mut options_with_id = options.clone();
    if options_with_id.advertising_id.is_none() {
        options_with_id.advertising_id = Some(DEMO_ADVERTISING_ID.into());
    }
    let (sandbox_url, sandbox) = cli::endpoint(&options_with_id)?;
    let relay = match (&sandbox, options.via_relay) {
        (Some(_), true) => Some(start_relay(&sandbox_url, &options.ad_account)?),
        (None, true) => return Err("--via-relay runs the local chain; leave out --endpoint".into()),
        _ => None,
    };
    if relay.is_some() {
        options_with_id.token = Some(DEMO_APP_TOKEN.into());
        options_with_id.relay = true;
    }
    let url = relay.as_ref().map_or(sandbox_url.clone(), |r| r.base_url());
    let (db, _temp) = cli::database(&options_with_id)?;
    println!("app-conversions demo");
    match &relay {
        Some(_) => println!(
            "  endpoint: {url} (relay, app-scoped token) -> {sandbox_url} (embedded sandbox)"
        ),
        None if sandbox.is_some() => println!("  endpoint: {url} (embedded sandbox)"),
        None => println!("  endpoint: {url}"),
    }
    println!("  buffer:   {}", db.display());
    let client = cli::client(&options_with_id, &url, db, 1)?;
    let listener = Arc::new(PrintingListener(Mutex::new(Vec::new())));
    client.set_delivery_listener(Some(listener.clone()));
    let mut demo = Demo {
        client,
        sandbox,
        printed: 0,
        problems: Vec::new(),
    };

    demo.step("1. First launch: app_install");
    demo.client.on_launch().map_err(|e| e.to_string())?;
    let r = demo.flush(10_000);
    demo.expect(
        r.remaining == 0 && r.processed >= 1,
        "app_install was not delivered",
    );

    demo.step("2. Background, then back to the foreground after 1.1 s: app_open");
    demo.client.on_background().map_err(|e| e.to_string())?;
    std::thread::sleep(Duration::from_millis(1_100));
    demo.client.on_foreground().map_err(|e| e.to_string())?;
    let r = demo.flush(10_000);
    demo.expect(
        r.remaining == 0 && r.processed == 1,
        "app_open was not delivered",
    );

    demo.step("3. A checkout of 24.99 USD by Person@Example.com (hashed on the device)");
    let checkout = demo
        .client
        .track(buyer(EventName::Checkout, "24.99"))
        .map_err(|e| e.to_string())?;
    println!("  tracked checkout {}", checkout.event_id);
    let r = demo.flush(10_000);
    demo.expect(
        r.remaining == 0 && r.processed == 1,
        "the checkout was not delivered",
    );

    demo.step("4. The user turns on Limit Ad Tracking; an add_to_cart follows");
    demo.client
        .set_privacy(PrivacyState {
            opt_out: true,
            ..Default::default()
        })
        .map_err(|e| e.to_string())?;
    demo.client
        .track(buyer(EventName::AddToCart, "9.99"))
        .map_err(|e| e.to_string())?;
    let r = demo.flush(10_000);
    demo.expect(
        r.remaining == 0 && r.processed == 1,
        "the add_to_cart was not delivered",
    );

    if demo.sandbox.is_some() {
        demo.step("5. Server outage: two 503 answers with Retry-After: 1, then recovery");
        if let Some(sandbox) = &demo.sandbox {
            for _ in 0..2 {
                sandbox.inject(Fault::Status {
                    status: 503,
                    retry_after: Some("1".into()),
                    body: None,
                });
            }
        }
        let lead = demo
            .client
            .track(buyer(EventName::Lead, "1.00"))
            .map_err(|e| e.to_string())?;
        println!("  tracked lead {}", lead.event_id);
        let r = demo.flush(500);
        demo.expect(
            r.remaining == 1,
            "the lead should still wait during the outage",
        );
        println!("  (the lead waits in the buffer; flushing again with time for the backoff)");
        let r = demo.flush(15_000);
        demo.expect(
            r.remaining == 0,
            "the lead was not delivered after the outage",
        );
        verify_sandbox(&mut demo, &checkout.event_id, &lead.event_id);
        if relay.is_some() {
            let with_ip = demo.sandbox.as_ref().is_some_and(|s| {
                s.accepted()
                    .iter()
                    .all(|e| e["user_data"]["client_ip_address"] == "127.0.0.1")
            });
            demo.expect(with_ip, "the relay did not add the client IP");
        }
        if relay.is_some() {
            let with_ip = demo.sandbox.as_ref().is_some_and(|s| {
                s.accepted()
                    .iter()
                    .all(|e| e["user_data"]["client_ip_address"] == "127.0.0.1")
            });
            demo.expect(with_ip, "the relay did not add the client IP");
        }
    }

    demo.step("Diagnostics");
    let diagnostics = demo.client.diagnostics();
    println!("{}", report::diagnostics_json(&diagnostics));
    demo.expect(
        diagnostics.queued == 0 && diagnostics.dead_lettered == 0,
        "events left queued or refused",
    );
    demo.client.shutdown(10_000).map_err(|e| e.to_string())?;
    if demo.problems.is_empty() {
        println!("\ndemo passed: every event delivered exactly once");
        Ok(())
    } else {
        Err(format!("demo failed: {}", demo.problems.join("; ")))
    }
}

/// Starts the reference relay in front of the sandbox; it holds the sandbox's token.
fn start_relay(
    sandbox_url: &str,
    ad_account: &str,
) -> Result<app_conversions_relay::RelayHandle, String> {
    let mut config = app_conversions_relay::RelayConfig::new(sandbox_url, cli::SANDBOX_TOKEN)
        .with_app_token(DEMO_APP_TOKEN, ad_account);
    config.log = app_conversions_relay::LogTarget::Off;
    app_conversions_relay::RelayHandle::start(config)
        .map_err(|e| format!("cannot start the relay: {e}"))
}

fn verify_sandbox(demo: &mut Demo, checkout_id: &str, lead_id: &str) {
    let Some(sandbox) = &demo.sandbox else { return };
    let accepted = sandbox.accepted();
    let names: Vec<&str> = accepted
        .iter()
        .filter_map(|e| e["event_name"].as_str())
        .collect();
    let expected = ["app_install", "app_open", "checkout", "add_to_cart", "lead"];
    let ok_names = names == expected;
    let checkout_once =
        sandbox.times_accepted(checkout_id) == 1 && sandbox.times_accepted(lead_id) == 1;
    let before_lat = accepted
        .iter()
        .take(3)
        .all(|e| e["opt_out"] == false && e["user_data"]["hashed_maids"].is_array());
    let after_lat = accepted
        .iter()
        .skip(3)
        .all(|e| e["opt_out"] == true && e["user_data"].get("hashed_maids").is_none());
    let outage_seen = sandbox
        .requests()
        .iter()
        .filter(|r| r.status == 503)
        .count()
        == 2;
    demo.expect(ok_names, &format!("unexpected events arrived: {names:?}"));
    demo.expect(checkout_once, "an event arrived more than once");
    demo.expect(
        before_lat,
        "events before Limit Ad Tracking lack hashed_maids",
    );
    demo.expect(
        after_lat,
        "events after Limit Ad Tracking carry hashed_maids",
    );
    demo.expect(outage_seen, "the outage was not exercised");
}
