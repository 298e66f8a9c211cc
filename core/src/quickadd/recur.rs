//! Recurrences: matching `every …` / `daily` & co., writing them as an
//! RFC 5545 RRULE (without the `RRULE:` prefix) and finding their first
//! occurrence on or after a date.

use super::lexicon::{self, Unit};
use super::token::{Token, word};
use chrono::{Datelike, NaiveDate, Weekday};

/// How far ahead the first occurrence is looked for. The sparsest rule the
/// grammar makes (`every 31st`) recurs at most 62 days apart.
const SEARCH_DAYS: usize = 400;

/// Monday to Friday, one bit per weekday, Monday in bit 0.
const WORKWEEK: u8 = 0b0001_1111;
/// Saturday and Sunday.
const WEEKEND: u8 = 0b0110_0000;
/// RRULE weekday codes, Monday first (bit order).
const CODES: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Freq {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

/// A recurrence rule as the grammar can express it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recur {
    freq: Freq,
    interval: u32,
    /// BYDAY: one bit per weekday, Monday in bit 0; 0 for none.
    days: u8,
    /// BYMONTHDAY, 1..=31.
    month_day: Option<u32>,
}

impl Recur {
    fn new(freq: Freq) -> Self {
        Recur { freq, interval: 1, days: 0, month_day: None }
    }

    fn weekly_on(days: u8) -> Self {
        Recur { days, ..Recur::new(Freq::Weekly) }
    }

    /// The rule as `FREQ=…;INTERVAL=…;BYDAY=…;BYMONTHDAY=…`, leaving out
    /// INTERVAL when it is 1 and the BY parts that are not set.
    pub(crate) fn rrule(&self) -> String {
        let mut out = String::from("FREQ=");
        out.push_str(match self.freq {
            Freq::Daily => "DAILY",
            Freq::Weekly => "WEEKLY",
            Freq::Monthly => "MONTHLY",
            Freq::Yearly => "YEARLY",
        });
        if self.interval != 1 {
            out.push_str(";INTERVAL=");
            out.push_str(&self.interval.to_string());
        }
        if self.days != 0 {
            out.push_str(";BYDAY=");
            let codes: Vec<&str> =
                CODES.iter().enumerate().filter(|(bit, _)| self.days & (1 << bit) != 0).map(|(_, c)| *c).collect();
            out.push_str(&codes.join(","));
        }
        if let Some(d) = self.month_day {
            out.push_str(";BYMONTHDAY=");
            out.push_str(&d.to_string());
        }
        out
    }

    /// Whether the rule allows `d`. A rule without BYDAY/BYMONTHDAY allows
    /// every date: its series is anchored on whichever day it starts.
    fn allows(&self, d: NaiveDate) -> bool {
        (self.days == 0 || self.days & bit(d.weekday()) != 0) && self.month_day.is_none_or(|m| d.day() == m)
    }

    /// The first date on or after `start` the rule allows.
    pub(crate) fn first_on_or_after(&self, start: NaiveDate) -> Option<NaiveDate> {
        start.iter_days().take(SEARCH_DAYS).find(|d| self.allows(*d))
    }
}

fn bit(wd: Weekday) -> u8 {
    1 << wd.num_days_from_monday()
}

fn freq_of(unit: Unit) -> Freq {
    match unit {
        Unit::Day => Freq::Daily,
        Unit::Week => Freq::Weekly,
        Unit::Month => Freq::Monthly,
        Unit::Year => Freq::Yearly,
    }
}

/// A recurrence starting at token `i`, and how many tokens it spans:
/// `daily`/`weekly`/`monthly`/`yearly`/`annually`, or `every` followed by
/// `day`/`week`/`month`/`year`, `weekday(s)`, `weekend(s)`, a weekday list
/// (`monday`, `mon, fri`, `monday and thursday`), `N units`, `other unit`,
/// `other <weekday list>` or an ordinal day of the month (`15th`).
pub(crate) fn match_recur(toks: &[&Token<'_>], i: usize) -> Option<(usize, Recur)> {
    let simple = |freq| Some((1, Recur::new(freq)));
    match word(toks, i) {
        "daily" => simple(Freq::Daily),
        "weekly" => simple(Freq::Weekly),
        "monthly" => simple(Freq::Monthly),
        "yearly" | "annually" => simple(Freq::Yearly),
        "every" => every(toks, i + 1).map(|(n, r)| (n + 1, r)),
        _ => None,
    }
    .map(|(n, r)| with_on_tail(toks, i + n, n, r))
}

/// Extends a weekly rule without days by `on <weekday list>` (`every 2 weeks
/// on monday`) and a monthly one without a day by `on (the) <ordinal>`
/// (`every month on the 1st`); `j` is the token after the rule, `n` its length.
fn with_on_tail(toks: &[&Token<'_>], j: usize, n: usize, r: Recur) -> (usize, Recur) {
    if word(toks, j) != "on" {
        return (n, r);
    }
    match r.freq {
        Freq::Weekly if r.days == 0 => match day_list(toks, j + 1) {
            Some((m, days)) => (n + 1 + m, Recur { days: days.days, ..r }),
            None => (n, r),
        },
        Freq::Monthly if r.month_day.is_none() => {
            let the = usize::from(word(toks, j + 1) == "the");
            match lexicon::ordinal(word(toks, j + 1 + the)) {
                Some(day) => (n + 2 + the, Recur { month_day: Some(day), ..r }),
                None => (n, r),
            }
        }
        _ => (n, r),
    }
}

/// What follows `every`, at `i`.
fn every(toks: &[&Token<'_>], i: usize) -> Option<(usize, Recur)> {
    let w = word(toks, i);
    if w == "other" {
        let (n, r) = unit_or_days(toks, i + 1)?;
        return Some((n + 1, Recur { interval: 2, ..r }));
    }
    if let Some(day) = lexicon::ordinal(w) {
        return Some((1, Recur { month_day: Some(day), ..Recur::new(Freq::Monthly) }));
    }
    if let Some(n) = lexicon::count(w, false) {
        let unit = lexicon::unit(word(toks, i + 1))?;
        return Some((2, Recur { interval: n, ..Recur::new(freq_of(unit)) }));
    }
    unit_or_days(toks, i)
}

/// A bare unit, `weekday(s)`, `weekend(s)` or a weekday list at `i`.
fn unit_or_days(toks: &[&Token<'_>], i: usize) -> Option<(usize, Recur)> {
    let w = word(toks, i);
    let r = match w {
        "day" => Recur::new(Freq::Daily),
        "week" => Recur::new(Freq::Weekly),
        "month" => Recur::new(Freq::Monthly),
        "year" => Recur::new(Freq::Yearly),
        "weekday" | "weekdays" => Recur::weekly_on(WORKWEEK),
        "weekend" | "weekends" => Recur::weekly_on(WEEKEND),
        _ => return day_list(toks, i),
    };
    Some((1, r))
}

/// `monday`, `mon, fri`, `monday and thursday`, `mon, wed & fri` at `i`.
fn day_list(toks: &[&Token<'_>], i: usize) -> Option<(usize, Recur)> {
    let mut days = bit(lexicon::listed_weekday(word(toks, i))?);
    let mut j = i + 1;
    loop {
        let w = word(toks, j);
        if let Some(d) = lexicon::listed_weekday(w) {
            days |= bit(d);
            j += 1;
        } else if let ("and" | "&", Some(d)) = (w, lexicon::listed_weekday(word(toks, j + 1))) {
            days |= bit(d);
            j += 2;
        } else {
            return Some((j - i, Recur::weekly_on(days)));
        }
    }
}
