//! The language-model port: one chat turn, in a provider-neutral form.
//!
//! A [`LanguageModel`] takes the conversation so far (messages of text,
//! tool calls and tool results) with the tools it may call, and answers with
//! one assistant turn: text, tool calls, why it stopped, and the tokens it
//! used. Providers (Anthropic, OpenAI-compatible servers, the local offline
//! model, the scripted test model) live in `steward-ai`; retries, timeouts
//! and fallback wrap any of them there. This module owns only the shapes
//! and the contract, so the agent loop in core never sees a wire format.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who said a message. The system prompt is not a message: it is
/// [`ModelRequest::system`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    User,
    Assistant,
}

/// A call the model asks for. `id` is the model's own name for the call,
/// echoed back in the matching [`ToolResult`]; models repeat ids, so the
/// agent never keys anything by it (calls are keyed by run, step and index).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// A JSON object, as the model wrote it (not yet validated).
    pub arguments: Value,
}

/// What a tool call produced, told back to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ToolResult {
    /// The [`ToolCall::id`] this answers.
    pub call_id: String,
    /// The result as text (usually JSON), or why the call failed or was
    /// refused.
    pub content: String,
    /// True when the call failed, was denied, or was refused by a person.
    pub is_error: bool,
}

/// One piece of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    Text { text: String },
    ToolCall(ToolCall),
    ToolResult(ToolResult),
}

/// One message of a conversation. Tool calls appear only in assistant
/// messages; tool results only in user messages, answering the calls of the
/// assistant message just before, in the same order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Message {
    pub speaker: Speaker,
    pub parts: Vec<Part>,
}

impl Message {
    pub fn user(text: impl Into<String>) -> Message {
        Message { speaker: Speaker::User, parts: vec![Part::Text { text: text.into() }] }
    }

    pub fn assistant(text: impl Into<String>) -> Message {
        Message { speaker: Speaker::Assistant, parts: vec![Part::Text { text: text.into() }] }
    }

    /// The text parts joined, without tool calls or results.
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self
            .parts
            .iter()
            .filter_map(|p| match p {
                Part::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        texts.join("")
    }

    /// The tool calls, in order.
    pub fn tool_calls(&self) -> impl Iterator<Item = &ToolCall> {
        self.parts.iter().filter_map(|p| match p {
            Part::ToolCall(c) => Some(c),
            _ => None,
        })
    }
}

/// A tool as the model sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// A JSON Schema object describing the arguments (`"type": "object"`).
    pub input_schema: Value,
}

/// One turn to ask for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRequest {
    pub system: Option<String>,
    pub messages: Vec<Message>,
    pub tools: Vec<ToolSpec>,
    /// The most tokens the answer may use.
    pub max_tokens: u32,
    pub temperature: Option<f32>,
}

impl ModelRequest {
    /// A request with no tools and a default answer budget.
    pub fn new(system: Option<String>, messages: Vec<Message>) -> ModelRequest {
        ModelRequest { system, messages, tools: Vec::new(), max_tokens: DEFAULT_MAX_TOKENS, temperature: None }
    }
}

/// The answer budget when a caller names none.
pub const DEFAULT_MAX_TOKENS: u32 = 1024;

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// It finished its answer.
    EndTurn,
    /// It wants its tool calls run.
    ToolUse,
    /// It hit `max_tokens`.
    MaxTokens,
    /// It declined to answer.
    Refusal,
    /// Anything else the provider said, verbatim.
    Other(String),
}

/// Tokens one turn used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

impl std::ops::Add for Usage {
    type Output = Usage;
    fn add(self, other: Usage) -> Usage {
        Usage {
            input_tokens: self.input_tokens + other.input_tokens,
            output_tokens: self.output_tokens + other.output_tokens,
        }
    }
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        *self = *self + other;
    }
}

/// One assistant turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ModelReply {
    /// Text and tool calls, in the order the model wrote them.
    pub parts: Vec<Part>,
    pub stop: StopReason,
    pub usage: Usage,
    /// Which provider and model answered (`"anthropic/claude-…"`,
    /// `"local"`): after a fallback, not necessarily the first one asked.
    pub model: String,
}

impl ModelReply {
    /// The reply as a message of the conversation.
    pub fn message(&self) -> Message {
        Message { speaker: Speaker::Assistant, parts: self.parts.clone() }
    }
}

/// Why a turn failed. Providers keep their own detail and convert to this;
/// the wrappers in `steward-ai` decide from it what to retry and when to
/// fall back. Messages never carry a key or the conversation's content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// HTTP 429: try again, after `retry_after` when the provider said.
    #[error("the model provider is rate limiting requests")]
    RateLimited { retry_after: Option<Duration> },
    /// No answer in time.
    #[error("the model provider did not answer in time")]
    Timeout,
    /// The provider is down or unreachable (5xx, connection failure).
    #[error("the model provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the credentials (401/403).
    #[error("the model provider refused the credentials: {0}")]
    Unauthorized(String),
    /// The provider refused the request itself (another 4xx): retrying the
    /// same request cannot help.
    #[error("the model provider rejected the request: {0}")]
    Rejected(String),
    /// The answer could not be understood.
    #[error("the model provider's answer could not be read: {0}")]
    Malformed(String),
    /// No provider is configured for this (a missing key, say).
    #[error("no model is configured: {0}")]
    NotConfigured(String),
}

impl ModelError {
    /// Whether the same request may succeed later from the same provider.
    pub fn is_transient(&self) -> bool {
        matches!(self, ModelError::RateLimited { .. } | ModelError::Timeout | ModelError::Unavailable(_))
    }

    /// How long the provider asked callers to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ModelError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }
}

impl From<ModelError> for crate::Error {
    fn from(e: ModelError) -> crate::Error {
        crate::Error::Unavailable(e.to_string())
    }
}

/// Where streamed text goes as it arrives.
#[cfg(not(target_family = "wasm"))]
pub type TextSink<'a> = &'a (dyn Fn(&str) + Send + Sync);
/// Where streamed text goes as it arrives.
#[cfg(target_family = "wasm")]
pub type TextSink<'a> = &'a dyn Fn(&str);

/// A language model: one assistant turn per call.
///
/// Contract:
/// - `complete` answers the whole `request` with one turn, or fails without
///   side effects the caller could observe; a call may be repeated.
/// - Tool calls name only tools in `request.tools` as far as the model
///   obeys; the agent checks names anyway.
/// - `stream` returns the same reply `complete` would, and also hands each
///   piece of text to `on_text` as it arrives, in order (their
///   concatenation is the reply's text).
/// - Implementations are safe to call from many tasks at once.
#[cfg_attr(not(target_family = "wasm"), async_trait)]
#[cfg_attr(target_family = "wasm", async_trait(?Send))]
pub trait LanguageModel: Send + Sync + std::fmt::Debug {
    /// A short name for logs and run records (`"anthropic"`, `"local"`).
    fn name(&self) -> &str;

    async fn complete(&self, request: &ModelRequest) -> Result<ModelReply, ModelError>;

    /// Streams the text of the turn. The default completes, then hands the
    /// whole text over at once.
    async fn stream(&self, request: &ModelRequest, on_text: TextSink<'_>) -> Result<ModelReply, ModelError> {
        let reply = self.complete(request).await?;
        let text = reply.message().text();
        if !text.is_empty() {
            on_text(&text);
        }
        Ok(reply)
    }
}
