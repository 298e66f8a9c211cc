//! Dates as people type them on the command line: `2026-03-01`, or any
//! date (and time) quick-add understands (`tomorrow`, `next friday 5pm`,
//! `in 3 days`), read in the acting user's timezone. The grammar is core's
//! (`steward::quickadd`); this module only insists that nothing but a date
//! was said.

use chrono::{NaiveDate, NaiveTime};
use steward::{Error, Principal, Steward, quickadd};

use crate::errors::Failure;

/// A placeholder title, so that the phrase is all date.
const TITLE: &str = "x";

/// A resolved `--due`-style value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct When {
    pub(crate) date: NaiveDate,
    pub(crate) time: Option<NaiveTime>,
}

/// Reads `raw` for the option `field` (`due`, `due_before`, …).
pub(crate) async fn resolve(steward: &Steward, p: &Principal, field: &str, raw: &str) -> Result<When, Failure> {
    if let Ok(date) = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
        return Ok(When { date, time: None });
    }
    let settings = steward.settings(p).await?;
    let parsed =
        quickadd::parse_with(&format!("{TITLE} {raw}"), steward.now(), settings.tz(), &settings.parse_options()).ok();
    let only_a_date =
        parsed.filter(|t| t.title == TITLE && t.priority.is_none() && t.tags.is_empty() && t.recurrence.is_none());
    match only_a_date.and_then(|t| t.due_date.map(|date| When { date, time: t.due_time })) {
        Some(when) => Ok(when),
        None => Err(Error::invalid(
            field,
            format!(
                "'{}' is not a date: use YYYY-MM-DD or a quick-add date such as 'tomorrow', \
                 'next friday 5pm' or 'in 3 days'",
                crate::output::escape(raw)
            ),
        )
        .into()),
    }
}

/// [`resolve`] for an optional value.
pub(crate) async fn resolve_opt(
    steward: &Steward,
    p: &Principal,
    field: &str,
    raw: Option<&str>,
) -> Result<Option<When>, Failure> {
    match raw {
        Some(raw) => Ok(Some(resolve(steward, p, field, raw).await?)),
        None => Ok(None),
    }
}
