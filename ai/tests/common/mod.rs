//! Helpers the provider tests share: a conversation with a tool round trip,
//! a text sink that remembers what it heard, short timeouts, and reading
//! what a local mock server received.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use steward_ai::{HttpTimeouts, Message, ModelRequest, Part, RetryPolicy, Speaker, ToolCall, ToolResult};
use steward_core::agent::Builtin;
use wiremock::MockServer;

/// Timeouts short enough for a slow-server test to finish quickly.
pub fn short_timeouts() -> HttpTimeouts {
    HttpTimeouts { connect: Duration::from_secs(1), request: Duration::from_millis(400) }
}

/// Retries quickly and without jitter, so a test can reason about waits.
pub fn quick_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(5),
        jitter: false,
    }
}

/// A conversation in which the assistant already called a tool once (and
/// it failed), with two built-in tools on offer.
pub fn conversation() -> ModelRequest {
    ModelRequest {
        system: Some("You are Steward.".into()),
        messages: vec![
            Message::user("Add milk to my list"),
            Message {
                speaker: Speaker::Assistant,
                parts: vec![
                    Part::Text { text: "Adding it.".into() },
                    Part::ToolCall(ToolCall {
                        id: "call_1".into(),
                        name: "add_task".into(),
                        arguments: json!({"title": "milk"}),
                    }),
                ],
            },
            Message {
                speaker: Speaker::User,
                parts: vec![Part::ToolResult(ToolResult {
                    call_id: "call_1".into(),
                    content: "the store is busy".into(),
                    is_error: true,
                })],
            },
        ],
        tools: vec![Builtin::AddTask.spec(), Builtin::ListTasks.spec()],
        max_tokens: 512,
        temperature: Some(0.25),
    }
}

/// A sink that keeps every piece of text handed to it, in order.
#[derive(Clone, Default)]
pub struct Heard(Arc<Mutex<Vec<String>>>);

impl Heard {
    pub fn sink(&self) -> impl Fn(&str) + Send + Sync + use<> {
        let pieces = self.0.clone();
        move |t: &str| pieces.lock().unwrap().push(t.to_owned())
    }

    pub fn pieces(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// The JSON bodies the server received, oldest first.
pub async fn bodies(server: &MockServer) -> Vec<Value> {
    server.received_requests().await.unwrap().iter().map(|r| r.body_json::<Value>().unwrap()).collect()
}

/// Builds a `text/event-stream` body from `(event name, data)` pairs.
pub fn sse(events: &[(Option<&str>, Value)]) -> String {
    let mut body = String::new();
    for (name, data) in events {
        if let Some(name) = name {
            body.push_str(&format!("event: {name}\n"));
        }
        body.push_str(&format!("data: {data}\n\n"));
    }
    body
}

/// A one-request HTTP server on 127.0.0.1 that answers with a chunked
/// `text/event-stream` body written piece by piece. Each piece comes with
/// how many pieces of text `heard` must hold before it is written, so a
/// client that buffered the whole answer before handing text on never gets
/// the rest (the server gives up after two seconds and hangs up).
/// Returns the base URL.
pub async fn serve_in_pieces(pieces: Vec<(usize, String)>, heard: Heard) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        read_request(&mut socket).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                    transfer-encoding: chunked\r\nconnection: close\r\n\r\n";
        socket.write_all(head.as_bytes()).await.unwrap();
        for (wait_for, piece) in &pieces {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
            while heard.pieces().len() < *wait_for {
                if tokio::time::Instant::now() > deadline {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let chunk = format!("{:x}\r\n{piece}\r\n", piece.len());
            socket.write_all(chunk.as_bytes()).await.unwrap();
            socket.flush().await.unwrap();
        }
        socket.write_all(b"0\r\n\r\n").await.unwrap();
    });

    async fn read_request(socket: &mut tokio::net::TcpStream) {
        let mut buf = Vec::new();
        let mut byte = [0u8; 4096];
        loop {
            let n = socket.read(&mut byte).await.unwrap();
            buf.extend_from_slice(&byte[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned()))
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                if buf.len() >= end + 4 + length {
                    return;
                }
            }
            if n == 0 {
                return;
            }
        }
    }
    url
}
