//! Retrying and falling back: against local servers where the wire matters
//! (Retry-After, timeouts), against scripted models where only the order of
//! failures does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use common::{Heard, conversation, quick_retries, short_timeouts};
use serde_json::json;
use steward_ai::anthropic::{Anthropic, AnthropicConfig};
use steward_ai::openai::{OpenAi, OpenAiConfig};
use steward_ai::{
    ApiKey, Fallback, LanguageModel, ModelError, ModelReply, ModelRequest, Retrying, ScriptedModel, TextSink,
    text_reply,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn anthropic(server: &MockServer) -> Anthropic {
    Anthropic::new(AnthropicConfig {
        api_key: ApiKey::new("sk-ant-test"),
        base_url: server.uri(),
        model: "claude-test".into(),
        timeouts: short_timeouts(),
    })
    .unwrap()
}

fn openai(server: &MockServer) -> OpenAi {
    OpenAi::new(OpenAiConfig {
        api_key: None,
        base_url: format!("{}/v1", server.uri()),
        model: "llama-test".into(),
        timeouts: short_timeouts(),
        name: "ollama".into(),
    })
    .unwrap()
}

fn anthropic_text(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "model": "claude-test",
        "usage": {"input_tokens": 1, "output_tokens": 1}
    }))
}

/// Answers the first `times` requests with `first`, every later one with `then`.
async fn answer_first_then(
    server: &MockServer,
    route: &str,
    first: ResponseTemplate,
    times: u64,
    then: ResponseTemplate,
) {
    Mock::given(method("POST")).and(path(route)).respond_with(first).up_to_n_times(times).mount(server).await;
    Mock::given(method("POST")).and(path(route)).respond_with(then).mount(server).await;
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

#[tokio::test]
async fn rate_limited_then_answered_waits_at_least_retry_after() {
    let server = MockServer::start().await;
    let limited = ResponseTemplate::new(429).insert_header("retry-after", "1");
    answer_first_then(&server, "/v1/messages", limited, 1, anthropic_text("finally")).await;
    let model = Retrying::new(anthropic(&server), quick_retries(3));

    let started = Instant::now();
    let reply = model.complete(&conversation()).await.unwrap();
    let waited = started.elapsed();

    assert_eq!(reply.message().text(), "finally");
    assert_eq!(requests(&server).await, 2);
    assert!(waited >= Duration::from_secs(1), "retried after {waited:?}, before Retry-After");
}

#[tokio::test]
async fn a_rate_limited_stream_is_retried_before_any_text() {
    let server = MockServer::start().await;
    let limited = ResponseTemplate::new(429).insert_header("retry-after", "1");
    let stream = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\n\
                  data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n\
                  data: [DONE]\n\n";
    let streamed = ResponseTemplate::new(200).set_body_raw(stream, "text/event-stream");
    answer_first_then(&server, "/v1/chat/completions", limited, 1, streamed).await;
    let model = Retrying::new(openai(&server), quick_retries(2));
    let heard = Heard::default();

    let started = Instant::now();
    let reply = model.stream(&conversation(), &heard.sink()).await.unwrap();

    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(heard.pieces(), ["hi"]);
    assert_eq!(reply.message().text(), "hi");
    assert_eq!(reply.model, "ollama/llama-test");
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn a_slow_server_times_out_and_the_retry_is_answered() {
    let server = MockServer::start().await;
    let slow = anthropic_text("too late").set_delay(Duration::from_secs(2));
    answer_first_then(&server, "/v1/messages", slow, 1, anthropic_text("in time")).await;

    let once = anthropic(&server);
    let started = Instant::now();
    assert_eq!(once.complete(&conversation()).await, Err(ModelError::Timeout));
    assert!(started.elapsed() < Duration::from_millis(1500), "the timeout did not cut the wait");

    let retrying = Retrying::new(anthropic(&server), quick_retries(2));
    let reply = retrying.complete(&conversation()).await.unwrap();
    assert_eq!(reply.message().text(), "in time");
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn retries_stop_after_the_last_attempt() {
    let server = MockServer::start().await;
    let down = ResponseTemplate::new(503);
    answer_first_then(&server, "/v1/messages", down.clone(), 10, down).await;
    let model = Retrying::new(anthropic(&server), quick_retries(3));

    let err = model.complete(&conversation()).await.unwrap_err();

    assert!(matches!(err, ModelError::Unavailable(_)), "{err:?}");
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn a_rejected_request_is_not_retried() {
    let server = MockServer::start().await;
    let bad = ResponseTemplate::new(400)
        .set_body_json(json!({"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}}));
    answer_first_then(&server, "/v1/messages", bad.clone(), 10, bad).await;
    let model = Retrying::new(anthropic(&server), quick_retries(3));

    assert_eq!(model.complete(&conversation()).await, Err(ModelError::Rejected("bad".into())));
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn a_failing_primary_falls_back_to_the_secondary_and_then_the_last_model() {
    let primary = Arc::new(ScriptedModel::named("primary", [Err(ModelError::Unavailable("down".into()))]));
    let secondary = Arc::new(ScriptedModel::named("secondary", [Err(ModelError::Timeout)]));
    let mut answer = text_reply("from the last model");
    answer.model = "local".into();
    let last = Arc::new(ScriptedModel::named("local", [Ok(answer)]));
    let chain = Fallback::new(vec![primary.clone(), secondary.clone(), last.clone()]).unwrap();

    let reply = chain.complete(&conversation()).await.unwrap();

    assert_eq!(chain.name(), "primary,secondary,local");
    assert_eq!(reply.message().text(), "from the last model");
    assert_eq!(reply.model, "local");
    for model in [&primary, &secondary, &last] {
        assert_eq!(model.requests(), [conversation()], "{}", model.name());
    }
}

#[tokio::test]
async fn an_answering_primary_is_the_only_one_asked() {
    let primary = Arc::new(ScriptedModel::named("primary", [Ok(text_reply("first"))]));
    let secondary = Arc::new(ScriptedModel::named("secondary", []));
    let chain = Fallback::new(vec![primary.clone(), secondary.clone()]).unwrap();

    assert_eq!(chain.complete(&conversation()).await.unwrap().message().text(), "first");
    assert!(secondary.requests().is_empty());
}

#[tokio::test]
async fn a_rejected_request_does_not_fall_back() {
    let primary = Arc::new(ScriptedModel::named("primary", [Err(ModelError::Rejected("too long".into()))]));
    let secondary = Arc::new(ScriptedModel::named("secondary", [Ok(text_reply("never"))]));
    let chain = Fallback::new(vec![primary.clone(), secondary.clone()]).unwrap();

    assert_eq!(chain.complete(&conversation()).await, Err(ModelError::Rejected("too long".into())));
    assert!(secondary.requests().is_empty());
    assert_eq!(secondary.remaining(), 1);
}

#[tokio::test]
async fn when_every_model_fails_the_last_error_is_returned() {
    let chain = Fallback::new(vec![
        Arc::new(ScriptedModel::named("a", [Err(ModelError::Unauthorized("bad key".into()))])),
        Arc::new(ScriptedModel::named("b", [Err(ModelError::Malformed("garbled".into()))])),
    ])
    .unwrap();

    assert_eq!(chain.complete(&conversation()).await, Err(ModelError::Malformed("garbled".into())));
    assert!(matches!(Fallback::new(Vec::new()), Err(ModelError::NotConfigured(_))));
}

#[tokio::test]
async fn an_http_primary_that_is_down_falls_back_to_an_http_secondary() {
    let primary_server = MockServer::start().await;
    answer_first_then(&primary_server, "/v1/messages", ResponseTemplate::new(500), 10, ResponseTemplate::new(500))
        .await;
    let secondary_server = MockServer::start().await;
    let answer = ResponseTemplate::new(200).set_body_json(json!({
        "model": "llama-test",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "from ollama"}, "finish_reason": "stop"}]
    }));
    answer_first_then(&secondary_server, "/v1/chat/completions", answer.clone(), 1, answer).await;
    let local = Arc::new(ScriptedModel::named("local", []));
    let chain = Fallback::new(vec![
        Arc::new(Retrying::new(anthropic(&primary_server), quick_retries(2))),
        Arc::new(Retrying::new(openai(&secondary_server), quick_retries(2))),
        local.clone(),
    ])
    .unwrap();

    let reply = chain.complete(&conversation()).await.unwrap();

    assert_eq!(reply.message().text(), "from ollama");
    assert_eq!(reply.model, "ollama/llama-test");
    assert_eq!(requests(&primary_server).await, 2, "the primary is retried before the chain moves on");
    assert_eq!(requests(&secondary_server).await, 1);
    assert!(local.requests().is_empty());
}

/// Hands some text over, then fails as a dropped connection would.
#[derive(Debug, Default)]
struct SpeaksThenDrops {
    calls: AtomicUsize,
}

#[async_trait]
impl LanguageModel for SpeaksThenDrops {
    fn name(&self) -> &str {
        "drops"
    }

    async fn complete(&self, _: &ModelRequest) -> Result<ModelReply, ModelError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err(ModelError::Unavailable("dropped".into()))
    }

    async fn stream(&self, _: &ModelRequest, on_text: TextSink<'_>) -> Result<ModelReply, ModelError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        on_text("Half an ans");
        Err(ModelError::Unavailable("dropped".into()))
    }
}

#[tokio::test]
async fn a_stream_that_already_spoke_is_neither_retried_nor_continued_by_another_model() {
    let heard = Heard::default();
    let retrying = Retrying::new(SpeaksThenDrops::default(), quick_retries(3));
    let err = retrying.stream(&conversation(), &heard.sink()).await.unwrap_err();
    assert!(matches!(err, ModelError::Unavailable(_)));
    assert_eq!(retrying.inner().calls.load(Ordering::SeqCst), 1);
    assert_eq!(heard.pieces(), ["Half an ans"]);

    let next = Arc::new(ScriptedModel::named("next", [Ok(text_reply("whole"))]));
    let chain = Fallback::new(vec![Arc::new(SpeaksThenDrops::default()), next.clone()]).unwrap();
    let err = chain.stream(&conversation(), &Heard::default().sink()).await.unwrap_err();
    assert!(matches!(err, ModelError::Unavailable(_)));
    assert!(next.requests().is_empty());

    // Before any text, a stream falls back like a whole answer does.
    let quiet = Arc::new(ScriptedModel::named("quiet", [Err(ModelError::Timeout)]));
    let next = Arc::new(ScriptedModel::named("next", [Ok(text_reply("whole"))]));
    let chain = Fallback::new(vec![quiet, next]).unwrap();
    let heard = Heard::default();
    assert_eq!(chain.stream(&conversation(), &heard.sink()).await.unwrap().message().text(), "whole");
    assert_eq!(heard.pieces(), ["whole"]);
}

#[tokio::test]
async fn a_stream_that_does_not_start_in_time_times_out() {
    let server = MockServer::start().await;
    let slow = ResponseTemplate::new(200)
        .set_body_raw("data: [DONE]\n\n", "text/event-stream")
        .set_delay(Duration::from_secs(2));
    answer_first_then(&server, "/v1/chat/completions", slow.clone(), 1, slow).await;

    let started = Instant::now();
    let err = openai(&server).stream(&conversation(), &Heard::default().sink()).await.unwrap_err();

    assert_eq!(err, ModelError::Timeout);
    assert!(started.elapsed() < Duration::from_millis(1500), "the timeout did not cut the wait");
}
