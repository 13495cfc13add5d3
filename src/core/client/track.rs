//! `track()` on the caller's thread: the event validated, normalised, hashed and narrowed to
//! the privacy state (`event_builder`), the 15-name limit kept, then handed to the store
//! worker. Never touches disk or network.

use std::sync::atomic::Ordering;

use crate::core::diagnostics::without_positions;
use crate::core::error::{ConversionsError, Result};
use crate::core::event_builder::build_event_checked;
use crate::core::model::{Event, EventName, LogLevel, TrackResult, ValidationWarning};
use crate::core::record::PendingEvent;
use crate::core::shared::MAX_CUSTOM_NAMES;
use crate::core::sync::lock;
use crate::core::worker::Command;

use super::{Client, NOT_RECORDED_WITHOUT_CONSENT};

impl Client {
    /// Validates, hashes and queues `event`; returns its id at once. app_install and app_open
    /// are refused: they come from the lifecycle calls only.
    pub fn track(&self, event: Event) -> Result<TrackResult> {
        if matches!(event.name, EventName::AppInstall | EventName::AppOpen) {
            return Err(ConversionsError::invalid(
                "name",
                "app_install and app_open are recorded by the SDK from on_launch and \
                 on_foreground; do not track them",
            ));
        }
        self.record(event)
    }

    /// Records `event` (any name, lifecycle events included).
    /// Validation comes first, consent second: an app's bad event is refused the same way
    /// whether or not the user has given consent yet.
    pub(super) fn record(&self, event: Event) -> Result<TrackResult> {
        self.running()?;
        let context = self.shared.context();
        // app_install never comes this way: the store worker records it (and sends it at once).
        let urgent = event.name == EventName::AppOpen;
        let checked = build_event_checked(event, &context, self.shared.clock.now_secs())?;
        let pending = checked.pending;
        let mut warnings = checked.dropped;
        let refused = if !context.privacy.collection_enabled {
            Some(NOT_RECORDED_WITHOUT_CONSENT.to_string())
        } else {
            self.shared.remote.disabled_reason()
        };
        if let Some(reason) = refused {
            warnings.extend(checked.notes);
            return Ok(TrackResult {
                event_id: pending.event_id,
                recorded: false,
                warnings,
                reason: Some(reason),
            });
        }
        if let Some(name) = &pending.custom_name {
            self.check_custom_name(name)?;
        }
        let event_id = pending.event_id.clone();
        self.report_dropped_fields(&pending.event_name, &warnings);
        for note in &checked.notes {
            self.shared.logger.log(
                LogLevel::Warn,
                format!("{} of a {}: {}", note.field, pending.event_name, note.rule),
            );
        }
        warnings.extend(checked.notes);
        if let Some(warning) = self.no_identity_warning(&pending) {
            warnings.push(warning);
        }
        self.shared.queued_in_channel.fetch_add(1, Ordering::SeqCst);
        if let Err(e) = self.send(Command::Track(pending)) {
            self.shared.queued_in_channel.fetch_sub(1, Ordering::SeqCst);
            return Err(e);
        }
        // Opens go at once (the API allows an hour of lag at most: docs/ARCHITECTURE.md §10);
        // the store worker decides
        // everything else (a full batch, or events waiting for the interval).
        if urgent {
            self.shared.signal.kick();
        }

        Ok(TrackResult {
            event_id,
            recorded: true,
            warnings,
            reason: None,
        })
    }

    /// Counts (by field, list positions left out) and logs the optional values dropped from
    /// an event; the log line names the field and the rule, never the value.
    fn report_dropped_fields(&self, event_name: &str, warnings: &[ValidationWarning]) {
        if warnings.is_empty() {
            return;
        }
        {
            let mut counts = lock(&self.shared.invalid_fields);
            for warning in warnings {
                *counts.entry(without_positions(&warning.field)).or_insert(0) += 1;
            }
        }
        for warning in warnings {
            self.shared.logger.log(
                LogLevel::Warn,
                format!(
                    "dropped {} from a {event_name} event: {}",
                    warning.field, warning.rule
                ),
            );
        }
    }

    /// A warning (also logged) when `event` can be told already to be dropped before sending:
    /// it carries no email, no advertising id and no IP with user agent, and the endpoint is
    /// not a relay that adds the IP. Such an event is still queued (and counted in
    /// `dropped_no_identity` when dropped), so the app sees the same totals either way.
    fn no_identity_warning(&self, event: &PendingEvent) -> Option<ValidationWarning> {
        let relay = self.shared.settings.sends_through_relay;
        if relay || event.has_email || event.has_advertising_id || event.has_ip_and_user_agent {
            return None;
        }
        self.shared.logger.log(
            LogLevel::Warn,
            format!(
                "a {} event has no identity and will be dropped before sending",
                event.event_name
            ),
        );
        Some(ValidationWarning {
            field: "user_data".into(),
            rule: "no identity (no em, no advertising id, no client IP with user agent): \
                   dropped before sending to the Conversions API itself; a relay (any other \
                   host, or endpoint_is_relay) adds the IP"
                .into(),
        })
    }

    /// Enforces the 15-name limit: a known name passes; a new one is refused when 15 are in
    /// use, else counted from now on (it is kept by the store, whenever that can write).
    fn check_custom_name(&self, name: &str) -> Result<()> {
        let mut registry = lock(&self.shared.custom_names);
        if registry.names.contains(name) {
            return Ok(());
        }
        let in_use = registry.names.len();
        if in_use >= MAX_CUSTOM_NAMES {
            return Err(ConversionsError::invalid(
                "custom_event_name",
                format!("at most {MAX_CUSTOM_NAMES} distinct custom event names per ad account; this would be the {}th", in_use + 1),
            ));
        }
        registry.names.insert(name.to_string());
        Ok(())
    }
}
