//! `replay --db FILE [--endpoint URL --test-mode]`: sends the events of a buffer (one pulled
//! from a device) again and prints the timeline, without changing FILE.
//!
//! The SDK runs on a private copy (`buffer.rs`), so FILE keeps its bytes and no lock, `-wal` or
//! `-shm` file appears beside it. The copy's stored backoff and retry times are cleared first,
//! so the replay sends at once instead of waiting out a backoff the device had. Events go as
//! they were recorded (the harness's privacy state is the loosest, and a looser state never
//! adds identifiers). Without `--endpoint` they go to the embedded sandbox; a real endpoint is
//! used only with `--test-mode`, so that a replay can never record conversions twice.

use std::sync::Arc;

use rusqlite::Connection;

use crate::buffer;
use crate::cli::{self, Options};
use crate::proxy::Proxy;
use crate::report;
use crate::session::Session;
use crate::timeline::{plural, Timeline};

/// Runs `replay`; `Ok(false)` when events were left undelivered.
pub fn run(options: &Options) -> Result<bool, String> {
    let path = options
        .db
        .as_ref()
        .ok_or("replay needs --db FILE (for example a buffer pulled from a device)")?;
    if let Some(url) = &options.endpoint {
        if !is_loopback(url) && !options.test_mode {
            return Err(format!(
                "replay sends to {url} only in test mode: add --test-mode (the events would \
                 otherwise be recorded a second time)"
            ));
        }
    }
    let copy = buffer::copy(path)?;
    let queued = clear_backoff(&Connection::open(&copy.path).map_err(|e| e.to_string())?)
        .map_err(|e| format!("cannot prepare the copy: {e}"))?;
    let timeline = Arc::new(Timeline::new(options.mode()));
    let (url, _sandbox) = cli::endpoint(options)?;
    let proxy = Proxy::start(&url, "", Arc::clone(&timeline))?;
    timeline.info(&format!(
        "replaying {} from {} (a copy; the file is not changed)",
        plural(queued, "queued event"),
        path.display()
    ));
    timeline.info(&format!(
        "  endpoint: {url}{}{}",
        if options.endpoint.is_none() {
            " (embedded sandbox)"
        } else {
            ""
        },
        if options.test_mode { ", test mode" } else { "" }
    ));
    let mut replay_options = options.clone();
    replay_options.advertising_id = None;
    replay_options.opt_out = false;
    timeline.action("start the SDK on the copy, then flush");
    let session = Session::start(
        &replay_options,
        &proxy.base_url(),
        copy.path.clone(),
        30,
        Arc::clone(&timeline),
    )?;
    let flushed = session.flush(60_000);
    if let Ok(report) = &flushed {
        timeline.result(&format!(
            "this replay sent {}: {} processed, {} refused, {} still waiting",
            plural(report.sent as usize, "event"),
            report.processed,
            report.failed,
            report.remaining
        ));
    }
    session.report_drops(options);
    timeline.step("Diagnostics of the copy (counted since the device's first launch)");
    let diagnostics = session.client.diagnostics();
    report::print_diagnostics(&timeline, &diagnostics);
    session.shutdown()?;
    drop(proxy);
    let report = flushed?;
    Ok(report.remaining == 0)
}

/// Makes every event of the copy due now and forgets its stored backoff; returns the queue size.
fn clear_backoff(conn: &Connection) -> rusqlite::Result<usize> {
    conn.execute_batch(
        "UPDATE events SET next_attempt_at = 0;
         DELETE FROM delivery_state WHERE key = 'not_before';",
    )?;
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
    Ok(n.max(0) as usize)
}

/// `http://127.0.0.1...`, `http://localhost...` or `http://[::1]...`.
fn is_loopback(url: &str) -> bool {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .unwrap_or("");
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    matches!(host, "localhost" | "[::1]") || host.starts_with("127.")
}
