//! Responses and how they are put on the wire.
//!
//! A [`Response`] is a complete answer; a [`Reply`] says how to deliver it, including
//! the deliberate misdeliveries of the fault kinds (nothing at all, half a body, a slow
//! trickle, an oversized body streamed from a fixed buffer).

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A complete response: status, extra headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    /// HTTP status code.
    pub(crate) status: u16,
    /// Headers besides `Content-Length` and `Connection`.
    pub(crate) headers: Vec<(&'static str, String)>,
    /// Body bytes.
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// A JSON response from already-serialised bytes.
    pub(crate) fn json_bytes(status: u16, body: Vec<u8>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type", "application/json".to_string())],
            body,
        }
    }

    /// A response without a body (a `304`).
    pub(crate) fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A JSON response from a serialisable value.
    pub(crate) fn json<T: serde::Serialize + ?Sized>(status: u16, value: &T) -> Response {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        Response::json_bytes(status, body)
    }

    /// The Pinterest error shape `{"code":..,"message":..}`.
    pub(crate) fn error(status: u16, code: u32, message: &str) -> Response {
        Response::json(
            status,
            &serde_json::json!({"code": code, "message": message}),
        )
    }

    /// Adds a header.
    pub(crate) fn with_header(mut self, name: &'static str, value: String) -> Response {
        self.headers.push((name, value));
        self
    }

    /// Status line and headers, announcing `content_length` body bytes.
    pub(crate) fn head_bytes(&self, close: bool, content_length: usize) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        head.push_str(&format!("Content-Length: {content_length}\r\n"));
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        head.into_bytes()
    }

    /// Head and body as one buffer.
    pub(crate) fn to_bytes(&self, close: bool) -> Vec<u8> {
        let mut bytes = self.head_bytes(close, self.body.len());
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// How to answer one request on the wire.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Send the response normally.
    Send(Response),
    /// Send the response at this many bytes per second.
    Trickle(Response, u32),
    /// Close the connection without sending anything.
    Drop,
    /// Send the head and half of the body, then close.
    CutShort(Response),
    /// Send a 200 whose body is this many bytes long.
    Huge(usize),
}

impl Reply {
    /// The reply with a `Date` header carrying the clock of now (a reply without a head
    /// stays as it is).
    pub(crate) fn dated(self) -> Reply {
        let date = || httpdate::fmt_http_date(std::time::SystemTime::now());
        match self {
            Reply::Send(r) => Reply::Send(r.with_header("Date", date())),
            Reply::Trickle(r, rate) => Reply::Trickle(r.with_header("Date", date()), rate),
            Reply::CutShort(r) => Reply::CutShort(r.with_header("Date", date())),
            other => other,
        }
    }

    /// The status put on the status line, `0` when none is sent.
    pub(crate) fn status(&self) -> u16 {
        match self {
            Reply::Send(r) | Reply::Trickle(r, _) | Reply::CutShort(r) => r.status,
            Reply::Drop => 0,
            Reply::Huge(_) => 200,
        }
    }
}

/// Standard reason phrase for a status code.
fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Writes `bytes` at roughly `bytes_per_sec`, giving up early once `stop` is set.
pub(crate) fn write_slowly<W: Write>(
    writer: &mut W,
    bytes: &[u8],
    bytes_per_sec: u32,
    stop: &AtomicBool,
) -> io::Result<()> {
    let rate = u64::from(bytes_per_sec.max(1));
    // About twenty writes per second, at least one byte each.
    let chunk = (rate / 20).max(1);
    let pause = Duration::from_micros(chunk * 1_000_000 / rate);
    for piece in bytes.chunks(chunk as usize) {
        if stop.load(Ordering::Relaxed) {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "server stopping",
            ));
        }
        writer.write_all(piece)?;
        writer.flush()?;
        std::thread::sleep(pause);
    }
    Ok(())
}

/// Writes a 200 response whose body is exactly `bytes` long: a JSON-looking prefix,
/// then spaces, streamed so the body never sits in memory whole.
pub(crate) fn write_huge<W: Write>(writer: &mut W, bytes: usize, close: bool) -> io::Result<()> {
    let head = Response::json_bytes(200, Vec::new());
    writer.write_all(&head.head_bytes(close, bytes))?;
    let prefix = br#"{"num_events_received":1,"num_events_processed":1,"events":[{"status":"processed","error_message":"","warning_message":""}],"padding":""#;
    let first = bytes.min(prefix.len());
    writer.write_all(&prefix[..first])?;
    let padding = [b' '; 64 * 1024];
    let mut left = bytes - first;
    while left > 0 {
        let n = left.min(padding.len());
        writer.write_all(&padding[..n])?;
        left -= n;
    }
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_body_has_exact_length() {
        let mut out = Vec::new();
        assert!(write_huge(&mut out, 100_000, false).is_ok());
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("Content-Length: 100000\r\n"));
        let body_start = text.find("\r\n\r\n").map(|i| i + 4).unwrap_or(0);
        assert_eq!(out.len() - body_start, 100_000);
    }

    #[test]
    fn trickle_writes_everything() {
        let mut out = Vec::new();
        let stop = AtomicBool::new(false);
        assert!(write_slowly(&mut out, b"hello world", 10_000, &stop).is_ok());
        assert_eq!(out, b"hello world");
        stop.store(true, Ordering::Relaxed);
        assert!(write_slowly(&mut Vec::new(), b"x", 1, &stop).is_err());
    }
}
