//! Assembling one Anthropic turn from its server-sent events
//! (`message_start`, `content_block_*`, `message_delta`, `message_stop`,
//! `error`): text handed on as it arrives, tool arguments gathered from
//! their `input_json_delta` pieces and read once whole.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use steward_core::agent::model::{ModelError, ModelReply, Part, TextSink, ToolCall};

use super::{Anthropic, WireUsage, no_arguments, stop_reason};
use crate::http::{self, Flow};

/// One event of the stream, as far as this provider reads it.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireEvent {
    MessageStart {
        message: WireStartMessage,
    },
    ContentBlockStart {
        index: usize,
        content_block: WireStartBlock,
    },
    ContentBlockDelta {
        index: usize,
        delta: WireDelta,
    },
    ContentBlockStop,
    MessageDelta {
        delta: WireMessageDelta,
        usage: Option<WireUsage>,
    },
    MessageStop,
    Ping,
    Error {
        error: WireError,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Deserialize)]
struct WireStartMessage {
    model: Option<String>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireStartBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default = "no_arguments")]
        input: Value,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct WireMessageDelta {
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<String>,
}

enum Block {
    Text(String),
    Tool { id: String, name: String, start_input: Value, json: String },
    Ignored,
}

/// A turn being assembled from its events.
#[derive(Default)]
pub(super) struct StreamedTurn {
    model: Option<String>,
    blocks: BTreeMap<usize, Block>,
    stop: Option<String>,
    usage: WireUsage,
    complete: bool,
}

impl StreamedTurn {
    pub(super) fn apply(&mut self, data: &str, on_text: TextSink<'_>) -> Result<Flow, ModelError> {
        let event: WireEvent =
            serde_json::from_str(data).map_err(|e| ModelError::Malformed(format!("unexpected stream event: {e}")))?;
        match event {
            WireEvent::MessageStart { message } => {
                self.model = message.model;
                if let Some(usage) = message.usage {
                    self.merge_usage(usage);
                }
            }
            WireEvent::ContentBlockStart { index, content_block } => {
                let block = match content_block {
                    WireStartBlock::Text { text } => {
                        if !text.is_empty() {
                            on_text(&text);
                        }
                        Block::Text(text)
                    }
                    WireStartBlock::ToolUse { id, name, input } => {
                        Block::Tool { id, name, start_input: input, json: String::new() }
                    }
                    WireStartBlock::Other => Block::Ignored,
                };
                self.blocks.insert(index, block);
            }
            WireEvent::ContentBlockDelta { index, delta } => match (self.blocks.get_mut(&index), delta) {
                (Some(Block::Text(text)), WireDelta::TextDelta { text: piece }) => {
                    on_text(&piece);
                    text.push_str(&piece);
                }
                (Some(Block::Tool { json, .. }), WireDelta::InputJsonDelta { partial_json }) => {
                    json.push_str(&partial_json);
                }
                (Some(Block::Ignored), _) | (_, WireDelta::Other) => {}
                (None, _) => return Err(ModelError::Malformed(format!("a delta for unknown block {index}"))),
                (Some(_), _) => {
                    return Err(ModelError::Malformed(format!("a delta of the wrong kind for block {index}")));
                }
            },
            WireEvent::ContentBlockStop | WireEvent::Ping | WireEvent::Unknown => {}
            WireEvent::MessageDelta { delta, usage } => {
                if delta.stop_reason.is_some() {
                    self.stop = delta.stop_reason;
                }
                if let Some(usage) = usage {
                    self.merge_usage(usage);
                }
            }
            WireEvent::MessageStop => {
                self.complete = true;
                return Ok(Flow::Done);
            }
            WireEvent::Error { error } => return Err(stream_error(error)),
        }
        Ok(Flow::Continue)
    }

    /// Usage arrives in pieces: input at the start, the running output
    /// count with each `message_delta`; later counts replace earlier ones.
    fn merge_usage(&mut self, usage: WireUsage) {
        if let Some(input) = usage.input() {
            self.usage.input_tokens = Some(input);
        }
        if usage.output_tokens.is_some() {
            self.usage.output_tokens = usage.output_tokens;
        }
    }

    pub(super) fn finish(self, provider: &Anthropic) -> Result<ModelReply, ModelError> {
        if !self.complete {
            return Err(ModelError::Unavailable("the answer stream ended before message_stop".into()));
        }
        let mut parts = Vec::with_capacity(self.blocks.len());
        for block in self.blocks.into_values() {
            match block {
                Block::Text(text) => parts.push(Part::Text { text }),
                Block::Tool { id, name, start_input, json } => {
                    let arguments = if json.trim().is_empty() {
                        start_input
                    } else {
                        serde_json::from_str(&json).map_err(|e| {
                            ModelError::Malformed(format!("the arguments of tool call `{name}` are not JSON: {e}"))
                        })?
                    };
                    parts.push(Part::ToolCall(ToolCall { id, name, arguments }));
                }
                Block::Ignored => {}
            }
        }
        Ok(ModelReply {
            parts,
            stop: stop_reason(self.stop.as_deref()),
            usage: self.usage.into_usage(),
            model: provider.reply_model(self.model.as_deref()),
        })
    }
}

/// An `error` event: the status never came, so its type says what happened.
fn stream_error(error: WireError) -> ModelError {
    let message = http::shorten(error.message.as_deref().unwrap_or("the stream reported an error"));
    match error.kind.as_deref() {
        Some("overloaded_error") | Some("api_error") => ModelError::Unavailable(message),
        Some("rate_limit_error") => ModelError::RateLimited { retry_after: None },
        Some("authentication_error") | Some("permission_error") => ModelError::Unauthorized(message),
        Some("timeout_error") => ModelError::Timeout,
        _ => ModelError::Rejected(message),
    }
}
