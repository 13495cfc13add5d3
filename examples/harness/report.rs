//! How the harness prints what happened: request bodies (pretty JSON, hashed identifiers
//! visible), answers, flush reports and diagnostics.

use app_conversions::{Diagnostics, FlushReport};
use app_conversions_sandbox::RecordedRequest;
use serde_json::json;

/// Prints each request: method line, status, pretty body.
pub fn print_requests(requests: &[RecordedRequest]) {
    for request in requests {
        let query = if request.query.is_empty() {
            String::new()
        } else {
            format!("?{}", request.query)
        };
        println!(
            "  → POST {}{query}  ⇒  HTTP {}",
            request.path, request.status
        );
        let pretty = serde_json::from_str::<serde_json::Value>(&request.body)
            .and_then(|v| serde_json::to_string_pretty(&v))
            .unwrap_or_else(|_| request.body.clone());
        for line in pretty.lines() {
            println!("      {line}");
        }
    }
}

/// Prints a flush report on one line.
pub fn print_flush(report: &FlushReport) {
    println!(
        "  flush: sent {}, processed {}, failed {}, remaining {}, last status {}{}",
        report.sent,
        report.processed,
        report.failed,
        report.remaining,
        report.last_status.map_or("none".into(), |s| s.to_string()),
        if report.timed_out { " (timed out)" } else { "" }
    );
}

/// Diagnostics as pretty JSON.
pub fn diagnostics_json(d: &Diagnostics) -> String {
    let dead: Vec<_> = d
        .recent_dead_letters
        .iter()
        .map(|l| json!({"event_id": l.event_id, "event_name": l.event_name, "error_message": l.error_message, "dead_lettered_at": l.dead_lettered_at}))
        .collect();
    let value = json!({
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
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}
