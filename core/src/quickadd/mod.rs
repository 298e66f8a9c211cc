//! Quick-add: turns one line of everyday English into a task, e.g.
//! `call mom tomorrow at 5pm #family` → title `call mom`, due tomorrow at
//! 17:00, tag `family`. This file owns the public API ([`parse`],
//! [`ParsedTask`], [`ParseError`]), the JSON shape and the final resolution
//! of dates; the grammar lives in the submodules.
//!
//! The parser is a hand-written tokenizer, deterministic given `now` and the
//! time zone ("today" is the date of `now` in that zone), and never panics.
//!
//! # Grammar
//! Matching ignores ASCII case and trailing `, . ; ! ? :`.
//! - Priority: `p1`..`p4` (critical, high, medium, low); `<level> priority`
//!   or `<level>-priority` with level `critical`/`urgent`/`high`/`medium`/`low`.
//! - Tags: `#word` of letters, digits, `-`, `_` with at least one letter
//!   (`#123` stays in the title); lowercased, de-duplicated, in order.
//! - Dates: `today`, `tonight` (today, 20:00; a bare `at 9` with it means
//!   21:00), `tomorrow`, `(the) day after tomorrow`, a weekday (`friday`,
//!   `fri`: the next one on or after today), `this <weekday>` (same),
//!   `next <weekday>` (strictly after today), `next week` (next Monday),
//!   `next month` (its 1st), `next year` (1 January), `end of (the) month`,
//!   `in N days|weeks|months|years` (N: 1..=9999, `one`..`twelve`, `a`/`an`),
//!   `2026-05-10`, `march 3`, `mar 3rd`, `3 march`, `3rd of march`, with an
//!   optional four-digit year (`march 3, 2027`); without one, the next such
//!   date on or after today; after a connector, `the 15th` (the next 15th).
//!   Month names alone are title words. `sat`, `sun` and `wed` alone are
//!   title words too; they are dates after a connector (`on sat`) or
//!   `next`/`this`.
//! - Times: `5pm`, `5:30pm`, `5:30 pm`, `5 p.m.`, `17:00`/`09:30` (HH:MM
//!   without am/pm is 24-hour; a one-digit `5:30` needs a connector, so
//!   `john 3:16` stays a title), `noon`, `midnight`, and right after `at` a
//!   bare hour 0..=23 (`at 9` = 09:00). A time without a date is today if it
//!   is at or after now, else tomorrow.
//! - Recurrence: `daily`, `weekly`, `monthly`, `yearly`/`annually`, and
//!   `every` followed by `day|week|month|year`, `weekday(s)`, `weekend(s)`,
//!   a weekday list (`monday`, `mondays`, `mon, fri`, `mon, wed and fri`),
//!   `N units`, `other <unit or weekday list>` or an ordinal (`15th`:
//!   monthly on that day). A weekly rule without days takes `on <weekday
//!   list>` (`every 2 weeks on monday`), a monthly one `on the 1st`.
//!   Without a date, the due date is the first
//!   occurrence at or after now (with the time, if any); an explicit date
//!   wins over the recurrence.
//! - Connectors `due`, `by`, `on`, `at` (up to three in a row) directly
//!   before a date, time or recurrence are dropped with it; elsewhere they are title
//!   words. A leading `add (a|an) (new) task|todo` or `remind me to` is
//!   dropped.
//!
//! Of each kind the first phrase wins; later ones are still removed from the
//! title. A phrase spans at most 16 words. Words brought together by a
//! removal (`may #x 5` → `may 5`) are matched again until the words left
//! contain no phrase, so `parse(title)` gives back the same title; this
//! takes time linear in the input.

mod lexicon;
mod recur;
mod scan;
mod token;
mod when;

#[cfg(test)]
mod tests;

use crate::Priority;
use chrono::{DateTime, NaiveDate, NaiveTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// A task read from a quick-add phrase.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ParsedTask {
    /// What is left once the grammar is taken out: never empty, trimmed,
    /// single-spaced, with the words as typed.
    pub title: String,
    pub priority: Option<Priority>,
    /// The due date, in the user's time zone; JSON `"YYYY-MM-DD"` or null.
    #[serde(with = "json_date")]
    pub due_date: Option<NaiveDate>,
    /// The due wall-clock time, in the user's time zone; JSON `"HH:MM"` or null.
    #[serde(with = "json_time")]
    pub due_time: Option<NaiveTime>,
    /// Lowercase, without `#`, de-duplicated, in order of appearance.
    pub tags: Vec<String>,
    /// An RFC 5545 RRULE without the `RRULE:` prefix, e.g. `FREQ=WEEKLY;BYDAY=MO,TH`.
    pub recurrence: Option<String>,
}

/// Why a phrase is not a task.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    #[error("the task has no title once dates, tags and priority are taken out")]
    EmptyTitle,
}

/// Reads a quick-add phrase. `now` and `tz` decide what `today`, `friday`
/// or `5pm` mean; nothing else is read from the environment.
pub fn parse(text: &str, now: DateTime<Utc>, tz: Tz) -> Result<ParsedTask, ParseError> {
    let utc = now.naive_utc();
    let offset = tz.offset_from_utc_datetime(&utc).fix();
    // Past the end of chrono's calendar the local time does not exist; UTC
    // stands in for it rather than panicking.
    let local = utc.checked_add_offset(offset).unwrap_or(utc);
    let ctx = when::Ctx { today: local.date(), now_time: local.time() };
    let toks = token::tokenize(text);
    let (found, title_toks) = scan::extract(&ctx, &toks);
    if title_toks.is_empty() {
        return Err(ParseError::EmptyTitle);
    }
    let title = title_toks.iter().map(|t| t.raw).collect::<Vec<_>>().join(" ");

    let time = match found.time {
        // `tonight at 9` is 21:00.
        Some((t, true)) if found.tonight && (1..=11).contains(&t.hour()) => {
            NaiveTime::from_hms_opt(t.hour() + 12, t.minute(), 0).or(Some(t))
        }
        Some((t, _)) => Some(t),
        None if found.tonight => NaiveTime::from_hms_opt(20, 0, 0),
        None => None,
    };
    let date = found.date.or_else(|| {
        let start = if time.is_none_or(|t| t >= ctx.now_time) { Some(ctx.today) } else { ctx.today.succ_opt() };
        match &found.recur {
            Some(r) => start.and_then(|s| r.first_on_or_after(s)),
            None if time.is_some() => start,
            None => None,
        }
    });
    Ok(ParsedTask {
        title,
        priority: found.priority,
        due_date: date,
        due_time: time,
        tags: found.tags,
        recurrence: found.recur.map(|r| r.rrule()),
    })
}

/// `Option<NaiveDate>` as `"YYYY-MM-DD"` or null.
mod json_date {
    use chrono::NaiveDate;

    pub(super) fn serialize<S: serde::Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.collect_str(&d.format("%Y-%m-%d")),
            None => s.serialize_none(),
        }
    }
}

/// `Option<NaiveTime>` as `"HH:MM"` or null.
mod json_time {
    use chrono::NaiveTime;

    pub(super) fn serialize<S: serde::Serializer>(t: &Option<NaiveTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.collect_str(&t.format("%H:%M")),
            None => s.serialize_none(),
        }
    }
}
