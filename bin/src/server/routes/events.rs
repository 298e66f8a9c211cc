//! `GET /api/v1/events`: the caller's events as Server-Sent Events, read
//! from the event log. Each event's SSE id is its `seq`; a client that
//! reconnects with `Last-Event-ID` (or `?after=`) gets every later event,
//! in order, without gaps or repeats. New events are found by reading the
//! log again every [`POLL`]; keep-alive comments hold idle connections.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::Stream;
use futures::stream::{self, StreamExt};
use steward::EventQuery;

use crate::server::auth::Caller;
use crate::server::error::ApiError;
use crate::server::extract::Params;
use crate::server::state::AppState;

/// How often the log is read for new events.
const POLL: Duration = Duration::from_millis(200);
/// Events read per round trip.
const BATCH: u32 = 200;

pub(crate) async fn stream(
    State(s): State<AppState>,
    Caller(p): Caller,
    headers: HeaderMap,
    params: Params,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let mut q = params.reader();
    let after: Option<i64> = q.value("after", "a whole number (an event's seq)");
    let after = q.finish(after)?;
    let resume = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<i64>().ok());
    // The header wins: it is what a reconnecting EventSource sends.
    let from = resume.or(after);
    // Without a position: what happens from now on.
    let since = s.steward.now();
    let events = stream::unfold((s, p, from), move |(s, p, last)| async move {
        loop {
            let query = match last {
                Some(seq) => EventQuery { after_seq: Some(seq), limit: BATCH, ..EventQuery::default() },
                None => EventQuery { since: Some(since), limit: BATCH, ..EventQuery::default() },
            };
            match s.steward.activities(&p, query).await {
                Ok(batch) if !batch.is_empty() => {
                    let next = batch.last().map(|e| e.seq).or(last);
                    let items: Vec<Result<SseEvent, Infallible>> = batch
                        .into_iter()
                        .map(|e| {
                            let data = serde_json::to_string(&e).unwrap_or_else(|_| "{}".into());
                            Ok(SseEvent::default().id(e.seq.to_string()).event(e.kind.clone()).data(data))
                        })
                        .collect();
                    return Some((stream::iter(items), (s, p, next)));
                }
                // Nothing new, or the database is away for a moment: look again.
                Ok(_) | Err(_) => tokio::time::sleep(POLL).await,
            }
        }
    })
    .flatten();
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
