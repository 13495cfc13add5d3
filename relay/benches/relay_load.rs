//! Load benchmark: 10,000 simulated devices on loopback sending 1-5-event requests in bursts,
//! through the relay (its own process) to the sandbox.
//!
//! Run: `cargo bench -p app-conversions-relay --bench relay_load`. It prints numbers and
//! asserts nothing. Bounded: the load phase stops after [`LOAD_TIME`] or [`MAX_REQUESTS`]
//! device requests, whichever comes first.
//!
//! Method. Each device is a task that waits a random time, opens a connection, sends a burst
//! of 1-3 requests of 1-5 events each (one after the other, as an app does at launch), and
//! closes it; then waits again. The relay runs as a child process with its default linger,
//! so its CPU time and peak RSS are its own, read from `/proc`. Printed: device requests/s,
//! upstream calls/min (the sandbox counts them), events/s per relay core (events over the
//! relay's CPU seconds), the device's round-trip latency through the relay, the same for a
//! request sent straight to the sandbox, and their difference: the latency the relay adds,
//! linger included. Devices, relay and sandbox share the machine's cores, so the numbers are
//! a lower bound for the relay alone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use app_conversions_sandbox::{Sandbox, SandboxConfig};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const CONVERSION_TOKEN: &str = "bench-conversion-token";
const APP_TOKEN: &str = "bench-app-token";
const AD_ACCOUNT: &str = "549768257474";
const DEVICES: usize = 10_000;
const LOAD_TIME: Duration = Duration::from_secs(10);
const MAX_REQUESTS: u64 = 200_000;
/// Mean pause of a device between bursts.
const MEAN_GAP: Duration = Duration::from_secs(5);
const DIRECT_SAMPLES: usize = 300;
const BATCH_SAMPLES: usize = 30;

/// What the devices measured.
#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    events: AtomicU64,
    failures: AtomicU64,
    latencies: Mutex<Vec<f64>>,
}

fn main() -> Result<(), String> {
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
        "relay load bench: {DEVICES} devices, bursts of 1-3 requests of 1-5 events, mean gap {} s, {} s",
        MEAN_GAP.as_secs(),
        LOAD_TIME.as_secs()
    );

    let direct = runtime.block_on(direct_latencies(sandbox.port(), 1..=5, DIRECT_SAMPLES))?;
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
        .latencies
        .lock()
        .map_err(|_| "poisoned".to_string())?
        .clone();
    let (r50, r99) = percentiles(&mut latencies);
    let mut direct = direct;
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
    println!("latency via relay    p50 {r50:>8.2} ms   p99 {r99:>8.2} ms   (default linger 50 ms)");
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
    Ok(())
}

/// The relay binary as a child process, killed on drop.
struct Relay {
    child: std::process::Child,
    port: u16,
}

impl Relay {
    fn start(upstream: &str) -> Result<Relay, String> {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_app-conversions-relay"))
            .env_remove("RELAY_CONFIG")
            .env("RELAY_UPSTREAM", upstream)
            .env("RELAY_CONVERSION_TOKEN", CONVERSION_TOKEN)
            .env("RELAY_APP_TOKENS", format!("{AD_ACCOUNT}:{APP_TOKEN}"))
            .env("RELAY_LISTEN", "127.0.0.1:0")
            .env("RELAY_LOG", "off")
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
        Ok(Relay { child, port })
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
                    let ms = started.elapsed().as_secs_f64() * 1000.0;
                    tally.requests.fetch_add(1, Ordering::Relaxed);
                    tally.events.fetch_add(events as u64, Ordering::Relaxed);
                    if let Ok(mut l) = tally.latencies.lock() {
                        l.push(ms);
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
) -> Result<Vec<f64>, String> {
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
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(samples)
}

/// One HTTP/1.1 POST of `count` events; `with_ip` sets the IP the relay would add.
fn events_request(token: &str, device: usize, n: u64, count: usize, with_ip: bool) -> Vec<u8> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let events: Vec<_> = (0..count)
        .map(|i| {
            let mut user_data = json!({"client_user_agent": "Dalvik/2.1.0 (Linux; U; Android 14)"});
            if with_ip {
                user_data["client_ip_address"] = json!("127.0.0.1");
            }
            json!({
                "event_name": "app_open",
                "action_source": "app_android",
                "event_time": now,
                "event_id": format!("d{device}-{n}-{i}"),
                "user_data": user_data,
                "app_id": "com.example.shop",
                "app_version": "3.4.1",
                "device_brand": "Google",
                "device_model": "Pixel 8",
                "os_version": "14",
            })
        })
        .collect();
    let body = json!({ "data": events }).to_string();
    format!(
        "POST /v5/ad_accounts/{AD_ACCOUNT}/events HTTP/1.1\r\nHost: relay\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Writes `request` and reads the whole answer; its status.
async fn exchange(stream: &mut BufReader<TcpStream>, request: &[u8]) -> std::io::Result<u16> {
    stream.get_mut().write_all(request).await?;
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut length = 0usize;
    loop {
        line.clear();
        if stream.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await?;
    Ok(status)
}

/// p50 and p99 of `samples` (milliseconds).
fn percentiles(samples: &mut [f64]) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(index).copied().unwrap_or(f64::NAN)
    };
    (at(0.50), at(0.99))
}
