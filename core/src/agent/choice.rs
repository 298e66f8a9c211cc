//! Which model answers a person: the backends a deployment offers, and the
//! choice their settings make (`primary_backend`, then
//! `secondary_backend`). The engine asks a [`ModelChoice`] for every run,
//! analysis and review; a deployment with one model uses [`OneModel`].

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::model::LanguageModel;

/// A family of model servers a person may prefer. Names in settings are
/// read with their common aliases (`claude`, `ollama`, `openrouter`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Anthropic's Messages API (Claude).
    Anthropic,
    /// An OpenAI-compatible Chat Completions server: OpenAI, OpenRouter,
    /// LiteLLM, Ollama, vLLM, llama.cpp.
    OpenAi,
    /// The local offline model.
    Local,
}

impl Backend {
    pub const ALL: [Backend; 3] = [Backend::Anthropic, Backend::OpenAi, Backend::Local];

    /// The name settings store and `/status` shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Anthropic => "anthropic",
            Backend::OpenAi => "openai",
            Backend::Local => "local",
        }
    }

    /// Every name a setting may use for a backend (any case, trimmed),
    /// with the backend it names.
    pub const ALIASES: [(&'static str, Backend); 11] = [
        ("anthropic", Backend::Anthropic),
        ("claude", Backend::Anthropic),
        ("openai", Backend::OpenAi),
        ("openai-compatible", Backend::OpenAi),
        ("openrouter", Backend::OpenAi),
        ("litellm", Backend::OpenAi),
        ("ollama", Backend::OpenAi),
        ("vllm", Backend::OpenAi),
        ("llama.cpp", Backend::OpenAi),
        ("local", Backend::Local),
        ("offline", Backend::Local),
    ];

    /// A setting's value, ignoring case: the canonical names and aliases.
    pub fn parse(name: &str) -> Option<Backend> {
        let name = name.trim();
        Backend::ALIASES.iter().find(|(alias, _)| alias.eq_ignore_ascii_case(name)).map(|(_, b)| *b)
    }

    /// Every accepted spelling, for an error message.
    pub const NAMES: &'static str =
        "anthropic (claude), openai (openrouter, litellm, ollama, vllm, llama.cpp) or local";
}

/// The model for a person who prefers `primary`, then `secondary`. A
/// backend the deployment does not offer is skipped; with none left, the
/// deployment's default answers.
pub trait ModelChoice: Send + Sync + std::fmt::Debug {
    fn model_for(&self, primary: Option<Backend>, secondary: Option<Backend>) -> Arc<dyn LanguageModel>;

    /// The backends this deployment can answer with.
    fn offered(&self) -> Vec<Backend>;
}

/// One model for everyone: preferences change nothing.
#[derive(Debug, Clone)]
pub struct OneModel(pub Arc<dyn LanguageModel>);

impl ModelChoice for OneModel {
    fn model_for(&self, _: Option<Backend>, _: Option<Backend>) -> Arc<dyn LanguageModel> {
        self.0.clone()
    }

    fn offered(&self) -> Vec<Backend> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_read_case_insensitively() {
        assert_eq!(Backend::parse(" Claude "), Some(Backend::Anthropic));
        assert_eq!(Backend::parse("OLLAMA"), Some(Backend::OpenAi));
        assert_eq!(Backend::parse("local"), Some(Backend::Local));
        assert_eq!(Backend::parse("gpt-99"), None);
        for (alias, backend) in Backend::ALIASES {
            assert_eq!(Backend::parse(&alias.to_uppercase()), Some(backend), "{alias}");
        }
        for b in Backend::ALL {
            assert_eq!(Backend::parse(b.as_str()), Some(b));
        }
    }
}
