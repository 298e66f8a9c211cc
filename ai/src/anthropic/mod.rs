//! The Anthropic Messages API provider: `POST {base}/v1/messages`, whole or
//! streamed as server-sent events.
//!
//! This file owns the wire format — how a [`ModelRequest`] becomes a
//! Messages request and how an answer (or its event stream) becomes a
//! [`ModelReply`]. Retrying and falling back are the wrappers' business;
//! HTTP status mapping is shared with the other providers (`http.rs`);
//! assembling a streamed turn from its events is `stream.rs`'s.

use async_trait::async_trait;
use reqwest::Client;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use steward_core::agent::model::{
    LanguageModel, ModelError, ModelReply, ModelRequest, Part, Speaker, StopReason, TextSink, ToolCall, Usage,
};

use crate::config::HttpTimeouts;
use crate::http;
use crate::secret::ApiKey;

mod stream;
use stream::StreamedTurn;

/// Where the API lives unless configured otherwise.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The model asked for unless configured otherwise.
pub const DEFAULT_MODEL: &str = "claude-sonnet-4-5";
/// The API version this file speaks.
pub const API_VERSION: &str = "2023-06-01";

/// What an [`Anthropic`] provider needs.
#[derive(Debug, Clone)]
pub struct AnthropicConfig {
    pub api_key: ApiKey,
    /// Without the `/v1/messages` path.
    pub base_url: String,
    pub model: String,
    pub timeouts: HttpTimeouts,
}

impl AnthropicConfig {
    /// The public API with the default model and timeouts.
    pub fn new(api_key: ApiKey) -> AnthropicConfig {
        AnthropicConfig {
            api_key,
            base_url: DEFAULT_BASE_URL.into(),
            model: DEFAULT_MODEL.into(),
            timeouts: HttpTimeouts::default(),
        }
    }
}

/// A model served by the Anthropic Messages API.
#[derive(Debug)]
pub struct Anthropic {
    client: Client,
    url: String,
    api_key: ApiKey,
    model: String,
    timeouts: HttpTimeouts,
}

impl Anthropic {
    pub fn new(config: AnthropicConfig) -> Result<Anthropic, ModelError> {
        Ok(Anthropic {
            client: http::client(&config.timeouts)?,
            url: http::join(&config.base_url, "v1/messages"),
            api_key: config.api_key,
            model: config.model,
            timeouts: config.timeouts,
        })
    }

    fn headers(&self) -> Result<HeaderMap, ModelError> {
        let mut headers = HeaderMap::new();
        let mut key = HeaderValue::from_str(self.api_key.expose())
            .map_err(|_| ModelError::NotConfigured("the Anthropic API key is not a valid header value".into()))?;
        key.set_sensitive(true);
        headers.insert("x-api-key", key);
        headers.insert("anthropic-version", HeaderValue::from_static(API_VERSION));
        Ok(headers)
    }

    pub(super) fn reply_model(&self, answered: Option<&str>) -> String {
        format!("anthropic/{}", answered.filter(|m| !m.is_empty()).unwrap_or(&self.model))
    }
}

#[async_trait]
impl LanguageModel for Anthropic {
    fn name(&self) -> &str {
        "anthropic"
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelReply, ModelError> {
        let body = wire_request(&self.model, request, false);
        let response =
            http::post_json(&self.client, &self.url, self.headers()?, &body, Some(self.timeouts.request)).await?;
        let answer: WireResponse = http::read_json(response).await?;
        let parts = answer
            .content
            .into_iter()
            .filter_map(|block| match block {
                WireBlockOut::Text { text } => Some(Part::Text { text }),
                WireBlockOut::ToolUse { id, name, input } => {
                    Some(Part::ToolCall(ToolCall { id, name, arguments: input }))
                }
                WireBlockOut::Other => None,
            })
            .collect();
        Ok(ModelReply {
            parts,
            stop: stop_reason(answer.stop_reason.as_deref()),
            usage: answer.usage.map(WireUsage::into_usage).unwrap_or_default(),
            model: self.reply_model(answer.model.as_deref()),
        })
    }

    async fn stream(&self, request: &ModelRequest, on_text: TextSink<'_>) -> Result<ModelReply, ModelError> {
        let body = wire_request(&self.model, request, true);
        let response = http::post_json(&self.client, &self.url, self.headers()?, &body, None).await?;
        let mut turn = StreamedTurn::default();
        http::read_events(response, |event| turn.apply(&event.data, on_text)).await?;
        turn.finish(self)
    }
}

// ---- request ----

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'a str>,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: Vec<WireBlockIn<'a>>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireBlockIn<'a> {
    Text { text: &'a str },
    ToolUse { id: &'a str, name: &'a str, input: &'a Value },
    ToolResult { tool_use_id: &'a str, content: &'a str, is_error: bool },
}

#[derive(Serialize)]
struct WireTool<'a> {
    name: &'a str,
    description: &'a str,
    input_schema: &'a Value,
}

fn wire_request<'a>(model: &'a str, request: &'a ModelRequest, stream: bool) -> WireRequest<'a> {
    let messages = request
        .messages
        .iter()
        .map(|m| {
            let mut content: Vec<WireBlockIn<'a>> = m.parts.iter().filter_map(wire_block).collect();
            // The API wants a user turn's tool results before its text.
            content.sort_by_key(|block| !matches!(block, WireBlockIn::ToolResult { .. }));
            WireMessage {
                role: match m.speaker {
                    Speaker::User => "user",
                    Speaker::Assistant => "assistant",
                },
                content,
            }
        })
        .collect();
    WireRequest {
        model,
        max_tokens: request.max_tokens,
        system: request.system.as_deref().filter(|s| !s.is_empty()),
        messages,
        tools: request
            .tools
            .iter()
            .map(|t| WireTool { name: &t.name, description: &t.description, input_schema: &t.input_schema })
            .collect(),
        temperature: request.temperature,
        stream,
    }
}

fn wire_block(part: &Part) -> Option<WireBlockIn<'_>> {
    match part {
        // The API refuses empty text blocks.
        Part::Text { text } if text.is_empty() => None,
        Part::Text { text } => Some(WireBlockIn::Text { text }),
        Part::ToolCall(c) => Some(WireBlockIn::ToolUse { id: &c.id, name: &c.name, input: &c.arguments }),
        Part::ToolResult(r) => {
            Some(WireBlockIn::ToolResult { tool_use_id: &r.call_id, content: &r.content, is_error: r.is_error })
        }
    }
}

// ---- answer ----

#[derive(Deserialize)]
struct WireResponse {
    #[serde(default)]
    content: Vec<WireBlockOut>,
    stop_reason: Option<String>,
    usage: Option<WireUsage>,
    model: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireBlockOut {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default = "no_arguments")]
        input: Value,
    },
    /// Thinking and other blocks this port has no place for.
    #[serde(other)]
    Other,
}

/// Input tokens count the cached prompt too: a turn's cost is all it read.
#[derive(Deserialize, Default, Clone, Copy)]
pub(super) struct WireUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    pub(super) output_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
}

impl WireUsage {
    pub(super) fn input(&self) -> Option<u64> {
        self.input_tokens
            .map(|n| n + self.cache_creation_input_tokens.unwrap_or(0) + self.cache_read_input_tokens.unwrap_or(0))
    }

    pub(super) fn into_usage(self) -> Usage {
        Usage { input_tokens: self.input().unwrap_or(0), output_tokens: self.output_tokens.unwrap_or(0) }
    }
}

/// A call without arguments still gets an object, as the port promises.
pub(super) fn no_arguments() -> Value {
    Value::Object(serde_json::Map::new())
}

pub(super) fn stop_reason(reason: Option<&str>) -> StopReason {
    match reason {
        Some("end_turn") | Some("stop_sequence") => StopReason::EndTurn,
        Some("tool_use") => StopReason::ToolUse,
        Some("max_tokens") => StopReason::MaxTokens,
        Some("refusal") => StopReason::Refusal,
        Some(other) => StopReason::Other(other.to_owned()),
        None => StopReason::Other("unknown".into()),
    }
}
