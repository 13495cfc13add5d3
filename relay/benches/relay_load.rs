//! Load benchmark of the relay (its own process) in front of the sandbox, on loopback, in two
//! modes, with the machine's "busy thread frozen" control printed before and after.
//!
//! Run: `cargo bench -p app-conversions-relay --bench relay_load` (about a minute). It prints
//! numbers and asserts nothing.
//!
//! Offered load. 10,000 simulated devices, each a task that waits a random time, opens a
//! connection, sends a burst of 1-3 requests of 1-5 events each (one after the other, as an
//! app does at launch), and closes it; then waits again. Bounded: it stops after
//! [`LOAD_TIME`] or [`MAX_REQUESTS`] device requests, whichever comes first. Printed: device
//! requests/s, upstream calls/min (the sandbox counts them), events/s per relay core (events
//! over the relay's CPU seconds, read from `/proc`), the device's round-trip latency through
//! the relay, the same for a request sent straight to the sandbox, and their difference: the
//! latency the relay adds, linger included. This measures the load the bench offers, not what
//! the relay can take.
//!
//! Closed loop ([`closed_loop`]). Devices on keep-alive connections send as fast as the relay
//! answers; the connections are doubled, then bisected, to find the highest device request
//! rate at which nothing is refused and the added p99 stays under linger + 10 ms.
//!
//! Devices, relay and sandbox share the machine's cores, so the numbers are a lower bound for
//! the relay alone. The relay's call budget is raised for the bench (the sandbox is the
//! upstream, not the API), so what is measured is the relay's own capacity.

#[path = "relay_load/closed_loop.rs"]
mod closed_loop;
#[path = "../../benches/common/mod.rs"]
mod common;
#[path = "relay_load/wire.rs"]
mod wire;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app_conversions_sandbox::{Sandbox, SandboxConfig};
use tokio::io::BufReader;
use tokio::net::TcpStream;

use wire::{events_request, exchange, AD_ACCOUNT};

const CONVERSION_TOKEN: &str = "bench-conversion-token";
const APP_TOKEN: &str = "bench-app-token";
const DEVICES: usize = 10_000;
const LOAD_TIME: Duration = Duration::from_secs(10);
const MAX_REQUESTS: u64 = 200_000;
/// Mean pause of a device between bursts.
const MEAN_GAP: Duration = Duration::from_secs(5);
const DIRECT_SAMPLES: usize = 300;
const BATCH_SAMPLES: usize = 30;
/// The relay's linger (its default, set explicitly).
const LINGER_MS: u64 = 50;
/// Length of each run of the busy-thread control.
const CONTROL: Duration = Duration::from_secs(3);

/// What the devices measured.
#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    events: AtomicU64,
    failures: AtomicU64,
    latencies_us: Mutex<Vec<u64>>,
}

fn main() -> Result<(), String> {
    common::print_cpu_availability(CONTROL);
    let sandbox = Sandbox::start(SandboxConfig {
        token: CONVERSION_TOKEN.to_string(),
        ad_account_id: AD_ACCOUNT.to_string(),
        ..Default::default()
    })
    .map_err(|e| format!("sandbox: {e}"))?;
    let relay = Relay::start(&sandbox.base_url())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    println!(
        "offered load: {DEVICES} devices, bursts of 1-3 requests of 1-5 events, mean gap {} s, {} s",
        MEAN_GAP.as_secs(),
        LOAD_TIME.as_secs()
    );

    let mut direct = runtime.block_on(direct_latencies(sandbox.port(), 1..=5, DIRECT_SAMPLES))?;
    let mut batch_calls =
        runtime.block_on(direct_latencies(sandbox.port(), 500..=500, BATCH_SAMPLES))?;
    sandbox.reset();
    let cpu_before = relay.cpu_seconds()?;
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    runtime.block_on(run_devices(relay.port, Arc::clone(&tally)));
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = relay.cpu_seconds()? - cpu_before;
    let calls = sandbox.requests().len() as f64;

    let requests = tally.requests.load(Ordering::Relaxed) as f64;
    let events = tally.events.load(Ordering::Relaxed) as f64;
    let mut latencies = tally
        .latencies_us
        .lock()
        .map_err(|_| "poisoned".to_string())?
        .clone();
    let (r50, r99) = percentiles(&mut latencies);
    let (d50, d99) = percentiles(&mut direct);
    println!(
        "device requests   {requests:>9.0} in {elapsed:.1} s = {:>8.0} requests/s, {:.0} events/s, {} failed",
        requests / elapsed,
        events / elapsed,
        tally.failures.load(Ordering::Relaxed)
    );
    println!(
        "upstream calls    {calls:>9.0} = {:>8.0} calls/min ({:.0} device requests per call, {:.0} events per call)",
        calls / elapsed * 60.0,
        requests / calls.max(1.0),
        events / calls.max(1.0)
    );
    println!(
        "relay CPU         {cpu:>9.2} s = {:>8.0} events/s per core",
        events / cpu.max(f64::EPSILON)
    );
    println!(
        "latency via relay    p50 {r50:>8.2} ms   p99 {r99:>8.2} ms   (linger {LINGER_MS} ms)"
    );
    println!("latency direct       p50 {d50:>8.2} ms   p99 {d99:>8.2} ms");
    println!(
        "added by the relay   p50 {:>8.2} ms   p99 {:>8.2} ms",
        r50 - d50,
        r99 - d99
    );
    let (b50, b99) = percentiles(&mut batch_calls);
    println!(
        "of which the sandbox answering a 500-event batch: p50 {b50:>8.2} ms   p99 {b99:>8.2} ms"
    );
    println!("relay peak RSS    {:>9.1} MB", relay.peak_rss_mb()?);

    let limit_ms = (LINGER_MS + 10) as f64;
    println!(
        "closed loop: devices on keep-alive connections send as fast as answered; sustained = nothing refused, added p99 < {limit_ms:.0} ms"
    );
    let cpu_before = relay.cpu_seconds()?;
    let steps = runtime.block_on(closed_loop::search(
        relay.port,
        relay.metrics_port,
        d99,
        limit_ms,
        || sandbox.reset(),
        |step| {
            println!(
                "  {:>5} connections: {:>8.0} requests/s, {:>8.0} events/s, p50 {:>7.2} ms, p99 {:>7.2} ms (added {:>7.2} ms), {} refused, relay within {limit_ms:.0} ms {}: {}",
                step.connections,
                step.rate,
                step.events_rate,
                step.p50_ms,
                step.p99_ms,
                step.added_p99_ms,
                step.refused,
                step.relay_within_limit
                    .map_or("?".to_string(), |share| format!("{:.2}%", share * 100.0)),
                if step.sustained(limit_ms) { "sustained" } else { "not sustained" }
            );
        },
    ));
    let cpu = relay.cpu_seconds()? - cpu_before;
    match steps
        .iter()
        .filter(|s| s.sustained(limit_ms))
        .max_by(|a, b| a.rate.total_cmp(&b.rate))
    {
        Some(best) => println!(
            "sustainable       {:>9.0} device requests/s ({:.0} events/s) at {} connections, added p99 {:.2} ms",
            best.rate, best.events_rate, best.connections, best.added_p99_ms
        ),
        None => println!("sustainable       none of the steps was sustained"),
    }
    println!(
        "relay CPU in the closed loop {cpu:.2} s; peak RSS {:.1} MB",
        relay.peak_rss_mb()?
    );
    drop(relay);
    drop(sandbox);
    common::print_cpu_availability(CONTROL);
    Ok(())
}

/// The relay binary as a child process, killed on drop.
struct Relay {
    child: std::process::Child,
    port: u16,
    /// Where the relay serves `/metrics` (its latency histogram is read per closed-loop step).
    metrics_port: u16,
}

impl Relay {
    fn start(upstream: &str) -> Result<Relay, String> {
        use std::io::BufRead;
        let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("a free port for the relay's metrics: {e}"))?
            .port();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_app-conversions-relay"))
            .env_remove("RELAY_CONFIG")
            .env("RELAY_UPSTREAM", upstream)
            .env("RELAY_CONVERSION_TOKEN", CONVERSION_TOKEN)
            .env("RELAY_APP_TOKENS", format!("{AD_ACCOUNT}:{APP_TOKEN}"))
            .env("RELAY_LISTEN", "127.0.0.1:0")
            .env("RELAY_LOG", "off")
            .env("RELAY_LINGER_MS", LINGER_MS.to_string())
            .env("RELAY_METRICS_LISTEN", format!("127.0.0.1:{metrics_port}"))
            // The sandbox is the upstream: the API's call budget is not what is measured.
            .env("RELAY_CALLS_PER_MINUTE", "100000")
            .env("RELAY_ALLOW_CALLS_ABOVE_API_LIMIT", "true")
            // Every simulated device shares 127.0.0.1: no per-IP or global limit here.
            .env("RELAY_RATE_LIMIT_PER_SEC", "0")
            .env("RELAY_GLOBAL_RATE_LIMIT_PER_SEC", "0")
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("relay: {e}"))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let mut lines = std::io::BufReader::new(stderr).lines();
        let first = lines
            .next()
            .ok_or("relay exited")?
            .map_err(|e| e.to_string())?;
        std::thread::spawn(move || lines.for_each(drop));
        let port = first
            .split("http://127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| format!("no port in {first:?}"))?;
        Ok(Relay {
            child,
            port,
            metrics_port,
        })
    }

    /// User plus system CPU seconds the relay process has used.
    fn cpu_seconds(&self) -> Result<f64, String> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .map_err(|e| format!("relay CPU time: {e}"))?;
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
        // Fields 14 and 15 of stat; 12 and 13 after the command name.
        match (ticks(11), ticks(12)) {
            (Some(user), Some(system)) => Ok((user + system) / 100.0),
            _ => Err("relay CPU time: unexpected /proc format".to_string()),
        }
    }

    /// Peak resident set size in MB (`VmHWM`).
    fn peak_rss_mb(&self) -> Result<f64, String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .map_err(|e| format!("relay RSS: {e}"))?;
        status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .ok_or_else(|| "relay RSS: no VmHWM".to_string())
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs every device until the time or request bound.
async fn run_devices(port: u16, tally: Arc<Tally>) {
    let deadline = Instant::now() + LOAD_TIME;
    let tasks: Vec<_> = (0..DEVICES)
        .map(|device| {
            let tally = Arc::clone(&tally);
            tokio::spawn(async move { device_loop(device, port, deadline, &tally).await })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
}

async fn device_loop(device: usize, port: u16, deadline: Instant, tally: &Tally) {
    let mut rng = fastrand::Rng::with_seed(device as u64);
    let mut sent = 0u64;
    loop {
        let gap = MEAN_GAP.mul_f64(rng.f64() * 2.0);
        tokio::time::sleep(gap.min(deadline.saturating_duration_since(Instant::now()))).await;
        if Instant::now() >= deadline || tally.requests.load(Ordering::Relaxed) >= MAX_REQUESTS {
            return;
        }
        let Ok(stream) = TcpStream::connect(("127.0.0.1", port)).await else {
            tally.failures.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let mut stream = BufReader::new(stream);
        for _ in 0..rng.usize(1..=3) {
            let events = rng.usize(1..=5);
            let request = events_request(APP_TOKEN, device, sent, events, false);
            sent += 1;
            let started = Instant::now();
            match exchange(&mut stream, &request).await {
                Ok(200) => {
                    let micros = started.elapsed().as_micros() as u64;
                    tally.requests.fetch_add(1, Ordering::Relaxed);
                    tally.events.fetch_add(events as u64, Ordering::Relaxed);
                    if let Ok(mut l) = tally.latencies_us.lock() {
                        l.push(micros);
                    }
                }
                _ => {
                    tally.failures.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            }
        }
    }
}

/// Requests of `sizes` events straight to the sandbox, one at a time: with device-sized
/// requests, the latency a device would see without the relay; with batch-sized ones, the
/// part of the relay's latency that is the upstream's own work.
async fn direct_latencies(
    port: u16,
    sizes: std::ops::RangeInclusive<usize>,
    samples_wanted: usize,
) -> Result<Vec<u64>, String> {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    let mut stream = BufReader::new(stream);
    let mut samples = Vec::with_capacity(samples_wanted);
    let span = sizes.end() - sizes.start() + 1;
    for i in 0..samples_wanted {
        let count = sizes.start() + i % span;
        let request = events_request(CONVERSION_TOKEN, count, i as u64, count, true);
        let started = Instant::now();
        let status = exchange(&mut stream, &request)
            .await
            .map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("sandbox answered {status}"));
        }
        samples.push(started.elapsed().as_micros() as u64);
    }
    Ok(samples)
}

/// p50 and p99 of `samples` (microseconds), in milliseconds.
fn percentiles(samples: &mut [u64]) -> (f64, f64) {
    samples.sort_unstable();
    if samples.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    (
        common::percentile(samples, 0.50),
        common::percentile(samples, 0.99),
    )
}
