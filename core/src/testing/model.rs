//! A scripted language model for tests: it answers with the replies it was
//! given, in order, and keeps every request it saw. When the script runs
//! out it fails with `Rejected`, so a test that asks the model once too
//! often (a resumed run repeating a turn, say) sees it.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::Value;

use crate::agent::model::{LanguageModel, ModelError, ModelReply, ModelRequest, Part, StopReason, ToolCall, Usage};

type Responder = Box<dyn Fn(&ModelRequest) -> Result<ModelReply, ModelError> + Send + Sync>;

#[derive(Default)]
pub struct ScriptedModel {
    script: Mutex<VecDeque<Result<ModelReply, ModelError>>>,
    /// Answers when set, instead of the script.
    responder: Option<Responder>,
    seen: Mutex<Vec<ModelRequest>>,
}

impl std::fmt::Debug for ScriptedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedModel").field("remaining", &self.remaining()).finish_non_exhaustive()
    }
}

impl ScriptedModel {
    pub fn new(script: impl IntoIterator<Item = Result<ModelReply, ModelError>>) -> ScriptedModel {
        ScriptedModel { script: Mutex::new(script.into_iter().collect()), ..ScriptedModel::default() }
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
        "scripted"
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelReply, ModelError> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).push(request.clone());
        if let Some(respond) = &self.responder {
            return respond(request);
        }
        self.script
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
            .unwrap_or_else(|| Err(ModelError::Rejected("the script has no more replies".into())))
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
