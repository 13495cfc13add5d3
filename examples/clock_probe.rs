//! An SDK process driven line by line on stdin, for tests that move its clock from outside
//! (`tests/faketime.rs` runs it under libfaketime, which moves the wall clock of this process
//! alone and leaves its monotonic clock). It reads its endpoint from `PROBE_ENDPOINT` and its
//! buffer from `PROBE_DB`, and runs with `retry_max_delay_secs = 3`.
//!
//! Commands, one per line, each answered by one JSON line on stdout:
//! `track N` (N checkout events), `flush MS`, `diagnostics`, `quit` (shutdown, then exit).

use std::io::{BufRead, Write};
use std::time::Instant;

use app_conversions::{
    ActionSource, AppInfo, ClientConfig, ConversionsClient, CustomData, DeviceInfo, Event,
    EventName, PrivacyState, UserData,
};

fn main() {
    if let Err(message) = run() {
        eprintln!("clock_probe: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let endpoint = std::env::var("PROBE_ENDPOINT").map_err(|_| "PROBE_ENDPOINT is not set")?;
    let db = std::env::var("PROBE_DB").map_err(|_| "PROBE_DB is not set")?;
    let config = ClientConfig {
        retry_max_delay_secs: 3,
        ..ClientConfig::new(
            endpoint,
            "549768257474",
            "test-token-3f9a1c",
            db,
            ActionSource::AppAndroid,
        )
    };
    let device = DeviceInfo {
        user_agent: Some("Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8)".into()),
        ..Default::default()
    };
    let client =
        ConversionsClient::new(config, AppInfo::default(), device, PrivacyState::default())
            .map_err(|e| e.to_string())?;
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for line in stdin.lock().lines() {
        let line = line.map_err(|e| e.to_string())?;
        let mut words = line.split_whitespace();
        let number = |w: Option<&str>| w.and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
        let answer = match words.next() {
            Some("track") => {
                for i in 0..number(words.next()) {
                    client.track(checkout(i)).map_err(|e| e.to_string())?;
                }
                serde_json::json!({"tracked": true})
            }
            Some("flush") => {
                let started = Instant::now();
                let report = client
                    .flush(number(words.next()))
                    .map_err(|e| e.to_string())?;
                serde_json::json!({
                    "remaining": report.remaining,
                    "timed_out": report.timed_out,
                    "elapsed_ms": started.elapsed().as_millis() as u64,
                })
            }
            Some("diagnostics") => {
                let d = client.diagnostics();
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |t| t.as_secs());
                serde_json::json!({
                    "queued": d.queued,
                    "next_attempt_time": d.next_attempt_time,
                    "wall_now": now,
                })
            }
            Some("quit") => {
                client.shutdown(5_000).map_err(|e| e.to_string())?;
                return Ok(());
            }
            _ => serde_json::json!({"error": format!("unknown command {line:?}")}),
        };
        writeln!(out, "{answer}").map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn checkout(i: u64) -> Event {
    Event {
        user_data: Some(UserData {
            emails: vec!["person@example.com".into()],
            ..Default::default()
        }),
        custom_data: Some(CustomData {
            currency: Some("USD".into()),
            value: Some(format!("{i}.00")),
            ..Default::default()
        }),
        ..Event::new(EventName::Checkout)
    }
}
