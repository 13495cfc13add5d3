//! The request log: one event per request, through `tracing` (to stderr or stdout, as text or
//! JSON), nowhere, or to an in-memory buffer.
//!
//! The event is built from an explicit list of facts (request id, method, path, `test` flag,
//! status, event count, latency) rather than from the request, so no header, query value or
//! body can reach it: tokens are structurally excluded, not filtered out. The path and the
//! request id are the only client-controlled text; the path is truncated and stripped of
//! control characters, and a request id is only taken when it is short and plain
//! ([`request_id_of`]), so a caller cannot forge extra log lines. The in-memory target exists
//! for tests and embedding code. Health checks are not logged.
//!
//! [`init`] installs the process's subscriber (the binary calls it once): a formatter writing
//! through `tracing-appender`'s non-blocking writer, so a slow stderr never stalls an async
//! worker; lines are dropped rather than waited for if the writer falls far behind.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing_appender::non_blocking::WorkerGuard;

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

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// `2026-01-01T00:00:00.000Z  INFO request: method="POST" ...` (the default).
    #[default]
    Text,
    /// One JSON object per line, for log pipelines.
    Json,
}

/// Installs the process's log subscriber for `target` in `format`; keep the guard until the
/// process ends (dropping it flushes the last lines). `None` when the target writes nothing
/// through `tracing` (off or in memory) or a subscriber is already installed.
pub fn init(target: &LogTarget, format: LogFormat) -> Option<WorkerGuard> {
    let (writer, guard) = match target {
        LogTarget::Stderr => tracing_appender::non_blocking(std::io::stderr()),
        LogTarget::Stdout => tracing_appender::non_blocking(std::io::stdout()),
        LogTarget::Off | LogTarget::Memory(_) => return None,
    };
    let builder = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false);
    let installed = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    installed.ok().map(|()| guard)
}

/// Most characters of a client's `X-Request-Id` that are kept.
const MAX_REQUEST_ID: usize = 64;

/// The client's `X-Request-Id` when it is at most 64 characters of letters, digits, `-`, `_`,
/// `.` and `:`; otherwise a new random one.
pub(crate) fn request_id_of(header: Option<&str>) -> String {
    match header {
        Some(id)
            if !id.is_empty()
                && id.len() <= MAX_REQUEST_ID
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b)) =>
        {
            id.to_string()
        }
        _ => format!("{:016x}", fastrand::u64(..)),
    }
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
    pub request_id: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub test: bool,
    pub status: u16,
    pub events: Option<usize>,
    pub ips_added: Option<usize>,
    pub latency: Duration,
}

impl RequestRecord<'_> {
    /// `ts=1700000000.123 request_id=ab12 method=POST path=/v5/ad_accounts/1/events test=true
    /// status=200 events=100 ips_added=100 latency_ms=3.21` (`-` for counts not known, e.g. on
    /// a 401)
    pub(crate) fn to_line(&self) -> String {
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        let count = |n: Option<usize>| n.map_or_else(|| "-".to_string(), |n| n.to_string());
        format!(
            "ts={ts:.3} request_id={} method={} path={} test={} status={} events={} ips_added={} latency_ms={:.2}",
            self.request_id,
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

/// Logs one request to `target`: a `tracing` event (target `request`) for stderr and stdout,
/// a line for the in-memory log.
pub(crate) fn log_request(target: &LogTarget, record: &RequestRecord<'_>) {
    match target {
        LogTarget::Stderr | LogTarget::Stdout => {
            tracing::info!(
                target: "request",
                request_id = record.request_id,
                method = %sanitize(record.method),
                path = %sanitize(record.path),
                test = record.test,
                status = record.status,
                events = record.events,
                ips_added = record.ips_added,
                latency_ms = (record.latency.as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
            );
        }
        LogTarget::Off => {}
        LogTarget::Memory(log) => log.push(record.to_line()),
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
            request_id: "r1",
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
            "request_id=r1 method=POST path=/v5/ad_accounts/123/events test=true status=200 events=3 ips_added=2 latency_ms=1.50"
        ));
    }

    #[test]
    fn paths_cannot_forge_lines() {
        let line = RequestRecord {
            request_id: "r2",
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
        let record = RequestRecord {
            request_id: "r3",
            method: "GET",
            path: "/",
            test: false,
            status: 404,
            events: None,
            ips_added: None,
            latency: Duration::ZERO,
        };
        log_request(&target, &record);
        assert_eq!(log.lines(), vec![record.to_line()]);
    }

    #[test]
    fn request_ids_are_taken_only_when_plain() {
        assert_eq!(request_id_of(Some("abc-123_x.y:z")), "abc-123_x.y:z");
        for bad in ["", "a b", "a\nb", "ü", &"a".repeat(65)] {
            let id = request_id_of(Some(bad));
            assert_eq!(id.len(), 16, "{bad:?} -> {id}");
        }
        assert_ne!(request_id_of(None), request_id_of(None));
    }
}
