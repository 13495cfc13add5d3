//! HTTP-level behaviour: keep-alive, pipelining, chunked bodies, `Expect: 100-continue`,
//! the body-size cap, routing errors, a real client (ureq), concurrency and shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use app_conversions_sandbox::{Sandbox, SandboxConfig};
use common::*;
use serde_json::{json, Value};

fn connect(sandbox: &Sandbox) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", sandbox.port())).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
}

fn request(body: &str, extra: &str) -> String {
    format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        events_path(),
        body.len()
    )
}

/// Reads one response (head plus Content-Length body) from a kept-alive connection.
fn read_response(stream: &mut TcpStream) -> Answer {
    let mut bytes = Vec::new();
    let mut byte = [0u8; 1];
    while !bytes.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap() == 0 {
            break;
        }
        bytes.push(byte[0]);
    }
    let head = parse_answer(&bytes);
    let length: usize = head.header("content-length").unwrap().parse().unwrap();
    let mut body = vec![0; length];
    stream.read_exact(&mut body).unwrap();
    bytes.extend_from_slice(&body);
    parse_answer(&bytes)
}

#[test]
fn keep_alive_and_pipelining() {
    let sandbox = start();
    let mut stream = connect(&sandbox);
    stream
        .write_all(request(&batch(vec![event("k1")]), "").as_bytes())
        .unwrap();
    assert_eq!(read_response(&mut stream).status, 200);
    // Two requests written back to back on the same connection.
    let two = format!(
        "{}{}",
        request(&batch(vec![event("k2")]), ""),
        request("{}", "")
    );
    stream.write_all(two.as_bytes()).unwrap();
    assert_eq!(read_response(&mut stream).status, 200);
    assert_eq!(read_response(&mut stream).status, 400);
    assert_eq!(sandbox.accepted().len(), 2);
}

#[test]
fn chunked_request_bodies_are_read() {
    let sandbox = start();
    let body = batch(vec![event("c")]);
    let (a, b) = body.split_at(body.len() / 2);
    let raw_request = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
        events_path(),
        a.len(),
        b.len()
    );
    let mut stream = connect(&sandbox);
    stream.write_all(raw_request.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    assert_eq!(parse_answer(&bytes).status, 200);
    assert_eq!(sandbox.requests()[0].body, body);
}

#[test]
fn expect_100_continue_is_honoured() {
    let sandbox = start();
    let body = batch(vec![event("e")]);
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        events_path(),
        body.len()
    );
    let mut stream = connect(&sandbox);
    stream.write_all(head.as_bytes()).unwrap();
    let mut interim = [0u8; 25];
    stream.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(body.as_bytes()).unwrap();
    assert_eq!(read_response(&mut stream).status, 200);
}

#[test]
fn bodies_over_8_mib_are_413() {
    let sandbox = start();
    let body = format!("{{\"data\":[\"{}\"]}}", "x".repeat(8 * 1024 * 1024));
    let answer = post_events(&sandbox, &body);
    assert_eq!(answer.status, 413);
    assert_eq!(answer.json()["code"], 413);
    let recorded = &sandbox.requests()[0];
    assert_eq!((recorded.status, recorded.body.as_str()), (413, ""));
    // The server is still fine afterwards.
    assert_eq!(post_events(&sandbox, &batch(vec![event("a")])).status, 200);
}

#[test]
fn routing_errors() {
    let sandbox = start();
    let get = raw(sandbox.port(), "GET", &events_path(), &[], b"");
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST"));
    assert_eq!(sandbox.requests()[0].status, 405);
    assert_eq!(
        raw(sandbox.port(), "POST", "/v5/other", &[], b"").status,
        404
    );
    assert_eq!(
        raw(
            sandbox.port(),
            "POST",
            "/v5/ad_accounts/1/events/extra",
            &[],
            b""
        )
        .status,
        404
    );
    assert_eq!(
        sandbox.requests().len(),
        1,
        "only events paths are recorded"
    );
}

#[test]
fn garbage_on_the_socket_gets_400_and_a_close() {
    let sandbox = start();
    let mut stream = connect(&sandbox);
    stream
        .write_all(b"\x16\x03\x01 not http at all\r\n\r\n")
        .unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    assert_eq!(parse_answer(&bytes).status, 400);
    let mut stream = connect(&sandbox);
    stream
        .write_all(
            format!(
                "POST {} HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
                events_path()
            )
            .as_bytes(),
        )
        .unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    assert_eq!(parse_answer(&bytes).status, 400);
    assert_eq!(post_events(&sandbox, &batch(vec![event("a")])).status, 200);
}

#[test]
fn a_real_client_can_talk_to_it() {
    let sandbox = start();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}{}", sandbox.base_url(), events_path());
    let mut bad = event("bad");
    bad["event_name"] = json!("nope");
    for (events, expected) in [
        (vec![event("u1")], 200),
        (vec![event("u2"), bad], 422),
        (vec![event("u3")], 200),
    ] {
        let mut response = agent
            .post(&url)
            .header("Authorization", &format!("Bearer {TOKEN}"))
            .content_type("application/json")
            .send(batch(events))
            .unwrap();
        assert_eq!(response.status().as_u16(), expected);
        let body: Value =
            serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        assert!(body.is_object());
    }
    assert_eq!(sandbox.accepted().len(), 3);
    assert_eq!(
        sandbox.requests()[0]
            .user_agent
            .as_deref()
            .map(|ua| ua.starts_with("ureq")),
        Some(true)
    );
}

#[test]
fn many_clients_at_once() {
    let sandbox = start();
    let port = sandbox.port();
    let threads: Vec<_> = (0..12)
        .map(|t| {
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                for i in 0..10 {
                    let events = (0..10).map(|j| event(&format!("{t}-{i}-{j}"))).collect();
                    stream
                        .write_all(request(&batch(events), "").as_bytes())
                        .unwrap();
                    assert_eq!(read_response(&mut stream).status, 200);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(sandbox.accepted().len(), 1200);
    assert_eq!(sandbox.times_accepted("11-9-9"), 1);
}

#[test]
fn wait_for_accepted_wakes_up_and_times_out() {
    let sandbox = start();
    assert!(!sandbox.wait_for_accepted(1, Duration::from_millis(50)));
    assert!(sandbox.wait_for_accepted(0, Duration::ZERO));
    let port = sandbox.port();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        let body = batch(vec![event("w1"), event("w2")]);
        raw(
            port,
            "POST",
            &events_path(),
            &[("Authorization", "Bearer sandbox-token")],
            body.as_bytes(),
        )
    });
    let started = Instant::now();
    assert!(sandbox.wait_for_accepted(2, Duration::from_secs(10)));
    assert!(started.elapsed() < Duration::from_secs(5));
    sender.join().unwrap();
}

#[test]
fn stopping_closes_connections_and_frees_the_port() {
    let sandbox = start();
    let port = sandbox.port();
    assert_eq!(sandbox.base_url(), format!("http://127.0.0.1:{port}"));
    let mut idle = connect(&sandbox);
    idle.write_all(request(&batch(vec![event("a")]), "").as_bytes())
        .unwrap();
    assert_eq!(read_response(&mut idle).status, 200);
    sandbox.stop();
    let mut rest = Vec::new();
    assert_eq!(
        idle.read_to_end(&mut rest).ok(),
        Some(0),
        "kept-alive connection closed"
    );
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nothing listens any more"
    );
    let again = Sandbox::start(SandboxConfig {
        port,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(again.port(), port);
    drop(again);
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "drop stops too"
    );
}

#[test]
fn stop_does_not_wait_for_a_long_delay() {
    let sandbox = start();
    sandbox.inject(app_conversions_sandbox::Fault::Delay { millis: 60_000 });
    let port = sandbox.port();
    let client = std::thread::spawn(move || {
        let body = batch(vec![event("a")]);
        raw(
            port,
            "POST",
            &events_path(),
            &[("Authorization", "Bearer sandbox-token")],
            body.as_bytes(),
        )
    });
    while sandbox.requests().is_empty() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let started = Instant::now();
    sandbox.stop();
    assert!(started.elapsed() < Duration::from_secs(2));
    // The delayed exchange ends promptly too (answered or cut off, never 60 s later).
    let answer = client.join().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(answer.status, 0 | 200), "{answer:?}");
}

#[test]
fn the_handle_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Sandbox>();
    let sandbox = std::sync::Arc::new(start());
    let other = std::sync::Arc::clone(&sandbox);
    std::thread::spawn(move || other.register_custom_event_name("FromThread"))
        .join()
        .unwrap();
    let mut e = event("t");
    e["event_name"] = json!("fromthread");
    assert_eq!(post_events(&sandbox, &batch(vec![e])).status, 200);
}
