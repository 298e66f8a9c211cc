//! The OpenAI-compatible provider against a local server speaking Chat
//! Completions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Heard, bodies, conversation, short_timeouts};
use serde_json::{Value, json};
use steward_ai::openai::{OpenAi, OpenAiConfig};
use steward_ai::{
    ApiKey, LanguageModel, Message, ModelError, ModelRequest, Part, Speaker, StopReason, ToolResult, Usage,
};
use steward_core::agent::Builtin;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-openai-test-secret";

fn provider_with(server: &MockServer, key: Option<&str>) -> OpenAi {
    OpenAi::new(OpenAiConfig {
        api_key: key.map(ApiKey::new),
        base_url: format!("{}/v1/", server.uri()),
        model: "gpt-test".into(),
        timeouts: short_timeouts(),
        name: "openai".into(),
    })
    .unwrap()
}

fn provider(server: &MockServer) -> OpenAi {
    provider_with(server, Some(KEY))
}

async fn answer_with(server: &MockServer, template: ResponseTemplate) {
    Mock::given(method("POST")).and(path("/v1/chat/completions")).respond_with(template).mount(server).await;
}

fn answer(message: Value, finish_reason: &str) -> Value {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-test-2025",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 90, "completion_tokens": 12, "total_tokens": 102}
    })
}

fn tool_call_answer() -> Value {
    answer(
        json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": "call_7", "type": "function", "function": {"name": "add_task", "arguments": "{\"title\":\"milk\",\"priority\":\"high\"}"}}
        ]}),
        "tool_calls",
    )
}

#[tokio::test]
async fn a_request_carries_the_key_system_messages_tools_and_limits() {
    let server = MockServer::start().await;
    answer_with(&server, ResponseTemplate::new(200).set_body_json(tool_call_answer())).await;

    provider(&server).complete(&conversation()).await.unwrap();

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].headers.get("authorization").unwrap(), &format!("Bearer {KEY}"));
    assert_eq!(received[0].headers.get("content-type").unwrap(), "application/json");

    let body = &bodies(&server).await[0];
    assert_eq!(body["model"], "gpt-test");
    assert_eq!(body["max_tokens"], 512);
    assert_eq!(body["temperature"], 0.25);
    assert!(body.get("stream").is_none() && body.get("stream_options").is_none(), "{body}");
    assert_eq!(
        body["messages"],
        json!([
            {"role": "system", "content": "You are Steward."},
            {"role": "user", "content": "Add milk to my list"},
            {"role": "assistant", "content": "Adding it.", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "add_task", "arguments": "{\"title\":\"milk\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "Error: the store is busy"}
        ])
    );
    let tools = body["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 2);
    assert_eq!(tools[0]["type"], "function");
    assert_eq!(tools[0]["function"]["name"], "add_task");
    assert_eq!(tools[0]["function"]["description"], Builtin::AddTask.description());
    assert_eq!(tools[0]["function"]["parameters"], Builtin::AddTask.input_schema());
    assert_eq!(tools[1]["function"]["name"], "list_tasks");
}

#[tokio::test]
async fn a_server_without_a_key_gets_no_authorization_header() {
    let server = MockServer::start().await;
    answer_with(
        &server,
        ResponseTemplate::new(200).set_body_json(answer(json!({"role": "assistant", "content": "hi"}), "stop")),
    )
    .await;

    let reply =
        provider_with(&server, None).complete(&ModelRequest::new(None, vec![Message::user("hello")])).await.unwrap();

    let received = server.received_requests().await.unwrap();
    assert!(received[0].headers.get("authorization").is_none());
    let body = &bodies(&server).await[0];
    assert_eq!(body["messages"], json!([{"role": "user", "content": "hello"}]));
    assert!(body.get("tools").is_none() && body.get("temperature").is_none(), "{body}");
    assert_eq!(reply.message().text(), "hi");
    assert_eq!(reply.stop, StopReason::EndTurn);
}

#[tokio::test]
async fn an_answer_becomes_parts_stop_reason_usage_and_model() {
    let server = MockServer::start().await;
    answer_with(&server, ResponseTemplate::new(200).set_body_json(tool_call_answer())).await;

    let reply = provider(&server).complete(&conversation()).await.unwrap();

    assert_eq!(reply.message().text(), "");
    let calls: Vec<_> = reply.message().tool_calls().cloned().collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, "call_7");
    assert_eq!(calls[0].name, "add_task");
    assert_eq!(calls[0].arguments, json!({"title": "milk", "priority": "high"}));
    assert_eq!(reply.stop, StopReason::ToolUse);
    assert_eq!(reply.usage, Usage { input_tokens: 90, output_tokens: 12 });
    assert_eq!(reply.model, "openai/gpt-test-2025");
}

#[tokio::test]
async fn finish_reasons_map_to_the_port() {
    let cases = [
        ("stop", StopReason::EndTurn),
        ("tool_calls", StopReason::ToolUse),
        ("length", StopReason::MaxTokens),
        ("content_filter", StopReason::Refusal),
        ("something_new", StopReason::Other("something_new".into())),
    ];
    for (wire, want) in cases {
        let server = MockServer::start().await;
        answer_with(
            &server,
            ResponseTemplate::new(200).set_body_json(answer(json!({"role": "assistant", "content": "x"}), wire)),
        )
        .await;
        let reply = provider(&server).complete(&conversation()).await.unwrap();
        assert_eq!(reply.stop, want, "{wire}");
    }
}

#[tokio::test]
async fn tool_arguments_that_are_not_json_are_malformed() {
    let server = MockServer::start().await;
    let bad = answer(
        json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "add_task", "arguments": "{\"title\": milk}"}}
        ]}),
        "tool_calls",
    );
    answer_with(&server, ResponseTemplate::new(200).set_body_json(bad)).await;

    let err = provider(&server).complete(&conversation()).await.unwrap_err();
    assert!(matches!(&err, ModelError::Malformed(m) if m.contains("add_task")), "{err:?}");
}

#[tokio::test]
async fn a_tool_call_round_trips_into_the_next_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tool_call_answer()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    answer_with(
        &server,
        ResponseTemplate::new(200).set_body_json(answer(json!({"role": "assistant", "content": "Added."}), "stop")),
    )
    .await;
    let model = provider(&server);

    let mut request = ModelRequest::new(None, vec![Message::user("Add milk")]);
    request.tools = vec![Builtin::AddTask.spec()];
    let first = model.complete(&request).await.unwrap();
    let call = first.message().tool_calls().next().cloned().unwrap();
    request.messages.push(first.message());
    request.messages.push(Message {
        speaker: Speaker::User,
        parts: vec![Part::ToolResult(ToolResult {
            call_id: call.id,
            content: r#"{"id":"t1"}"#.into(),
            is_error: false,
        })],
    });
    let second = model.complete(&request).await.unwrap();

    assert_eq!(second.message().text(), "Added.");
    let sent = &bodies(&server).await[1]["messages"];
    assert_eq!(sent[1]["role"], "assistant");
    assert_eq!(sent[1]["content"], Value::Null);
    assert_eq!(sent[1]["tool_calls"][0]["id"], "call_7");
    let args: Value =
        serde_json::from_str(sent[1]["tool_calls"][0]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"title": "milk", "priority": "high"}));
    assert_eq!(sent[2], json!({"role": "tool", "tool_call_id": "call_7", "content": "{\"id\":\"t1\"}"}));
    assert_eq!(sent.as_array().unwrap().len(), 3);
}

/// `data:` lines, then `[DONE]`, as Chat Completions streams them.
fn chunks(items: &[Value]) -> String {
    let mut body = String::new();
    for item in items {
        body.push_str(&format!("data: {item}\n\n"));
    }
    body.push_str("data: [DONE]\n\n");
    body
}

fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "c1", "object": "chat.completion.chunk", "model": "gpt-test-2025",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

#[tokio::test]
async fn streaming_hands_text_over_in_order_and_assembles_split_tool_calls() {
    let server = MockServer::start().await;
    let body = chunks(&[
        chunk(json!({"role": "assistant", "content": ""}), None),
        chunk(json!({"content": "Adding "}), None),
        chunk(json!({"content": "two "}), None),
        chunk(json!({"content": "tasks."}), None),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_a", "type": "function",
            "function": {"name": "add_task", "arguments": ""}}]}),
            None,
        ),
        chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"tit"}}]}), None),
        chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "le\": \"milk\"}"}}]}), None),
        chunk(
            json!({"tool_calls": [{"index": 1, "id": "call_b", "type": "function",
            "function": {"name": "add_task", "arguments": "{\"title\""}}]}),
            None,
        ),
        chunk(json!({"tool_calls": [{"index": 1, "function": {"arguments": ": \"eggs\"}"}}]}), None),
        chunk(json!({}), Some("tool_calls")),
        json!({"id": "c1", "object": "chat.completion.chunk", "choices": [],
            "usage": {"prompt_tokens": 50, "completion_tokens": 20}}),
    ]);
    answer_with(&server, ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")).await;
    let heard = Heard::default();

    let reply = provider(&server).stream(&conversation(), &heard.sink()).await.unwrap();

    assert_eq!(heard.pieces(), ["Adding ", "two ", "tasks."]);
    assert_eq!(reply.message().text(), heard.pieces().concat());
    let calls: Vec<_> = reply.message().tool_calls().cloned().collect();
    assert_eq!(calls.len(), 2);
    assert_eq!((calls[0].id.as_str(), &calls[0].arguments), ("call_a", &json!({"title": "milk"})));
    assert_eq!((calls[1].id.as_str(), &calls[1].arguments), ("call_b", &json!({"title": "eggs"})));
    assert_eq!(reply.stop, StopReason::ToolUse);
    assert_eq!(reply.usage, Usage { input_tokens: 50, output_tokens: 20 });
    assert_eq!(reply.model, "openai/gpt-test-2025");

    let sent = &bodies(&server).await[0];
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["stream_options"], json!({"include_usage": true}));
}

#[tokio::test]
async fn streamed_tool_arguments_that_are_not_json_are_malformed() {
    let server = MockServer::start().await;
    let body = chunks(&[
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "c", "type": "function",
            "function": {"name": "add_task", "arguments": "{\"title\": "}}]}),
            None,
        ),
        chunk(json!({}), Some("tool_calls")),
    ]);
    answer_with(&server, ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")).await;

    let err = provider(&server).stream(&conversation(), &Heard::default().sink()).await.unwrap_err();
    assert!(matches!(&err, ModelError::Malformed(m) if m.contains("add_task")), "{err:?}");
}

#[tokio::test]
async fn a_stream_cut_before_it_finished_is_unavailable() {
    let server = MockServer::start().await;
    let body = format!("data: {}\n\n", chunk(json!({"content": "Hel"}), None));
    answer_with(&server, ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")).await;

    let err = provider(&server).stream(&conversation(), &Heard::default().sink()).await.unwrap_err();
    assert!(matches!(err, ModelError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn http_failures_map_to_what_a_caller_can_act_on() {
    type Expect = fn(&ModelError) -> bool;
    let error = |message: &str| json!({"error": {"message": message, "type": "invalid_request_error", "code": null}});
    let cases: Vec<(ResponseTemplate, Expect)> = vec![
        (
            ResponseTemplate::new(401).set_body_json(error("Incorrect API key provided")),
            |e| matches!(e, ModelError::Unauthorized(m) if m == "Incorrect API key provided"),
        ),
        (ResponseTemplate::new(400).set_body_json(error("max_tokens is too large")), |e| {
            *e == ModelError::Rejected("max_tokens is too large".into())
        }),
        (
            ResponseTemplate::new(404).set_body_json(json!({"error": "model \"gpt-test\" not found"})),
            |e| matches!(e, ModelError::Rejected(m) if m.contains("not found")),
        ),
        (
            ResponseTemplate::new(500).set_body_raw("oops", "text/plain"),
            |e| matches!(e, ModelError::Unavailable(m) if m == "HTTP 500"),
        ),
        (ResponseTemplate::new(503).set_body_json(error("overloaded")), |e| matches!(e, ModelError::Unavailable(_))),
        (ResponseTemplate::new(200).set_body_raw("{\"choices\": [", "application/json"), |e| {
            matches!(e, ModelError::Malformed(_))
        }),
        (ResponseTemplate::new(200).set_body_json(json!({"choices": []})), |e| matches!(e, ModelError::Malformed(_))),
    ];
    for (template, expected) in cases {
        let server = MockServer::start().await;
        answer_with(&server, template).await;
        let err = provider(&server).complete(&conversation()).await.unwrap_err();
        assert!(expected(&err), "unexpected {err:?}");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains(KEY), "the key leaked: {shown}");
        assert!(!shown.contains("Add milk"), "the conversation leaked: {shown}");
    }
}

#[tokio::test]
async fn rate_limiting_carries_retry_after() {
    let server = MockServer::start().await;
    answer_with(&server, ResponseTemplate::new(429).insert_header("Retry-After", "2")).await;

    let err = provider(&server).complete(&conversation()).await.unwrap_err();
    assert_eq!(err, ModelError::RateLimited { retry_after: Some(std::time::Duration::from_secs(2)) });
}

#[tokio::test]
async fn a_refused_stream_request_reports_the_status() {
    let server = MockServer::start().await;
    answer_with(
        &server,
        ResponseTemplate::new(401).set_body_json(json!({"error": {"message": "Incorrect API key provided"}})),
    )
    .await;
    let heard = Heard::default();

    let err = provider(&server).stream(&conversation(), &heard.sink()).await.unwrap_err();

    assert_eq!(err, ModelError::Unauthorized("Incorrect API key provided".into()));
    assert!(heard.pieces().is_empty());
}

#[tokio::test]
async fn an_error_chunk_mid_stream_is_reported() {
    let server = MockServer::start().await;
    let body = format!(
        "data: {}\n\ndata: {}\n\n",
        chunk(json!({"content": "Hel"}), None),
        json!({"error": {"message": "upstream provider failed"}})
    );
    answer_with(&server, ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")).await;
    let heard = Heard::default();

    let err = provider(&server).stream(&conversation(), &heard.sink()).await.unwrap_err();

    assert_eq!(err, ModelError::Unavailable("upstream provider failed".into()));
    assert_eq!(heard.pieces(), ["Hel"]);
}

#[tokio::test]
async fn retry_after_ms_is_read_too() {
    let server = MockServer::start().await;
    answer_with(&server, ResponseTemplate::new(429).insert_header("retry-after-ms", "250")).await;

    let err = provider(&server).complete(&conversation()).await.unwrap_err();
    assert_eq!(err, ModelError::RateLimited { retry_after: Some(std::time::Duration::from_millis(250)) });
}
