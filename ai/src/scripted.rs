//! [`Scripted`]: a model for tests that answers from a script — a queue of
//! replies and errors handed out in order — and records every request it
//! received, so a test can check what the agent asked. When the script runs
//! out it fails with an error saying so, rather than inventing an answer.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use serde_json::Value;
use steward_core::agent::model::{
    LanguageModel, ModelError, ModelReply, ModelRequest, Part, StopReason, ToolCall, Usage,
};

/// A scripted model. Safe to share between tasks: each call takes the next
/// entry of the script.
#[derive(Debug, Default)]
pub struct Scripted {
    name: String,
    script: Mutex<VecDeque<Result<ModelReply, ModelError>>>,
    requests: Mutex<Vec<ModelRequest>>,
}

impl Scripted {
    /// A model named `"scripted"` that answers with `script`, in order.
    pub fn new(script: impl IntoIterator<Item = Result<ModelReply, ModelError>>) -> Scripted {
        Scripted::named("scripted", script)
    }

    /// The same, under another name (to tell models of a chain apart).
    pub fn named(
        name: impl Into<String>,
        script: impl IntoIterator<Item = Result<ModelReply, ModelError>>,
    ) -> Scripted {
        Scripted {
            name: name.into(),
            script: Mutex::new(script.into_iter().collect()),
            requests: Mutex::new(Vec::new()),
        }
    }

    /// Adds a reply to the end of the script.
    pub fn push_reply(&self, reply: ModelReply) {
        lock(&self.script).push_back(Ok(reply));
    }

    /// Adds a failure to the end of the script.
    pub fn push_error(&self, error: ModelError) {
        lock(&self.script).push_back(Err(error));
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<ModelRequest> {
        lock(&self.requests).clone()
    }

    /// How many entries of the script are left.
    pub fn remaining(&self) -> usize {
        lock(&self.script).len()
    }

    /// A reply of plain text that ends the turn.
    pub fn text(text: impl Into<String>) -> ModelReply {
        ModelReply {
            parts: vec![Part::Text { text: text.into() }],
            stop: StopReason::EndTurn,
            usage: Usage::default(),
            model: "scripted".into(),
        }
    }

    /// A reply asking for one tool call.
    pub fn tool_call(id: impl Into<String>, name: impl Into<String>, arguments: Value) -> ModelReply {
        ModelReply {
            parts: vec![Part::ToolCall(ToolCall { id: id.into(), name: name.into(), arguments })],
            stop: StopReason::ToolUse,
            usage: Usage::default(),
            model: "scripted".into(),
        }
    }
}

/// A test that panicked while holding a lock leaves the data usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[async_trait]
impl LanguageModel for Scripted {
    fn name(&self) -> &str {
        &self.name
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelReply, ModelError> {
        let asked = {
            let mut requests = lock(&self.requests);
            requests.push(request.clone());
            requests.len()
        };
        lock(&self.script).pop_front().unwrap_or_else(|| {
            Err(ModelError::NotConfigured(format!(
                "the scripted model `{}` has no reply left for request {asked}",
                self.name
            )))
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use steward_core::agent::model::Message;

    use super::*;

    fn ask(text: &str) -> ModelRequest {
        ModelRequest::new(None, vec![Message::user(text)])
    }

    #[tokio::test]
    async fn answers_in_order_records_requests_and_fails_clearly_when_out() {
        let model = Scripted::new([
            Ok(Scripted::tool_call("c1", "add_task", json!({"title": "milk"}))),
            Err(ModelError::Timeout),
        ]);
        model.push_reply(Scripted::text("done"));

        let first = model.complete(&ask("one")).await.unwrap();
        assert_eq!(first.stop, StopReason::ToolUse);
        assert_eq!(first.message().tool_calls().next().map(|c| c.name.as_str()), Some("add_task"));
        assert_eq!(model.complete(&ask("two")).await, Err(ModelError::Timeout));
        assert_eq!(model.complete(&ask("three")).await.unwrap().message().text(), "done");
        assert_eq!(model.remaining(), 0);

        let out = model.complete(&ask("four")).await.unwrap_err();
        assert!(matches!(&out, ModelError::NotConfigured(m) if m.contains("no reply left for request 4")), "{out:?}");

        let seen: Vec<String> = model.requests().iter().map(|r| r.messages[0].text()).collect();
        assert_eq!(seen, ["one", "two", "three", "four"]);
    }

    #[tokio::test]
    async fn streaming_hands_over_the_scripted_text() {
        let model = Scripted::new([Ok(Scripted::text("hello"))]);
        let heard = Mutex::new(String::new());
        let sink = |t: &str| lock(&heard).push_str(t);
        let reply = model.stream(&ask("hi"), &sink).await.unwrap();
        assert_eq!(reply.message().text(), "hello");
        assert_eq!(*lock(&heard), "hello");
    }
}
