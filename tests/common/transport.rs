//! A transport written outside the core, the way an app's platform writes one: it implements
//! the public `HttpTransport` trait over plain `std::net::TcpStream` (HTTP/1.1, one
//! connection per request, `Connection: close`), maps its failures to `TransportError`, and
//! knows nothing of the SDK's rules. Test binaries whose name ends in `_via_transport` make
//! every client of `common` send through it, so the delivery semantics are checked across
//! the trait boundary too.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use app_conversions::{HttpHeader, HttpRequest, HttpResponse, HttpTransport, TransportError};

/// True in the test binaries that run the shared tests through [`StdTransport`].
pub fn via_test_transport() -> bool {
    env!("CARGO_CRATE_NAME").ends_with("_via_transport")
}

/// HTTP/1.1 over `TcpStream`, `http://` URLs only.
#[derive(Default)]
pub struct StdTransport;

/// Bytes of an answer read at most (head and body); the SDK reads 2 MiB of a body.
const MAX_READ: u64 = 4 * 1024 * 1024;

impl HttpTransport for StdTransport {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let deadline = Instant::now() + Duration::from_millis(request.timeout_ms.max(1));
        exchange(&request, deadline).map_err(|e| classify(&e))
    }
}

fn classify(error: &io::Error) -> TransportError {
    let reason = error.to_string();
    match error.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => TransportError::Timeout { reason },
        io::ErrorKind::ConnectionRefused
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::UnexpectedEof
        | io::ErrorKind::NotConnected => TransportError::Network { reason },
        _ => TransportError::Other { reason },
    }
}

fn broken(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, what.to_string())
}

fn exchange(request: &HttpRequest, deadline: Instant) -> io::Result<HttpResponse> {
    let rest = request
        .url
        .strip_prefix("http://")
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "only http:// URLs"))?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "deadline passed"))
    };
    let address = host
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "host not found"))?;
    let mut stream = TcpStream::connect_timeout(&address, left()?)?;
    stream.set_write_timeout(Some(left()?))?;
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        request.method,
        if path.is_empty() { "/" } else { path },
        request.body.len()
    );
    for header in &request.headers {
        head.push_str(&format!("{}: {}\r\n", header.name, header.value));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(&request.body)?;
    stream.set_read_timeout(Some(left()?))?;
    let mut reader = BufReader::new(stream.take(MAX_READ));
    let status_line = read_line(&mut reader)?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| broken("no status line"))?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(&mut reader)?;
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push(HttpHeader {
                name: name.trim().to_string(),
                value: value.trim().to_string(),
            });
        }
    }
    let length = headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| h.value.parse::<u64>().ok());
    let mut body = Vec::new();
    match length {
        Some(length) => {
            reader.take(length).read_to_end(&mut body)?;
            if (body.len() as u64) < length.min(MAX_READ / 2) {
                return Err(broken("the answer broke off"));
            }
        }
        None => {
            reader.read_to_end(&mut body)?;
        }
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn read_line(reader: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(broken("connection closed before the answer"));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}
