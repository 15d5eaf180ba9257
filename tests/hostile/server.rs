//! A hostile target on 127.0.0.1, shared by `tests/hostile.rs` and `examples/hostile.rs`.
//!
//! A Huawei Workspace `DELETE /v1/{project}/app-servers/{name}` is answered by `name`, each a
//! way of answering badly (see [`API_BEHAVIOURS`]); `POST /states/{mode}` is a provider-state
//! endpoint that misbehaves by `mode` (see [`STATE_MODES`]). A second listener stands for
//! "another host": it only counts the requests that reach it.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The misbehaving answers of the API, by the server id the request names.
pub const API_BEHAVIOURS: &[&str] = &[
    "never-answers",
    "slow-headers",
    "reset",
    "huge-body",
    "endless-chunked",
    "endless-close",
    "invalid-json",
    "invalid-utf8",
    "wrong-content-type",
    "redirect-loop",
    "redirect-other-host",
    "huge-headers",
    "gzip-bomb",
    "echo-token-at-cut",
];

/// Provider-state endpoints: `ok` behaves; the others hang, answer garbage, answer an endless
/// body, or hang / fail on teardown.
pub const STATE_MODES: &[&str] = &[
    "ok",
    "hang",
    "garbage",
    "huge",
    "teardown-hangs",
    "teardown-fails",
    "slow-setup",
];

/// The token a hostile run's target file hands the harness; `echo-token-at-cut` echoes it.
pub const SECRET_TOKEN: &str = "s3cr3t-token-value-0123456789";

/// The padding before the echoed token in `echo-token-at-cut`: the token then straddles the
/// 600-byte excerpt of failure messages.
const PAD_BEFORE_TOKEN: usize = 590;

/// What a running hostile target has seen.
#[derive(Default)]
pub struct Seen {
    /// Requests that reached the "other host".
    pub other_host: AtomicUsize,
    /// API requests received.
    pub api: AtomicUsize,
    /// Teardowns received (any mode).
    pub teardowns: AtomicUsize,
    /// Setups received (any mode).
    pub setups: AtomicUsize,
}

pub struct Hostile {
    pub port: u16,
    pub other_port: u16,
    pub seen: Arc<Seen>,
}

impl Hostile {
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn states_url(&self, mode: &str) -> String {
        format!("http://127.0.0.1:{}/states/{mode}", self.port)
    }
}

/// Starts the target on a thread of its own (its runtime lives as long as the process).
pub fn start() -> Hostile {
    start_with(None)
}

/// [`start`], answering every API request that names no behaviour with `default` (so that
/// any suite meets the misbehaviour).
pub fn start_with(default: Option<String>) -> Hostile {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(async move {
            let main = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let other = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let seen = Arc::new(Seen::default());
            let (port, other_port) = (
                main.local_addr().unwrap().port(),
                other.local_addr().unwrap().port(),
            );
            tx.send((port, other_port, Arc::clone(&seen))).unwrap();
            let seen2 = Arc::clone(&seen);
            tokio::spawn(async move {
                while let Ok((mut s, _)) = other.accept().await {
                    seen2.other_host.fetch_add(1, Ordering::SeqCst);
                    let _ = s.write_all(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
                }
            });
            let default: Arc<Option<String>> = Arc::new(default);
            while let Ok((s, _)) = main.accept().await {
                tokio::spawn(handle(s, other_port, Arc::clone(&seen), Arc::clone(&default)));
            }
        });
    });
    let (port, other_port, seen) = rx.recv().expect("the hostile target starts");
    Hostile {
        port,
        other_port,
        seen,
    }
}

/// A request's path and body (the head is capped at 64 KiB, the body at 1 MiB).
async fn read_request(s: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let path = head.split(' ').nth(1)?.to_string();
    let length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0)
        .min(1 << 20);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((path, body))
}

async fn handle(mut s: TcpStream, other_port: u16, seen: Arc<Seen>, default: Arc<Option<String>>) {
    let Some((path, body)) = read_request(&mut s).await else {
        return;
    };
    let path = path.split('?').next().unwrap_or_default().to_string();
    if let Some(mode) = path.strip_prefix("/states/") {
        let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let action = request["action"].as_str().unwrap_or_default().to_string();
        if action == "teardown" {
            seen.teardowns.fetch_add(1, Ordering::SeqCst);
        }
        if action == "setup" {
            seen.setups.fetch_add(1, Ordering::SeqCst);
        }
        return states(s, mode, &action).await;
    }
    seen.api.fetch_add(1, Ordering::SeqCst);
    let mut name = path.rsplit('/').next().unwrap_or_default().to_string();
    if let Some(default) = default.as_ref() {
        if !API_BEHAVIOURS.contains(&name.as_str()) {
            name = default.clone();
        }
    }
    api(s, &name, &path, other_port).await;
}

async fn respond(s: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = s.write_all(head.as_bytes()).await;
    let _ = s.write_all(body).await;
    let _ = s.shutdown().await;
}

/// Writes `chunk` until the peer goes away.
async fn endless(s: &mut TcpStream, chunk: &[u8]) {
    while s.write_all(chunk).await.is_ok() {}
}

/// Waits until the peer closes the connection (it never gets an answer).
async fn hang(s: &mut TcpStream) {
    let mut b = [0u8; 1024];
    while matches!(s.read(&mut b).await, Ok(n) if n > 0) {}
}

const JSON: (&str, &str) = ("content-type", "application/json");
const RID: (&str, &str) = ("x-request-id", "req-hostile");

async fn api(mut s: TcpStream, name: &str, path: &str, other_port: u16) {
    let zeros = vec![0u8; 64 * 1024];
    match name {
        "never-answers" => hang(&mut s).await,
        "slow-headers" => {
            let _ = s.write_all(b"HTTP/1.1 401 Unauthorized\r\nx-slow: ").await;
            for _ in 0..600 {
                if s.write_all(b"a").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        "reset" => {
            let _ = s.set_zero_linger();
            drop(s);
        }
        "huge-body" => {
            let head = "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\nx-request-id: r\r\ncontent-length: 1073741824\r\n\r\n";
            let _ = s.write_all(head.as_bytes()).await;
            endless(&mut s, &zeros).await;
        }
        "endless-chunked" => {
            let head = "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\nx-request-id: r\r\ntransfer-encoding: chunked\r\n\r\n";
            let _ = s.write_all(head.as_bytes()).await;
            let mut chunk = format!("{:x}\r\n", zeros.len()).into_bytes();
            chunk.extend_from_slice(&zeros);
            chunk.extend_from_slice(b"\r\n");
            endless(&mut s, &chunk).await;
        }
        "endless-close" => {
            let head = "HTTP/1.0 401 Unauthorized\r\ncontent-type: application/json\r\nx-request-id: r\r\n\r\n";
            let _ = s.write_all(head.as_bytes()).await;
            endless(&mut s, &zeros).await;
        }
        "invalid-json" => respond(&mut s, "401 Unauthorized", &[JSON, RID], b"{\"error_code\": \"APIGW.03").await,
        "invalid-utf8" => respond(&mut s, "401 Unauthorized", &[JSON, RID], b"{\"error_code\": \"\xff\xfe\"}").await,
        "wrong-content-type" => respond(&mut s, "401 Unauthorized", &[("content-type", "text/html"), RID], b"<html><body>login</body></html>").await,
        "redirect-loop" => respond(&mut s, "302 Found", &[("location", path), RID], b"").await,
        "redirect-other-host" => {
            let to = format!("http://127.0.0.1:{other_port}{path}");
            respond(&mut s, "307 Temporary Redirect", &[("location", &to), RID], b"").await
        }
        "huge-headers" => {
            let big = "h".repeat(8 * 1024);
            let _ = s.write_all(b"HTTP/1.1 401 Unauthorized\r\n").await;
            for i in 0..1024 {
                let line = format!("x-big-{i}: {big}\r\n");
                if s.write_all(line.as_bytes()).await.is_err() {
                    return;
                }
            }
            let _ = s.write_all(b"content-length: 0\r\n\r\n").await;
        }
        "gzip-bomb" => {
            let bomb = gzip_of_zeros(100 << 20);
            respond(&mut s, "401 Unauthorized", &[JSON, RID, ("content-encoding", "gzip")], &bomb).await
        }
        "echo-token-at-cut" => {
            let body = format!(
                "{{\"error_code\":\"X\",\"error_msg\":\"{}{}\"}}",
                "a".repeat(PAD_BEFORE_TOKEN - 32),
                SECRET_TOKEN
            );
            respond(&mut s, "500 Internal Server Error", &[JSON, RID], body.as_bytes()).await
        }
        "two-kib" => {
            let body = format!("{{\"error_code\":\"APIGW.0301\",\"error_msg\":\"{}\"}}", "m".repeat(2000));
            respond(&mut s, "401 Unauthorized", &[JSON, RID], body.as_bytes()).await
        }
        // A conforming refusal: the case passes its checks.
        _ => respond(&mut s, "401 Unauthorized", &[JSON, RID], br#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information"}"#).await,
    }
}

async fn states(mut s: TcpStream, mode: &str, action: &str) {
    let ok = br#"{"project_id":"p","server_id":"ok"}"#;
    match (mode, action) {
        ("hang", _) | ("teardown-hangs", "teardown") => hang(&mut s).await,
        ("garbage", _) => respond(&mut s, "200 OK", &[JSON], b"\x00\xffnot json at all").await,
        ("huge", _) => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
            let _ = s.write_all(head.as_bytes()).await;
            let zeros = vec![b' '; 64 * 1024];
            let mut chunk = format!("{:x}\r\n", zeros.len()).into_bytes();
            chunk.extend_from_slice(&zeros);
            chunk.extend_from_slice(b"\r\n");
            endless(&mut s, &chunk).await;
        }
        ("slow-setup", "setup") => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            respond(&mut s, "200 OK", &[JSON], ok).await
        }
        ("teardown-fails", "teardown") => {
            respond(
                &mut s,
                "500 Internal Server Error",
                &[JSON],
                br#"{"error":"boom"}"#,
            )
            .await
        }
        (_, "probe") => respond(&mut s, "200 OK", &[JSON], br#"{"exists":false}"#).await,
        (_, "teardown") => respond(&mut s, "200 OK", &[JSON], b"{}").await,
        _ => respond(&mut s, "200 OK", &[JSON], ok).await,
    }
}

/// A gzip stream of `n` zero bytes, made small by deflate's fixed-Huffman back-references:
/// one literal 0, then copies of 258 bytes at distance 1 (13 bits each).
pub fn gzip_of_zeros(n: usize) -> Vec<u8> {
    let mut bits = BitWriter::default();
    bits.push(1, 1); // the last block
    bits.push(0b01, 2); // fixed Huffman
    bits.push_code(0b0011_0000, 8); // literal 0
    let mut left = n.saturating_sub(1);
    while left >= 258 {
        bits.push_code(0b1100_0101, 8); // length 258
        bits.push_code(0, 5); // distance 1
        left -= 258;
    }
    for _ in 0..left {
        bits.push_code(0b0011_0000, 8);
    }
    bits.push_code(0, 7); // end of block
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    out.extend(bits.finish());
    out.extend_from_slice(&0u32.to_le_bytes()); // CRC left out: the harness never inflates
    out.extend_from_slice(&(n as u32).to_le_bytes());
    out
}

#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u32,
    used: u32,
}

impl BitWriter {
    /// Bits least-significant first (header fields).
    fn push(&mut self, value: u32, count: u32) {
        for i in 0..count {
            self.acc |= ((value >> i) & 1) << self.used;
            self.used += 1;
            if self.used == 8 {
                self.out.push(self.acc as u8);
                self.acc = 0;
                self.used = 0;
            }
        }
    }

    /// A Huffman code, most-significant bit first.
    fn push_code(&mut self, code: u32, count: u32) {
        for i in (0..count).rev() {
            self.push((code >> i) & 1, 1);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.used > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}
