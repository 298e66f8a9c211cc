//! Dates and the phrases around them: what sets a due date (`tomorrow`,
//! `next friday`, `march 3rd 2027`, `in 2 weeks`, `2026-05-10`, `on 12/15`
//! …), a date with a part of the day (`tomorrow morning`, `tonight`, `end of
//! day`) or a moment (`in 2 hours`), resolved against today's date in the
//! user's time zone. Clock readings themselves live in `clock`.

use super::clock::{self, Clock, Part};
use super::lexicon::{self, Unit};
use super::token::{Token, word};
use super::{DateOrder, ParseError};
use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime, TimeDelta, Timelike, Weekday};

/// What "now" is for the user: the calendar date and wall-clock time of
/// `now` in their time zone, and how they write numeric dates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx {
    pub(crate) today: NaiveDate,
    pub(crate) now: NaiveDateTime,
    pub(crate) order: DateOrder,
}

/// What a date or time phrase sets. Each part is kept only if nothing
/// earlier in the phrase set it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct When {
    pub(crate) date: Option<NaiveDate>,
    /// Today unless another phrase gives a date (`tonight`, `end of day`,
    /// `this morning`: `tonight friday` is Friday evening).
    pub(crate) soft_today: bool,
    pub(crate) clock: Option<Clock>,
    pub(crate) part: Option<Part>,
}

/// A match: how many tokens it spans and what it says; an error when the
/// words plainly name a date or time that does not exist.
pub(crate) type Matched<T> = Result<Option<(usize, T)>, ParseError>;

/// A date or time phrase starting at token `i`, and how many tokens it
/// spans. `after_connector`: it follows `due`/`by`/`on`/`at`; `after_at`: the
/// last of those was `at` (which allows a bare hour, `at 9`).
pub(crate) fn match_when(
    ctx: &Ctx,
    toks: &[&Token<'_>],
    i: usize,
    after_connector: bool,
    after_at: bool,
) -> Matched<When> {
    let (w0, w1) = (word(toks, i), word(toks, i + 1));
    let soft = |n: usize, part| Ok(Some((n, When { soft_today: true, part: Some(part), ..When::default() })));
    let part_only = |n: usize, part| Ok(Some((n, When { part: Some(part), ..When::default() })));
    match w0 {
        "tonight" | "tonite" => return soft(1, Part::Night),
        "eod" | "cob" => return soft(1, Part::EndOfDay),
        "this" => {
            if let Some(p) = clock::part(w1) {
                return soft(2, p);
            }
        }
        "in" => {
            if w1 == "the"
                && let Some(p) = clock::part(word(toks, i + 2))
            {
                return part_only(3, p);
            }
            if let Some(found) = in_minutes(ctx, toks, i) {
                return Ok(Some(found));
            }
        }
        "end" | "close" if w1 == "of" => {
            let the = usize::from(word(toks, i + 2) == "the");
            if matches!(word(toks, i + 2 + the), "day" | "business") {
                return soft(3 + the, Part::EndOfDay);
            }
        }
        _ => {}
    }
    if after_connector && let Some(p) = clock::part(w0) {
        return part_only(1, p);
    }
    if let Some((n, date)) = match_date(ctx, toks, i, after_connector)? {
        let when = When { date: Some(date), ..When::default() };
        return Ok(Some(match clock::part(word(toks, i + n)) {
            Some(p) => (n + 1, When { part: Some(p), ..when }),
            None => (n, when),
        }));
    }
    Ok(clock::match_time(toks, i, after_connector, after_at)?
        .map(|(n, c)| (n, When { clock: Some(c), ..When::default() })))
}

/// `in N hours|minutes` and `in half an hour`: the date and time that far
/// from now, to the minute.
fn in_minutes(ctx: &Ctx, toks: &[&Token<'_>], i: usize) -> Option<(usize, When)> {
    let (n, minutes) = if word(toks, i + 1) == "half" && word(toks, i + 2) == "an" && word(toks, i + 3) == "hour" {
        (4, 30)
    } else {
        let count = lexicon::count(word(toks, i + 1), true)?;
        (3, count * lexicon::clock_unit(word(toks, i + 2))?)
    };
    let at = ctx.now.checked_add_signed(TimeDelta::try_minutes(i64::from(minutes))?)?;
    let time = at.time().with_second(0)?.with_nanosecond(0)?;
    let clock = Clock { time, ambiguous: false, zone: None };
    Some((n, When { date: Some(at.date()), clock: Some(clock), ..When::default() }))
}

fn match_date(ctx: &Ctx, toks: &[&Token<'_>], i: usize, after_connector: bool) -> Matched<NaiveDate> {
    let today = ctx.today;
    let w0 = word(toks, i);
    let w1 = word(toks, i + 1);
    let found = match w0 {
        "today" => Some((1, today)),
        "tomorrow" | "tmrw" | "tmr" | "tmw" | "tomorow" | "tommorow" | "tommorrow" | "2moro" | "2morrow" => {
            today.succ_opt().map(|d| (1, d))
        }
        "the" if w1 == "day" => day_after_tomorrow(toks, i + 1, today).map(|(n, d)| (n + 1, d)),
        "the" if after_connector => lexicon::ordinal(w1).and_then(|n| next_month_day(today, n)).map(|d| (2, d)),
        "day" => day_after_tomorrow(toks, i, today),
        "next" => next(today, w1).map(|d| (2, d)),
        "this" => lexicon::weekday(w1).and_then(|(wd, _)| on_or_after(today, wd)).map(|d| (2, d)),
        "end" => end_of(toks, i, today),
        "eow" => on_or_after(today, Weekday::Fri).map(|d| (1, d)),
        "eom" => last_of_month(today).map(|d| (1, d)),
        "in" => in_n(toks, i, today),
        _ => None,
    };
    if found.is_some() {
        return Ok(found);
    }
    if let Some(d) = iso(w0)? {
        return Ok(Some((1, d)));
    }
    if let Some(d) = slash_date(ctx, w0, after_connector)? {
        return Ok(Some((1, d)));
    }
    if let Some((wd, ambiguous)) = lexicon::weekday(w0) {
        if ambiguous && !after_connector {
            return Ok(None);
        }
        return Ok(on_or_after(today, wd).map(|d| (1, d)));
    }
    month_day(toks, i, today)
}

/// `day after tomorrow` at `i`.
fn day_after_tomorrow(toks: &[&Token<'_>], i: usize, today: NaiveDate) -> Option<(usize, NaiveDate)> {
    let ok = word(toks, i) == "day" && word(toks, i + 1) == "after" && word(toks, i + 2) == "tomorrow";
    ok.then(|| today.checked_add_days(Days::new(2)).map(|d| (3, d))).flatten()
}

/// The word after `next`: a weekday (strictly after today), `week` (next
/// Monday), `month` (the 1st of next month), `year` (the next 1 January).
fn next(today: NaiveDate, w: &str) -> Option<NaiveDate> {
    match w {
        "week" => strictly_after(today, Weekday::Mon),
        "month" => first_of_month(today)?.checked_add_months(Months::new(1)),
        "year" => NaiveDate::from_ymd_opt(today.year().checked_add(1)?, 1, 1),
        _ => strictly_after(today, lexicon::weekday(w)?.0),
    }
}

/// The first `wd` on or after `today` (today itself if it is one).
pub(crate) fn on_or_after(today: NaiveDate, wd: Weekday) -> Option<NaiveDate> {
    let ahead = (7 + wd.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
    today.checked_add_days(Days::new(u64::from(ahead)))
}

/// The first `wd` strictly after `today` (a week ahead if today is one).
fn strictly_after(today: NaiveDate, wd: Weekday) -> Option<NaiveDate> {
    on_or_after(today.succ_opt()?, wd)
}

fn first_of_month(d: NaiveDate) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(d.year(), d.month(), 1)
}

fn last_of_month(d: NaiveDate) -> Option<NaiveDate> {
    first_of_month(d)?.checked_add_months(Months::new(1))?.pred_opt()
}

/// `end of (the) week|month|year`: this Friday (today if it is one), the
/// last day of this month, 31 December. (`end of day` is a time.)
fn end_of(toks: &[&Token<'_>], i: usize, today: NaiveDate) -> Option<(usize, NaiveDate)> {
    if word(toks, i) != "end" || word(toks, i + 1) != "of" {
        return None;
    }
    let the = usize::from(word(toks, i + 2) == "the");
    let date = match word(toks, i + 2 + the) {
        "week" => on_or_after(today, Weekday::Fri)?,
        "month" => last_of_month(today)?,
        "year" => NaiveDate::from_ymd_opt(today.year(), 12, 31)?,
        _ => return None,
    };
    Some((3 + the, date))
}

/// `in N days|weeks|months|years` (N: digits, `one`..`twelve`, `a`/`an`).
fn in_n(toks: &[&Token<'_>], i: usize, today: NaiveDate) -> Option<(usize, NaiveDate)> {
    let n = lexicon::count(word(toks, i + 1), true)?;
    let date = match lexicon::unit(word(toks, i + 2))? {
        Unit::Day => today.checked_add_days(Days::new(u64::from(n))),
        Unit::Week => today.checked_add_days(Days::new(u64::from(n) * 7)),
        Unit::Month => today.checked_add_months(Months::new(n)),
        Unit::Year => today.checked_add_months(Months::new(n.checked_mul(12)?)),
    }?;
    Some((3, date))
}

/// The next date on or after `today` whose day of the month is `day`
/// (`on the 15th`), skipping months too short for it.
fn next_month_day(today: NaiveDate, day: u32) -> Option<NaiveDate> {
    let first = first_of_month(today)?;
    (0..=12).filter_map(|k| first.checked_add_months(Months::new(k))?.with_day(day)).find(|d| *d >= today)
}

/// `YYYY-MM-DD`; a date of that shape that does not exist is an error.
fn iso(w: &str) -> Result<Option<NaiveDate>, ParseError> {
    if w.len() != 10 || !lexicon::starts_with_digit(w) || w.get(4..5) != Some("-") || w.get(7..8) != Some("-") {
        return Ok(None);
    }
    let part = |r: std::ops::Range<usize>| w.get(r).and_then(|p| lexicon::digits(p, 4));
    let (Some(y), Some(m), Some(d)) = (part(0..4), part(5..7), part(8..10)) else { return Ok(None) };
    let y = i32::try_from(y).unwrap_or_default();
    exact_date(y, m, d, w).map(Some)
}

/// The date `y-m-d`, or an error naming it (`February 30, 2026`; `raw` when
/// there is no such month).
fn exact_date(y: i32, m: u32, d: u32, raw: &str) -> Result<NaiveDate, ParseError> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| {
        ParseError::NoSuchDate(if (1..=12).contains(&m) {
            format!("{} {d}, {y}", lexicon::month_name(m))
        } else {
            raw.to_owned()
        })
    })
}

/// The next `m`/`d` on or after `today` (29 February: the next leap year's),
/// or an error if no year has that date (`February 30`).
fn next_yearly(today: NaiveDate, m: u32, d: u32) -> Result<Option<NaiveDate>, ParseError> {
    if d > lexicon::max_days(m) {
        return Err(ParseError::NoSuchDate(format!("{} {d}", lexicon::month_name(m))));
    }
    Ok((0..=8).filter_map(|k| NaiveDate::from_ymd_opt(today.year().checked_add(k)?, m, d)).find(|date| *date >= today))
}

/// `12/15`, `12/15/2026`, `12/15/26`: month first, or day first with
/// [`DateOrder::DayMonth`]; a first number over 12 is a day either way
/// (`31/12`). Without a year it needs a connector (`on 12/15`), so `1/2 cup`
/// and `24/7` stay in the title; where it counts, an impossible date is an
/// error.
fn slash_date(ctx: &Ctx, w: &str, after_connector: bool) -> Result<Option<NaiveDate>, ParseError> {
    if !lexicon::starts_with_digit(w) || !w.contains('/') {
        return Ok(None);
    }
    let mut parts = w.split('/');
    let (Some(a), Some(b)) = (parts.next(), parts.next()) else { return Ok(None) };
    let year = parts.next();
    if parts.next().is_some() {
        return Ok(None);
    }
    let (Some(a), Some(b)) = (lexicon::digits(a, 2), lexicon::digits(b, 2)) else { return Ok(None) };
    let year = match year {
        None if !after_connector => return Ok(None),
        None => None,
        Some(y) if y.len() == 4 => lexicon::year(y),
        Some(y) if y.len() == 2 => lexicon::digits(y, 2).and_then(|y| i32::try_from(2000 + y).ok()),
        Some(_) => return Ok(None),
    };
    let (mut m, mut d) = match ctx.order {
        DateOrder::MonthDay => (a, b),
        DateOrder::DayMonth => (b, a),
    };
    if m > 12 && d <= 12 {
        (m, d) = (d, m);
    }
    if !(1..=12).contains(&m) || d == 0 {
        return Err(ParseError::NoSuchDate(w.to_owned()));
    }
    match year {
        Some(y) => exact_date(y, m, d, w).map(Some),
        None => next_yearly(ctx.today, m, d),
    }
}

/// `march 3`, `mar 3rd`, `3 march`, `3rd of march`, each with an optional
/// year (`march 3 2027`, `march 3, 2027`). Without a year: the next such date
/// on or after today (for 29 February, the next leap year's). A day the month
/// never has (`feb 30`), or 29 February of a common year, is an error.
fn month_day(toks: &[&Token<'_>], i: usize, today: NaiveDate) -> Matched<NaiveDate> {
    let Some((used, month, day)) = month_and_day(toks, i) else { return Ok(None) };
    if let Some(y) = lexicon::year(word(toks, i + used)) {
        return exact_date(y, month, day, "").map(|d| Some((used + 1, d)));
    }
    Ok(next_yearly(today, month, day)?.map(|d| (used, d)))
}

/// `march 3`, `mar 3rd`, `3 march`, `3rd of march` at `i`: (tokens, month,
/// day), the day in 1..=31 but not checked against the month.
pub(crate) fn month_and_day(toks: &[&Token<'_>], i: usize) -> Option<(usize, u32, u32)> {
    let w0 = word(toks, i);
    if let Some(m) = lexicon::month(w0) {
        return Some((2, m, lexicon::day_of_month(word(toks, i + 1))?));
    }
    let day = lexicon::day_of_month(w0)?;
    let of = usize::from(word(toks, i + 1) == "of");
    Some((2 + of, lexicon::month(word(toks, i + 1 + of))?, day))
}
