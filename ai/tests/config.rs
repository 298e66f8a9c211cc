//! Building the chain from configuration, and keeping keys out of sight.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::conversation;
use serde_json::json;
use steward_ai::anthropic::{Anthropic, AnthropicConfig};
use steward_ai::openai::{OpenAi, OpenAiConfig};
use steward_ai::{AiConfig, ApiKey, HttpTimeouts, LanguageModel, ModelError, ProviderKind, Scripted, build_chain};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ANTHROPIC_KEY: &str = "sk-ant-config-secret-1";
const OPENAI_KEY: &str = "sk-openai-config-secret-2";

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn config(pairs: &[(&str, &str)]) -> AiConfig {
    AiConfig::from_map(&vars(pairs)).unwrap()
}

fn local() -> Arc<Scripted> {
    let mut answer = Scripted::text("offline answer");
    answer.model = "local".into();
    Arc::new(Scripted::named("local", [Ok(answer)]))
}

fn not_configured(result: Result<Arc<dyn LanguageModel>, ModelError>) -> String {
    match result {
        Err(ModelError::NotConfigured(message)) => message,
        other => panic!("expected NotConfigured, got {other:?}"),
    }
}

#[tokio::test]
async fn with_nothing_configured_the_chain_is_the_local_model() {
    let local = local();
    let chain = build_chain(&AiConfig::from_map(&HashMap::new()).unwrap(), local.clone()).unwrap();

    assert_eq!(chain.name(), "local");
    assert_eq!(chain.complete(&conversation()).await.unwrap().message().text(), "offline answer");
    assert_eq!(local.requests().len(), 1);

    let named_alone = build_chain(&config(&[("STEWARD_AI_PROVIDER", "local")]), local.clone()).unwrap();
    assert_eq!(named_alone.name(), "local");
}

#[test]
fn a_comma_list_is_a_fallback_chain_that_ends_with_the_local_model() {
    let chain = build_chain(
        &config(&[
            ("STEWARD_AI_PROVIDER", " Anthropic, openai "),
            ("ANTHROPIC_API_KEY", ANTHROPIC_KEY),
            ("OPENAI_API_KEY", OPENAI_KEY),
        ]),
        local(),
    )
    .unwrap();
    assert_eq!(chain.name(), "anthropic,openai,local");

    let explicit_local = build_chain(
        &config(&[("STEWARD_AI_PROVIDER", "openai,local"), ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")]),
        local(),
    )
    .unwrap();
    assert_eq!(explicit_local.name(), "openai,local");
}

#[test]
fn variables_are_read_into_the_config() {
    let c = config(&[
        ("STEWARD_AI_PROVIDER", "openai,anthropic"),
        ("ANTHROPIC_API_KEY", ANTHROPIC_KEY),
        ("ANTHROPIC_BASE_URL", "http://proxy.invalid"),
        ("STEWARD_ANTHROPIC_MODEL", "claude-x"),
        ("OPENAI_API_KEY", ""),
        ("OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"),
        ("STEWARD_OPENAI_MODEL", "llama3.2"),
        ("STEWARD_AI_CONNECT_TIMEOUT_SECS", "2"),
        ("STEWARD_AI_TIMEOUT_SECS", "0.5"),
        ("STEWARD_AI_MAX_ATTEMPTS", "5"),
    ]);
    assert_eq!(c.providers, [ProviderKind::OpenAi, ProviderKind::Anthropic]);
    assert_eq!(c.anthropic_api_key, Some(ApiKey::new(ANTHROPIC_KEY)));
    assert_eq!(c.anthropic_base_url.as_deref(), Some("http://proxy.invalid"));
    assert_eq!(c.anthropic_model.as_deref(), Some("claude-x"));
    assert_eq!(c.openai_api_key, None, "an empty value is unset");
    assert_eq!(c.openai_base_url.as_deref(), Some("http://127.0.0.1:11434/v1"));
    assert_eq!(c.openai_model.as_deref(), Some("llama3.2"));
    assert_eq!(c.timeouts, HttpTimeouts { connect: Duration::from_secs(2), request: Duration::from_millis(500) });
    assert_eq!(c.retry.max_attempts, 5);
}

#[test]
fn a_named_provider_without_its_key_says_which_variable_is_missing() {
    let message = not_configured(build_chain(&config(&[("STEWARD_AI_PROVIDER", "anthropic,openai")]), local()));
    assert!(message.contains("ANTHROPIC_API_KEY"), "{message}");

    let message = not_configured(build_chain(&config(&[("STEWARD_AI_PROVIDER", "openai")]), local()));
    assert!(message.contains("OPENAI_API_KEY"), "{message}");
}

#[test]
fn configuration_mistakes_are_named() {
    let err = |pairs: &[(&str, &str)]| match AiConfig::from_map(&vars(pairs)) {
        Err(ModelError::NotConfigured(message)) => message,
        other => panic!("expected NotConfigured, got {other:?}"),
    };
    assert!(err(&[("STEWARD_AI_PROVIDER", "anthropic,gemini")]).contains("`gemini`"));
    assert!(err(&[("STEWARD_AI_PROVIDER", "openai,openai")]).contains("twice"));
    assert!(err(&[("STEWARD_AI_TIMEOUT_SECS", "soon")]).contains("STEWARD_AI_TIMEOUT_SECS"));
    assert!(err(&[("STEWARD_AI_CONNECT_TIMEOUT_SECS", "-1")]).contains("STEWARD_AI_CONNECT_TIMEOUT_SECS"));
    assert!(err(&[("STEWARD_AI_MAX_ATTEMPTS", "0")]).contains("STEWARD_AI_MAX_ATTEMPTS"));

    let message = not_configured(build_chain(
        &config(&[("STEWARD_AI_PROVIDER", "local,anthropic"), ("ANTHROPIC_API_KEY", ANTHROPIC_KEY)]),
        local(),
    ));
    assert!(message.contains("last"), "{message}");
}

#[test]
fn keys_never_appear_in_debug_output() {
    let c = config(&[
        ("STEWARD_AI_PROVIDER", "anthropic,openai"),
        ("ANTHROPIC_API_KEY", ANTHROPIC_KEY),
        ("OPENAI_API_KEY", OPENAI_KEY),
    ]);
    let chain = build_chain(&c, local()).unwrap();
    let anthropic = Anthropic::new(AnthropicConfig::new(ApiKey::new(ANTHROPIC_KEY))).unwrap();
    let openai = OpenAi::new(OpenAiConfig::new(Some(ApiKey::new(OPENAI_KEY)))).unwrap();

    let shown = format!(
        "{c:?} {c:#?} {chain:?} {anthropic:?} {openai:?} {:?} {:?}",
        AnthropicConfig::new(ApiKey::new(ANTHROPIC_KEY)),
        OpenAiConfig::new(Some(ApiKey::new(OPENAI_KEY)))
    );
    assert!(shown.contains("anthropic") && shown.contains("redacted"), "{shown}");
    for key in [ANTHROPIC_KEY, OPENAI_KEY] {
        assert!(!shown.contains(key), "a key leaked into Debug output");
        assert!(!shown.contains(&key[3..]), "part of a key leaked into Debug output");
    }
}

/// Collects everything a `tracing` subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn a_configured_chain_falls_back_to_local_and_logs_no_key() {
    let anthropic_server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}
        })))
        .mount(&anthropic_server)
        .await;
    let openai_server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"error": {"message": "overloaded"}})))
        .mount(&openai_server)
        .await;
    let openai_base = format!("{}/v1", openai_server.uri());
    let c = config(&[
        ("STEWARD_AI_PROVIDER", "anthropic,openai"),
        ("ANTHROPIC_API_KEY", ANTHROPIC_KEY),
        ("ANTHROPIC_BASE_URL", &anthropic_server.uri()),
        ("OPENAI_API_KEY", OPENAI_KEY),
        ("OPENAI_BASE_URL", &openai_base),
        ("STEWARD_AI_MAX_ATTEMPTS", "1"),
        ("STEWARD_AI_TIMEOUT_SECS", "2"),
    ]);
    let local = local();
    let chain = build_chain(&c, local.clone()).unwrap();

    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let reply = {
        let _guard = tracing::subscriber::set_default(subscriber);
        chain.complete(&conversation()).await.unwrap()
    };

    assert_eq!(reply.model, "local");
    assert_eq!(local.requests().len(), 1);
    let anthropic_seen = anthropic_server.received_requests().await.unwrap();
    assert_eq!(anthropic_seen[0].headers.get("x-api-key").unwrap(), ANTHROPIC_KEY);
    let openai_seen = openai_server.received_requests().await.unwrap();
    assert_eq!(openai_seen[0].headers.get("authorization").unwrap(), &format!("Bearer {OPENAI_KEY}"));

    let logs = logs.text();
    assert!(logs.contains("anthropic") && logs.contains("unauthorized"), "{logs}");
    assert!(logs.contains("openai") && logs.contains("unavailable"), "{logs}");
    for secret in [ANTHROPIC_KEY, OPENAI_KEY, "invalid x-api-key", "Add milk"] {
        assert!(!logs.contains(secret), "`{secret}` reached the logs:\n{logs}");
    }
}

#[test]
fn each_person_may_prefer_a_backend_the_deployment_offers() {
    use steward_ai::build_backends;
    use steward_core::agent::{Backend, ModelChoice};
    let both = config(&[
        ("STEWARD_AI_PROVIDER", "openai"),
        ("ANTHROPIC_API_KEY", ANTHROPIC_KEY),
        ("OPENAI_API_KEY", OPENAI_KEY),
    ]);
    let backends = build_backends(&both, local()).unwrap();
    assert_eq!(backends.offered(), [Backend::Anthropic, Backend::OpenAi, Backend::Local]);
    assert_eq!(backends.model_for(None, None).name(), "openai,local", "no preference: the deployment's chain");
    assert_eq!(backends.model_for(Some(Backend::Anthropic), None).name(), "anthropic,local");
    assert_eq!(backends.model_for(Some(Backend::Anthropic), Some(Backend::OpenAi)).name(), "anthropic,openai,local");
    assert_eq!(backends.model_for(Some(Backend::OpenAi), Some(Backend::OpenAi)).name(), "openai,local");
    assert_eq!(backends.model_for(Some(Backend::Local), Some(Backend::Anthropic)).name(), "local");

    // A backend without credentials here is skipped, never guessed at.
    let openai_only = build_backends(&config(&[("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")]), local()).unwrap();
    assert_eq!(openai_only.offered(), [Backend::OpenAi, Backend::Local]);
    assert_eq!(openai_only.model_for(Some(Backend::Anthropic), None).name(), "local", "the default chain");
    assert_eq!(openai_only.model_for(Some(Backend::Anthropic), Some(Backend::OpenAi)).name(), "openai,local");
}
