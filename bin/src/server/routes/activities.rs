//! `/activities`: the caller's audit log, oldest first, filtered by entity
//! and time; `after` resumes after a known `seq`.

use axum::extract::State;
use steward::{Entity, EventQuery};

use crate::server::auth::Caller;
use crate::server::envelope::Reply;
use crate::server::error::ApiError;
use crate::server::extract::Params;
use crate::server::lists;
use crate::server::state::AppState;

pub(crate) async fn list(State(s): State<AppState>, Caller(p): Caller, params: Params) -> Result<Reply, ApiError> {
    let mut q = params.reader();
    let query = EventQuery {
        after_seq: q.value("after", "a whole number (an event's seq)"),
        entity: q.domain::<Entity>("entity_type"),
        entity_id: q.value("entity_id", "a UUID"),
        since: q.value("since", "an RFC 3339 instant"),
        limit: q.value("limit", "a whole number from 1 to 1000").unwrap_or(100),
    };
    if !(1..=1000).contains(&query.limit) {
        q.reject("limit", "must be between 1 and 1000");
    }
    let query = q.finish(query)?;
    Ok(lists::counted("activities", s.steward.activities(&p, query).await?))
}
