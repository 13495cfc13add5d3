//! A transport the app provides (`ConversionsClient::with_transport`): what the core keeps
//! doing whatever the transport does. A transport that fails with the token in its message,
//! panics, returns a broken answer or never returns costs no event, shows no token and does
//! not hold up `shutdown()`; the request it gets carries the core's timeout and headers; and
//! bodies are gzip-compressed for a relay, and for a direct endpoint only when configured.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app_conversions::{
    ConversionsClient, ConversionsError, EventName, HttpRequest, HttpResponse, HttpTransport,
    TransportError,
};
use app_conversions_relay::{LogTarget, RelayConfig, RelayHandle, RequestLog};
use common::transport::StdTransport;
use common::*;

const WAIT: u64 = 10_000;

/// What a scripted transport does on its next call.
enum Step {
    /// Fails with this error.
    Fail(TransportError),
    /// Panics (a Rust transport's bug; a Kotlin or Swift exception arrives as `Fail`).
    Panic,
    /// Returns this answer instead of asking the server.
    Answer(HttpResponse),
    /// Blocks until the sender is dropped, then fails.
    Hang(Receiver<()>),
}

/// Follows its script, then sends through [`StdTransport`]; keeps every request it got.
#[derive(Default)]
struct Scripted {
    steps: Mutex<Vec<Step>>,
    requests: Mutex<Vec<HttpRequest>>,
    calls: AtomicUsize,
}

impl Scripted {
    fn new(steps: Vec<Step>) -> Arc<Scripted> {
        let mut steps = steps;
        steps.reverse();
        Arc::new(Scripted {
            steps: Mutex::new(steps),
            ..Default::default()
        })
    }
}

impl HttpTransport for Scripted {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.requests.lock().unwrap().push(request.clone());
        let step = self.steps.lock().unwrap().pop();
        match step {
            None => StdTransport.send(request),
            Some(Step::Fail(error)) => Err(error),
            Some(Step::Panic) => panic!("a bug in the transport"),
            Some(Step::Answer(response)) => Ok(response),
            Some(Step::Hang(gate)) => {
                let _ = gate.recv();
                Err(TransportError::Network {
                    reason: "released".into(),
                })
            }
        }
    }
}

fn client_with(
    sandbox: &app_conversions_sandbox::Sandbox,
    dir: &std::path::Path,
    transport: Arc<Scripted>,
) -> Arc<ConversionsClient> {
    let mut cfg = config(&sandbox.base_url(), &dir.join("buffer.db"));
    cfg.retry_base_delay_ms = 1;
    cfg.retry_max_delay_secs = 1;
    ConversionsClient::with_transport(cfg, app(), device(), privacy_with_id(GAID), transport)
        .unwrap()
}

fn lead(id: &str) -> app_conversions::Event {
    app_conversions::Event {
        event_id: Some(id.into()),
        ..event(EventName::Lead)
    }
}

/// Flushes until the sandbox has `count` events or `WAIT` ms pass.
fn flush_until_accepted(
    client: &ConversionsClient,
    sandbox: &app_conversions_sandbox::Sandbox,
    count: usize,
) {
    let give_up = Instant::now() + Duration::from_millis(WAIT);
    while sandbox.accepted_count() < count && Instant::now() < give_up {
        let _ = client.flush(500);
    }
    assert_eq!(sandbox.accepted_count(), count);
}

#[test]
fn failures_panics_and_broken_answers_of_the_transport_lose_no_event() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let body_of = |status: u16, body: &[u8]| HttpResponse {
        status,
        headers: vec![],
        body: body.to_vec(),
    };
    let transport = Scripted::new(vec![
        Step::Fail(TransportError::Timeout {
            reason: "no answer".into(),
        }),
        Step::Panic,
        Step::Answer(body_of(0, b"")),
        Step::Answer(body_of(200, &[0xff, 0xfe, b'{'])),
        Step::Answer(body_of(200, &vec![b' '; 3 * 1024 * 1024])),
        Step::Fail(TransportError::Other {
            reason: "unexpected error in the app's transport: boom".into(),
        }),
    ]);
    let client = client_with(&sandbox, dir.path(), transport.clone());
    client.track(lead("kept-1")).unwrap();
    client.track(lead("kept-2")).unwrap();
    flush_until_accepted(&client, &sandbox, 2);
    assert_eq!(transport.calls.load(Ordering::SeqCst), 7);
    assert_eq!(sandbox.times_accepted("kept-1"), 1);
    assert_costs_nothing_when_idle(&client);
}

/// After the faults, an empty queue leaves nothing scheduled and no pause: the upload thread
/// sleeps without a deadline, so it does not wake (and costs no CPU) until the app tracks again.
fn assert_costs_nothing_when_idle(client: &ConversionsClient) {
    let d = client.diagnostics();
    assert_eq!(d.queued, 0);
    assert_eq!(d.next_attempt_time, None, "nothing is scheduled");
    assert_eq!(d.paused_reason, None);
}

#[test]
fn the_token_in_a_transport_error_is_never_shown_or_stored() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let leaky = TransportError::Other {
        reason: format!("proxy refused Authorization: Bearer {TOKEN}"),
    };
    let transport = Scripted::new(vec![Step::Fail(leaky)]);
    let client = client_with(&sandbox, dir.path(), transport);
    let (outcomes, heard) = channel();
    client.set_delivery_listener(Some(Arc::new(Listener(Mutex::new(outcomes)))));
    client.track(lead("leak-1")).unwrap();
    let _ = client.flush(200);
    let message = heard.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(
        message.contains("proxy refused") && message.contains("[redacted]"),
        "{message}"
    );
    let last_error = client.diagnostics().last_error.unwrap_or_default();
    assert!(!last_error.contains(TOKEN), "{last_error}");
    flush_until_accepted(&client, &sandbox, 1);
    client.shutdown(WAIT).unwrap();
    for file in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(file.unwrap().path()).unwrap();
        assert!(!bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()));
    }
}

struct Listener(Mutex<Sender<String>>);
impl app_conversions::DeliveryListener for Listener {
    fn on_batch(&self, outcome: app_conversions::BatchOutcome) {
        let _ = self
            .0
            .lock()
            .unwrap()
            .send(outcome.message.unwrap_or_default());
    }
}

#[test]
fn a_transport_that_never_returns_does_not_hold_up_shutdown_and_loses_nothing() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let (release, gate) = channel();
    let transport = Scripted::new(vec![Step::Hang(gate)]);
    let client = client_with(&sandbox, dir.path(), transport.clone());
    client.track(lead("stuck-1")).unwrap();
    let report = client.flush(300).unwrap();
    assert!(report.timed_out);
    assert_eq!(transport.calls.load(Ordering::SeqCst), 1);
    let started = Instant::now();
    let result = client.shutdown(500);
    assert!(
        started.elapsed() < Duration::from_millis(1_500),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(result, Ok(()) | Err(ConversionsError::Timeout { .. })),
        "{result:?}"
    );
    // The transport returns at last; the event is still in the buffer for the next start.
    drop(release);
    drop(client);
    let give_up = Instant::now() + Duration::from_millis(WAIT);
    let reopened = loop {
        match new_client(
            config(&sandbox.base_url(), &dir.path().join("buffer.db")),
            app(),
            device(),
            privacy_with_id(GAID),
        ) {
            Ok(client) => break client,
            Err(ConversionsError::DatabaseInUse { .. }) if Instant::now() < give_up => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("{e}"),
        }
    };
    flush_until_accepted(&reopened, &sandbox, 1);
    assert_eq!(accepted_ids(&sandbox), vec!["stuck-1".to_string()]);
}

#[test]
fn the_request_carries_the_cores_timeout_and_headers() {
    let sandbox = sandbox();
    let dir = tempfile::tempdir().unwrap();
    let transport = Scripted::new(vec![]);
    let mut cfg = config(&sandbox.base_url(), &dir.path().join("buffer.db"));
    cfg.request_timeout_secs = 7;
    let client = ConversionsClient::with_transport(
        cfg,
        app(),
        device(),
        privacy_with_id(GAID),
        transport.clone(),
    )
    .unwrap();
    client.track(lead("h-1")).unwrap();
    assert_eq!(client.flush(WAIT).unwrap().processed, 1);
    let request = transport.requests.lock().unwrap()[0].clone();
    assert_eq!(request.timeout_ms, 7_000);
    assert!(request
        .url
        .ends_with(&format!("/v5/ad_accounts/{AD_ACCOUNT}/events")));
    let names: Vec<&str> = request.headers.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["Authorization", "Content-Type", "User-Agent"]);
    assert_eq!(request.headers[0].value, format!("Bearer {TOKEN}"));
}

/// Tracks `count` leads and flushes them as one request.
fn send_batch(client: &ConversionsClient, count: usize) {
    for i in 0..count {
        client.track(lead(&format!("batch-{i}"))).unwrap();
    }
    assert_eq!(client.flush(WAIT).unwrap().processed as usize, count);
}

#[test]
fn direct_requests_are_gzipped_only_when_the_endpoint_accepts_it() {
    let sandbox = sandbox();
    // The sandbox's loopback host would count as a relay: say it is the API.
    let plain = start_with(&sandbox, |c| c.endpoint_is_relay = Some(false));
    send_batch(&plain.client, 20);
    let gzipped = start_with(&sandbox, |c| {
        c.endpoint_is_relay = Some(false);
        c.endpoint_accepts_gzip = true;
    });
    send_batch(&gzipped.client, 20);
    let requests = sandbox.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].content_encoding, None);
    assert_eq!(requests[0].wire_bytes, requests[0].body.len());
    assert_eq!(requests[1].content_encoding.as_deref(), Some("gzip"));
    assert!(
        requests[1].wire_bytes * 3 < requests[1].body.len(),
        "{} of {}",
        requests[1].wire_bytes,
        requests[1].body.len()
    );
    assert_eq!(sandbox.accepted_count(), 40);
}

#[test]
fn requests_to_a_relay_are_gzipped_above_a_kilobyte_and_delivered() {
    const APP_TOKEN: &str = "app-scoped-token-gz";
    let sandbox = sandbox();
    let mut relay_config =
        RelayConfig::new(sandbox.base_url(), TOKEN).with_app_token(APP_TOKEN, AD_ACCOUNT);
    relay_config.log = LogTarget::Memory(RequestLog::new());
    let relay = RelayHandle::start(relay_config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let transport = Scripted::new(vec![]);
    let mut cfg = config(&relay.base_url(), &dir.path().join("buffer.db"));
    cfg.token = APP_TOKEN.into();
    cfg.endpoint_is_relay = Some(true);
    let client = ConversionsClient::with_transport(
        cfg,
        app(),
        device(),
        privacy_with_id(GAID),
        transport.clone(),
    )
    .unwrap();
    client.track(lead("one")).unwrap();
    assert_eq!(client.flush(WAIT).unwrap().processed, 1);
    send_batch(&client, 50);
    // The relay is also asked for remote settings (a GET, no body): only the events count here.
    let requests: Vec<HttpRequest> = transport
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.method == "POST")
        .cloned()
        .collect();
    let encoding = |r: &HttpRequest| {
        r.headers
            .iter()
            .find(|h| h.name == "Content-Encoding")
            .map(|h| h.value.clone())
    };
    assert_eq!(
        encoding(&requests[0]),
        None,
        "one event is under a kilobyte"
    );
    assert_eq!(encoding(&requests[1]).as_deref(), Some("gzip"));
    assert_eq!(sandbox.accepted_count(), 51);
}
