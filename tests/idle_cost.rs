//! What the SDK costs between flushes: after one failed answer and a successful retry, an
//! empty queue must cost nothing. Each scenario drives its own client through one fault and a
//! recovery, then every client idles for five seconds together while the kernel's per-thread
//! counters measure what each client's two threads used. Linux only (`/proc`).
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use app_conversions::{ClientConfig, ConversionsClient, EventName};
use app_conversions_sandbox::{Fault, Sandbox};
use common::threads::{sdk_threads, thread_name, total_cpu};
use common::*;

const WAIT: u64 = 10_000;
const IDLE: Duration = Duration::from_secs(5);
/// 1% of one core over the idle period.
const IDLE_BUDGET: Duration = Duration::from_millis(50);

/// One way a delivery can fail before it succeeds.
struct Scenario {
    name: &'static str,
    /// The fault answered to the first request.
    fault: Fault,
    /// Events tracked (a 413 needs two to halve).
    events: usize,
    /// How a paused delivery resumes, if the answer pauses it.
    resume: Option<Resume>,
    /// Changes to the test configuration.
    configure: fn(&mut ClientConfig),
}

/// How delivery paused by a 401 or 403 comes back.
#[derive(Clone, Copy, PartialEq)]
enum Resume {
    /// The app replaces the token.
    NewToken,
    /// The pause (`retry_max_delay_secs`, 1 s here) runs out and the retry succeeds.
    PauseEnds,
}

fn status(status: u16, retry_after: Option<&str>) -> Fault {
    Fault::Status {
        status,
        retry_after: retry_after.map(str::to_string),
        body: None,
    }
}

fn scenarios() -> Vec<Scenario> {
    let plain = |name, fault| Scenario {
        name,
        fault,
        events: 1,
        resume: None,
        configure: |_| {},
    };
    let paused = |name, code, resume| Scenario {
        resume: Some(resume),
        configure: if resume == Resume::PauseEnds {
            |c| c.retry_max_delay_secs = 1
        } else {
            |_| {}
        },
        ..plain(name, status(code, None))
    };
    vec![
        plain("503 without Retry-After", status(503, None)),
        plain("503 with Retry-After", status(503, Some("1"))),
        plain("429 with Retry-After", status(429, Some("1"))),
        paused("401, then a new token", 401, Resume::NewToken),
        paused("403, then a new token", 403, Resume::NewToken),
        paused("401, then the pause ends", 401, Resume::PauseEnds),
        paused("403, then the pause ends", 403, Resume::PauseEnds),
        Scenario {
            events: 2,
            ..plain("413", status(413, None))
        },
        plain("dropped connection", Fault::DropConnection),
        plain("answer cut off mid-body", Fault::ResetMidResponse),
        Scenario {
            configure: |c| c.request_timeout_secs = 1,
            ..plain("timeout", Fault::Delay { millis: 2_500 })
        },
    ]
}

/// A client with its own sandbox, and the SDK threads it started.
struct Run {
    scenario: Scenario,
    sandbox: Sandbox,
    harness: Harness,
    threads: BTreeSet<u32>,
}

/// Starts one client per scenario, one at a time, so each client's threads are known.
fn start_all() -> Vec<Run> {
    scenarios()
        .into_iter()
        .map(|scenario| {
            let sandbox = sandbox();
            let before = sdk_threads();
            let harness = start_with(&sandbox, scenario.configure);
            // The store worker opens the database before it answers: both threads exist.
            harness.client.diagnostics();
            let threads: BTreeSet<u32> = sdk_threads().difference(&before).copied().collect();
            assert_sdk_threads(scenario.name, &threads);
            Run {
                scenario,
                sandbox,
                harness,
                threads,
            }
        })
        .collect()
}

/// Fails unless `threads` are a client's two threads (the store worker and the upload thread,
/// named `app-conversions-store` and `-upload`, which the kernel cuts to 15 bytes), alive: an
/// idle measurement over threads that were not found, or have ended, would read zero.
fn assert_sdk_threads(scenario: &str, threads: &BTreeSet<u32>) {
    let names: Vec<Option<String>> = threads.iter().map(|t| thread_name(*t)).collect();
    assert_eq!(
        names,
        [
            Some("app-conversions".to_string()),
            Some("app-conversions".to_string())
        ],
        "{scenario}: the client's store and upload threads, found by name ({threads:?})"
    );
}

/// The fault, then a delivery that succeeds.
fn fail_then_succeed(run: &Run) {
    let began = std::time::Instant::now();
    let client: &Arc<ConversionsClient> = &run.harness.client;
    run.sandbox.inject(run.scenario.fault.clone());
    for _ in 0..run.scenario.events {
        client.track(event(EventName::Lead)).expect("track");
    }
    let first = client.flush(WAIT).expect("flush");
    let name = run.scenario.name;
    match run.scenario.resume {
        Some(Resume::NewToken) => {
            assert!(client.diagnostics().paused_reason.is_some(), "{first:?}");
            client.set_token(TOKEN.into()).expect("new token");
            client.flush(WAIT).expect("flush");
        }
        // The flush waits out the 1 s pause, whose retry then succeeds.
        Some(Resume::PauseEnds) => {}
        None => {
            client.flush(WAIT).expect("flush");
        }
    }
    let delivered = run
        .sandbox
        .wait_for_accepted(run.scenario.events, Duration::from_millis(WAIT));
    assert!(delivered, "{name}: {:?}", client.diagnostics());
    println!("{name}: delivered after {} ms", began.elapsed().as_millis());
}

#[test]
fn after_a_failed_answer_and_a_success_an_empty_queue_costs_nothing() {
    let runs = start_all();
    std::thread::scope(|s| {
        for run in &runs {
            s.spawn(|| fail_then_succeed(run));
        }
    });
    let before: Vec<Duration> = runs.iter().map(|r| total_cpu(&r.threads)).collect();
    let woken: Vec<u64> = runs
        .iter()
        .map(|r| r.harness.client.diagnostics().upload_wakeups)
        .collect();
    std::thread::sleep(IDLE);
    let mut over = Vec::new();
    for ((run, before), woken) in runs.iter().zip(before).zip(woken) {
        // Still the same two threads, alive: what follows measured them.
        assert_sdk_threads(run.scenario.name, &run.threads);
        let used = total_cpu(&run.threads) - before;
        let d = run.harness.client.diagnostics();
        let wakeups = d.upload_wakeups - woken;
        println!(
            "idle {:>26}: {:>7.2} ms CPU and {} wake-ups in {} s, queued {}, paused {:?}",
            run.scenario.name,
            used.as_secs_f64() * 1000.0,
            wakeups,
            IDLE.as_secs(),
            d.queued,
            d.paused_reason
        );
        if used > IDLE_BUDGET || wakeups > 0 || d.paused_reason.is_some() || d.queued != 0 {
            over.push(run.scenario.name);
        }
    }
    assert!(
        over.is_empty(),
        "busy while idle or still paused after a success: {over:?}"
    );
}
