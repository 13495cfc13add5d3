//! Relay throughput and added latency, with the sandbox as upstream on loopback.
//!
//! Run: `cargo bench -p app-conversions-relay --bench relay_throughput`. It prints numbers
//! and asserts nothing. Bounded: each phase stops after a fixed time or request count.
//!
//! Method. Every request carries 100 events. Requests through the relay carry events without
//! `client_ip_address`, so the relay does its full work (parse, fill 100 IPs, re-serialise);
//! direct requests carry the same events with the IP already set, so the sandbox does the same
//! work on both paths and the difference is the relay's cost. Latency is measured one request
//! at a time, alternating direct and relayed requests so drift affects both equally.
//! Throughput is measured with several concurrent clients. Client, relay and sandbox share the
//! machine's cores, so the numbers are a lower bound for the relay alone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use app_conversions_relay::{LogTarget, RelayConfig, RelayHandle};
use app_conversions_sandbox::{Sandbox, SandboxConfig};
use serde_json::{json, Value};
use ureq::Agent;

const CONVERSION_TOKEN: &str = "bench-conversion-token";
const APP_TOKEN: &str = "bench-app-token";
const AD_ACCOUNT: &str = "549768257474";
const EVENTS_PER_REQUEST: usize = 100;
const LATENCY_PAIRS: usize = 300;
const THROUGHPUT_TIME: Duration = Duration::from_secs(3);
const THROUGHPUT_MAX_REQUESTS: u64 = 20_000;
const CONCURRENCY: usize = 8;

fn main() -> Result<(), String> {
    let sandbox = Sandbox::start(SandboxConfig {
        token: CONVERSION_TOKEN.to_string(),
        ad_account_id: AD_ACCOUNT.to_string(),
        ..Default::default()
    })
    .map_err(|e| format!("sandbox: {e}"))?;
    let mut config = RelayConfig::new(sandbox.base_url(), CONVERSION_TOKEN)
        .with_app_token(APP_TOKEN, AD_ACCOUNT);
    config.rate_limit_per_sec = 0.0;
    config.global_rate_limit_per_sec = 0.0;
    // One request at a time has nothing to coalesce with: send each at once, so the numbers
    // are the relay's own cost (the load bench measures coalescing, linger included).
    config.linger = Duration::ZERO;
    config.log = LogTarget::Off;
    let relay = RelayHandle::start(config).map_err(|e| format!("relay: {e}"))?;

    let direct = Target {
        url: events_url(&sandbox.base_url()),
        token: CONVERSION_TOKEN,
        body: batch(true),
    };
    let relayed = Target {
        url: events_url(&relay.base_url()),
        token: APP_TOKEN,
        body: batch(false),
    };
    println!(
        "relay bench: {EVENTS_PER_REQUEST} events/request, body {} bytes via relay, {} direct",
        relayed.body.len(),
        direct.body.len()
    );

    let client: Agent = Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .build()
        .into();
    // Warm up connections and caches on both paths.
    for _ in 0..20 {
        direct.send(&client)?;
        relayed.send(&client)?;
    }
    sandbox.reset();

    let mut lat_direct = Vec::with_capacity(LATENCY_PAIRS);
    let mut lat_relay = Vec::with_capacity(LATENCY_PAIRS);
    for _ in 0..LATENCY_PAIRS {
        lat_direct.push(direct.send(&client)?);
        lat_relay.push(relayed.send(&client)?);
    }
    sandbox.reset();
    let (d50, d99) = percentiles(&mut lat_direct);
    let (r50, r99) = percentiles(&mut lat_relay);
    println!("latency, sequential, {LATENCY_PAIRS} requests each:");
    println!("  direct to sandbox   p50 {d50:>8.3} ms   p99 {d99:>8.3} ms");
    println!("  via relay           p50 {r50:>8.3} ms   p99 {r99:>8.3} ms");
    println!(
        "  added by the relay  p50 {:>8.3} ms   p99 {:>8.3} ms",
        r50 - d50,
        r99 - d99
    );

    for (name, target) in [("direct to sandbox", &direct), ("via relay", &relayed)] {
        let (requests, elapsed) = throughput(&client, target)?;
        sandbox.reset();
        let rps = requests as f64 / elapsed.as_secs_f64();
        println!(
            "throughput {name:<17} {CONCURRENCY} clients: {rps:>8.0} requests/s  {:>9.0} events/s  ({requests} requests in {:.2} s)",
            rps * EVENTS_PER_REQUEST as f64,
            elapsed.as_secs_f64()
        );
    }
    relay.shutdown();
    Ok(())
}

/// One endpoint with its token and request body.
struct Target {
    url: String,
    token: &'static str,
    body: String,
}

impl Target {
    /// Sends the body once; the latency in milliseconds, or an error for a non-200 answer.
    fn send(&self, client: &Agent) -> Result<f64, String> {
        let started = Instant::now();
        let mut response = client
            .post(&self.url)
            .header("authorization", &format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .send(self.body.as_str())
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response
            .body_mut()
            .read_to_vec()
            .map_err(|e| e.to_string())?;
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        if status != 200 {
            return Err(format!(
                "{} answered {status}: {}",
                self.url,
                String::from_utf8_lossy(&body)
            ));
        }
        Ok(elapsed)
    }
}

/// Requests completed by [`CONCURRENCY`] client threads (sharing one connection pool) within
/// the time or count bound.
fn throughput(client: &Agent, target: &Target) -> Result<(u64, Duration), String> {
    let done = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..CONCURRENCY)
            .map(|_| {
                scope.spawn(|| {
                    while started.elapsed() < THROUGHPUT_TIME
                        && done.load(Ordering::Relaxed) < THROUGHPUT_MAX_REQUESTS
                    {
                        target.send(client)?;
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok::<(), String>(())
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| {
            w.join()
                .map_err(|_| "a client thread panicked".to_string())?
        })
    })?;
    Ok((done.load(Ordering::Relaxed), started.elapsed()))
}

fn events_url(base: &str) -> String {
    format!("{base}/v5/ad_accounts/{AD_ACCOUNT}/events")
}

/// A 100-event batch; `with_ip` sets the address the relay would have added.
fn batch(with_ip: bool) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let events: Vec<Value> = (0..EVENTS_PER_REQUEST)
        .map(|i| {
            let mut user_data =
                json!({ "client_user_agent": "Dalvik/2.1.0 (Linux; U; Android 14)" });
            if with_ip {
                user_data["client_ip_address"] = json!("127.0.0.1");
            }
            json!({
                "event_name": "add_to_cart",
                "action_source": "app_android",
                "event_time": now,
                "event_id": format!("bench-{i}"),
                "user_data": user_data,
                "custom_data": { "currency": "USD", "value": "12.50", "content_ids": ["sku-1"] },
                "app_id": "com.example.shop",
                "app_version": "3.4.1",
                "device_brand": "Google",
                "device_model": "Pixel 8",
                "os_version": "14",
                "language": "en",
            })
        })
        .collect();
    json!({ "data": events }).to_string()
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
