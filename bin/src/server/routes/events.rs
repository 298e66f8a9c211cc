//! `GET /api/v1/events`: the caller's events as Server-Sent Events, read
//! from the event log. Each event's SSE id is its `seq`; a client that
//! reconnects with `Last-Event-ID` (or `?after=`) gets every later event,
//! in order, without gaps or repeats. Once a stream has read everything
//! it waits on the process's event signal (woken right after this process
//! commits events for the caller, and on PostgreSQL when another process
//! does), or at the latest the safety interval (`--events-safety-poll`),
//! then reads the log again. The first time a stream finds nothing more to
//! send it says so with the comment `: live` (what comes after it happened
//! after the subscription); keep-alive comments hold idle connections.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::Stream;
use futures::stream::{self, StreamExt};
use steward::{EventQuery, EventWaiter, Principal};

use crate::server::auth::Caller;
use crate::server::error::ApiError;
use crate::server::extract::Params;
use crate::server::state::AppState;

/// How long to wait before reading again when the database failed a read.
const RETRY: Duration = Duration::from_secs(1);
/// Events read per round trip.
const BATCH: u32 = 200;
/// The comment a stream sends once it has read the log up to now.
const LIVE: &str = "live";

/// One stream's place in the log.
struct Reader {
    s: AppState,
    p: Principal,
    /// The last `seq` sent; `None` before the first event.
    last: Option<i64>,
    waiter: EventWaiter,
    /// Whether the `: live` comment was sent.
    caught_up: bool,
}

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
    // Taken before the first read, so a wake-up after it is never missed.
    let reader = Reader { s: s.clone(), p, last: from, waiter: s.events.subscribe(p.user_id), caught_up: false };
    let events = stream::unfold(reader, move |mut r| async move {
        loop {
            let query = match r.last {
                Some(seq) => EventQuery { after_seq: Some(seq), limit: BATCH, ..EventQuery::default() },
                None => EventQuery { since: Some(since), limit: BATCH, ..EventQuery::default() },
            };
            match r.s.steward.activities(&r.p, query).await {
                Ok(batch) if !batch.is_empty() => {
                    r.last = batch.last().map(|e| e.seq).or(r.last);
                    let items: Vec<Result<SseEvent, Infallible>> = batch
                        .into_iter()
                        .map(|e| {
                            let data = serde_json::to_string(&e).unwrap_or_else(|_| "{}".into());
                            Ok(SseEvent::default().id(e.seq.to_string()).event(e.kind.clone()).data(data))
                        })
                        .collect();
                    return Some((stream::iter(items), r));
                }
                // Once, the first time the log has nothing more: a comment
                // (clients ignore it) saying that what follows is live.
                Ok(_) if !r.caught_up => {
                    r.caught_up = true;
                    return Some((stream::iter(vec![Ok(SseEvent::default().comment(LIVE))]), r));
                }
                Ok(_) => {
                    tokio::select! {
                        () = r.waiter.woken() => {}
                        () = tokio::time::sleep(r.s.events_safety_poll) => {}
                    }
                }
                // The database is away for a moment: look again soon.
                Err(_) => tokio::time::sleep(RETRY).await,
            }
        }
    })
    .flatten();
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
