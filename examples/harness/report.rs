//! Diagnostics for people (a short table of what matters, the rest only when not zero) and for
//! machines (every field as JSON).

use app_conversions::Diagnostics;
use serde_json::{json, Value};

use crate::timeline::{Mode, Timeline};

/// Prints the diagnostics as a short table, or as one JSON line in `--json` mode.
pub fn print_diagnostics(timeline: &Timeline, d: &Diagnostics) {
    if timeline.mode() == Mode::Json {
        say!(
            "{}",
            json!({"kind": "diagnostics", "diagnostics": diagnostics_value(d)})
        );
        return;
    }
    for (name, value) in diagnostics_rows(d) {
        timeline.info(&format!("  {name:<22} {value}"));
    }
}

/// The rows of the table: the main counts always, the others when they say something.
pub fn diagnostics_rows(d: &Diagnostics) -> Vec<(&'static str, String)> {
    let dropped = d.dropped_expired
        + d.dropped_evicted
        + d.dropped_purged
        + d.dropped_invalid
        + d.dropped_no_identity;
    let mut rows = vec![
        ("queued", d.queued.to_string()),
        ("delivered", d.delivered.to_string()),
        ("dead-lettered", d.dead_lettered.to_string()),
        ("dropped", drops(d, dropped)),
        (
            "last status",
            d.last_status.map_or("none".into(), |s| s.to_string()),
        ),
    ];
    let optional = [
        (
            "oldest queued",
            d.oldest_queued_age_secs
                .map(|s| format!("{} ago", span(i64::try_from(s).unwrap_or(i64::MAX)))),
        ),
        (
            "next attempt",
            d.next_attempt_time.map(|t| relative(t, unix_now())),
        ),
        (
            "last attempt",
            d.last_attempt_time.map(|t| relative(t, unix_now())),
        ),
        ("paused", d.paused_reason.clone()),
        ("last error", d.last_error.clone()),
        ("storage error", d.storage_error.clone()),
        (
            "consecutive failures",
            (d.consecutive_failures > 0).then(|| d.consecutive_failures.to_string()),
        ),
        ("warnings", (d.warnings > 0).then(|| d.warnings.to_string())),
        (
            "existing-user installs",
            (d.existing_user_installs > 0).then(|| d.existing_user_installs.to_string()),
        ),
        (
            "malformed ad IDs",
            (d.malformed_advertising_ids > 0).then(|| d.malformed_advertising_ids.to_string()),
        ),
        (
            "database recoveries",
            (d.database_recoveries > 0).then(|| d.database_recoveries.to_string()),
        ),
        (
            "worker panics",
            (d.worker_panics > 0).then(|| d.worker_panics.to_string()),
        ),
    ];
    rows.extend(
        optional
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name, v))),
    );
    for letter in d.recent_dead_letters.iter().take(5) {
        rows.push((
            "dead letter",
            format!(
                "{} {}: {}",
                letter.event_name, letter.event_id, letter.error_message
            ),
        ));
    }
    rows
}

/// The time now, Unix seconds.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A moment `at` seen from `now` (Unix seconds): `in 25 s`, `3 min 5 s ago`, `now`.
pub fn relative(at: i64, now: i64) -> String {
    match at.saturating_sub(now) {
        0 => "now".to_string(),
        ahead if ahead > 0 => format!("in {}", span(ahead)),
        behind => format!("{} ago", span(behind.saturating_neg())),
    }
}

/// A duration in seconds as `45 s`, `12 min 3 s`, `2 h 5 min`, `3 d 4 h`.
pub fn span(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        3600..=86_399 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

/// `0`, or the total with its reasons: `3 (expired 1, no_identity 2)`.
fn drops(d: &Diagnostics, total: u64) -> String {
    let reasons: Vec<String> = [
        ("expired", d.dropped_expired),
        ("evicted", d.dropped_evicted),
        ("purged", d.dropped_purged),
        ("invalid", d.dropped_invalid),
        ("no_identity", d.dropped_no_identity),
    ]
    .iter()
    .filter(|(_, n)| *n > 0)
    .map(|(name, n)| format!("{name} {n}"))
    .collect();
    if reasons.is_empty() {
        total.to_string()
    } else {
        format!("{total} ({})", reasons.join(", "))
    }
}

/// Every diagnostics field as JSON.
pub fn diagnostics_value(d: &Diagnostics) -> Value {
    let dead: Vec<_> = d
        .recent_dead_letters
        .iter()
        .map(|l| json!({"event_id": l.event_id, "event_name": l.event_name, "error_message": l.error_message, "dead_lettered_at": l.dead_lettered_at}))
        .collect();
    json!({
        "queued": d.queued,
        "oldest_queued_age_secs": d.oldest_queued_age_secs,
        "dead_lettered": d.dead_lettered,
        "recent_dead_letters": dead,
        "delivered": d.delivered,
        "warnings": d.warnings,
        "dropped": {
            "expired": d.dropped_expired,
            "evicted": d.dropped_evicted,
            "purged": d.dropped_purged,
            "invalid": d.dropped_invalid,
            "no_identity": d.dropped_no_identity,
        },
        "existing_user_installs": d.existing_user_installs,
        "malformed_advertising_ids": d.malformed_advertising_ids,
        "last_attempt_time": d.last_attempt_time,
        "last_status": d.last_status,
        "last_error": d.last_error,
        "next_attempt_time": d.next_attempt_time,
        "paused_reason": d.paused_reason,
        "consecutive_failures": d.consecutive_failures,
        "storage_error": d.storage_error,
        "database_recoveries": d.database_recoveries,
        "worker_panics": d.worker_panics,
    })
}

/// Diagnostics as pretty JSON.
pub fn diagnostics_json(d: &Diagnostics) -> String {
    serde_json::to_string_pretty(&diagnostics_value(d)).unwrap_or_default()
}
