//! `/logs`: the system log as this process kept it (admins only; see
//! `logging.rs` for what is kept), newest first.

use chrono::{DateTime, NaiveDate, Utc};
use steward::core::access::Access;
use steward::{FieldError, Page};
use tracing::Level;

use crate::logging::{self, LogQuery};
use crate::server::auth::Caller;
use crate::server::envelope::Reply;
use crate::server::error::ApiError;
use crate::server::extract::{Params, PathText, QueryReader};
use crate::server::lists;

/// The `level` filter's values, most severe first (`warning` reads as `warn`).
pub(crate) const LEVELS: [(&str, Level); 5] = [
    ("error", Level::ERROR),
    ("warn", Level::WARN),
    ("info", Level::INFO),
    ("debug", Level::DEBUG),
    ("trace", Level::TRACE),
];

/// The most records one answer holds.
const MAX_LIMIT: usize = 1000;
const DEFAULT_LIMIT: usize = 100;

pub(crate) async fn list(Caller(p): Caller, params: Params) -> Result<Reply, ApiError> {
    p.require(Access::Administer)?;
    let mut q = params.reader();
    let query = read(&mut q);
    Ok(answer(&q.finish(query)?))
}

pub(crate) async fn on_date(Caller(p): Caller, PathText(date): PathText, params: Params) -> Result<Reply, ApiError> {
    p.require(Access::Administer)?;
    let day = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::invalid(vec![FieldError {
            loc: vec!["path".into(), "date".into()],
            msg: "must be a date, YYYY-MM-DD (UTC)".into(),
        }])
    })?;
    let mut q = params.reader();
    let query = read(&mut q);
    let mut query = q.finish(query)?;
    let start = day.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    query.since = query.since.max(start);
    query.until = day.succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc());
    Ok(answer(&query))
}

/// `level` (at or above; default all), `since` (RFC 3339), `limit` (1–1000,
/// default 100) and `offset`.
fn read(q: &mut QueryReader<'_>) -> LogQuery {
    let level = q.text("level").map(|text| {
        let text = if text.eq_ignore_ascii_case("warning") { "warn" } else { text.as_str() };
        LEVELS.iter().find(|(name, _)| name.eq_ignore_ascii_case(text)).map(|(_, level)| *level)
    });
    let level = match level {
        Some(None) => {
            let names: Vec<&str> = LEVELS.iter().map(|(name, _)| *name).collect();
            q.reject("level", format!("must be one of {}", names.join(", ")));
            Level::TRACE
        }
        Some(Some(level)) => level,
        None => Level::TRACE,
    };
    let since = q.value::<DateTime<Utc>>("since", "an RFC 3339 date-time, e.g. 2026-01-31T08:00:00Z");
    let limit = q.value::<usize>("limit", "a whole number from 1 to 1000").unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        q.reject("limit", "must be a whole number from 1 to 1000");
    }
    let offset = q.value::<u64>("offset", "a whole number, 0 or more").unwrap_or(0);
    if offset > steward::core::query::MAX_OFFSET {
        q.reject("offset", format!("must be at most {}", steward::core::query::MAX_OFFSET));
    }
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    LogQuery { level, since, until: None, limit, offset }
}

fn answer(query: &LogQuery) -> Reply {
    let (items, total) = logging::recent().map(|log| log.query(query)).unwrap_or_default();
    let page = Page {
        items,
        total,
        offset: u64::try_from(query.offset).unwrap_or(u64::MAX),
        limit: u32::try_from(query.limit).unwrap_or(u32::MAX),
    };
    lists::page("logs", page)
}
