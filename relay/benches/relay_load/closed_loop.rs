//! Closed-loop mode: the device request rate the relay sustains.
//!
//! A step runs `connections` devices, each on its own keep-alive connection, each sending a
//! request of 1-5 events as soon as the answer to the one before has arrived (as wrk does), so
//! the load is what the relay can take rather than what the bench offers. After a warm-up,
//! it counts the answered requests and their round-trip latencies. A step passes when nothing
//! was refused (every answer a 200, no connection failed) and the p99 the relay adds (the
//! round trip minus the sandbox's own p99 measured alone) is under linger + 10 ms. Beside it,
//! each step reads the relay's own latency histogram (`/metrics`) and prints the share of the
//! requests the relay itself answered within linger + 10 ms, from headers to answer: what
//! the devices measure beyond that is the load generator and the sandbox sharing the cores.
//!
//! The search doubles the connections from [`FIRST_CONNECTIONS`] while the rate still grows
//! (by 5%) and nothing is refused, up to [`MAX_CONNECTIONS`], whether or not a step passes:
//! the latency is not monotonic in the load, since past 20,000 events/s a batch fills before
//! the linger ends and the devices wait less. Then it bisects between the best passing step
//! and the closest step tried above it. The sustainable rate is the highest rate of a passing
//! step.

use std::time::{Duration, Instant};

use tokio::io::BufReader;
use tokio::net::TcpStream;

use crate::wire::{events_request, exchange};

/// The connections of the first step.
const FIRST_CONNECTIONS: usize = 16;
/// The most connections tried.
const MAX_CONNECTIONS: usize = 2048;
/// Bisection steps after the first failure.
const BISECTIONS: usize = 3;
/// Time before a step starts counting.
const WARM_UP: Duration = Duration::from_millis(700);
/// Time a step counts.
const MEASURED: Duration = Duration::from_secs(3);

/// What one step measured.
pub struct Step {
    /// Devices (connections) sending at once.
    pub connections: usize,
    /// Answered device requests per second.
    pub rate: f64,
    /// Events per second in those requests.
    pub events_rate: f64,
    /// Round-trip latency through the relay, p50, in ms.
    pub p50_ms: f64,
    /// Round-trip latency through the relay, p99, in ms.
    pub p99_ms: f64,
    /// p99 minus the sandbox's own p99 alone: what the relay adds, linger included.
    pub added_p99_ms: f64,
    /// Requests not answered with a 200 (refused or failed connections).
    pub refused: u64,
    /// The share of the step's requests the relay answered within linger + 10 ms by its own
    /// clock (`relay_added_latency_seconds`); `None` when its metrics could not be read.
    pub relay_within_limit: Option<f64>,
}

impl Step {
    /// Whether the relay sustained this step: nothing refused, the added p99 under `limit_ms`.
    pub fn sustained(&self, limit_ms: f64) -> bool {
        self.refused == 0 && self.added_p99_ms < limit_ms
    }
}

/// What one device counted during the measured window.
#[derive(Default)]
struct DeviceTally {
    latencies_us: Vec<u64>,
    events: u64,
    refused: u64,
}

/// Runs the search against the relay on `port` (its metrics on `metrics_port`);
/// `direct_p99_ms` is the sandbox's own p99 and `limit_ms` the added p99 allowed. `reset`
/// runs before each step (the sandbox drops what it kept); `report` hears each step. Every
/// step, in the order run.
pub async fn search(
    port: u16,
    metrics_port: u16,
    direct_p99_ms: f64,
    limit_ms: f64,
    mut reset: impl FnMut(),
    mut report: impl FnMut(&Step),
) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut measure = |connections: usize, steps: &mut Vec<Step>| {
        reset();
        let index = steps.len();
        async move {
            let before = latency_counts(metrics_port).await;
            let mut step = run_step(port, connections, index, direct_p99_ms).await;
            step.relay_within_limit = match (before, latency_counts(metrics_port).await) {
                (Some((w0, n0)), Some((w1, n1))) if n1 > n0 => Some((w1 - w0) / (n1 - n0)),
                _ => None,
            };
            step
        }
    };
    // Doubling, on while the rate still grows and nothing is refused: the latency is not
    // monotonic in the load (past 20,000 events/s batches fill before the linger ends).
    let mut connections = FIRST_CONNECTIONS;
    loop {
        let step = measure(connections, &mut steps).await;
        report(&step);
        let grew = steps.last().is_none_or(|last| step.rate > last.rate * 1.05);
        let go_on = step.refused == 0 && grew && connections < MAX_CONNECTIONS;
        steps.push(step);
        if !go_on {
            break;
        }
        connections = (connections * 2).min(MAX_CONNECTIONS);
    }
    // Bisection between the best sustained step and the closest step tried above it.
    for _ in 0..BISECTIONS {
        let Some((low, high)) = bracket(&steps, limit_ms) else {
            break;
        };
        if high - low <= (low / 8).max(1) {
            break;
        }
        let step = measure((low + high) / 2, &mut steps).await;
        report(&step);
        steps.push(step);
    }
    steps
}

/// The connections of the best sustained step and of the closest step tried above it; `None`
/// when no step was sustained or none was tried above the best.
fn bracket(steps: &[Step], limit_ms: f64) -> Option<(usize, usize)> {
    let best = steps
        .iter()
        .filter(|s| s.sustained(limit_ms))
        .max_by(|a, b| a.rate.total_cmp(&b.rate))?;
    let above = steps
        .iter()
        .map(|s| s.connections)
        .filter(|c| *c > best.connections)
        .min()?;
    Some((best.connections, above))
}

/// One step of `connections` devices; `step` keeps event ids unique across steps.
async fn run_step(port: u16, connections: usize, step: usize, direct_p99_ms: f64) -> Step {
    let counting_from = Instant::now() + WARM_UP;
    let until = counting_from + MEASURED;
    let devices: Vec<_> = (0..connections)
        .map(|i| tokio::spawn(device(port, step * 100_000 + i, counting_from, until)))
        .collect();
    let mut latencies = Vec::new();
    let (mut events, mut refused) = (0u64, 0u64);
    for device in devices {
        match device.await {
            Ok(tally) => {
                latencies.extend(tally.latencies_us);
                events += tally.events;
                refused += tally.refused;
            }
            Err(_) => refused += 1,
        }
    }
    latencies.sort_unstable();
    let seconds = MEASURED.as_secs_f64();
    let (p50_ms, p99_ms) = if latencies.is_empty() {
        (f64::NAN, f64::NAN)
    } else {
        (
            crate::common::percentile(&latencies, 0.50),
            crate::common::percentile(&latencies, 0.99),
        )
    };
    Step {
        connections,
        rate: latencies.len() as f64 / seconds,
        events_rate: events as f64 / seconds,
        p50_ms,
        p99_ms,
        added_p99_ms: p99_ms - direct_p99_ms,
        refused,
        relay_within_limit: None,
    }
}

/// The relay's latency histogram now: requests answered within 60 ms (its bucket at linger
/// + 10 ms) and all requests.
async fn latency_counts(metrics_port: u16) -> Option<(f64, f64)> {
    let text = crate::wire::get(metrics_port, "/metrics").await.ok()?;
    let value = |prefix: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(prefix))
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    Some((
        value(r#"relay_added_latency_seconds_bucket{le="0.06"} "#)?,
        value("relay_added_latency_seconds_count ")?,
    ))
}

/// One device: request after request on a keep-alive connection until `until`, counting
/// those sent from `counting_from` on.
async fn device(port: u16, id: usize, counting_from: Instant, until: Instant) -> DeviceTally {
    let mut tally = DeviceTally::default();
    let mut rng = fastrand::Rng::with_seed(id as u64);
    let mut connection: Option<BufReader<TcpStream>> = None;
    let mut sent = 0u64;
    while Instant::now() < until {
        let stream = match connection.as_mut() {
            Some(stream) => stream,
            None => match TcpStream::connect(("127.0.0.1", port)).await {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    connection.insert(BufReader::new(stream))
                }
                Err(_) => {
                    tally.refused += u64::from(Instant::now() >= counting_from);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let events = rng.usize(1..=5);
        let request = events_request(crate::APP_TOKEN, id, sent, events, false);
        sent += 1;
        let started = Instant::now();
        let answer = exchange(stream, &request).await;
        let counted = started >= counting_from && started < until;
        match answer {
            Ok(200) if counted => {
                tally
                    .latencies_us
                    .push(started.elapsed().as_micros() as u64);
                tally.events += events as u64;
            }
            Ok(200) => {}
            Ok(_) => tally.refused += u64::from(counted),
            Err(_) => {
                tally.refused += u64::from(counted);
                connection = None;
            }
        }
    }
    tally
}
