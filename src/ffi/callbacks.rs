//! Traits the app implements in Swift or Kotlin: a delivery listener and a log sink. Both are
//! called on the SDK's own threads, never the caller's; a failing implementation is caught.

use std::sync::Arc;

use crate::core::model::{BatchOutcome, LogLevel};

/// Hears the outcome of every request, on the SDK's upload thread.
#[uniffi::export(with_foreign)]
pub trait DeliveryListener: Send + Sync {
    /// One request's outcome: events sent, status, processed, failed, whether they will be retried.
    fn on_batch(&self, outcome: BatchOutcome);
}

/// Receives the SDK's log lines (tokens and identifiers are never in them). The wrappers
/// route them to os_log and Logcat.
#[uniffi::export(with_foreign)]
pub trait LogSink: Send + Sync {
    /// One log line.
    fn log(&self, level: LogLevel, message: String);
}

/// Adapts an app's listener to the core's trait.
pub(crate) struct ListenerAdapter(pub Arc<dyn DeliveryListener>);

impl crate::core::shared::DeliveryListener for ListenerAdapter {
    fn on_batch(&self, outcome: BatchOutcome) {
        self.0.on_batch(outcome);
    }
}

/// Adapts an app's log sink to the core's trait.
pub(crate) struct LogSinkAdapter(pub Arc<dyn LogSink>);

impl crate::core::log::LogSink for LogSinkAdapter {
    fn log(&self, level: LogLevel, message: String) {
        self.0.log(level, message);
    }
}
