//! Listening socket, worker pool and the per-connection request loop.
//!
//! One acceptor thread hands accepted connections to a pool of worker threads. The pool
//! keeps [`MIN_WORKERS`] threads and grows up to [`MAX_WORKERS`] when every worker is
//! busy, because a worker serves one keep-alive connection until it closes: a slow
//! (delayed or trickled) answer or an idle pooled client connection then never stalls
//! other clients. Extra workers retire after a minute without work.
//!
//! Stopping sets a flag, wakes the acceptor with a loopback connection, and shuts down
//! every open client socket, so blocked reads and writes return at once.

use std::collections::HashMap;
use std::io::{self, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::control;
use crate::events::{self, BODY_CAP};
use crate::http::{self, BodyError, HeadError, RequestHead};
use crate::response::{self, Reply, Response};
use crate::sdk_settings;
use crate::state::{lock, Shared};

/// Worker threads kept alive at all times.
pub(crate) const MIN_WORKERS: usize = 4;
/// Upper bound on worker threads (and so on concurrently served connections).
const MAX_WORKERS: usize = 64;
/// How long an extra worker waits for a connection before retiring.
const WORKER_IDLE: Duration = Duration::from_secs(60);
/// How long a keep-alive connection may sit idle between requests.
const KEEP_ALIVE_IDLE: Duration = Duration::from_secs(30);
/// How long a write may block on a client that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// State shared by the acceptor and the workers.
struct Context {
    shared: Arc<Shared>,
    stop: AtomicBool,
    idle_workers: AtomicUsize,
    workers: AtomicUsize,
    open: Mutex<HashMap<u64, TcpStream>>,
    next_connection: AtomicUsize,
}

/// A running server; [`ServerHandle::shutdown`] (or dropping it) stops it.
pub(crate) struct ServerHandle {
    context: Arc<Context>,
    addr: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// Binds `address` and starts serving `shared`.
    pub(crate) fn start(shared: Arc<Shared>, address: SocketAddr) -> io::Result<ServerHandle> {
        let listener = TcpListener::bind(address)?;
        let addr = listener.local_addr()?;
        let context = Arc::new(Context {
            shared,
            stop: AtomicBool::new(false),
            idle_workers: AtomicUsize::new(0),
            workers: AtomicUsize::new(0),
            open: Mutex::new(HashMap::new()),
            next_connection: AtomicUsize::new(0),
        });
        let (sender, receiver) = mpsc::channel::<TcpStream>();
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..MIN_WORKERS {
            spawn_worker(&context, &receiver, true)?;
        }
        let acceptor = {
            let context = Arc::clone(&context);
            thread::Builder::new()
                .name("sandbox-accept".to_string())
                .spawn(move || accept_loop(&context, &listener, &sender, &receiver))?
        };
        Ok(ServerHandle {
            context,
            addr,
            acceptor: Some(acceptor),
        })
    }

    /// The bound address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, closes open connections and waits for the acceptor to exit.
    pub(crate) fn shutdown(&mut self) {
        if self.context.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wake the blocking accept(); the acceptor sees the flag and drops the listener.
        // Only wait for it when the wake-up connection went through.
        let woke =
            TcpStream::connect_timeout(&reachable(self.addr), Duration::from_secs(1)).is_ok();
        if let Some(acceptor) = self.acceptor.take() {
            if woke {
                let _ = acceptor.join();
            }
        }
        for stream in lock(&self.context.open).values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// Where this machine reaches a server bound to `addr`: loopback for the unspecified
/// address (`0.0.0.0`, `::`), else `addr` itself.
pub(crate) fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn spawn_worker(
    context: &Arc<Context>,
    receiver: &Arc<Mutex<Receiver<TcpStream>>>,
    permanent: bool,
) -> io::Result<()> {
    let worker_context = Arc::clone(context);
    let receiver = Arc::clone(receiver);
    context.workers.fetch_add(1, Ordering::SeqCst);
    context.idle_workers.fetch_add(1, Ordering::SeqCst);
    let spawned = thread::Builder::new()
        .name("sandbox-worker".to_string())
        .spawn(move || {
            worker_loop(&worker_context, &receiver, permanent);
            worker_context.idle_workers.fetch_sub(1, Ordering::SeqCst);
            worker_context.workers.fetch_sub(1, Ordering::SeqCst);
        });
    if let Err(e) = spawned {
        context.workers.fetch_sub(1, Ordering::SeqCst);
        context.idle_workers.fetch_sub(1, Ordering::SeqCst);
        return Err(e);
    }
    Ok(())
}

fn worker_loop(context: &Arc<Context>, receiver: &Mutex<Receiver<TcpStream>>, permanent: bool) {
    loop {
        let next = lock(receiver).recv_timeout(WORKER_IDLE);
        match next {
            Ok(stream) => {
                context.idle_workers.fetch_sub(1, Ordering::SeqCst);
                serve_connection(context, stream);
                context.idle_workers.fetch_add(1, Ordering::SeqCst);
            }
            Err(RecvTimeoutError::Timeout) if permanent => {}
            Err(_) => return,
        }
    }
}

fn accept_loop(
    context: &Arc<Context>,
    listener: &TcpListener,
    sender: &Sender<TcpStream>,
    receiver: &Arc<Mutex<Receiver<TcpStream>>>,
) {
    for stream in listener.incoming() {
        if context.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else {
            // Transient accept errors (e.g. too many open files): back off briefly.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        if context.idle_workers.load(Ordering::SeqCst) == 0
            && context.workers.load(Ordering::SeqCst) < MAX_WORKERS
        {
            // Best effort: if the thread cannot be spawned the connection waits in line.
            let _ = spawn_worker(context, receiver, false);
        }
        if sender.send(stream).is_err() {
            return;
        }
    }
}

/// Serves requests on one connection until it closes, fails or the server stops.
fn serve_connection(context: &Context, stream: TcpStream) {
    if context.stop.load(Ordering::SeqCst) {
        return;
    }
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(KEEP_ALIVE_IDLE));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let id = context.next_connection.fetch_add(1, Ordering::SeqCst) as u64;
    if let Ok(clone) = stream.try_clone() {
        lock(&context.open).insert(id, clone);
    }
    let mut reader = BufReader::with_capacity(64 * 1024, &stream);
    while !context.stop.load(Ordering::SeqCst) {
        if !serve_one(context, &mut reader, &stream) {
            break;
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
    lock(&context.open).remove(&id);
}

/// Reads and answers one request; returns whether the connection stays open.
fn serve_one(context: &Context, reader: &mut BufReader<&TcpStream>, stream: &TcpStream) -> bool {
    let mut writer = stream;
    let head = match http::read_head(reader) {
        Ok(head) => head,
        Err(HeadError::Closed) => return false,
        Err(HeadError::Malformed(message)) => {
            let response = Response::error(400, 400, &format!("Malformed HTTP request: {message}"));
            let _ = writer.write_all(&response.to_bytes(true));
            return false;
        }
        Err(HeadError::TooLarge) => {
            let response = Response::error(431, 431, "Request head too large.");
            let _ = writer.write_all(&response.to_bytes(true));
            return false;
        }
    };
    let close = head.wants_close();
    let fits = matches!(head.content_length(), Ok(Some(n)) if n <= BODY_CAP as u64)
        || matches!(head.content_length(), Ok(None));
    if head.expects_continue() && fits {
        let _ = writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    let body = match http::read_body(reader, &head, BODY_CAP) {
        Ok(body) => Some(body),
        Err(BodyError::TooLarge) => None,
        Err(BodyError::Broken(message)) => {
            let response = Response::error(400, 400, &format!("Malformed HTTP request: {message}"));
            let _ = writer.write_all(&response.to_bytes(true));
            return false;
        }
    };
    let too_large = body.is_none();
    let reply = route(context, &head, body);
    let reply = if context.shared.config.date_header {
        reply.dated()
    } else {
        reply
    };
    let keep_open = write_reply(context, &mut writer, reply, close || too_large).unwrap_or(false);
    if too_large {
        drain(reader, &head);
    }
    keep_open
}

/// Dispatches a request to the events endpoint, the settings route, the control endpoints or
/// a 404.
fn route(context: &Context, head: &RequestHead, body: Option<Vec<u8>>) -> Reply {
    if let Some(account) = events::events_path_account(&head.path) {
        return events::handle(&context.shared, &context.stop, head, account, body);
    }
    if let Some(account) = sdk_settings::settings_path_account(&head.path) {
        let shared = &context.shared;
        let config = &shared.config;
        let answer =
            shared
                .sdk_settings
                .handle(head, account, &config.token, &config.ad_account_id);
        return Reply::Send(answer).dated();
    }
    if head.path.starts_with("/_sandbox/") {
        return Reply::Send(control::handle(&context.shared, head, body));
    }
    Reply::Send(Response::error(
        404,
        404,
        &format!("No route for {} {}.", head.method, head.path),
    ))
}

/// Puts a reply on the wire; `Ok(true)` when the connection may serve another request.
fn write_reply(
    context: &Context,
    writer: &mut &TcpStream,
    reply: Reply,
    close: bool,
) -> io::Result<bool> {
    match reply {
        Reply::Send(response) => {
            writer.write_all(&response.to_bytes(close))?;
            writer.flush()?;
            Ok(!close)
        }
        Reply::Trickle(response, bytes_per_sec) => {
            let bytes = response.to_bytes(close);
            response::write_slowly(writer, &bytes, bytes_per_sec, &context.stop)?;
            Ok(!close)
        }
        Reply::Drop => Ok(false),
        Reply::CutShort(response) => {
            let mut bytes = response.head_bytes(true, response.body.len());
            bytes.extend_from_slice(&response.body[..response.body.len() / 2]);
            writer.write_all(&bytes)?;
            writer.flush()?;
            Ok(false)
        }
        Reply::Huge(bytes) => {
            response::write_huge(writer, bytes, close)?;
            Ok(!close)
        }
    }
}

/// After refusing an oversized body, reads and discards what the client is still
/// sending (for a short while), so that closing the socket does not reset the
/// connection before the client has read the 413.
fn drain(reader: &mut BufReader<&TcpStream>, head: &RequestHead) {
    let stream = *reader.get_ref();
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut left = match head.content_length() {
        Ok(Some(n)) => n.min(256 * 1024 * 1024),
        _ => 256 * 1024 * 1024,
    };
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut buffer = vec![0u8; 64 * 1024];
    while left > 0 && Instant::now() < deadline {
        match reader.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => left = left.saturating_sub(n as u64),
        }
    }
}
