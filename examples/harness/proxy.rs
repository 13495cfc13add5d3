//! A recording proxy on loopback, between the SDK and the endpoint it sends to.
//!
//! It is what lets the timeline show each request when it leaves and each answer when it
//! comes back, with its `Retry-After`, for any endpoint (the embedded sandbox, the relay, or a
//! real test endpoint over https): the SDK is pointed at the proxy, which forwards each request
//! unchanged and hands the answer back unchanged. When the endpoint cannot be reached, or drops
//! the connection, the proxy closes the SDK's connection without answering, so the SDK sees the
//! same network failure it would have seen. The bearer token passes through and is never printed.
//! A relay's remote settings (`GET .../sdk-settings`) pass through too, with one line each.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use ureq::Agent;

use crate::timeline::Timeline;

/// Largest request or answer body the proxy relays (the API takes at most 1,000 events).
const MAX_BODY: usize = 16 * 1024 * 1024;
/// Most bytes a compressed body is inflated to for the timeline.
const MAX_INFLATED: u64 = 64 * 1024 * 1024;

/// A running proxy; dropping it stops accepting connections.
pub struct Proxy {
    port: u16,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

/// What every connection needs.
struct Route {
    upstream: String,
    label: String,
    /// Privacy is applied on the device: only the hop from the SDK tells what it removed.
    from_sdk: bool,
    agent: Agent,
    timeline: Arc<Timeline>,
}

impl Proxy {
    /// Starts a proxy forwarding to `upstream` (a base URL such as `http://127.0.0.1:8787`).
    /// `label` names the hop in the timeline when there are several (`SDK -> relay`); a label
    /// that does not start with `SDK` is a hop after the device (`relay -> API`).
    pub fn start(upstream: &str, label: &str, timeline: Arc<Timeline>) -> Result<Proxy, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| format!("cannot start the recording proxy: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("cannot start the recording proxy: {e}"))?
            .port();
        let agent: Agent = Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(30)))
            .max_redirects(0)
            .max_redirects_will_error(false)
            .http_status_as_error(false)
            .build()
            .into();
        let route = Arc::new(Route {
            upstream: upstream.trim_end_matches('/').to_string(),
            label: if label.is_empty() {
                String::new()
            } else {
                format!(" ({label})")
            },
            from_sdk: label.is_empty() || label.starts_with("SDK"),
            agent,
            timeline,
        });
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let accept = std::thread::Builder::new()
            .name("harness-proxy".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let route = Arc::clone(&route);
                    // A connection ends when the SDK closes it; nothing waits for it.
                    let _ = std::thread::Builder::new()
                        .name("harness-proxy-conn".into())
                        .spawn(move || serve(stream, &route));
                }
            })
            .map_err(|e| format!("cannot start the recording proxy: {e}"))?;
        Ok(Proxy {
            port,
            stop,
            accept: Some(accept),
        })
    }

    /// `http://127.0.0.1:PORT`, the base URL to give the SDK.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the stop flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// One request as read from the SDK.
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    /// As sent: gzip-compressed when `Content-Encoding` says so (the SDK compresses a body
    /// of 1 KB or more to a relay).
    body: Vec<u8>,
}

impl Request {
    /// The body as text for the timeline, inflated when the SDK compressed it.
    fn text(&self) -> String {
        let gzipped = self.headers.iter().any(|(name, value)| {
            name.eq_ignore_ascii_case("content-encoding") && value.eq_ignore_ascii_case("gzip")
        });
        if gzipped {
            let mut text = String::new();
            let inflated = flate2::read::GzDecoder::new(self.body.as_slice())
                .take(MAX_INFLATED)
                .read_to_string(&mut text);
            if inflated.is_ok() {
                return text;
            }
        }
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Serves one keep-alive connection until the SDK closes it or something fails.
fn serve(stream: TcpStream, route: &Route) {
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut writer = write_half;
    while let Some(request) = read_request(&mut reader) {
        if !forward(&request, route, &mut writer) {
            break;
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
}

/// Reads one HTTP/1.1 request with a `Content-Length` body; `None` at the end of the
/// connection or on anything the proxy does not relay.
fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        let (name, value) = (name.trim().to_string(), value.trim().to_string());
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse().ok()?;
        }
        if name.eq_ignore_ascii_case("transfer-encoding") {
            return None;
        }
        headers.push((name, value));
    }
    if length > MAX_BODY {
        return None;
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

/// Forwards a `GET` of remote settings (docs/remote-settings.md) and writes the answer back,
/// with one timeline line; false when the connection must close.
fn forward_settings(request: &Request, route: &Route, writer: &mut TcpStream) -> bool {
    let url = format!("{}{}", route.upstream, request.target);
    let mut call = route.agent.get(&url);
    for (name, value) in &request.headers {
        let keep = ["authorization", "user-agent", "if-none-match", "accept"]
            .iter()
            .any(|h| name.eq_ignore_ascii_case(h));
        if keep {
            call = call.header(name.as_str(), value.as_str());
        }
    }
    let mut response = match call.call() {
        Ok(response) => response,
        Err(e) => {
            route.timeline.no_answer(&route.label, &describe(&e));
            return false;
        }
    };
    let status = response.status().as_u16();
    let mut head = format!("HTTP/1.1 {status} Status\r\n");
    for name in ["etag", "cache-control", "content-type"] {
        if let Some(value) = response.headers().get(name).and_then(|v| v.to_str().ok()) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY as u64)
        .read_to_vec()
        .unwrap_or_default();
    route.timeline.info(&format!(
        "  {}: GET remote settings -> {status}",
        route.label
    ));
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    writer.write_all(head.as_bytes()).is_ok()
        && writer.write_all(&body).is_ok()
        && writer.flush().is_ok()
}

/// Forwards one request and writes the answer back; false when the connection must close.
fn forward(request: &Request, route: &Route, writer: &mut TcpStream) -> bool {
    if request.method == "GET" && request.target.ends_with("/sdk-settings") {
        return forward_settings(request, route, writer);
    }
    let query = request
        .target
        .split_once('?')
        .map_or("", |(_, query)| query);
    route
        .timeline
        .request(&route.label, query, &request.text(), route.from_sdk);
    let url = format!("{}{}", route.upstream, request.target);
    let mut call = match request.method.as_str() {
        "POST" => route.agent.post(&url),
        // The SDK POSTs events (and GETs remote settings, above); nothing else is relayed.
        _ => return false,
    };
    for (name, value) in &request.headers {
        let keep = [
            "authorization",
            "content-type",
            "content-encoding",
            "user-agent",
        ]
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h));
        if keep {
            call = call.header(name.as_str(), value.as_str());
        }
    }
    let mut response = match call.send(request.body.as_slice()) {
        Ok(response) => response,
        Err(e) => {
            route.timeline.no_answer(&route.label, &describe(&e));
            return false;
        }
    };
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let retry_after = header("retry-after");
    let content_type = header("content-type").unwrap_or_else(|| "application/json".into());
    let body = match response
        .body_mut()
        .with_config()
        .limit(MAX_BODY as u64)
        .read_to_string()
    {
        Ok(body) => body,
        Err(e) => {
            route.timeline.no_answer(&route.label, &describe(&e));
            return false;
        }
    };
    route
        .timeline
        .answer(&route.label, status, retry_after.as_deref(), &body);
    let reason = ureq::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Status");
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(after) = &retry_after {
        head.push_str(&format!("Retry-After: {after}\r\n"));
    }
    head.push_str("\r\n");
    writer.write_all(head.as_bytes()).is_ok()
        && writer.write_all(body.as_bytes()).is_ok()
        && writer.flush().is_ok()
}

/// A short description of a network failure, without the URL (which may carry an account).
fn describe(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Timeout(_) => "request timed out".into(),
        ureq::Error::Io(e) => format!("network error: {}", e.kind()),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        other => format!("transport error: {other}"),
    }
}
