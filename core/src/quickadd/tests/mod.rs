//! Tests of the quick-add parser: shared helpers here, behaviour by area in
//! the submodules (examples from the first issue, dates, times,
//! recurrences, titles/priority/tags, the phrases of issue 11 in `typed`,
//! properties).

mod dates;
mod examples;
mod props;
mod recurrence;
mod times;
mod title;
mod typed;

use super::{ParseError, ParsedTask, parse};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

/// A UTC instant; panics on an invalid one (test input only).
pub(super) fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    match NaiveDate::from_ymd_opt(y, mo, d).and_then(|d| d.and_hms_opt(h, mi, 0)) {
        Some(n) => n.and_utc(),
        None => panic!("bad test instant {y}-{mo}-{d} {h}:{mi}"),
    }
}

/// The reference instant of the issue: Saturday 2026-02-21 10:30 UTC.
pub(super) fn sat() -> DateTime<Utc> {
    utc(2026, 2, 21, 10, 30)
}

pub(super) fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

pub(super) fn time(h: u32, m: u32) -> Option<NaiveTime> {
    NaiveTime::from_hms_opt(h, m, 0)
}

/// Parses with `now` and `tz`, panicking on an error.
pub(super) fn p_at(text: &str, now: DateTime<Utc>, tz: Tz) -> ParsedTask {
    match parse(text, now, tz) {
        Ok(p) => p,
        Err(e) => panic!("{text:?} failed: {e}"),
    }
}

/// Parses at the reference instant in UTC, panicking on an error.
pub(super) fn p(text: &str) -> ParsedTask {
    p_at(text, sat(), Tz::UTC)
}

/// Parses at the reference instant in UTC, expecting an error.
pub(super) fn err(text: &str) -> ParseError {
    match parse(text, sat(), Tz::UTC) {
        Ok(p) => panic!("{text:?} parsed as {p:?}"),
        Err(e) => e,
    }
}

/// Asserts `text` has title `title` and no grammar at all.
pub(super) fn plain(text: &str, title: &str) {
    let t = p(text);
    assert_eq!(t.title, title, "{text:?}");
    assert_eq!((t.priority, t.due_date, t.due_time, t.recurrence), (None, None, None, None), "{text:?}");
    assert!(t.tags.is_empty(), "{text:?}");
}
