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
