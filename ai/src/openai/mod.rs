//! The OpenAI-compatible Chat Completions provider: `POST {base}/chat/completions`,
//! whole or streamed as `data:` chunks ending with `[DONE]`.
//!
//! One wire format serves OpenAI, OpenRouter, LiteLLM, Ollama (`/v1`), vLLM
//! and llama.cpp: the base URL picks the server, and the key is optional
//! because local servers need none. This file owns that wire format only;
//! retrying and falling back are the wrappers' business, HTTP status
//! mapping is shared (`http.rs`), and assembling a streamed turn from its
//! chunks is `stream.rs`'s.

use async_trait::async_trait;
use reqwest::Client;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
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
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// The model asked for unless configured otherwise.
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";

/// What an [`OpenAi`] provider needs.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// `None` for servers that take no key (Ollama, vLLM, llama.cpp).
    pub api_key: Option<ApiKey>,
    /// Up to and including the version (`…/v1`), without `/chat/completions`.
    pub base_url: String,
    pub model: String,
    pub timeouts: HttpTimeouts,
    /// The provider's name in logs and replies (`"openai"`, `"ollama"`).
    pub name: String,
}

impl OpenAiConfig {
    /// The OpenAI API with the default model and timeouts.
    pub fn new(api_key: Option<ApiKey>) -> OpenAiConfig {
        OpenAiConfig {
            api_key,
            base_url: DEFAULT_BASE_URL.into(),
            model: DEFAULT_MODEL.into(),
            timeouts: HttpTimeouts::default(),
            name: "openai".into(),
        }
    }
}

/// A model served over the Chat Completions API.
#[derive(Debug)]
pub struct OpenAi {
    client: Client,
    url: String,
    api_key: Option<ApiKey>,
    model: String,
    timeouts: HttpTimeouts,
    name: String,
}

impl OpenAi {
    pub fn new(config: OpenAiConfig) -> Result<OpenAi, ModelError> {
        Ok(OpenAi {
            client: http::client(&config.timeouts)?,
            url: http::join(&config.base_url, "chat/completions"),
            api_key: config.api_key,
            model: config.model,
            timeouts: config.timeouts,
            name: config.name,
        })
    }

    fn headers(&self) -> Result<HeaderMap, ModelError> {
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose()))
                .map_err(|_| ModelError::NotConfigured("the OpenAI API key is not a valid header value".into()))?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        Ok(headers)
    }

    pub(super) fn reply_model(&self, answered: Option<&str>) -> String {
        format!("{}/{}", self.name, answered.filter(|m| !m.is_empty()).unwrap_or(&self.model))
    }
}

#[async_trait]
impl LanguageModel for OpenAi {
    fn name(&self) -> &str {
        &self.name
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelReply, ModelError> {
        let body = wire_request(&self.model, request, false);
        let response =
            http::post_json(&self.client, &self.url, self.headers()?, &body, Some(self.timeouts.request)).await?;
        let answer: WireResponse = http::read_json(response).await?;
        if let Some(error) = answer.error {
            return Err(ModelError::Rejected(http::shorten(&error_message(&error))));
        }
        let choice = answer
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| ModelError::Malformed("the answer has no choices".into()))?;
        let mut parts = Vec::new();
        if let Some(text) = choice.message.content.filter(|t| !t.is_empty()) {
            parts.push(Part::Text { text });
        }
        for call in choice.message.tool_calls.unwrap_or_default() {
            parts.push(Part::ToolCall(ToolCall {
                arguments: arguments(&call.function.name, call.function.arguments)?,
                id: call.id,
                name: call.function.name,
            }));
        }
        let stop = finish_reason(choice.finish_reason.as_deref(), &parts);
        Ok(ModelReply {
            parts,
            stop,
            usage: answer.usage.map(WireUsage::into_usage).unwrap_or_default(),
            model: self.reply_model(answer.model.as_deref()),
        })
    }

    async fn stream(&self, request: &ModelRequest, on_text: TextSink<'_>) -> Result<ModelReply, ModelError> {
        let body = wire_request(&self.model, request, true);
        let response = http::post_json(&self.client, &self.url, self.headers()?, &body, None).await?;
        let mut turn = StreamedTurn::default();
        let read = http::read_events(response, |event| turn.apply(&event.data, on_text)).await;
        match read {
            Ok(()) => {}
            // Some servers close the stream without `[DONE]` after the last
            // chunk; a turn that said why it finished is whole.
            Err(ModelError::Unavailable(_)) if turn.finish.is_some() => {}
            Err(e) => return Err(e),
        }
        turn.finish(self)
    }
}

// ---- request ----

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
enum WireMessage<'a> {
    System {
        content: &'a str,
    },
    User {
        content: String,
    },
    Assistant {
        /// `null` when the turn is only tool calls.
        content: Option<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<WireToolCallIn<'a>>,
    },
    Tool {
        tool_call_id: &'a str,
        content: String,
    },
}

#[derive(Serialize)]
struct WireToolCallIn<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: WireFunctionIn<'a>,
}

#[derive(Serialize)]
struct WireFunctionIn<'a> {
    name: &'a str,
    /// The arguments as a JSON string, as the API wants them.
    arguments: String,
}

#[derive(Serialize)]
struct WireTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: WireFunctionSpec<'a>,
}

#[derive(Serialize)]
struct WireFunctionSpec<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a Value,
}

/// A failed tool call's result says so in its text: this API has no
/// `is_error` flag.
const TOOL_ERROR_PREFIX: &str = "Error: ";

fn wire_request<'a>(model: &'a str, request: &'a ModelRequest, stream: bool) -> WireRequest<'a> {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if let Some(system) = request.system.as_deref().filter(|s| !s.is_empty()) {
        messages.push(WireMessage::System { content: system });
    }
    for message in &request.messages {
        let text: String = message
            .parts
            .iter()
            .filter_map(|p| match p {
                Part::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        match message.speaker {
            Speaker::Assistant => {
                let tool_calls: Vec<WireToolCallIn<'a>> = message
                    .parts
                    .iter()
                    .filter_map(|p| match p {
                        Part::ToolCall(c) => Some(WireToolCallIn {
                            id: &c.id,
                            kind: "function",
                            function: WireFunctionIn { name: &c.name, arguments: c.arguments.to_string() },
                        }),
                        _ => None,
                    })
                    .collect();
                let content = if text.is_empty() && !tool_calls.is_empty() { None } else { Some(text) };
                messages.push(WireMessage::Assistant { content, tool_calls });
            }
            Speaker::User => {
                // Results answer the assistant's calls, so they come first.
                for part in &message.parts {
                    if let Part::ToolResult(r) = part {
                        let content =
                            if r.is_error { format!("{TOOL_ERROR_PREFIX}{}", r.content) } else { r.content.clone() };
                        messages.push(WireMessage::Tool { tool_call_id: &r.call_id, content });
                    }
                }
                let has_results = message.parts.iter().any(|p| matches!(p, Part::ToolResult(_)));
                if !text.is_empty() || !has_results {
                    messages.push(WireMessage::User { content: text });
                }
            }
        }
    }
    WireRequest {
        model,
        messages,
        tools: request
            .tools
            .iter()
            .map(|t| WireTool {
                kind: "function",
                function: WireFunctionSpec { name: &t.name, description: &t.description, parameters: &t.input_schema },
            })
            .collect(),
        max_tokens: request.max_tokens,
        temperature: request.temperature,
        stream,
        stream_options: stream.then_some(StreamOptions { include_usage: true }),
    }
}

// ---- answer ----

#[derive(Deserialize)]
struct WireResponse {
    #[serde(default)]
    choices: Vec<WireChoice>,
    usage: Option<WireUsage>,
    model: Option<String>,
    /// Some compatible servers answer 200 with an error body.
    error: Option<Value>,
}

#[derive(Deserialize)]
struct WireChoice {
    message: WireAnswerMessage,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireAnswerMessage {
    content: Option<String>,
    tool_calls: Option<Vec<WireToolCallOut>>,
}

#[derive(Deserialize)]
struct WireToolCallOut {
    id: String,
    function: WireFunctionOut,
}

#[derive(Deserialize)]
struct WireFunctionOut {
    name: String,
    /// A JSON string per the API; a few servers send the object itself.
    #[serde(default)]
    arguments: Value,
}

#[derive(Deserialize, Clone, Copy)]
pub(super) struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

impl WireUsage {
    pub(super) fn into_usage(self) -> Usage {
        Usage { input_tokens: self.prompt_tokens, output_tokens: self.completion_tokens }
    }
}

/// A tool call's arguments as a JSON value. The API sends a string holding
/// JSON; an empty one means no arguments.
pub(super) fn arguments(tool: &str, raw: Value) -> Result<Value, ModelError> {
    let parsed = match raw {
        Value::String(s) if s.trim().is_empty() => Value::Object(Default::default()),
        Value::String(s) => serde_json::from_str(&s)
            .map_err(|e| ModelError::Malformed(format!("the arguments of tool call `{tool}` are not JSON: {e}")))?,
        Value::Null => Value::Object(Default::default()),
        other => other,
    };
    Ok(parsed)
}

/// Some servers (Ollama among them) say `stop` when the turn is tool calls;
/// a turn with calls wants them run either way.
pub(super) fn finish_reason(reason: Option<&str>, parts: &[Part]) -> StopReason {
    let has_calls = parts.iter().any(|p| matches!(p, Part::ToolCall(_)));
    match reason {
        Some("tool_calls") | Some("function_call") => StopReason::ToolUse,
        Some("stop") if has_calls => StopReason::ToolUse,
        Some("stop") => StopReason::EndTurn,
        Some("length") => StopReason::MaxTokens,
        Some("content_filter") => StopReason::Refusal,
        Some(other) => StopReason::Other(other.to_owned()),
        None if has_calls => StopReason::ToolUse,
        None => StopReason::Other("unknown".into()),
    }
}

pub(super) fn error_message(error: &Value) -> String {
    match error {
        Value::String(s) => s.clone(),
        other => other.get("message").and_then(Value::as_str).unwrap_or("the server reported an error").to_owned(),
    }
}
