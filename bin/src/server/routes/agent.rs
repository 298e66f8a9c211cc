//! The agent over HTTP (`API.md` §8): chat (a run started and carried on
//! inline until it answers or waits for approvals), conversations, runs
//! with their steps, cancelling, and the tools with their policy. Deciding
//! an approval wakes its run on the server's workers (core enqueues the
//! wake with the decision).

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream;
use serde::{Deserialize, Serialize};
use serde_json::json;
use steward::RunId;
use steward::core::agent::{AgentRun, AgentTool, Effect, Message, RunStep, RunWatcher, ToolSpec, Verdict};
use steward::core::ids::ConversationId;
use tokio::sync::mpsc;

use crate::server::auth::Caller;
use crate::server::envelope::{NoContent, Reply};
use crate::server::error::ApiError;
use crate::server::extract::{Body, Params, PathId};
use crate::server::lists;
use crate::server::state::AppState;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct ChatBody {
    #[schemars(length(min = 1, max = steward::core::agent::run::MESSAGE_MAX), pattern(steward::core::patterns::TEXT))]
    message: String,
    conversation_id: Option<ConversationId>,
}

/// `POST /chat`. With `Accept: text/event-stream` the answer is a stream:
/// `step` events (each step of the run once written, as `GET /runs/{id}`
/// shows them), `text` events (`{"delta"}`, the model's text as it
/// arrives), then one `done` (the same object the JSON answer has) or
/// `error` (`{code, message}`). A mistake in the request is still an
/// ordinary error answer: the stream opens only once the run is started.
pub(crate) async fn chat(
    State(s): State<AppState>,
    Caller(p): Caller,
    headers: HeaderMap,
    Body(b): Body<ChatBody>,
) -> Result<Response, ApiError> {
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("text/event-stream"));
    if !wants_stream {
        // A model that is down is 503; the run stays queued for a worker.
        return Ok(Reply::ok(s.steward.chat(&p, &b.message, b.conversation_id).await?).into_response());
    }
    let run = s.steward.start_run(&p, &b.message, b.conversation_id, None, true).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    let engine = s.steward.engine().watched(Arc::new(ChatStream(tx.clone())));
    // The run goes on to its end even if the client hangs up.
    tokio::spawn(async move {
        let last = match engine.carry_on_chat(&p, run.id).await {
            Ok(outcome) => Frame::Done(serde_json::to_value(&outcome).unwrap_or_default()),
            Err(e) => {
                let e = ApiError::from(e);
                Frame::Error(json!({ "code": e.code, "message": e.message }))
            }
        };
        let _ = tx.send(last);
    });
    let events = stream::unfold(rx, |mut rx| async move {
        let frame = rx.recv().await?;
        Some((Ok::<_, Infallible>(frame.event()), rx))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()).into_response())
}

/// What a streamed chat sends, in order.
#[derive(Debug)]
enum Frame {
    Step(serde_json::Value),
    Text(String),
    Done(serde_json::Value),
    Error(serde_json::Value),
}

impl Frame {
    fn event(self) -> SseEvent {
        let (name, data) = match self {
            Frame::Step(step) => ("step", step.to_string()),
            Frame::Text(delta) => ("text", json!({ "delta": delta }).to_string()),
            Frame::Done(outcome) => ("done", outcome.to_string()),
            Frame::Error(error) => ("error", error.to_string()),
        };
        SseEvent::default().event(name).data(data)
    }
}

/// Hands a run's news to the response stream (dropped quietly once the
/// client is gone).
#[derive(Debug)]
struct ChatStream(mpsc::UnboundedSender<Frame>);

impl RunWatcher for ChatStream {
    fn step(&self, step: &RunStep) {
        let _ = self.0.send(Frame::Step(serde_json::to_value(step).unwrap_or_default()));
    }

    fn text(&self, delta: &str) {
        let _ = self.0.send(Frame::Text(delta.to_string()));
    }
}

pub(crate) async fn conversations(
    State(s): State<AppState>,
    Caller(p): Caller,
    params: Params,
) -> Result<Reply, ApiError> {
    let mut q = params.reader();
    let page = q.page(20);
    let page = q.finish(page)?;
    Ok(lists::page("conversations", s.steward.conversations(&p, page).await?))
}

pub(crate) async fn messages(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<ConversationId>,
) -> Result<Reply, ApiError> {
    let messages = s.steward.conversation_messages(&p, id).await?;
    Ok(Reply::ok(Messages { conversation_id: id, messages }))
}

/// A conversation's messages, oldest first.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct Messages {
    conversation_id: ConversationId,
    messages: Vec<Message>,
}

pub(crate) async fn remove_conversation(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<ConversationId>,
) -> Result<NoContent, ApiError> {
    s.steward.delete_conversation(&p, id).await?;
    Ok(NoContent)
}

pub(crate) async fn run(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<RunId>,
) -> Result<Reply, ApiError> {
    let (run, steps) = s.steward.run(&p, id).await?;
    Ok(Reply::ok(RunWithSteps { run, steps }))
}

/// A run's fields with `steps` the steps themselves (where the run alone
/// has their count).
#[derive(Debug)]
pub(crate) struct RunWithSteps {
    run: AgentRun,
    steps: Vec<RunStep>,
}

impl Serialize for RunWithSteps {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut run = serde_json::to_value(&self.run).map_err(serde::ser::Error::custom)?;
        run["steps"] = serde_json::to_value(&self.steps).map_err(serde::ser::Error::custom)?;
        run.serialize(serializer)
    }
}

impl schemars::JsonSchema for RunWithSteps {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RunWithSteps".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut schema = AgentRun::json_schema(generator);
        let steps = schemars::json_schema!({"type": "array", "items": generator.subschema_for::<RunStep>()});
        if let Some(properties) = schema.get_mut("properties").and_then(serde_json::Value::as_object_mut) {
            properties.insert("steps".into(), steps.to_value());
        }
        schema
    }
}

pub(crate) async fn cancel(
    State(s): State<AppState>,
    Caller(p): Caller,
    PathId(id): PathId<RunId>,
) -> Result<Reply, ApiError> {
    Ok(Reply::ok(s.steward.cancel_run(&p, id).await?))
}

pub(crate) async fn tools(State(s): State<AppState>, Caller(_p): Caller) -> Result<Reply, ApiError> {
    let tools: Vec<Tool> = s.steward.agent_tools().await?.into_iter().map(Tool::from).collect();
    Ok(lists::counted("tools", tools))
}

/// A tool as `GET /tools` shows it: what the model sees, and the policy.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(crate) struct Tool {
    #[serde(flatten)]
    spec: ToolSpec,
    effect: Effect,
    policy: Verdict,
    needs_approval: bool,
}

impl From<AgentTool> for Tool {
    fn from(t: AgentTool) -> Tool {
        Tool { spec: t.spec, effect: t.effect, policy: t.verdict, needs_approval: t.verdict == Verdict::NeedsApproval }
    }
}
