//! The simulated devices' HTTP/1.1: a POST of app events, and reading one answer off a
//! keep-alive connection. Written on raw tokio sockets so the load generator costs little
//! beside the relay it measures.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The ad account the bench's relay and sandbox serve.
pub const AD_ACCOUNT: &str = "549768257474";

/// One HTTP/1.1 POST of `count` events; `with_ip` sets the IP the relay would add.
pub fn events_request(token: &str, device: usize, n: u64, count: usize, with_ip: bool) -> Vec<u8> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let events: Vec<_> = (0..count)
        .map(|i| {
            let mut user_data = json!({"client_user_agent": "Dalvik/2.1.0 (Linux; U; Android 14)"});
            if with_ip {
                user_data["client_ip_address"] = json!("127.0.0.1");
            }
            json!({
                "event_name": "app_open",
                "action_source": "app_android",
                "event_time": now,
                "event_id": format!("d{device}-{n}-{i}"),
                "user_data": user_data,
                "app_id": "com.example.shop",
                "app_version": "3.4.1",
                "device_brand": "Google",
                "device_model": "Pixel 8",
                "os_version": "14",
            })
        })
        .collect();
    let body = json!({ "data": events }).to_string();
    format!(
        "POST /v5/ad_accounts/{AD_ACCOUNT}/events HTTP/1.1\r\nHost: relay\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Writes `request` and reads the whole answer; its status.
pub async fn exchange(stream: &mut BufReader<TcpStream>, request: &[u8]) -> std::io::Result<u16> {
    Ok(exchange_with_body(stream, request).await?.0)
}

/// `GET path` on a new connection to `port`; the answer's body as text.
pub async fn get(port: u16, path: &str) -> std::io::Result<String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n");
    let (_, body) = exchange_with_body(&mut BufReader::new(stream), request.as_bytes()).await?;
    String::from_utf8(body).map_err(std::io::Error::other)
}

/// Writes `request` and reads the whole answer: its status and body.
async fn exchange_with_body(
    stream: &mut BufReader<TcpStream>,
    request: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    stream.get_mut().write_all(request).await?;
    let mut line = String::new();
    stream.read_line(&mut line).await?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut length = 0usize;
    loop {
        line.clear();
        if stream.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await?;
    Ok((status, body))
}
