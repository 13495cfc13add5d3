//! A deliberately small HTTP/1.1 layer over `std::net::TcpStream`.
//!
//! The sandbox needs to misbehave on the wire (close a connection without answering,
//! stop half-way through a body, write a response one byte at a time), which a
//! general-purpose server library hides. So requests are parsed here directly: request
//! line, headers, and a body delimited by `Content-Length` or chunked encoding, read
//! with a size cap. Keep-alive and pipelining follow from reading requests one after
//! another from the same buffered stream. Answers are written by [`crate::response`].

use std::io::{BufRead, Read};

/// Largest request head (request line plus headers) accepted.
const MAX_HEAD_BYTES: u64 = 64 * 1024;
/// Largest number of header lines accepted.
const MAX_HEADERS: usize = 200;

/// Request line and headers of one request.
#[derive(Debug, Clone)]
pub(crate) struct RequestHead {
    /// Method as sent, e.g. `POST`.
    pub(crate) method: String,
    /// Path part of the target (before `?`).
    pub(crate) path: String,
    /// Query part of the target (after `?`), empty when absent.
    pub(crate) query: String,
    /// Whether the request line said `HTTP/1.0`.
    pub(crate) http10: bool,
    /// Headers in arrival order, names as sent.
    pub(crate) headers: Vec<(String, String)>,
}

impl RequestHead {
    /// First value of a header, matched case-insensitively.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the connection must close after this exchange.
    pub(crate) fn wants_close(&self) -> bool {
        let has_token = |token: &str| {
            self.header("connection")
                .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        };
        if self.http10 {
            !has_token("keep-alive")
        } else {
            has_token("close")
        }
    }

    /// Whether the client waits for `100 Continue` before sending the body.
    pub(crate) fn expects_continue(&self) -> bool {
        self.header("expect")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("100-continue"))
    }

    fn is_chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    /// Declared body length: `Ok(None)` when chunked, `Err` when malformed.
    pub(crate) fn content_length(&self) -> Result<Option<u64>, String> {
        if self.is_chunked() {
            return Ok(None);
        }
        match self.header("content-length") {
            None => Ok(Some(0)),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| format!("invalid Content-Length '{v}'")),
        }
    }
}

/// Why no request head could be read.
#[derive(Debug)]
pub(crate) enum HeadError {
    /// The peer closed the connection (or it timed out) between requests.
    Closed,
    /// The bytes received are not an HTTP/1.x request.
    Malformed(String),
    /// The head is longer than the limit.
    TooLarge,
}

/// Reads one line (ending in `\n`) of at most `*budget` bytes, decrementing the budget.
fn read_line<R: BufRead>(reader: &mut R, budget: &mut u64) -> Result<Vec<u8>, HeadError> {
    let mut line = Vec::new();
    let n = reader
        .by_ref()
        .take(*budget)
        .read_until(b'\n', &mut line)
        .map_err(|_| HeadError::Closed)?;
    *budget = budget.saturating_sub(n as u64);
    if n == 0 {
        return Err(HeadError::Closed);
    }
    if line.last() != Some(&b'\n') {
        return Err(if *budget == 0 {
            HeadError::TooLarge
        } else {
            HeadError::Closed
        });
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Ok(line)
}

/// Reads a request line and headers. Blank lines before the request line are skipped.
pub(crate) fn read_head<R: BufRead>(reader: &mut R) -> Result<RequestHead, HeadError> {
    let mut budget = MAX_HEAD_BYTES;
    let mut line = read_line(reader, &mut budget)?;
    while line.is_empty() {
        line = read_line(reader, &mut budget)?;
    }
    let text = String::from_utf8_lossy(&line);
    let mut parts = text.split_ascii_whitespace();
    let (method, target, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v), None) if v.starts_with("HTTP/1.") => (m, t, v),
        _ => return Err(HeadError::Malformed(format!("bad request line '{text}'"))),
    };
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target.to_string(), String::new()),
    };
    let mut head = RequestHead {
        method: method.to_string(),
        path,
        query,
        http10: version == "HTTP/1.0",
        headers: Vec::new(),
    };
    loop {
        let line = read_line(reader, &mut budget)?;
        if line.is_empty() {
            return Ok(head);
        }
        if head.headers.len() >= MAX_HEADERS {
            return Err(HeadError::TooLarge);
        }
        let text = String::from_utf8_lossy(&line);
        match text.split_once(':') {
            Some((name, value)) if !name.is_empty() && !name.contains(' ') => {
                head.headers
                    .push((name.to_string(), value.trim().to_string()));
            }
            _ => return Err(HeadError::Malformed(format!("bad header line '{text}'"))),
        }
    }
}

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The body is longer than the cap (it was not, or only partly, read).
    TooLarge,
    /// Framing was invalid or the connection failed mid-body.
    Broken(String),
}

/// Reads the request body (Content-Length or chunked), refusing more than `cap` bytes.
pub(crate) fn read_body<R: BufRead>(
    reader: &mut R,
    head: &RequestHead,
    cap: usize,
) -> Result<Vec<u8>, BodyError> {
    match head.content_length().map_err(BodyError::Broken)? {
        Some(len) => {
            if len > cap as u64 {
                return Err(BodyError::TooLarge);
            }
            let mut body = vec![0; len as usize];
            reader
                .read_exact(&mut body)
                .map_err(|e| BodyError::Broken(format!("body cut short: {e}")))?;
            Ok(body)
        }
        None => read_chunked(reader, cap),
    }
}

fn read_chunked<R: BufRead>(reader: &mut R, cap: usize) -> Result<Vec<u8>, BodyError> {
    let broken = |what: &str| BodyError::Broken(format!("bad chunked body: {what}"));
    let mut body = Vec::new();
    loop {
        let mut budget = 1024;
        let line = read_line(reader, &mut budget).map_err(|_| broken("chunk size line"))?;
        let text = String::from_utf8_lossy(&line);
        let size_text = text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| broken("chunk size"))?;
        if size == 0 {
            // Trailers, up to the blank line.
            let mut budget = MAX_HEAD_BYTES;
            while !read_line(reader, &mut budget)
                .map_err(|_| broken("trailer"))?
                .is_empty()
            {}
            return Ok(body);
        }
        if body.len().saturating_add(size) > cap {
            return Err(BodyError::TooLarge);
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader
            .read_exact(&mut body[start..])
            .map_err(|_| broken("chunk cut short"))?;
        let mut crlf = [0u8; 2];
        reader
            .read_exact(&mut crlf)
            .map_err(|_| broken("missing CRLF after chunk"))?;
        if crlf != *b"\r\n" {
            return Err(broken("missing CRLF after chunk"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn head(raw: &str) -> Result<RequestHead, HeadError> {
        read_head(&mut Cursor::new(raw.as_bytes().to_vec()))
    }

    #[test]
    fn parses_request_line_query_and_headers() {
        let h = head("\r\nPOST /v5/x?test=true HTTP/1.1\r\nHost: a\r\nX-Y:  z \r\n\r\n");
        let h = h.map_err(|e| format!("{e:?}"));
        assert!(h.is_ok(), "{h:?}");
        if let Ok(h) = h {
            assert_eq!(h.method, "POST");
            assert_eq!(h.path, "/v5/x");
            assert_eq!(h.query, "test=true");
            assert_eq!(h.header("x-y"), Some("z"));
            assert!(!h.wants_close());
        }
    }

    #[test]
    fn rejects_garbage_and_reports_eof() {
        assert!(matches!(
            head("hello\r\n\r\n"),
            Err(HeadError::Malformed(_))
        ));
        assert!(matches!(head(""), Err(HeadError::Closed)));
        let long = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(70_000));
        assert!(matches!(head(&long), Err(HeadError::TooLarge)));
    }

    #[test]
    fn connection_semantics() {
        let close = head("GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n");
        assert!(close.is_ok_and(|h| h.wants_close()));
        let old = head("GET / HTTP/1.0\r\n\r\n");
        assert!(old.is_ok_and(|h| h.wants_close()));
    }

    #[test]
    fn reads_chunked_and_caps_size() {
        let raw = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\nT: 1\r\n\r\n";
        let mut cursor = Cursor::new(raw.as_bytes().to_vec());
        let h = read_head(&mut cursor).map_err(|e| format!("{e:?}"));
        assert!(h.is_ok());
        if let Ok(h) = h {
            assert_eq!(
                read_body(&mut cursor, &h, 100).ok(),
                Some(b"Wikipedia".to_vec())
            );
            let mut again = Cursor::new(raw.as_bytes().to_vec());
            let _ = read_head(&mut again);
            assert!(matches!(
                read_body(&mut again, &h, 5),
                Err(BodyError::TooLarge)
            ));
        }
    }
}
