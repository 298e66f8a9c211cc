//! Dates and times: the phrases that set a due date (`tomorrow`, `next
//! friday`, `march 3rd 2027`, `in 2 weeks`, `2026-05-10` …) or a due time
//! (`5pm`, `5:30 pm`, `17:00`, `noon`, `at 9`), resolved against today's date
//! in the user's time zone.

use super::lexicon::{self, Unit};
use super::token::{Token, word};
use chrono::{Datelike, Days, Months, NaiveDate, NaiveTime, Weekday};

/// What "now" is for the user: the calendar date and wall-clock time of
/// `now` in their time zone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx {
    pub(crate) today: NaiveDate,
    pub(crate) now_time: NaiveTime,
}

/// A date or time phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    Date(NaiveDate),
    /// A clock time; `bare` for a lone hour after `at` (`at 9`).
    Time {
        time: NaiveTime,
        bare: bool,
    },
    /// `tonight`: today, at 20:00 unless a time is given.
    Tonight,
}

/// A date or time phrase starting at token `i`, and how many tokens it
/// spans. `after_connector`: it follows `due`/`by`/`on`/`at`; `after_at`: the
/// last of those was `at` (which allows a bare hour, `at 9`).
pub(crate) fn match_when(
    ctx: &Ctx,
    toks: &[&Token<'_>],
    i: usize,
    after_connector: bool,
    after_at: bool,
) -> Option<(usize, When)> {
    if word(toks, i) == "tonight" {
        return Some((1, When::Tonight));
    }
    if let Some((n, date)) = match_date(ctx.today, toks, i, after_connector) {
        return Some((n, When::Date(date)));
    }
    match_time(toks, i, after_connector, after_at).map(|(n, time, bare)| (n, When::Time { time, bare }))
}

fn match_date(today: NaiveDate, toks: &[&Token<'_>], i: usize, after_connector: bool) -> Option<(usize, NaiveDate)> {
    let w0 = word(toks, i);
    let w1 = word(toks, i + 1);
    let found = match w0 {
        "today" => Some((1, today)),
        "tomorrow" => Some((1, today.succ_opt()?)),
        "the" if w1 == "day" => day_after_tomorrow(toks, i + 1, today).map(|(n, d)| (n + 1, d)),
        "the" if after_connector => Some((2, next_month_day(today, lexicon::ordinal(w1)?)?)),
        "day" => day_after_tomorrow(toks, i, today),
        "next" => Some((2, next(today, w1)?)),
        "this" => Some((2, on_or_after(today, lexicon::weekday(w1)?.0)?)),
        "end" => end_of_month(toks, i, today),
        "in" => in_n(toks, i, today),
        _ => None,
    };
    if found.is_some() {
        return found;
    }
    if let Some(d) = iso(w0) {
        return Some((1, d));
    }
    if let Some((wd, ambiguous)) = lexicon::weekday(w0) {
        if ambiguous && !after_connector {
            return None;
        }
        return Some((1, on_or_after(today, wd)?));
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

/// `end of month` / `end of the month`: the last day of this month.
fn end_of_month(toks: &[&Token<'_>], i: usize, today: NaiveDate) -> Option<(usize, NaiveDate)> {
    if word(toks, i) != "end" || word(toks, i + 1) != "of" {
        return None;
    }
    let the = usize::from(word(toks, i + 2) == "the");
    if word(toks, i + 2 + the) != "month" {
        return None;
    }
    let last = first_of_month(today)?.checked_add_months(Months::new(1))?.pred_opt()?;
    Some((3 + the, last))
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

/// `YYYY-MM-DD`.
fn iso(w: &str) -> Option<NaiveDate> {
    if w.len() != 10 || w.get(4..5) != Some("-") || w.get(7..8) != Some("-") {
        return None;
    }
    let y = i32::try_from(lexicon::digits(w.get(0..4)?, 4)?).ok()?;
    let m = lexicon::digits(w.get(5..7)?, 2)?;
    let d = lexicon::digits(w.get(8..10)?, 2)?;
    NaiveDate::from_ymd_opt(y, m, d)
}

/// `march 3`, `mar 3rd`, `3 march`, `3rd of march`, each with an optional
/// year (`march 3 2027`, `march 3, 2027`). Without a year: the next such date
/// on or after today (for 29 February, the next leap year's). With a year
/// that makes the date invalid, nothing matches.
fn month_day(toks: &[&Token<'_>], i: usize, today: NaiveDate) -> Option<(usize, NaiveDate)> {
    let w0 = word(toks, i);
    let (month, day, used) = if let Some(m) = lexicon::month(w0) {
        (m, lexicon::day_of_month(word(toks, i + 1))?, 2)
    } else {
        let day = lexicon::day_of_month(w0)?;
        let of = usize::from(word(toks, i + 1) == "of");
        (lexicon::month(word(toks, i + 1 + of))?, day, 2 + of)
    };
    if let Some(y) = lexicon::year(word(toks, i + used)) {
        return NaiveDate::from_ymd_opt(y, month, day).map(|d| (used + 1, d));
    }
    (0..=8)
        .filter_map(|k| NaiveDate::from_ymd_opt(today.year().checked_add(k)?, month, day))
        .find(|d| *d >= today)
        .map(|d| (used, d))
}

/// A time at `i`: `noon`, `midnight`, `5pm`, `5:30pm`, `5 pm`, `5:30 p.m.`,
/// `17:00` or `09:30` (HH:MM is 24-hour; with a one-digit hour, `5:30`, only
/// after a connector, so `john 3:16` stays a title) or, right after `at`, a
/// bare hour 0..=23. Returns the tokens used, the time and whether it was a
/// bare hour.
fn match_time(
    toks: &[&Token<'_>],
    i: usize,
    after_connector: bool,
    after_at: bool,
) -> Option<(usize, NaiveTime, bool)> {
    let w0 = word(toks, i);
    match w0 {
        "noon" => return Some((1, NaiveTime::from_hms_opt(12, 0, 0)?, false)),
        "midnight" => return Some((1, NaiveTime::from_hms_opt(0, 0, 0)?, false)),
        _ => {}
    }
    if let Some((stem, pm)) = meridiem(w0) {
        let (h, m, _) = clock(stem)?;
        return Some((1, twelve_hour(h, m, pm)?, false));
    }
    let (h, m, colon) = clock(w0)?;
    if let Some(("", pm)) = meridiem(word(toks, i + 1)) {
        return Some((2, twelve_hour(h, m, pm)?, false));
    }
    if colon && (after_connector || w0.find(':') == Some(2)) {
        return Some((1, NaiveTime::from_hms_opt(h, m, 0)?, false));
    }
    if after_at {
        return Some((1, NaiveTime::from_hms_opt(h, 0, 0)?, true));
    }
    None
}

/// Splits `am`/`pm`/`a.m`/`p.m` off the end of `w`: (rest, is_pm).
fn meridiem(w: &str) -> Option<(&str, bool)> {
    [("am", false), ("pm", true), ("a.m", false), ("p.m", true)]
        .iter()
        .find_map(|(suffix, pm)| w.strip_suffix(suffix).map(|rest| (rest, *pm)))
}

/// `H`, `HH`, `H:MM` or `HH:MM` as (hour, minute, had a colon); unchecked
/// beyond the digit counts.
fn clock(w: &str) -> Option<(u32, u32, bool)> {
    match w.split_once(':') {
        Some((h, m)) if m.len() == 2 => Some((lexicon::digits(h, 2)?, lexicon::digits(m, 2)?, true)),
        Some(_) => None,
        None => Some((lexicon::digits(w, 2)?, 0, false)),
    }
}

/// A 12-hour clock reading (hour 1..=12) as a time of day.
fn twelve_hour(h: u32, m: u32, pm: bool) -> Option<NaiveTime> {
    if !(1..=12).contains(&h) {
        return None;
    }
    NaiveTime::from_hms_opt(h % 12 + if pm { 12 } else { 0 }, m, 0)
}
