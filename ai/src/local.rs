//! The local offline model: a deterministic [`LanguageModel`] that needs no
//! key and no network. It reads the person's last message for one intent
//! (add, list, show, complete, update, delete or split a task, capture a
//! thought, show pending approvals) and answers with calls to Steward's
//! built-in tools (`steward_core::agent::tools`), reading dates with the
//! quick-add grammar in its timezone. A task named by title is found
//! first: one turn calls `list_tasks` with the title as the query, the next
//! (seeing that result in the conversation) calls the action with the id
//! found. When the last message is tool results of its action, it sums up
//! what was done in plain text. Anything else gets a plain answer saying
//! what it can do offline.
//!
//! The same conversation always gets the same answer: no randomness, and
//! "now" comes from the [`Clock`] it was built with. Usage is an estimate
//! (characters / 4).

mod intent;
mod summary;
#[cfg(test)]
mod tests;
mod turn;

use std::sync::Arc;

use async_trait::async_trait;
use chrono_tz::Tz;
use steward_core::Clock;
use steward_core::agent::{LanguageModel, ModelError, ModelReply, ModelRequest, Part, Usage};
use steward_core::quickadd::ParseOptions;

/// The name it answers to in logs and run records.
pub const LOCAL_MODEL_NAME: &str = "local";

/// The rule-based model. Cheap to clone; safe to share across tasks.
#[derive(Debug, Clone)]
pub struct LocalModel {
    clock: Arc<dyn Clock>,
    tz: Tz,
    options: ParseOptions,
}

impl LocalModel {
    /// Dates read in UTC with the default date order.
    pub fn new(clock: Arc<dyn Clock>) -> LocalModel {
        LocalModel { clock, tz: chrono_tz::UTC, options: ParseOptions::default() }
    }

    /// Reads "today", "friday" and "5pm" in `tz`.
    pub fn with_timezone(mut self, tz: Tz) -> LocalModel {
        self.tz = tz;
        self
    }

    /// Reads numeric dates (`3/4`) the person's way.
    pub fn with_parse_options(mut self, options: ParseOptions) -> LocalModel {
        self.options = options;
        self
    }

    /// The answer to `request`, as [`LanguageModel::complete`] gives it.
    pub fn answer(&self, request: &ModelRequest) -> ModelReply {
        let context = turn::Context { now: self.clock.now(), tz: self.tz, options: self.options };
        let (parts, stop) = turn::next(request, &context);
        let usage = Usage { input_tokens: input_tokens(request), output_tokens: tokens(&parts_chars(&parts)) };
        ModelReply { parts, stop, usage, model: LOCAL_MODEL_NAME.into() }
    }
}

#[cfg_attr(not(target_family = "wasm"), async_trait)]
#[cfg_attr(target_family = "wasm", async_trait(?Send))]
impl LanguageModel for LocalModel {
    fn name(&self) -> &str {
        LOCAL_MODEL_NAME
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelReply, ModelError> {
        Ok(self.answer(request))
    }
}

/// Roughly four characters per token, at least one for anything said.
fn tokens(chars: &str) -> u64 {
    (chars.chars().count() as u64).div_ceil(4)
}

fn parts_chars(parts: &[Part]) -> String {
    parts
        .iter()
        .map(|p| match p {
            Part::Text { text } => text.clone(),
            Part::ToolCall(c) => format!("{}{}", c.name, c.arguments),
            Part::ToolResult(r) => r.content.clone(),
        })
        .collect()
}

fn input_tokens(request: &ModelRequest) -> u64 {
    let mut all = request.system.clone().unwrap_or_default();
    for m in &request.messages {
        all.push_str(&parts_chars(&m.parts));
    }
    tokens(&all)
}
