//! Parsing the values the file, the environment and the flags share: listen addresses, log
//! targets and formats; and [`set`], which leaves a field alone when its source is silent.

use std::net::SocketAddr;

use crate::log::{LogFormat, LogTarget};

/// Parses `ADDR:PORT` (`0.0.0.0:8788`, `[::]:8788`).
pub(crate) fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("expected IP:PORT such as 127.0.0.1:8788, got {s:?}"))
}

/// `IP:PORT`, or `off` / empty for none.
pub(super) fn parse_optional_listen(s: &str) -> Result<Option<SocketAddr>, String> {
    match s.trim() {
        "" | "off" => Ok(None),
        other => parse_listen(other).map(Some),
    }
}

pub(super) fn parse_log_format(s: &str) -> Result<LogFormat, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => Err(format!("expected text or json, got {other:?}")),
    }
}

pub(super) fn parse_log(s: &str) -> Result<LogTarget, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "stderr" => Ok(LogTarget::Stderr),
        "stdout" => Ok(LogTarget::Stdout),
        "off" | "none" => Ok(LogTarget::Off),
        other => Err(format!("expected stderr, stdout or off, got {other:?}")),
    }
}

/// Overwrites `field` when `value` is set.
pub(super) fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *field = value;
    }
}
