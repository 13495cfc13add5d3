//! One SDK client run by the harness, with every call it makes told on the timeline.

use std::path::PathBuf;
use std::sync::Arc;

use app_conversions::{ConversionsClient, Event, EventName, FlushReport};

use crate::cli::{self, Options};
use crate::event_json;
use crate::listener::TimelineListener;
use crate::timeline::Timeline;

/// A client whose calls and deliveries go on one timeline.
pub struct Session {
    /// The SDK client.
    pub client: Arc<ConversionsClient>,
    /// Where every line goes.
    pub timeline: Arc<Timeline>,
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
        Ok(Session { client, timeline })
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
        self.timeline.result(&text);
        Ok(report)
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
