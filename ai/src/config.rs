//! Building the model chain from configuration.
//!
//! [`AiConfig`] holds what the environment (or a caller's own map) says:
//! which providers, in what order, with which keys, URLs, models and
//! timeouts. [`build_chain`] turns it into one [`LanguageModel`]: each named
//! provider wrapped in [`Retrying`], in a [`Fallback`] chain that always ends
//! with the local offline model the caller passes in — so with nothing
//! configured the chain is just the local model.
//!
//! | variable | meaning |
//! |---|---|
//! | `STEWARD_AI_PROVIDER` | `anthropic`, `openai`, `local`, or a comma list tried in order |
//! | `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`, `STEWARD_ANTHROPIC_MODEL` | the Anthropic provider |
//! | `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `STEWARD_OPENAI_MODEL` | the OpenAI-compatible provider; the key may be left out when the base URL names a server that needs none |
//! | `STEWARD_AI_CONNECT_TIMEOUT_SECS`, `STEWARD_AI_TIMEOUT_SECS` | connect and answer timeouts, in seconds |
//! | `STEWARD_AI_MAX_ATTEMPTS` | attempts per provider before moving on (1 = no retry) |
//!
//! The local model itself is not built here: the facade owns it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use steward_core::agent::choice::{Backend, ModelChoice};
use steward_core::agent::model::{LanguageModel, ModelError};

use crate::fallback::Fallback;
use crate::retry::RetryPolicy;
use crate::secret::ApiKey;

pub const PROVIDER_VAR: &str = "STEWARD_AI_PROVIDER";
pub const ANTHROPIC_KEY_VAR: &str = "ANTHROPIC_API_KEY";
pub const ANTHROPIC_BASE_URL_VAR: &str = "ANTHROPIC_BASE_URL";
pub const ANTHROPIC_MODEL_VAR: &str = "STEWARD_ANTHROPIC_MODEL";
pub const OPENAI_KEY_VAR: &str = "OPENAI_API_KEY";
pub const OPENAI_BASE_URL_VAR: &str = "OPENAI_BASE_URL";
pub const OPENAI_MODEL_VAR: &str = "STEWARD_OPENAI_MODEL";
pub const CONNECT_TIMEOUT_VAR: &str = "STEWARD_AI_CONNECT_TIMEOUT_SECS";
pub const TIMEOUT_VAR: &str = "STEWARD_AI_TIMEOUT_SECS";
pub const MAX_ATTEMPTS_VAR: &str = "STEWARD_AI_MAX_ATTEMPTS";

/// How long an HTTP provider waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpTimeouts {
    /// To open a connection.
    pub connect: Duration,
    /// For a whole answer; while streaming, for each next piece of it.
    pub request: Duration,
}

impl Default for HttpTimeouts {
    fn default() -> HttpTimeouts {
        HttpTimeouts { connect: Duration::from_secs(10), request: Duration::from_secs(120) }
    }
}

/// A provider [`STEWARD_AI_PROVIDER`](PROVIDER_VAR) can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    Anthropic,
    OpenAi,
    /// The local offline model the caller passes to [`build_chain`].
    Local,
}

impl ProviderKind {
    pub fn parse(name: &str) -> Option<ProviderKind> {
        match name.trim().to_ascii_lowercase().as_str() {
            "anthropic" => Some(ProviderKind::Anthropic),
            "openai" => Some(ProviderKind::OpenAi),
            "local" => Some(ProviderKind::Local),
            _ => None,
        }
    }
}

/// What the chain is built from. `Debug` shows keys as redacted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AiConfig {
    /// Tried in this order; the local model ends the chain whether named or not.
    pub providers: Vec<ProviderKind>,
    pub anthropic_api_key: Option<ApiKey>,
    pub anthropic_base_url: Option<String>,
    pub anthropic_model: Option<String>,
    pub openai_api_key: Option<ApiKey>,
    pub openai_base_url: Option<String>,
    pub openai_model: Option<String>,
    pub timeouts: HttpTimeouts,
    pub retry: RetryPolicy,
}

impl AiConfig {
    /// From the process environment.
    pub fn from_env() -> Result<AiConfig, ModelError> {
        AiConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// From a map of variable names to values, as a test or an embedding
    /// program holds them.
    pub fn from_map(vars: &HashMap<String, String>) -> Result<AiConfig, ModelError> {
        AiConfig::from_lookup(|name| vars.get(name).cloned())
    }

    /// From any lookup of variables; an empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<AiConfig, ModelError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut providers = Vec::new();
        if let Some(list) = get(PROVIDER_VAR) {
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let kind = ProviderKind::parse(name).ok_or_else(|| {
                    ModelError::NotConfigured(format!(
                        "{PROVIDER_VAR} names an unknown provider `{name}` (known: anthropic, openai, local)"
                    ))
                })?;
                if providers.contains(&kind) {
                    return Err(ModelError::NotConfigured(format!("{PROVIDER_VAR} names `{name}` twice")));
                }
                providers.push(kind);
            }
        }
        let mut timeouts = HttpTimeouts::default();
        if let Some(secs) = get(CONNECT_TIMEOUT_VAR) {
            timeouts.connect = seconds(CONNECT_TIMEOUT_VAR, &secs)?;
        }
        if let Some(secs) = get(TIMEOUT_VAR) {
            timeouts.request = seconds(TIMEOUT_VAR, &secs)?;
        }
        let mut retry = RetryPolicy::default();
        if let Some(n) = get(MAX_ATTEMPTS_VAR) {
            retry.max_attempts = n.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                ModelError::NotConfigured(format!("{MAX_ATTEMPTS_VAR} must be a whole number of at least 1"))
            })?;
        }
        Ok(AiConfig {
            providers,
            anthropic_api_key: get(ANTHROPIC_KEY_VAR).map(ApiKey::new),
            anthropic_base_url: get(ANTHROPIC_BASE_URL_VAR),
            anthropic_model: get(ANTHROPIC_MODEL_VAR),
            openai_api_key: get(OPENAI_KEY_VAR).map(ApiKey::new),
            openai_base_url: get(OPENAI_BASE_URL_VAR),
            openai_model: get(OPENAI_MODEL_VAR),
            timeouts,
            retry,
        })
    }
}

fn seconds(var: &str, value: &str) -> Result<Duration, ModelError> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| ModelError::NotConfigured(format!("{var} must be a positive number of seconds")))
}

/// The model to use: the configured providers in order, each retried on
/// transient failures, falling back down the list and finally to `local`.
/// With no provider configured (or only `local`), that is `local` itself.
///
/// Fails with [`ModelError::NotConfigured`] naming the variable when a named
/// provider lacks what it needs, and when `local` is named before another
/// provider (nothing after it would ever be asked).
pub fn build_chain(config: &AiConfig, local: Arc<dyn LanguageModel>) -> Result<Arc<dyn LanguageModel>, ModelError> {
    let mut chain: Vec<Arc<dyn LanguageModel>> = Vec::new();
    for (i, kind) in config.providers.iter().enumerate() {
        match kind {
            ProviderKind::Local if i + 1 < config.providers.len() => {
                return Err(ModelError::NotConfigured(format!(
                    "{PROVIDER_VAR}: `local` always answers, so it must come last"
                )));
            }
            ProviderKind::Local => {}
            ProviderKind::Anthropic => chain.push(anthropic(config)?),
            ProviderKind::OpenAi => chain.push(openai(config)?),
        }
    }
    if chain.is_empty() {
        return Ok(local);
    }
    chain.push(local);
    Ok(Arc::new(Fallback::new(chain)?))
}

/// Every backend the configuration can build (each with its retries), and
/// the default chain for people who name none: what lets each person's
/// settings choose their model (`primary_backend`, `secondary_backend`).
#[derive(Debug)]
pub struct Backends {
    default: Arc<dyn LanguageModel>,
    each: Vec<(Backend, Arc<dyn LanguageModel>)>,
}

/// The backends `config` can build: Anthropic when its key is set, an
/// OpenAI-compatible server when its key or base URL is, and always the
/// local model. Fails as [`build_chain`] does for the default chain.
pub fn build_backends(config: &AiConfig, local: Arc<dyn LanguageModel>) -> Result<Backends, ModelError> {
    let default = build_chain(config, local.clone())?;
    let mut each = Vec::new();
    if config.anthropic_api_key.is_some()
        && let Ok(model) = anthropic(config)
    {
        each.push((Backend::Anthropic, model));
    }
    if (config.openai_api_key.is_some() || config.openai_base_url.is_some())
        && let Ok(model) = openai(config)
    {
        each.push((Backend::OpenAi, model));
    }
    each.push((Backend::Local, local));
    Ok(Backends { default, each })
}

impl ModelChoice for Backends {
    /// The preferred backends this deployment offers, in order, then the
    /// local model (which always answers, so nothing after it is asked);
    /// the default chain when neither is offered.
    fn model_for(&self, primary: Option<Backend>, secondary: Option<Backend>) -> Arc<dyn LanguageModel> {
        let offered = |wanted: Backend| self.each.iter().find(|(b, _)| *b == wanted).map(|(_, m)| m.clone());
        let mut chain: Vec<(Backend, Arc<dyn LanguageModel>)> = Vec::new();
        for wanted in [primary, secondary].into_iter().flatten() {
            if chain.iter().any(|(b, _)| *b == wanted || *b == Backend::Local) {
                continue;
            }
            if let Some(model) = offered(wanted) {
                chain.push((wanted, model));
            }
        }
        if chain.is_empty() {
            return self.default.clone();
        }
        if !chain.iter().any(|(b, _)| *b == Backend::Local)
            && let Some(local) = offered(Backend::Local)
        {
            chain.push((Backend::Local, local));
        }
        if chain.len() == 1 {
            return chain.remove(0).1;
        }
        match Fallback::new(chain.into_iter().map(|(_, m)| m).collect()) {
            Ok(chain) => Arc::new(chain),
            Err(_) => self.default.clone(),
        }
    }

    fn offered(&self) -> Vec<Backend> {
        self.each.iter().map(|(b, _)| *b).collect()
    }
}

#[cfg(feature = "anthropic")]
fn anthropic(config: &AiConfig) -> Result<Arc<dyn LanguageModel>, ModelError> {
    use crate::anthropic::{Anthropic, AnthropicConfig};
    let api_key = config.anthropic_api_key.clone().ok_or_else(|| {
        ModelError::NotConfigured(format!("{PROVIDER_VAR} names anthropic, but {ANTHROPIC_KEY_VAR} is not set"))
    })?;
    let mut provider = AnthropicConfig::new(api_key);
    if let Some(url) = &config.anthropic_base_url {
        provider.base_url = url.clone();
    }
    if let Some(model) = &config.anthropic_model {
        provider.model = model.clone();
    }
    provider.timeouts = config.timeouts;
    Ok(Arc::new(crate::Retrying::new(Anthropic::new(provider)?, config.retry.clone())))
}

#[cfg(not(feature = "anthropic"))]
fn anthropic(_: &AiConfig) -> Result<Arc<dyn LanguageModel>, ModelError> {
    Err(ModelError::NotConfigured(format!(
        "{PROVIDER_VAR} names anthropic, but this build has no Anthropic provider (feature `anthropic`)"
    )))
}

/// The key may be left out only for a server of one's own: a base URL set
/// without a key means a server that needs none (Ollama, vLLM, llama.cpp).
#[cfg(feature = "openai")]
fn openai(config: &AiConfig) -> Result<Arc<dyn LanguageModel>, ModelError> {
    use crate::openai::{OpenAi, OpenAiConfig};
    if config.openai_api_key.is_none() && config.openai_base_url.is_none() {
        return Err(ModelError::NotConfigured(format!(
            "{PROVIDER_VAR} names openai, but {OPENAI_KEY_VAR} is not set \
             (set {OPENAI_BASE_URL_VAR} instead for a server that needs no key)"
        )));
    }
    let mut provider = OpenAiConfig::new(config.openai_api_key.clone());
    if let Some(url) = &config.openai_base_url {
        provider.base_url = url.clone();
    }
    if let Some(model) = &config.openai_model {
        provider.model = model.clone();
    }
    provider.timeouts = config.timeouts;
    Ok(Arc::new(crate::Retrying::new(OpenAi::new(provider)?, config.retry.clone())))
}

#[cfg(not(feature = "openai"))]
fn openai(_: &AiConfig) -> Result<Arc<dyn LanguageModel>, ModelError> {
    Err(ModelError::NotConfigured(format!(
        "{PROVIDER_VAR} names openai, but this build has no OpenAI-compatible provider (feature `openai`)"
    )))
}
