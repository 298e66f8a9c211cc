//! The Anthropic provider against a local server speaking the Messages API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Heard, bodies, conversation, serve_in_pieces, short_timeouts, sse};
use serde_json::{Value, json};
use steward_ai::anthropic::{Anthropic, AnthropicConfig};
use steward_ai::{
    ApiKey, LanguageModel, Message, ModelError, ModelRequest, Part, Speaker, StopReason, ToolResult, Usage,
};
use steward_core::agent::Builtin;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-ant-test-secret";

fn provider(server: &MockServer) -> Anthropic {
    Anthropic::new(AnthropicConfig {
        api_key: ApiKey::new(KEY),
        base_url: server.uri(),
        model: "claude-test".into(),
        timeouts: short_timeouts(),
    })
    .unwrap()
}

async fn answer_with(server: &MockServer, template: ResponseTemplate) {
    Mock::given(method("POST")).and(path("/v1/messages")).respond_with(template).mount(server).await;
}

fn tool_use_answer() -> Value {
    json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test-2025",
        "content": [
            {"type": "text", "text": "Trying again."},
            {"type": "tool_use", "id": "toolu_2", "name": "add_task", "input": {"title": "milk", "priority": "high"}}
        ],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 120, "output_tokens": 30}
    })
}

#[tokio::test]
async fn a_request_carries_headers_system_messages_tools_and_limits() {
    let server = MockServer::start().await;
    answer_with(&server, ResponseTemplate::new(200).set_body_json(tool_use_answer())).await;

    provider(&server).complete(&conversation()).await.unwrap();

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let headers = &received[0].headers;
    assert_eq!(headers.get("x-api-key").unwrap(), KEY);
    assert_eq!(headers.get("anthropic-version").unwrap(), "2023-06-01");
    assert_eq!(headers.get("content-type").unwrap(), "application/json");
    assert!(headers.get("authorization").is_none());

    let body = &bodies(&server).await[0];
    assert_eq!(body["model"], "claude-test");
    assert_eq!(body["max_tokens"], 512);
    assert_eq!(body["temperature"], 0.25);
    assert_eq!(body["system"], "You are Steward.");
    assert!(body.get("stream").is_none(), "a whole answer is not streamed: {body}");
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "Add milk to my list"}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Adding it."},
                {"type": "tool_use", "id": "call_1", "name": "add_task", "input": {"title": "milk"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "the store is busy", "is_error": true}
            ]}
        ])
    );
    let tools = body["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 2);
    assert_eq!(tools[0]["name"], "add_task");
    assert_eq!(tools[0]["description"], Builtin::AddTask.description());
    assert_eq!(tools[0]["input_schema"], Builtin::AddTask.input_schema());
    assert_eq!(tools[1]["name"], "list_tasks");
}

#[tokio::test]
async fn a_request_without_system_tools_or_temperature_leaves_them_out() {
    let server = MockServer::start().await;
    answer_with(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({
            "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn", "model": "claude-test",
            "usage": {"input_tokens": 3, "output_tokens": 1}
        })),
    )
    .await;

    let reply = provider(&server).complete(&ModelRequest::new(None, vec![Message::user("hello")])).await.unwrap();

    let body = &bodies(&server).await[0];
    for absent in ["system", "tools", "temperature", "stream"] {
        assert!(body.get(absent).is_none(), "{absent} should be absent: {body}");
    }
    assert_eq!(reply.message().text(), "hi");
    assert_eq!(reply.stop, StopReason::EndTurn);
}

#[tokio::test]
async fn an_answer_becomes_parts_stop_reason_usage_and_model() {
    let server = MockServer::start().await;
    answer_with(&server, ResponseTemplate::new(200).set_body_json(tool_use_answer())).await;

    let reply = provider(&server).complete(&conversation()).await.unwrap();

    assert_eq!(reply.message().text(), "Trying again.");
    let calls: Vec<_> = reply.message().tool_calls().cloned().collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, "toolu_2");
    assert_eq!(calls[0].name, "add_task");
    assert_eq!(calls[0].arguments, json!({"title": "milk", "priority": "high"}));
    assert_eq!(reply.stop, StopReason::ToolUse);
    assert_eq!(reply.usage, Usage { input_tokens: 120, output_tokens: 30 });
    assert_eq!(reply.model, "anthropic/claude-test-2025");
}

#[tokio::test]
async fn stop_reasons_map_to_the_port() {
    let cases = [
        ("end_turn", StopReason::EndTurn),
        ("tool_use", StopReason::ToolUse),
        ("max_tokens", StopReason::MaxTokens),
        ("stop_sequence", StopReason::EndTurn),
        ("refusal", StopReason::Refusal),
        ("pause_turn", StopReason::Other("pause_turn".into())),
    ];
    for (wire, want) in cases {
        let server = MockServer::start().await;
        answer_with(
            &server,
            ResponseTemplate::new(200).set_body_json(json!({"content": [], "stop_reason": wire, "usage": {}})),
        )
        .await;
        let reply = provider(&server).complete(&conversation()).await.unwrap();
        assert_eq!(reply.stop, want, "{wire}");
    }
}

#[tokio::test]
async fn a_tool_call_round_trips_into_the_next_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(tool_use_answer()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    answer_with(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({
            "content": [{"type": "text", "text": "Added."}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 200, "output_tokens": 2}
        })),
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
            call_id: call.id.clone(),
            content: r#"{"id":"t1"}"#.into(),
            is_error: false,
        })],
    });
    let second = model.complete(&request).await.unwrap();

    assert_eq!(second.message().text(), "Added.");
    let sent = &bodies(&server).await[1]["messages"];
    assert_eq!(
        sent[1],
        json!({"role": "assistant", "content": [
            {"type": "text", "text": "Trying again."},
            {"type": "tool_use", "id": "toolu_2", "name": "add_task", "input": {"title": "milk", "priority": "high"}}
        ]})
    );
    assert_eq!(
        sent[2],
        json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "{\"id\":\"t1\"}", "is_error": false}
        ]})
    );
}

fn streamed_turn() -> String {
    sse(&[
        (
            Some("message_start"),
            json!({"type": "message_start", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test-2025", "content": [],
            "stop_reason": null, "usage": {"input_tokens": 77, "output_tokens": 1}}}),
        ),
        (
            Some("content_block_start"),
            json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "text", "text": ""}}),
        ),
        (Some("ping"), json!({"type": "ping"})),
        (
            Some("content_block_delta"),
            json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": "Let me "}}),
        ),
        (
            Some("content_block_delta"),
            json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": "add "}}),
        ),
        (
            Some("content_block_delta"),
            json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": "that."}}),
        ),
        (Some("content_block_stop"), json!({"type": "content_block_stop", "index": 0})),
        (
            Some("content_block_start"),
            json!({"type": "content_block_start", "index": 1,
            "content_block": {"type": "tool_use", "id": "toolu_9", "name": "add_task", "input": {}}}),
        ),
        (
            Some("content_block_delta"),
            json!({"type": "content_block_delta", "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": ""}}),
        ),
        (
            Some("content_block_delta"),
            json!({"type": "content_block_delta", "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": "{\"title\": \"mi"}}),
        ),
        (
            Some("content_block_delta"),
            json!({"type": "content_block_delta", "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": "lk\", \"tags\": [\"sho"}}),
        ),
        (
            Some("content_block_delta"),
            json!({"type": "content_block_delta", "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": "pping\"]}"}}),
        ),
        (Some("content_block_stop"), json!({"type": "content_block_stop", "index": 1})),
        (
            Some("message_delta"),
            json!({"type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 42}}),
        ),
        (Some("message_stop"), json!({"type": "message_stop"})),
    ])
}

#[tokio::test]
async fn streaming_hands_text_over_in_order_and_assembles_the_same_reply() {
    let server = MockServer::start().await;
    answer_with(&server, ResponseTemplate::new(200).set_body_raw(streamed_turn(), "text/event-stream")).await;
    let heard = Heard::default();

    let reply = provider(&server).stream(&conversation(), &heard.sink()).await.unwrap();

    assert_eq!(heard.pieces(), ["Let me ", "add ", "that."]);
    assert_eq!(reply.message().text(), heard.pieces().concat());
    let calls: Vec<_> = reply.message().tool_calls().cloned().collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, "toolu_9");
    assert_eq!(calls[0].arguments, json!({"title": "milk", "tags": ["shopping"]}));
    assert_eq!(reply.stop, StopReason::ToolUse);
    assert_eq!(reply.usage, Usage { input_tokens: 77, output_tokens: 42 });
    assert_eq!(reply.model, "anthropic/claude-test-2025");

    let body = &bodies(&server).await[0];
    assert_eq!(body["stream"], true);
    assert_eq!(body["max_tokens"], 512);
}

#[tokio::test]
async fn a_stream_error_event_is_reported_by_its_type() {
    let server = MockServer::start().await;
    let body = sse(&[
        (
            Some("message_start"),
            json!({"type": "message_start", "message": {"model": "m", "usage": {"input_tokens": 1}}}),
        ),
        (Some("error"), json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})),
    ]);
    answer_with(&server, ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")).await;

    let err = provider(&server).stream(&conversation(), &Heard::default().sink()).await.unwrap_err();
    assert_eq!(err, ModelError::Unavailable("Overloaded".into()));
}

#[tokio::test]
async fn a_stream_cut_before_message_stop_is_unavailable() {
    let server = MockServer::start().await;
    let full = streamed_turn();
    let cut = &full[..full.find("event: message_delta").unwrap()];
    answer_with(&server, ResponseTemplate::new(200).set_body_raw(cut.to_owned(), "text/event-stream")).await;

    let err = provider(&server).stream(&conversation(), &Heard::default().sink()).await.unwrap_err();
    assert!(matches!(err, ModelError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn streamed_tool_arguments_that_are_not_json_are_malformed() {
    let server = MockServer::start().await;
    let body = sse(&[
        (None, json!({"type": "message_start", "message": {"model": "m", "usage": {"input_tokens": 1}}})),
        (
            None,
            json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "tool_use", "id": "t", "name": "add_task", "input": {}}}),
        ),
        (
            None,
            json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": "{\"title\": "}}),
        ),
        (None, json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 5}})),
        (None, json!({"type": "message_stop"})),
    ]);
    answer_with(&server, ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")).await;

    let err = provider(&server).stream(&conversation(), &Heard::default().sink()).await.unwrap_err();
    assert!(matches!(&err, ModelError::Malformed(m) if m.contains("add_task")), "{err:?}");
}

/// What a test expects of an error.
type Expect = fn(&ModelError) -> bool;

fn error_body(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

#[tokio::test]
async fn http_failures_map_to_what_a_caller_can_act_on() {
    let cases: Vec<(ResponseTemplate, Expect)> = vec![
        (
            ResponseTemplate::new(401).set_body_json(error_body("authentication_error", "invalid x-api-key")),
            |e| matches!(e, ModelError::Unauthorized(m) if m == "invalid x-api-key"),
        ),
        (ResponseTemplate::new(403).set_body_json(error_body("permission_error", "no")), |e| {
            matches!(e, ModelError::Unauthorized(_))
        }),
        (ResponseTemplate::new(400).set_body_json(error_body("invalid_request_error", "max_tokens: too large")), |e| {
            *e == ModelError::Rejected("max_tokens: too large".into())
        }),
        (
            ResponseTemplate::new(500).set_body_json(error_body("api_error", "Internal")),
            |e| matches!(e, ModelError::Unavailable(m) if m.contains("500")),
        ),
        (
            ResponseTemplate::new(529).set_body_json(error_body("overloaded_error", "Overloaded")),
            |e| matches!(e, ModelError::Unavailable(m) if m.contains("Overloaded")),
        ),
        (ResponseTemplate::new(200).set_body_raw("{\"content\": [", "application/json"), |e| {
            matches!(e, ModelError::Malformed(_))
        }),
        (ResponseTemplate::new(200).set_body_raw("<html>hello</html>", "text/html"), |e| {
            matches!(e, ModelError::Malformed(_))
        }),
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
    answer_with(
        &server,
        ResponseTemplate::new(429)
            .insert_header("retry-after", "7")
            .set_body_json(error_body("rate_limit_error", "slow down")),
    )
    .await;

    let err = provider(&server).complete(&conversation()).await.unwrap_err();
    assert_eq!(err, ModelError::RateLimited { retry_after: Some(std::time::Duration::from_secs(7)) });
}

#[tokio::test]
async fn a_dead_server_is_unavailable() {
    // Bind a port, then free it: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let model = Anthropic::new(AnthropicConfig {
        api_key: ApiKey::new(KEY),
        base_url: format!("http://127.0.0.1:{port}"),
        model: "claude-test".into(),
        timeouts: short_timeouts(),
    })
    .unwrap();

    let err = model.complete(&conversation()).await.unwrap_err();
    assert!(err.is_transient() && !matches!(err, ModelError::RateLimited { .. }), "{err:?}");
}

#[tokio::test]
async fn streamed_text_reaches_the_sink_while_the_answer_is_still_arriving() {
    let delta = |text: &str| {
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}).to_string()
    };
    let start = json!({"type": "message_start", "message": {"model": "m", "usage": {"input_tokens": 5}}});
    let block = json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}});
    let delta_two = format!("event: content_block_delta\ndata: {}\n\n", delta("two "));
    let (two_head, two_tail) = delta_two.split_at(delta_two.len() / 2);
    // Nothing after the first delta is written until the sink heard it,
    // and the second delta is split mid-line across two writes.
    let pieces = vec![
        (0, format!("data: {start}\n\ndata: {block}\n\ndata: {}\n\n", delta("one "))),
        (1, two_head.to_owned()),
        (
            1,
            format!(
                "{two_tail}data: {}\n\ndata: {}\n\ndata: {}\n\n",
                delta("three"),
                json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}}),
                json!({"type": "message_stop"})
            ),
        ),
    ];
    let heard = Heard::default();
    let url = serve_in_pieces(pieces, heard.clone()).await;
    let model = Anthropic::new(AnthropicConfig {
        api_key: ApiKey::new(KEY),
        base_url: url,
        model: "claude-test".into(),
        timeouts: short_timeouts(),
    })
    .unwrap();

    let reply = model.stream(&ModelRequest::new(None, vec![Message::user("count")]), &heard.sink()).await.unwrap();

    assert_eq!(heard.pieces(), ["one ", "two ", "three"]);
    assert_eq!(reply.message().text(), "one two three");
    assert_eq!(reply.usage, Usage { input_tokens: 5, output_tokens: 3 });
}

#[tokio::test]
async fn tool_results_go_before_text_in_a_user_turn() {
    let server = MockServer::start().await;
    answer_with(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(json!({"content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn"})),
    )
    .await;
    let mut request = conversation();
    request.messages[2].parts.insert(0, Part::Text { text: "And eggs too.".into() });
    request.messages[2].parts.push(Part::Text { text: String::new() });

    provider(&server).complete(&request).await.unwrap();

    assert_eq!(
        bodies(&server).await[0]["messages"][2]["content"],
        json!([
            {"type": "tool_result", "tool_use_id": "call_1", "content": "the store is busy", "is_error": true},
            {"type": "text", "text": "And eggs too."}
        ])
    );
}
