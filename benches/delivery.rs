//! Delivery throughput: a 100,000-event buffer flushed to the loopback sandbox.
//!
//! The parent fills a buffer while offline and runs the sandbox; a child process (this binary
//! re-run with `DELIVERY_BENCH_CHILD` set) opens the buffer and flushes it, so its peak
//! resident memory is the SDK's alone. Prints events/s, per-batch p50/p99 (the time from one
//! batch's answer to the next: read, build, POST, answer, delete) and peak RSS, then two
//! controls: the round trip of a bare hand-off to a sleeping thread, which every batch makes
//! several times, and how much of the wall clock a busy thread gets on this machine.
//! Last, the idle cost: CPU and wake-ups of the SDK's threads over 30 s with an empty queue,
//! after a 503, a retry and a success (the sequence that once left a core busy for good).
//! Run: `cargo bench --bench delivery`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app_conversions::{
    ActionSource, AppInfo, BatchOutcome, ClientConfig, ConversionsClient, DeliveryListener,
    DeviceInfo, Event, EventName, LogLevel, PrivacyState,
};
use app_conversions_sandbox::{Sandbox, SandboxConfig};

const EVENTS: usize = 100_000;
const TOKEN: &str = "bench-token";
const ACCOUNT: &str = "549768257474";

fn config(endpoint: &str, db: &Path) -> ClientConfig {
    ClientConfig {
        max_queued_events: EVENTS as u32,
        max_event_age_secs: 86_400,
        flush_interval_secs: 3600,
        retry_base_delay_ms: 3_600_000,
        log_level: Some(LogLevel::Off),
        ..ClientConfig::new(
            endpoint,
            ACCOUNT,
            TOKEN,
            db.to_string_lossy(),
            ActionSource::AppAndroid,
        )
    }
}

fn device() -> DeviceInfo {
    DeviceInfo {
        brand: Some("Google".into()),
        model: Some("Pixel 8".into()),
        os_version: Some("14".into()),
        language: Some("en".into()),
        carrier: Some("T-Mobile".into()),
        wifi: Some(true),
        user_agent: Some("Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8)".into()),
        ..Default::default()
    }
}

fn privacy() -> PrivacyState {
    PrivacyState {
        advertising_id: Some("38400000-8cf0-11bd-b23e-10b96e40000d".into()),
        ..Default::default()
    }
}

fn fill(db: &Path) {
    let client = ConversionsClient::new(
        config("http://127.0.0.1:9", db),
        AppInfo::default(),
        device(),
        privacy(),
    )
    .expect("client");
    for _ in 0..EVENTS {
        client
            .track(Event::new(EventName::AddToCart))
            .expect("track");
    }
    client.shutdown(120_000).expect("shutdown");
}

struct Timer(Mutex<(Instant, Vec<u64>)>);

impl DeliveryListener for Timer {
    fn on_batch(&self, _outcome: BatchOutcome) {
        if let Ok(mut state) = self.0.lock() {
            let now = Instant::now();
            let micros = now.duration_since(state.0).as_micros() as u64;
            state.1.push(micros);
            state.0 = now;
        }
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn child(endpoint: &str, db: &Path) {
    let client = ConversionsClient::new(
        config(endpoint, db),
        AppInfo::default(),
        device(),
        privacy(),
    )
    .expect("client");
    let timer = Arc::new(Timer(Mutex::new((Instant::now(), Vec::new()))));
    client.set_delivery_listener(Some(timer.clone()));
    if let Ok(mut state) = timer.0.lock() {
        state.0 = Instant::now();
    }
    // The fill ran offline and left a backoff behind; the network is back.
    client.on_network_available().expect("network");
    let started = Instant::now();
    let report = client.flush(300_000).expect("flush");
    let elapsed = started.elapsed();
    assert_eq!(report.remaining, 0, "everything delivered: {report:?}");
    let mut batches = timer.0.lock().map(|s| s.1.clone()).unwrap_or_default();
    batches.sort_unstable();
    let pct = |p: f64| common::percentile(&batches, p);
    println!(
        "flushed {} events in {} requests in {:.2} s",
        report.processed,
        batches.len(),
        elapsed.as_secs_f64()
    );
    println!(
        "delivery throughput      {:>9.0} events/s",
        report.processed as f64 / elapsed.as_secs_f64()
    );
    println!(
        "per-batch time           p50 {:>6.2} ms   p99 {:>6.2} ms",
        pct(0.50),
        pct(0.99)
    );
    println!(
        "peak RSS of the SDK process {:>6.1} MB (VmHWM)",
        peak_rss_kib() as f64 / 1024.0
    );
    client.shutdown(30_000).expect("shutdown");
}

fn main() {
    if let Ok(spec) = std::env::var("DELIVERY_BENCH_CHILD") {
        let (endpoint, db) = spec.split_once('|').expect("endpoint|db");
        child(endpoint, Path::new(db));
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("delivery.db");
    let started = Instant::now();
    fill(&db);
    println!(
        "buffer of {EVENTS} events filled in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    // A real backlog was written long before it is sent: let the kernel finish writing the
    // fill out, so the first checkpoints of the flush do not pay for it.
    let _ = Command::new("sync").status();
    let sandbox = Sandbox::start(SandboxConfig {
        token: TOKEN.into(),
        ad_account_id: ACCOUNT.into(),
        ..Default::default()
    })
    .expect("sandbox");
    let exe = std::env::current_exe().expect("bench binary");
    let status = Command::new(exe)
        .env(
            "DELIVERY_BENCH_CHILD",
            format!("{}|{}", sandbox.base_url(), db.display()),
        )
        .status()
        .expect("child runs");
    assert!(status.success(), "child failed");
    assert_eq!(
        sandbox.accepted_count(),
        EVENTS,
        "the sandbox accepted every event once"
    );
    idle_cost(&sandbox, dir.path());
    wake_up_control();
    common::print_cpu_availability(Duration::from_secs(3));
}

/// CPU time of this process's SDK threads (named `app-conversions-*`), from the kernel's
/// per-thread counters.
fn sdk_threads_cpu() -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    tasks
        .filter_map(|t| t.ok())
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .is_ok_and(|n| n.starts_with("app-conversions"))
        })
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map(Duration::from_nanos)
        .sum()
}

/// What an empty queue costs after a 503, a retry after `Retry-After: 1` and a success.
fn idle_cost(sandbox: &Sandbox, dir: &Path) {
    const IDLE: Duration = Duration::from_secs(30);
    let quick_retries = ClientConfig {
        retry_base_delay_ms: 20,
        ..config(&sandbox.base_url(), &dir.join("idle.db"))
    };
    let client = ConversionsClient::new(quick_retries, AppInfo::default(), device(), privacy())
        .expect("client");
    sandbox.inject(app_conversions_sandbox::Fault::Status {
        status: 503,
        retry_after: Some("1".into()),
        body: None,
    });
    let lead = Event {
        event_id: Some("idle-cost".into()),
        ..Event::new(EventName::Lead)
    };
    client.track(lead).expect("track");
    let report = client.flush(10_000).expect("flush");
    assert_eq!(report.remaining, 0, "delivered after the retry: {report:?}");
    let (cpu, woken) = (sdk_threads_cpu(), client.diagnostics().upload_wakeups);
    std::thread::sleep(IDLE);
    let used = sdk_threads_cpu().saturating_sub(cpu);
    let wakeups = client.diagnostics().upload_wakeups - woken;
    println!(
        "idle after 503, retry, success: SDK threads {:.3}% of a core over {} s, {:.1} wake-ups/min",
        used.as_secs_f64() * 100.0 / IDLE.as_secs_f64(),
        IDLE.as_secs(),
        wakeups as f64 * 60.0 / IDLE.as_secs_f64()
    );
    client.shutdown(10_000).expect("shutdown");
}

/// Control: a bare hand-off to a sleeping thread and back, the step every batch takes several
/// times (uploader to store worker, to the sandbox, back). Its tail is this machine's own.
fn wake_up_control() {
    const ROUND_TRIPS: usize = 2000;
    let (to_echo, echo_inbox) = channel::<()>();
    let (to_main, main_inbox) = channel::<()>();
    let echo = std::thread::spawn(move || {
        for () in echo_inbox {
            if to_main.send(()).is_err() {
                return;
            }
        }
    });
    let mut micros = Vec::with_capacity(ROUND_TRIPS);
    for _ in 0..ROUND_TRIPS {
        // Long enough for the echo thread to go back to sleep.
        std::thread::sleep(Duration::from_micros(500));
        let t = Instant::now();
        to_echo.send(()).expect("echo thread");
        main_inbox.recv().expect("echo answer");
        micros.push(t.elapsed().as_micros() as u64);
    }
    drop(to_echo);
    echo.join().expect("echo thread ends");
    micros.sort_unstable();
    let pct = |p: f64| common::percentile(&micros, p);
    println!(
        "control: thread wake-up round trip p50 {:>6.3} ms   p99 {:>6.2} ms   max {:>6.1} ms",
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
}
