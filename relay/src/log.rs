//! The request log: one line per request, to stderr, stdout, nowhere, or an in-memory buffer.
//!
//! The line is built from an explicit list of facts (time, method, path, `test` flag, status,
//! event count, latency) rather than from the request, so no header, query value or body can
//! reach it: tokens are structurally excluded, not filtered out. The path is the only
//! client-controlled text and is truncated and stripped of control characters so a caller
//! cannot forge extra log lines. The in-memory target exists for tests and embedding code.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where the request log goes.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum LogTarget {
    /// One line per request on standard error (the default).
    #[default]
    Stderr,
    /// One line per request on standard output.
    Stdout,
    /// No request log.
    Off,
    /// Lines kept in memory, readable through [`RequestLog::lines`].
    Memory(RequestLog),
}

/// A shared in-memory request log. Cloning it shares the same buffer.
#[derive(Clone, Default)]
pub struct RequestLog {
    lines: Arc<Mutex<Vec<String>>>,
}

impl RequestLog {
    /// An empty log.
    pub fn new() -> Self {
        RequestLog::default()
    }

    /// A copy of every line written so far, oldest first.
    pub fn lines(&self) -> Vec<String> {
        match self.lines.lock() {
            Ok(lines) => lines.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn push(&self, line: String) {
        match self.lines.lock() {
            Ok(mut lines) => lines.push(line),
            Err(poisoned) => poisoned.into_inner().push(line),
        }
    }
}

impl PartialEq for RequestLog {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.lines, &other.lines)
    }
}

impl fmt::Debug for RequestLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestLog({} lines)", self.lines().len())
    }
}

/// The facts logged about one request.
pub(crate) struct RequestRecord<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub test: bool,
    pub status: u16,
    pub events: Option<usize>,
    pub ips_added: Option<usize>,
    pub latency: Duration,
}

impl RequestRecord<'_> {
    /// `ts=1700000000.123 method=POST path=/v5/ad_accounts/1/events test=true status=200
    /// events=100 ips_added=100 latency_ms=3.21` (`-` for counts not known, e.g. on a 401)
    pub(crate) fn to_line(&self) -> String {
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        let count = |n: Option<usize>| n.map_or_else(|| "-".to_string(), |n| n.to_string());
        format!(
            "ts={ts:.3} method={} path={} test={} status={} events={} ips_added={} latency_ms={:.2}",
            sanitize(self.method),
            sanitize(self.path),
            self.test,
            self.status,
            count(self.events),
            count(self.ips_added),
            self.latency.as_secs_f64() * 1000.0,
        )
    }
}

/// Writes one line to `target`.
pub(crate) fn write_line(target: &LogTarget, line: String) {
    match target {
        LogTarget::Stderr => {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
        LogTarget::Stdout => {
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }
        LogTarget::Off => {}
        LogTarget::Memory(log) => log.push(line),
    }
}

/// At most 200 characters, no whitespace or control characters.
fn sanitize(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(200)
        .map(|c| {
            if c.is_control() || c.is_whitespace() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if s.chars().count() > 200 {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_has_the_listed_facts() {
        let line = RequestRecord {
            method: "POST",
            path: "/v5/ad_accounts/123/events",
            test: true,
            status: 200,
            events: Some(3),
            ips_added: Some(2),
            latency: Duration::from_micros(1500),
        }
        .to_line();
        assert!(line.starts_with("ts="));
        assert!(line.contains(
            "method=POST path=/v5/ad_accounts/123/events test=true status=200 events=3 ips_added=2 latency_ms=1.50"
        ));
    }

    #[test]
    fn paths_cannot_forge_lines() {
        let line = RequestRecord {
            method: "GET",
            path: "/x\nstatus=200 fake",
            test: false,
            status: 404,
            events: None,
            ips_added: None,
            latency: Duration::ZERO,
        }
        .to_line();
        assert!(!line.contains('\n'));
        assert!(line.contains("path=/x_status=200_fake"));
        assert!(line.contains("events=-"));
        assert_eq!(sanitize(&"a".repeat(300)).len(), 203);
    }

    #[test]
    fn memory_log_is_shared_between_clones() {
        let log = RequestLog::new();
        let target = LogTarget::Memory(log.clone());
        write_line(&target, "one".into());
        assert_eq!(log.lines(), vec!["one".to_string()]);
    }
}
