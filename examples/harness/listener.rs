//! The SDK's delivery listener, turned into timeline lines: what the SDK decided after each
//! answer (wait for a retry and how long, pause, split or shrink the batch).

use std::sync::Arc;

use app_conversions::{BatchOutcome, DeliveryListener};

use crate::timeline::Timeline;

/// Adds a line to the timeline for each decision that is not plain success.
pub struct TimelineListener(pub Arc<Timeline>);

impl DeliveryListener for TimelineListener {
    fn on_batch(&self, outcome: BatchOutcome) {
        if !outcome.will_retry {
            return;
        }
        let message = outcome.message.unwrap_or_default();
        let text = match outcome.status {
            Some(401 | 403 | 404) => format!("delivery paused, events kept: {message}"),
            Some(400) => "splitting the batch to find the refused events".to_string(),
            Some(413) => "halving the batch and sending again".to_string(),
            _ => match self.0.take_retry_after() {
                Some(after) => match after.trim().parse::<f64>() {
                    Ok(secs) => format!("waiting {secs:.1} s (Retry-After)"),
                    Err(_) => format!("waiting until {after} (Retry-After)"),
                },
                None => "waiting: exponential backoff with full jitter".to_string(),
            },
        };
        self.0.wait(&text);
    }
}
