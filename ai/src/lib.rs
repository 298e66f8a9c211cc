//! Steward's language-model providers: implementations of core's
//! [`LanguageModel`] port and the wrappers that make them dependable.
//!
//! - [`anthropic::Anthropic`]: the Anthropic Messages API (feature `anthropic`).
//! - [`openai::OpenAi`]: OpenAI-compatible Chat Completions servers — OpenAI,
//!   OpenRouter, LiteLLM, Ollama, vLLM, llama.cpp — chosen by base URL
//!   (feature `openai`).
//! - [`local::LocalModel`]: the deterministic offline model that needs no
//!   key: keyword intents answered with the built-in tools (the default).
//! - [`scripted::Scripted`]: a queue of canned replies for tests.
//! - [`retry::Retrying`] and [`fallback::Fallback`]: retry with backoff and
//!   `Retry-After`, and a chain that moves on to the next model.
//! - [`config`]: a chain from configuration, always ending with the local
//!   offline model the caller passes in.
//!
//! This crate owns wire formats and HTTP; the shapes and the contract live in
//! `steward_core::agent::model`.
//!
//! ```
//! use std::sync::Arc;
//! use steward_ai::{AiConfig, LanguageModel, Scripted, build_chain};
//!
//! // Stands in for the facade's local offline model.
//! let local = Arc::new(Scripted::named("local", []));
//! // `AiConfig::from_env()` reads STEWARD_AI_PROVIDER and the rest; with
//! // no provider configured the chain is the local model alone.
//! let model = build_chain(&AiConfig::default(), local)?;
//! assert_eq!(model.name(), "local");
//! # Ok::<(), steward_ai::ModelError>(())
//! ```

pub use steward_core::agent::model::{
    LanguageModel, Message, ModelError, ModelReply, ModelRequest, Part, Speaker, StopReason, TextSink, ToolCall,
    ToolResult, ToolSpec, Usage,
};

#[cfg(feature = "anthropic")]
pub mod anthropic;
pub mod config;
pub mod fallback;
#[cfg(feature = "http")]
mod http;
pub mod local;
#[cfg(feature = "openai")]
pub mod openai;
pub mod retry;
pub mod scripted;
mod secret;
#[cfg(feature = "http")]
mod sse;

pub use config::{AiConfig, Backends, HttpTimeouts, ProviderKind, build_backends, build_chain};
pub use fallback::Fallback;
pub use local::LocalModel;
pub use retry::{RetryPolicy, Retrying};
pub use scripted::Scripted;
pub use secret::ApiKey;

/// A short, stable name for the kind of a [`ModelError`], for logs and
/// metrics: never the message, which may carry a provider's words.
pub fn error_kind(error: &ModelError) -> &'static str {
    match error {
        ModelError::RateLimited { .. } => "rate_limited",
        ModelError::Timeout => "timeout",
        ModelError::Unavailable(_) => "unavailable",
        ModelError::Unauthorized(_) => "unauthorized",
        ModelError::Rejected(_) => "rejected",
        ModelError::Malformed(_) => "malformed",
        ModelError::NotConfigured(_) => "not_configured",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The port's contract: models are shared between tasks.
    #[test]
    fn every_model_and_wrapper_can_be_shared_between_tasks() {
        fn shared<T: Send + Sync + 'static>() {}
        shared::<Scripted>();
        shared::<Fallback>();
        shared::<Retrying<Scripted>>();
        #[cfg(feature = "anthropic")]
        shared::<Retrying<anthropic::Anthropic>>();
        #[cfg(feature = "openai")]
        shared::<Retrying<openai::OpenAi>>();
    }
}
