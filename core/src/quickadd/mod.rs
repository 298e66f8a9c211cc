//! Quick-add: turns one line of everyday English into a task, e.g.
//! `call mom tomorrow at 5pm #family` → title `call mom`, due tomorrow at
//! 17:00, tag `family`. This file owns the public API ([`parse`],
//! [`parse_with`], [`ParseOptions`], [`ParsedTask`], [`ParseError`]), the
//! JSON shape and the final resolution of the due date and time; the grammar
//! lives in the submodules.
//!
//! The parser is a hand-written tokenizer, deterministic given `now`, the
//! time zone ("today" is the date of `now` in that zone) and the options;
//! it never panics and does no I/O.
//!
//! # Grammar
//! Matching ignores ASCII case and trailing `, . ; ! ? :`.
//! - Priority: `p1`..`p4` (critical, high, medium, low); `<level> priority`
//!   or `<level>-priority` with level `critical`/`urgent`/`high`/`medium`/`low`;
//!   `asap` anywhere and `urgent` as the first (not in `urgent care`) or
//!   last word (critical);
//!   `important` as the first or last word (high); a standalone `!!!`
//!   (critical) or `!!` (high). In the middle of a phrase `urgent` and
//!   `important` are title words (`reply to urgent email`).
//! - Tags: `#word` of letters, digits, `-`, `_` with at least one letter
//!   (`#123` stays in the title); lowercased, de-duplicated, in order.
//! - Dates: `today`, `tomorrow` (also `tmrw`, `tmr`, `tmw`, `tomorow`,
//!   `2moro`), `(the) day after tomorrow`, a weekday (`friday`, `fri`: the
//!   next one on or after today), `this <weekday>` (same), `next <weekday>`
//!   (strictly after today), `next week` (next Monday), `next month` (its
//!   1st), `next year` (1 January), `end of (the) week|month|year` (this
//!   Friday, the month's last day, 31 December; `eow`, `eom`), `in N
//!   days|weeks|months|years` (N: 1..=9999, `one`..`twelve`, `a`/`an`),
//!   `2026-05-10`, `march 3`, `mar 3rd`, `3 march`, `3rd of march`, with an
//!   optional four-digit year (`march 3, 2027`); without one, the next such
//!   date on or after today; after a connector, `the 15th` (the next 15th).
//!   Numeric dates `12/15`, `12/15/2026`, `12/15/26` are month first, or day
//!   first with [`DateOrder::DayMonth`]; a first number over 12 is a day
//!   either way (`31/12`). Without a year they need a connector (`on
//!   12/15`), so `1/2 cup` and `24/7` stay titles. Month names alone are
//!   title words; so are `sat`, `sun` and `wed` alone (they are dates after
//!   a connector, `on sat`, or `next`/`this`).
//! - Moments: `in N hours|minutes` (`hr(s)`, `min(s)`) and `in half an
//!   hour`: the date and time that far from now, to the minute.
//! - Times: `5pm`, `5:30pm`, `5:30 pm`, `5 p.m.`, `17:00`/`09:30`, `noon`/
//!   `midday`, `midnight`, and right after `at` a bare hour 0..=23 (`at 9`).
//!   A one-digit `5:30` needs a connector, so `john 3:16` stays a title.
//!   An hour written without am/pm and without a leading zero (`at 5`, `at
//!   5:30`) is read as people mean it: 1..=7 is in the afternoon (`at 5` is
//!   17:00), 8..=11 in the morning, 12 is noon; with `morning` it is in the
//!   morning and with `afternoon`/`evening`/`night`/`tonight`/`end of day` in
//!   the afternoon (`tomorrow evening at 7` is 19:00). `05:30`, `17` and
//!   `0` are 24-hour. A time without a date is today if it is at or after
//!   now, else tomorrow.
//! - Parts of the day: `morning` 09:00, `afternoon` 14:00, `end of (the)
//!   day`/`eod`/`cob`/`close of business` 17:00, `evening` 18:00, `night`
//!   20:00. `tonight`, `end of day` and `this morning|afternoon|evening` are
//!   today unless another phrase gives a date (`eod friday`); a part counts
//!   right after a date (`tomorrow morning`, `friday night`) or a rule
//!   (`every sunday night`), after a connector (`at night`), or in `in the
//!   morning`. Alone (`movie night`) it is a title word. An explicit time
//!   wins over the part's hour.
//! - Zones: right after a time, `PST`/`PDT`/`PT`, `MST`, `CST`, `EST`/`ET`
//!   (the US zones' cities, so `PST` in July is still Pacific time), `UTC`,
//!   `GMT`, `BST`, `WET`, `CET`/`CEST`, `EET`, `IST` (India), `JST`,
//!   `AEST`, `UTC±H(:MM)`, `GMT±H(:MM)` or an IANA name in any case
//!   (`Europe/Paris`). The date and time are read on that zone's calendar and
//!   moved into the user's; a recurrence keeps its days as typed.
//! - Recurrence: `daily`, `weekly`, `monthly`, `yearly`/`annually`, and
//!   `every` followed by `day|week|month|year`, `weekday(s)`, `weekend(s)`,
//!   a weekday list (`monday`, `mondays`, `mon, fri`, `mon, wed and fri`,
//!   `monday at 9am and friday`), `N units` or `second|third… unit`,
//!   `other <unit or weekday list>`, an ordinal (`15th`: monthly on that
//!   day; a list, `1st and 15th`, of days every month has or the 31st), a
//!   weekday of the month (`2nd tuesday`, `last friday`, `1st and 3rd
//!   monday`, with an optional `of the month`), `last day (of the month)`,
//!   a date (`march 3`: yearly) or a part of the day (`every morning`:
//!   daily at 09:00); also
//!   `(the) <first…fifth|last> <weekday> of every|each month`. A weekly rule
//!   without days takes `on <weekday list>` (`every 2 weeks on monday`), a
//!   monthly one `on the 1st` or `on the last friday`, a yearly one `on
//!   march 3`. The 29th, 30th and 31st (and yearly 29 February) fall on the
//!   month's last day when it is shorter. Without a date, the due date is
//!   the first occurrence at or after now (with the time, if any); an
//!   explicit date wins over the recurrence.
//! - Connectors `due`, `by`, `on`, `at` (up to three in a row) directly
//!   before a date, time or recurrence are dropped with it; elsewhere they
//!   are title words.
//! - Openers, dropped at the start of what is left: `add (a|an) (new)
//!   task|todo|reminder (to)`, `remind me to`, `remember to`, `don't|dont|do
//!   not forget to` (or `forget:`), `I need|have|want to`, `I must|should|gotta`, `need
//!   to`, `please`, and `todo:`/`to-do:`/`to do:`/`task:`/`reminder:` (with
//!   the colon).
//! - Errors: a date that does not exist (`feb 30`, `2026-02-30`, `feb 29
//!   2027`, `on 13/13`) or a clock reading that is no time (`13pm`, `at
//!   25:00`) is a [`ParseError`] naming it, where the words plainly mean a
//!   date or time; `call 25:00` without a connector stays a title (a lap
//!   time, a score).
//!
//! Of each kind the first phrase wins; later ones are still removed from the
//! title. A phrase spans at most 16 words. Words brought together by a
//! removal (`may #x 5` → `may 5`) are matched again until the words left
//! contain no phrase, so `parse(title)` gives back the same title; this
//! takes time linear in the input.

mod clock;
mod lexicon;
mod opener;
mod recur;
mod scan;
mod token;
mod when;
mod zone;

#[cfg(test)]
mod tests;

use crate::Priority;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

/// A task read from a quick-add phrase.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ParsedTask {
    /// What is left once the grammar is taken out: never empty, trimmed,
    /// single-spaced, with the words as typed.
    pub title: String,
    pub priority: Option<Priority>,
    /// The due date, in the user's time zone; JSON `"YYYY-MM-DD"` or null.
    #[serde(with = "json_date")]
    #[cfg_attr(feature = "openapi", schemars(with = "Option<NaiveDate>"))]
    pub due_date: Option<NaiveDate>,
    /// The due wall-clock time, in the user's time zone; JSON `"HH:MM"` or null.
    #[serde(with = "json_time")]
    #[cfg_attr(feature = "openapi", schemars(schema_with = "crate::serde_time::hhmm_schema"))]
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
    /// A date the calendar does not have, as the message names it:
    /// `February 30`, `February 29, 2027`, `13/13`.
    #[error("{0} does not exist")]
    NoSuchDate(String),
    /// A clock reading that is no time of day: `25:00`, `13pm`.
    #[error("{0} is not a time of day")]
    NoSuchTime(String),
}

/// How the user writes numeric dates such as `3/4`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum DateOrder {
    /// `3/4` is March 4 (US).
    #[default]
    MonthDay,
    /// `3/4` is 3 April (most of the world).
    DayMonth,
}

impl DateOrder {
    /// The stored and typed name (`month_day`, `day_month`).
    pub fn as_str(self) -> &'static str {
        match self {
            DateOrder::MonthDay => "month_day",
            DateOrder::DayMonth => "day_month",
        }
    }
}
crate::task::enum_text!(DateOrder, "date_order", [DateOrder::MonthDay, DateOrder::DayMonth]);

/// The user's settings that change how a phrase reads. `Default` is what
/// [`parse`] uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseOptions {
    pub date_order: DateOrder,
}

impl ParseOptions {
    pub fn with_date_order(self, date_order: DateOrder) -> Self {
        ParseOptions { date_order, ..self }
    }
}

/// Reads a quick-add phrase with the default options. `now` and `tz` decide
/// what `today`, `friday` or `5pm` mean; nothing else is read from the
/// environment.
pub fn parse(text: &str, now: DateTime<Utc>, tz: Tz) -> Result<ParsedTask, ParseError> {
    parse_with(text, now, tz, &ParseOptions::default())
}

/// Reads a quick-add phrase as [`parse`] does, with the user's options.
pub fn parse_with(text: &str, now: DateTime<Utc>, tz: Tz, options: &ParseOptions) -> Result<ParsedTask, ParseError> {
    let local = zone::local_now(zone::Zone::Named(tz), now);
    let ctx = when::Ctx { today: local.date(), now: local, order: options.date_order };
    let toks = token::tokenize(text);
    let (found, title_toks) = scan::extract(&ctx, &toks)?;
    if title_toks.is_empty() {
        return Err(ParseError::EmptyTitle);
    }
    let title = title_toks.iter().map(|t| t.raw).collect::<Vec<_>>().join(" ");
    let (date, time) = due(&found, &ctx, now, tz);
    Ok(ParsedTask {
        title,
        priority: found.priority,
        due_date: date,
        due_time: time,
        tags: found.tags,
        recurrence: found.recur.map(|r| r.rrule()),
    })
}

/// The due date and time in the user's zone. A time without a date is today
/// if it is at or after now, else tomorrow; with a recurrence, the first
/// occurrence from then. A time said in another zone (`3pm PST`) is placed
/// on that zone's calendar first, then moved into the user's.
fn due(found: &scan::Found, ctx: &when::Ctx, now: DateTime<Utc>, tz: Tz) -> (Option<NaiveDate>, Option<NaiveTime>) {
    let time = match found.clock {
        Some(c) => Some(c.resolve(found.part)),
        None => found.part.map(clock::Part::time),
    };
    let zone = found.clock.and_then(|c| c.zone);
    let here = zone.map_or(ctx.now, |z| zone::local_now(z, now));
    let today = here.date();
    let date = found.date.or(found.soft_today.then_some(today)).or_else(|| {
        let start = if time.is_none_or(|t| t >= here.time()) { Some(today) } else { today.succ_opt() };
        match &found.recur {
            Some(r) => start.and_then(|s| r.first_on_or_after(s)),
            None if time.is_some() => start,
            None => None,
        }
    });
    match (zone, date, time) {
        (Some(z), Some(d), Some(t)) => match zone::convert(d.and_time(t), z, tz) {
            Some(at) => (Some(at.date()), Some(at.time())),
            None => (date, time),
        },
        _ => (date, time),
    }
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
