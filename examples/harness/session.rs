//! One SDK client run by the harness, with every call it makes told on the timeline.

use std::path::PathBuf;
use std::sync::Arc;

use app_conversions::{ConversionsClient, Diagnostics, Event, EventName, FlushReport};

use crate::cli::{self, Options};
use crate::event_json;
use crate::listener::TimelineListener;
use crate::report;
use crate::timeline::{plural, Timeline};

/// A client whose calls and deliveries go on one timeline.
pub struct Session {
    /// The SDK client.
    pub client: Arc<ConversionsClient>,
    /// Where every line goes.
    pub timeline: Arc<Timeline>,
    /// The device-side drop counters at start, to tell what this run dropped.
    drops_before: Drops,
}

/// The counters of events the SDK dropped on the device, by reason.
#[derive(Debug, Clone, Copy, Default)]
struct Drops {
    no_identity: u64,
    expired: u64,
    evicted: u64,
    purged: u64,
    invalid: u64,
}

impl Drops {
    fn of(d: &Diagnostics) -> Drops {
        Drops {
            no_identity: d.dropped_no_identity,
            expired: d.dropped_expired,
            evicted: d.dropped_evicted,
            purged: d.dropped_purged,
            invalid: d.dropped_invalid,
        }
    }
}

impl Session {
    /// A client for `endpoint` on `db`, its deliveries reported on `timeline`.
    pub fn start(
        options: &Options,
        endpoint: &str,
        db: PathBuf,
        min_background_secs: u64,
        timeline: Arc<Timeline>,
    ) -> Result<Session, String> {
        let client = cli::client(options, endpoint, db, min_background_secs)?;
        client.set_delivery_listener(Some(Arc::new(TimelineListener(Arc::clone(&timeline)))));
        timeline.set_advertising_id(options.advertising_id.is_some());
        let drops_before = Drops::of(&client.diagnostics());
        Ok(Session {
            client,
            timeline,
            drops_before,
        })
    }

    /// Tracks `event`, telling the timeline; returns its event id.
    pub fn track(&self, event: Event) -> Result<String, String> {
        let name = event_name(&event);
        let keys = event_json::user_data_keys(&event);
        self.timeline.action(&format!("track {name}"));
        let result = self.client.track(event).map_err(|e| e.to_string())?;
        self.timeline.expect_keys(&result.event_id, keys);
        if !result.recorded {
            self.timeline.result("not recorded: collection is disabled");
        }
        for dropped in &result.warnings {
            self.timeline
                .result(&format!("dropped {}: {}", dropped.field, dropped.rule));
        }
        Ok(result.event_id)
    }

    /// Flushes for up to `timeout_ms` and tells what the flush achieved.
    pub fn flush(&self, timeout_ms: u64) -> Result<FlushReport, String> {
        let report = self.client.flush(timeout_ms).map_err(|e| e.to_string())?;
        let mut text = format!(
            "flush returned: {} processed, {} waiting",
            report.processed, report.remaining
        );
        if report.failed > 0 {
            text.push_str(&format!(", {} refused", report.failed));
        }
        if report.timed_out {
            text.push_str(&format!(" (its {} ms ran out)", timeout_ms));
        }
        if report.remaining > 0 {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            if let Some(next) = self.client.diagnostics().next_attempt_time {
                text.push_str(&format!("; next attempt {}", report::relative(next, now)));
            }
        }
        self.timeline.result(&text);
        Ok(report)
    }

    /// Prints a line for each reason the SDK dropped events on the device since the start
    /// (nothing of them reached the endpoint), with what would have kept them; returns how
    /// many were dropped.
    pub fn report_drops(&self, options: &Options) -> u64 {
        let now = Drops::of(&self.client.diagnostics());
        let before = self.drops_before;
        let identity_hint = if options.ios {
            "without tracking authorization only the IP identifies an iOS user: --att authorized, or --relay for an endpoint that adds the IP"
        } else {
            "an advertising id without --opt-out, an email, or --relay for an endpoint that adds the IP"
        };
        let reasons = [
            (
                now.no_identity.saturating_sub(before.no_identity),
                format!(
                    "no identity: no em, hashed_maids or client IP plus user agent left to send \
                     straight to the API ({identity_hint})"
                ),
            ),
            (
                now.expired.saturating_sub(before.expired),
                "expired: older than max_event_age_secs".to_string(),
            ),
            (
                now.evicted.saturating_sub(before.evicted),
                "evicted: the buffer was full".to_string(),
            ),
            (
                now.purged.saturating_sub(before.purged),
                "purged: collection disabled or forget()".to_string(),
            ),
            (
                now.invalid.saturating_sub(before.invalid),
                "invalid: an event_id already queued".to_string(),
            ),
        ];
        let mut total = 0;
        for (count, reason) in reasons.into_iter().filter(|(count, _)| *count > 0) {
            total += count;
            self.timeline.result(&format!(
                "dropped on the device: {}, {reason}",
                plural(count as usize, "event")
            ));
        }
        total
    }

    /// Shuts the client down, waiting up to 10 s for its threads.
    pub fn shutdown(&self) -> Result<(), String> {
        self.client.shutdown(10_000).map_err(|e| e.to_string())
    }
}

/// The name an event is sent under.
pub fn event_name(event: &Event) -> String {
    match (&event.name, &event.custom_event_name) {
        (EventName::Custom, Some(custom)) => custom.clone(),
        (name, _) => name.wire_name().to_string(),
    }
}
