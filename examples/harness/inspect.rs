//! `inspect --db FILE`: what a buffer holds, read from a private copy so the file itself (one
//! pulled from a device, or the live file of a harness run) is never written.
//!
//! It reads the tables of the SDK's schema directly (see the SDK's `store/schema.rs`): queued
//! events (name, id, age, attempts, next attempt), dead letters with their messages, the
//! counters (drops by reason), the install record and the stored backoff. It does not go
//! through `ConversionsClient`, which would migrate and write the file.

use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension};
use serde_json::{json, Value};

use crate::buffer;
use crate::cli::Options;
use crate::report::span;

/// Queued events listed in text mode; `--json` lists all.
const SHOWN: usize = 50;

/// Runs `inspect`.
pub fn run(options: &Options) -> Result<(), String> {
    let path = options
        .db
        .as_ref()
        .ok_or("inspect needs --db FILE (for example a buffer pulled from a device)")?;
    let copy = buffer::copy(path)?;
    let conn = copy.open()?;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let report =
        read(&conn, copy.schema, now_ms).map_err(|e| format!("cannot read the buffer: {e}"))?;
    if options.machine {
        say!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        print_text(&path.display().to_string(), &report, now_ms);
    }
    Ok(())
}

/// Everything the buffer holds, as JSON (times as stored: Unix seconds, backoff in ms).
fn read(conn: &Connection, schema: u32, now_ms: i64) -> rusqlite::Result<Value> {
    let mut stmt = conn.prepare(
        "SELECT event_name, event_id, created_at, event_time, attempts, next_attempt_at
         FROM events ORDER BY id",
    )?;
    let queued: Vec<Value> = stmt
        .query_map([], |r| {
            Ok(json!({
                "event_name": r.get::<_, String>(0)?,
                "event_id": r.get::<_, String>(1)?,
                "created_at": r.get::<_, i64>(2)?,
                "event_time": r.get::<_, i64>(3)?,
                "attempts": r.get::<_, i64>(4)?,
                "next_attempt_at_ms": r.get::<_, i64>(5)?,
            }))
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare(
        "SELECT event_name, event_id, error_message, dead_lettered_at
         FROM dead_letters ORDER BY id DESC",
    )?;
    let dead: Vec<Value> = stmt
        .query_map([], |r| {
            Ok(json!({
                "event_name": r.get::<_, String>(0)?,
                "event_id": r.get::<_, String>(1)?,
                "error_message": r.get::<_, String>(2)?,
                "dead_lettered_at": r.get::<_, i64>(3)?,
            }))
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare("SELECT name, value FROM counters ORDER BY name")?;
    let counters: serde_json::Map<String, Value> = stmt
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, json!(r.get::<_, i64>(1)?)))
        })?
        .collect::<Result<_, _>>()?;
    let install = conn
        .query_row(
            "SELECT install_id, recorded_at, existing_user FROM install WHERE id = 1",
            [],
            |r| {
                Ok(json!({
                    "install_id": r.get::<_, String>(0)?,
                    "recorded_at": r.get::<_, i64>(1)?,
                    "existing_user": r.get::<_, i64>(2)? != 0,
                }))
            },
        )
        .optional()?;
    let not_before: i64 = conn
        .query_row(
            "SELECT value FROM delivery_state WHERE key = 'not_before'",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    let mut stmt =
        conn.prepare("SELECT ad_account_id, name FROM custom_event_names ORDER BY 1, 2")?;
    let custom: Vec<Value> = stmt
        .query_map([], |r| {
            Ok(json!({"ad_account_id": r.get::<_, String>(0)?, "name": r.get::<_, String>(1)?}))
        })?
        .collect::<Result<_, _>>()?;
    Ok(json!({
        "schema_version": schema,
        "queued": queued,
        "dead_letters": dead,
        "counters": counters,
        "install": install,
        "backoff": {
            "not_before_ms": not_before,
            "active": not_before > now_ms,
        },
        "custom_event_names": custom,
    }))
}

fn print_text(path: &str, report: &Value, now_ms: i64) {
    let now = now_ms / 1000;
    say!(
        "buffer {path} (schema version {})",
        report["schema_version"]
    );
    match report["install"].as_object() {
        Some(install) => say!(
            "install record: {} (recorded {}, {}){}",
            install["install_id"].as_str().unwrap_or("?"),
            utc(install["recorded_at"].as_i64().unwrap_or(now)),
            ago(now - install["recorded_at"].as_i64().unwrap_or(now)),
            if install["existing_user"] == true {
                ", an existing user: no app_install was recorded"
            } else {
                ""
            }
        ),
        None => say!("install record: none (no launch has been recorded)"),
    }
    let not_before = report["backoff"]["not_before_ms"].as_i64().unwrap_or(0);
    if not_before > now_ms {
        say!(
            "backoff: no request before {} (in {})",
            utc(not_before / 1000),
            span((not_before - now_ms) / 1000)
        );
    } else {
        say!("backoff: none");
    }
    let queued = report["queued"].as_array().cloned().unwrap_or_default();
    say!("\nqueued: {}", queued.len());
    if !queued.is_empty() {
        say!(
            "  {:<20} {:<38} {:>10} {:>8}  NEXT ATTEMPT",
            "NAME",
            "EVENT ID",
            "AGE",
            "ATTEMPTS"
        );
    }
    for event in queued.iter().take(SHOWN) {
        let next = event["next_attempt_at_ms"].as_i64().unwrap_or(0);
        let next = if next > now_ms {
            format!("in {}", span((next - now_ms) / 1000))
        } else {
            "due".to_string()
        };
        say!(
            "  {:<20} {:<38} {:>10} {:>8}  {next}",
            event["event_name"].as_str().unwrap_or("?"),
            event["event_id"].as_str().unwrap_or("?"),
            span(now - event["created_at"].as_i64().unwrap_or(now)),
            // A number, not a JSON value: a JSON value ignores the column's width.
            event["attempts"].as_i64().unwrap_or(0),
        );
    }
    if queued.len() > SHOWN {
        say!("  ... and {} more (--json lists all)", queued.len() - SHOWN);
    }
    let dead = report["dead_letters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    say!("\ndead letters: {}", dead.len());
    for letter in dead.iter().take(SHOWN) {
        say!(
            "  {} {} ({}): {}",
            letter["event_name"].as_str().unwrap_or("?"),
            letter["event_id"].as_str().unwrap_or("?"),
            ago(now - letter["dead_lettered_at"].as_i64().unwrap_or(now)),
            letter["error_message"].as_str().unwrap_or("?"),
        );
    }
    say!("\ncounters:");
    let counters = report["counters"].as_object().cloned().unwrap_or_default();
    for name in KNOWN_COUNTERS {
        say!(
            "  {name:<24} {}",
            counters.get(name).and_then(Value::as_i64).unwrap_or(0)
        );
    }
    for (name, value) in counters
        .iter()
        .filter(|(name, _)| !KNOWN_COUNTERS.contains(&name.as_str()))
    {
        say!("  {name:<24} {value}");
    }
    if let Some(names) = report["custom_event_names"]
        .as_array()
        .filter(|n| !n.is_empty())
    {
        let names: Vec<&str> = names.iter().filter_map(|n| n["name"].as_str()).collect();
        say!("\ncustom event names registered: {}", names.join(", "));
    }
}

const KNOWN_COUNTERS: [&str; 9] = [
    "delivered",
    "warnings",
    "dropped_expired",
    "dropped_evicted",
    "dropped_purged",
    "dropped_invalid",
    "dropped_no_identity",
    "existing_user_installs",
    "database_recoveries",
];

/// `3 s ago`, `2 h 5 min ago`.
fn ago(secs: i64) -> String {
    format!("{} ago", span(secs))
}

/// Unix seconds as `2026-12-02 20:54:06 UTC` (days to civil date after H. Hinnant).
fn utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
