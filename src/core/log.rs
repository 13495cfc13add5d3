//! Logging through a sink the app provides (the wrappers route it to os_log and Logcat).
//!
//! Lines are written by the SDK from already-hashed data, and every line is passed through
//! redaction of the current token as a last line of defence, so no secret reaches a log.

use std::sync::{Arc, Mutex};

use crate::core::callback::CallbackSlot;
use crate::core::sync::lock;

use crate::core::model::LogLevel;

/// Receives the SDK's log lines (tokens and identifiers are never in them); implemented by
/// the app. The wrappers route them to os_log and Logcat. It is called on the SDK's threads
/// with no SDK lock held, so it may call back into the SDK.
#[cfg_attr(feature = "ffi", uniffi::export(with_foreign))]
pub trait LogSink: Send + Sync {
    /// One log line.
    fn log(&self, level: LogLevel, message: String);
}

/// Filters by level, redacts the token, and forwards to the sink.
#[derive(Clone)]
pub struct Logger {
    level: LogLevel,
    sink: Arc<CallbackSlot<dyn LogSink>>,
    token: Arc<Mutex<String>>,
}

impl Logger {
    /// A logger at `level` that redacts the token held in `token`.
    pub fn new(level: LogLevel, token: Arc<Mutex<String>>) -> Logger {
        Logger {
            level,
            sink: Arc::new(CallbackSlot::default()),
            token,
        }
    }

    /// Replaces the sink; returns once the old one is no longer in use (see `callback`).
    pub fn set_sink(&self, sink: Option<Arc<dyn LogSink>>) {
        self.sink.replace(sink);
    }

    /// Logs `message` at `level` if enabled.
    pub fn log(&self, level: LogLevel, message: impl Into<String>) {
        if level == LogLevel::Off || level > self.level {
            return;
        }
        self.sink.call(|sink| {
            let token = lock(&self.token).clone();
            let line = redact(message.into(), &token);
            // A sink that panics must not take the worker down.
            let _ =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink.log(level, line)));
        });
    }
}

/// Replaces every occurrence of `secret` in `line`.
pub fn redact(line: String, secret: &str) -> String {
    if secret.len() < 4 || !line.contains(secret) {
        line
    } else {
        line.replace(secret, "[redacted]")
    }
}

/// Most bytes of server text kept (dead letters, last error, listener and log messages).
pub const MAX_SERVER_TEXT: usize = 1024;

/// What ends a text cut by [`truncate_text`].
pub const TRUNCATED: &str = "… (truncated)";

/// `text` cut to at most `max` bytes on a character boundary, marked [`TRUNCATED`].
pub fn truncate_text(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut end = max.saturating_sub(TRUNCATED.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(TRUNCATED);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Capture(Mutex<Vec<String>>);
    impl LogSink for Capture {
        fn log(&self, _level: LogLevel, message: String) {
            self.0.lock().unwrap().push(message);
        }
    }

    #[test]
    fn filters_levels_and_redacts_the_token() {
        let token = Arc::new(Mutex::new("pina_secret_token".to_string()));
        let logger = Logger::new(LogLevel::Info, token);
        let capture = Arc::new(Capture(Mutex::new(Vec::new())));
        logger.set_sink(Some(capture.clone()));
        logger.log(LogLevel::Debug, "hidden");
        logger.log(LogLevel::Warn, "auth pina_secret_token failed");
        assert_eq!(
            *capture.0.lock().unwrap(),
            vec!["auth [redacted] failed".to_string()]
        );
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary_and_marked() {
        assert_eq!(truncate_text("short".into(), 16), "short");
        let cut = truncate_text("é".repeat(1_000), 64);
        assert!(cut.len() <= 64 && cut.ends_with(TRUNCATED), "{cut}");
        assert!(cut.starts_with("éé"));
    }
}
