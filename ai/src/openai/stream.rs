//! Assembling one Chat Completions turn from its streamed chunks: text
//! handed on as it arrives, tool calls gathered from `delta.tool_calls`
//! fragments by their `index` and their arguments read once whole, usage
//! from the final chunk (`stream_options.include_usage`), until `[DONE]`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use steward_core::agent::model::{ModelError, ModelReply, Part, TextSink, ToolCall};

use super::{OpenAi, WireUsage, arguments, error_message, finish_reason};
use crate::http::{self, Flow};

#[derive(Deserialize)]
struct WireChunk {
    #[serde(default)]
    choices: Vec<WireChunkChoice>,
    usage: Option<WireUsage>,
    model: Option<String>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct WireChunkChoice {
    #[serde(default)]
    delta: WireDelta,
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct WireDelta {
    content: Option<String>,
    tool_calls: Option<Vec<WireToolCallDelta>>,
}

#[derive(Deserialize)]
struct WireToolCallDelta {
    #[serde(default)]
    index: usize,
    id: Option<String>,
    function: Option<WireFunctionDelta>,
}

#[derive(Deserialize)]
struct WireFunctionDelta {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Default)]
struct PendingCall {
    id: String,
    name: String,
    arguments: String,
}

/// A turn being assembled from its chunks.
#[derive(Default)]
pub(super) struct StreamedTurn {
    model: Option<String>,
    text: String,
    calls: BTreeMap<usize, PendingCall>,
    pub(super) finish: Option<String>,
    usage: Option<WireUsage>,
}

impl StreamedTurn {
    pub(super) fn apply(&mut self, data: &str, on_text: TextSink<'_>) -> Result<Flow, ModelError> {
        if data.trim() == "[DONE]" {
            return Ok(Flow::Done);
        }
        let chunk: WireChunk =
            serde_json::from_str(data).map_err(|e| ModelError::Malformed(format!("unexpected stream chunk: {e}")))?;
        if let Some(error) = chunk.error {
            return Err(ModelError::Unavailable(http::shorten(&error_message(&error))));
        }
        if chunk.model.is_some() {
            self.model = chunk.model;
        }
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        for choice in chunk.choices.into_iter().take(1) {
            if let Some(piece) = choice.delta.content.filter(|t| !t.is_empty()) {
                on_text(&piece);
                self.text.push_str(&piece);
            }
            for delta in choice.delta.tool_calls.unwrap_or_default() {
                let call = self.calls.entry(delta.index).or_default();
                if let Some(id) = delta.id {
                    call.id = id;
                }
                if let Some(function) = delta.function {
                    if let Some(name) = function.name {
                        call.name.push_str(&name);
                    }
                    if let Some(arguments) = function.arguments {
                        call.arguments.push_str(&arguments);
                    }
                }
            }
            if choice.finish_reason.is_some() {
                self.finish = choice.finish_reason;
            }
        }
        Ok(Flow::Continue)
    }

    pub(super) fn finish(self, provider: &OpenAi) -> Result<ModelReply, ModelError> {
        let mut parts = Vec::with_capacity(self.calls.len() + 1);
        if !self.text.is_empty() {
            parts.push(Part::Text { text: self.text });
        }
        for call in self.calls.into_values() {
            parts.push(Part::ToolCall(ToolCall {
                arguments: arguments(&call.name, Value::String(call.arguments))?,
                id: call.id,
                name: call.name,
            }));
        }
        let stop = finish_reason(self.finish.as_deref(), &parts);
        Ok(ModelReply {
            parts,
            stop,
            usage: self.usage.map(WireUsage::into_usage).unwrap_or_default(),
            model: provider.reply_model(self.model.as_deref()),
        })
    }
}
