//! [`Fallback`]: a chain of models asked in order — primary, secondary, …,
//! usually ending with the local offline model — moving on when one fails.
//!
//! Every failure moves on except [`ModelError::Rejected`]: a request one
//! provider refuses as invalid is the caller's to fix, and asking another
//! model would hide that. Each move is logged at warn with the model's name
//! and the error's kind only, never its message.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use steward_core::agent::model::{LanguageModel, ModelError, ModelReply, ModelRequest, TextSink};

use crate::error_kind;

/// Models asked in order until one answers. Implements [`LanguageModel`]
/// itself; its reply's `model` names the one that answered.
#[derive(Debug, Clone)]
pub struct Fallback {
    models: Vec<Arc<dyn LanguageModel>>,
    name: String,
}

impl Fallback {
    /// A chain of at least one model.
    pub fn new(models: Vec<Arc<dyn LanguageModel>>) -> Result<Fallback, ModelError> {
        if models.is_empty() {
            return Err(ModelError::NotConfigured("a fallback chain needs at least one model".into()));
        }
        let name = models.iter().map(|m| m.name()).collect::<Vec<_>>().join(",");
        Ok(Fallback { models, name })
    }

    /// The models, in the order they are asked.
    pub fn models(&self) -> &[Arc<dyn LanguageModel>] {
        &self.models
    }

    fn failed(&self, position: usize, error: &ModelError) {
        let Some(model) = self.models.get(position) else { return };
        if position + 1 < self.models.len() {
            tracing::warn!(model = model.name(), error = error_kind(error), "model call failed; trying the next model");
        } else {
            tracing::warn!(model = model.name(), error = error_kind(error), "model call failed; no model left to try");
        }
    }
}

#[async_trait]
impl LanguageModel for Fallback {
    /// The chain's names joined with commas (`"anthropic,openai,local"`).
    fn name(&self) -> &str {
        &self.name
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelReply, ModelError> {
        let mut last = None;
        for (position, model) in self.models.iter().enumerate() {
            match model.complete(request).await {
                Ok(reply) => return Ok(reply),
                Err(e @ ModelError::Rejected(_)) => return Err(e),
                Err(e) => {
                    self.failed(position, &e);
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| ModelError::NotConfigured("the fallback chain is empty".into())))
    }

    /// Moves on only while no text has reached `on_text`: once a model
    /// began to answer, another's answer would not continue it.
    async fn stream(&self, request: &ModelRequest, on_text: TextSink<'_>) -> Result<ModelReply, ModelError> {
        let spoke = AtomicBool::new(false);
        let sink = |text: &str| {
            spoke.store(true, Ordering::Relaxed);
            on_text(text);
        };
        let mut last = None;
        for (position, model) in self.models.iter().enumerate() {
            match model.stream(request, &sink).await {
                Ok(reply) => return Ok(reply),
                Err(e @ ModelError::Rejected(_)) => return Err(e),
                Err(e) if spoke.load(Ordering::Relaxed) => return Err(e),
                Err(e) => {
                    self.failed(position, &e);
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| ModelError::NotConfigured("the fallback chain is empty".into())))
    }
}
