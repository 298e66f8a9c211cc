//! A scripted language model for tests (of this crate, the providers'
//! chains, and programs embedding Steward): it answers with the replies it
//! was given, in order (or from a function), and keeps every request it
//! saw. When the script runs out it fails with `Rejected`, so a test that
//! asks the model once too often (a resumed run repeating a turn, say)
//! sees it. The one test model of the workspace.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::Value;

use super::model::{LanguageModel, ModelError, ModelReply, ModelRequest, Part, StopReason, ToolCall, Usage};

type Responder = Box<dyn Fn(&ModelRequest) -> Result<ModelReply, ModelError> + Send + Sync>;

#[derive(Default)]
pub struct ScriptedModel {
    /// What [`LanguageModel::name`] says (`scripted` unless named).
    name: Option<String>,
    script: Mutex<VecDeque<Result<ModelReply, ModelError>>>,
    /// Answers when set, instead of the script.
    responder: Option<Responder>,
    seen: Mutex<Vec<ModelRequest>>,
}

impl std::fmt::Debug for ScriptedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedModel")
            .field("name", &self.name())
            .field("remaining", &self.remaining())
            .finish_non_exhaustive()
    }
}

impl ScriptedModel {
    pub fn new(script: impl IntoIterator<Item = Result<ModelReply, ModelError>>) -> ScriptedModel {
        ScriptedModel { script: Mutex::new(script.into_iter().collect()), ..ScriptedModel::default() }
    }

    /// The same, under another name (to tell the models of a chain apart).
    pub fn named(
        name: impl Into<String>,
        script: impl IntoIterator<Item = Result<ModelReply, ModelError>>,
    ) -> ScriptedModel {
        ScriptedModel { name: Some(name.into()), ..ScriptedModel::new(script) }
    }

    /// A model that answers every request with `respond`.
    pub fn answering(
        respond: impl Fn(&ModelRequest) -> Result<ModelReply, ModelError> + Send + Sync + 'static,
    ) -> ScriptedModel {
        ScriptedModel { responder: Some(Box::new(respond)), ..ScriptedModel::default() }
    }

    /// Adds replies to the end of the script.
    pub fn push(&self, reply: Result<ModelReply, ModelError>) {
        self.script.lock().unwrap_or_else(|p| p.into_inner()).push_back(reply);
    }

    /// Every request asked so far, in order.
    pub fn requests(&self) -> Vec<ModelRequest> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// How many replies are left.
    pub fn remaining(&self) -> usize {
        self.script.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg_attr(not(target_family = "wasm"), async_trait)]
#[cfg_attr(target_family = "wasm", async_trait(?Send))]
impl LanguageModel for ScriptedModel {
    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("scripted")
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelReply, ModelError> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).push(request.clone());
        if let Some(respond) = &self.responder {
            return respond(request);
        }
        self.script.lock().unwrap_or_else(|p| p.into_inner()).pop_front().unwrap_or_else(|| {
            let asked = self.seen.lock().unwrap_or_else(|p| p.into_inner()).len();
            Err(ModelError::Rejected(format!("the script of `{}` has no reply left for request {asked}", self.name())))
        })
    }
}

/// A reply with only text: the model is done.
pub fn text_reply(text: &str) -> ModelReply {
    ModelReply {
        parts: vec![Part::Text { text: text.into() }],
        stop: StopReason::EndTurn,
        usage: Usage { input_tokens: 10, output_tokens: 5 },
        model: "scripted".into(),
    }
}

/// A reply calling tools, each `(call id, tool, arguments)`, in order.
pub fn calls_reply(calls: &[(&str, &str, Value)]) -> ModelReply {
    ModelReply {
        parts: calls
            .iter()
            .map(|(id, name, arguments)| {
                Part::ToolCall(ToolCall { id: (*id).into(), name: (*name).into(), arguments: arguments.clone() })
            })
            .collect(),
        stop: StopReason::ToolUse,
        usage: Usage { input_tokens: 20, output_tokens: 8 },
        model: "scripted".into(),
    }
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::agent::model::Message;

    fn ask(text: &str) -> ModelRequest {
        ModelRequest::new(None, vec![Message::user(text)])
    }

    #[tokio::test]
    async fn answers_in_order_records_requests_and_fails_clearly_when_out() {
        let model = ScriptedModel::named("primary", [Ok(calls_reply(&[("c1", "add_task", json!({"title": "milk"}))]))]);
        model.push(Err(ModelError::Timeout));
        model.push(Ok(text_reply("done")));
        assert_eq!(model.name(), "primary");
        assert_eq!(model.complete(&ask("one")).await.unwrap().stop, StopReason::ToolUse);
        assert_eq!(model.complete(&ask("two")).await, Err(ModelError::Timeout));
        assert_eq!(model.complete(&ask("three")).await.unwrap().message().text(), "done");
        assert_eq!(model.remaining(), 0);
        let out = model.complete(&ask("four")).await.unwrap_err();
        assert!(
            matches!(&out, ModelError::Rejected(m) if m.contains("`primary`") && m.contains("request 4")),
            "{out:?}"
        );
        let seen: Vec<String> = model.requests().iter().map(|r| r.messages[0].text()).collect();
        assert_eq!(seen, ["one", "two", "three", "four"]);
    }

    #[tokio::test]
    async fn streaming_hands_over_the_scripted_text() {
        let model = ScriptedModel::new([Ok(text_reply("hello"))]);
        let heard = Mutex::new(String::new());
        let sink = |t: &str| heard.lock().unwrap_or_else(|p| p.into_inner()).push_str(t);
        assert_eq!(model.stream(&ask("hi"), &sink).await.unwrap().message().text(), "hello");
        assert_eq!(*heard.lock().unwrap_or_else(|p| p.into_inner()), "hello");
    }
}
