//! Recurrences: matching `every …` / `daily` & co., writing them as an
//! RFC 5545 RRULE (without the `RRULE:` prefix) and finding their first
//! occurrence on or after a date.
//!
//! A day of the month the rule may reach in a shorter month (`every 31st`,
//! `every 30th`, yearly `feb 29`) means "that day, or the month's last day"
//! to a person, so the rule says so: `BYMONTHDAY=-1` for the 31st,
//! `BYMONTHDAY=28,29,30;BYSETPOS=-1` for the 30th. A plain `BYMONTHDAY=31`
//! would skip five months a year.

use super::clock::{self, Clock};
use super::lexicon::{self, Unit};
use super::token::{Token, word};
use super::when::{self, When};
use chrono::{Datelike, NaiveDate, Weekday};

/// How far ahead the first occurrence is looked for. The sparsest rule the
/// grammar makes (yearly) recurs at most 366 days apart.
const SEARCH_DAYS: usize = 400;

/// Monday to Friday, one bit per weekday, Monday in bit 0.
const WORKWEEK: u8 = 0b0001_1111;
/// Saturday and Sunday.
const WEEKEND: u8 = 0b0110_0000;
/// The last of a weekday in its month, in [`Recur::positions`].
const LAST: u8 = 1 << 6;
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
    /// The positions in the month of the `days` (`BYDAY=2TU,4TU`,
    /// `BYDAY=-1FR`): bit N for the Nth, 1..=5, and [`LAST`]; 0 for every one.
    positions: u8,
    /// BYMONTHDAY: bit N for day N, 1..=31. A day a month lacks is its last
    /// day there; more than one day are all 1..=28 or 31 (the last day).
    month_days: u32,
    /// BYMONTH, 1..=12.
    month: Option<u32>,
}

impl Recur {
    fn new(freq: Freq) -> Self {
        Recur { freq, interval: 1, days: 0, positions: 0, month_days: 0, month: None }
    }

    fn weekly_on(days: u8) -> Self {
        Recur { days, ..Recur::new(Freq::Weekly) }
    }

    fn monthly_on_days(month_days: u32) -> Self {
        Recur { month_days, ..Recur::new(Freq::Monthly) }
    }

    fn monthly_nth(positions: u8, wd: Weekday) -> Self {
        Recur { days: bit(wd), positions, ..Recur::new(Freq::Monthly) }
    }

    /// The rule as `FREQ=…;INTERVAL=…;BYMONTH=…;BYDAY=…;BYMONTHDAY=…`,
    /// leaving out INTERVAL when it is 1 and the BY parts that are not set.
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
        if let Some(m) = self.month {
            out.push_str(";BYMONTH=");
            out.push_str(&m.to_string());
        }
        if self.days != 0 {
            out.push_str(";BYDAY=");
            let mut first = true;
            for code in CODES.iter().enumerate().filter(|(bit, _)| self.days & (1 << bit) != 0).map(|(_, c)| c) {
                let mut push = |prefix: &str| {
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    out.push_str(prefix);
                    out.push_str(code);
                };
                match self.positions {
                    0 => push(""),
                    p => {
                        for (n, prefix) in [(1, "1"), (2, "2"), (3, "3"), (4, "4"), (5, "5")] {
                            if p & (1 << n) != 0 {
                                push(prefix);
                            }
                        }
                        if p & LAST != 0 {
                            push("-1");
                        }
                    }
                }
            }
        }
        if self.month_days != 0 {
            out.push_str(";BYMONTHDAY=");
            let listed: Vec<u32> = (1..=31).filter(|d| self.month_days & (1 << d) != 0).collect();
            // The shortest month the rule reaches.
            let shortest = self.month.map_or(28, shortest_month);
            match listed.as_slice() {
                [d] if *d > shortest && (*d < 31 || self.month.is_some()) => {
                    let days: Vec<String> = (shortest..=*d).map(|x| x.to_string()).collect();
                    out.push_str(&days.join(","));
                    out.push_str(";BYSETPOS=-1");
                }
                days => {
                    let days: Vec<String> =
                        days.iter().map(|&d| if d > shortest { "-1".to_owned() } else { d.to_string() }).collect();
                    out.push_str(&days.join(","));
                }
            }
        }
        out
    }

    /// Whether the rule allows `d`. A rule without BY parts allows every
    /// date: its series is anchored on whichever day it starts.
    fn allows(&self, d: NaiveDate) -> bool {
        if self.month.is_some_and(|m| d.month() != m) {
            return false;
        }
        if self.days != 0 {
            if self.days & bit(d.weekday()) == 0 {
                return false;
            }
            let p = self.positions;
            let ok =
                p == 0 || p & (1 << ((d.day() - 1) / 7 + 1)) != 0 || (p & LAST != 0 && d.day() + 7 > days_in_month(d));
            if !ok {
                return false;
            }
        }
        if self.month_days == 0 || self.month_days & (1 << d.day()) != 0 {
            return true;
        }
        // Only a day past the 28th can be missing from a month: on the last
        // day, a listed day the month lacks falls there.
        let last = days_in_month(d);
        d.day() == last && (last + 1..=31).any(|m| self.month_days & (1 << m) != 0)
    }

    /// The first date on or after `start` the rule allows.
    pub(crate) fn first_on_or_after(&self, start: NaiveDate) -> Option<NaiveDate> {
        start.iter_days().take(SEARCH_DAYS).find(|d| self.allows(*d))
    }
}

/// The days in `d`'s month.
fn days_in_month(d: NaiveDate) -> u32 {
    (28..=31).rev().find(|&n| d.with_day(n).is_some()).unwrap_or(28)
}

/// The fewest days month `m` has (28 for February).
fn shortest_month(m: u32) -> u32 {
    match m {
        2 => 28,
        other => lexicon::max_days(other),
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

/// A recurrence and what was said with it: a time between the days of a
/// list (`every monday at 9am and friday`) or a part of the day after it
/// (`every sunday night`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecurMatch {
    pub(crate) recur: Recur,
    pub(crate) when: When,
}

/// A recurrence starting at token `i`, and how many tokens it spans:
/// `daily`/`weekly`/`monthly`/`yearly`/`annually`; `every` followed by
/// `day`/`week`/`month`/`year`, `weekday(s)`, `weekend(s)`, a weekday list
/// (`monday`, `mon, fri`, `monday and thursday`), `N units`, `other unit`,
/// `other <weekday list>`, an ordinal day of the month (`15th`), a weekday
/// of the month (`2nd tuesday`, `last friday`), `last day`, a date (`march
/// 3`: yearly) or a part of the day (`every morning`: daily); or `(the)
/// <nth> <weekday> of every|each month`. Then an `on …` tail and a part of
/// the day.
pub(crate) fn match_recur(toks: &[&Token<'_>], i: usize) -> Option<(usize, RecurMatch)> {
    let simple = |freq| Some((1, Recur::new(freq), None));
    let (n, recur, clock) = match word(toks, i) {
        "daily" => simple(Freq::Daily),
        "weekly" => simple(Freq::Weekly),
        "monthly" => simple(Freq::Monthly),
        "yearly" | "annually" => simple(Freq::Yearly),
        "every" => {
            if let Some(p) = clock::part(word(toks, i + 1)) {
                let when = When { part: Some(p), ..When::default() };
                return Some((2, RecurMatch { recur: Recur::new(Freq::Daily), when }));
            }
            every(toks, i + 1).map(|(n, r, c)| (n + 1, r, c))
        }
        _ => nth_of_every_month(toks, i).map(|(n, r)| (n, r, None)),
    }?;
    let (n, recur) = with_on_tail(toks, i + n, n, recur);
    let when = When { clock, ..When::default() };
    Some(match clock::part(word(toks, i + n)) {
        Some(p) => (n + 1, RecurMatch { recur, when: When { part: Some(p), ..when } }),
        None => (n, RecurMatch { recur, when }),
    })
}

/// `(the) last friday of every month`, `first monday of each month`.
fn nth_of_every_month(toks: &[&Token<'_>], i: usize) -> Option<(usize, Recur)> {
    let the = usize::from(word(toks, i) == "the");
    let j = i + the;
    let (n, positions) = position_list(toks, j)?;
    let wd = lexicon::listed_weekday(word(toks, j + n))?;
    let k = j + n + 1;
    let ok = word(toks, k) == "of" && matches!(word(toks, k + 1), "every" | "each") && word(toks, k + 2) == "month";
    ok.then_some((the + n + 4, Recur::monthly_nth(positions, wd)))
}

/// `2nd`, `first and third`, `2nd & last` at `i`: its length and the
/// positions, as in [`Recur::positions`].
fn position_list(toks: &[&Token<'_>], i: usize) -> Option<(usize, u8)> {
    let pos = |n: i8| if n < 0 { LAST } else { 1 << n };
    let mut positions = pos(lexicon::nth(word(toks, i))?);
    let mut j = i + 1;
    loop {
        let and = usize::from(matches!(word(toks, j), "and" | "&"));
        match lexicon::nth(word(toks, j + and)) {
            Some(n) => {
                positions |= pos(n);
                j += and + 1;
            }
            None => return Some((j - i, positions)),
        }
    }
}

/// `15th`, `1st and 15th`, `1st, 15th & 31st` at `i`: its length and the
/// days, as in [`Recur::month_days`]. A list holds only days every month
/// has, and the 31st (the last day).
fn ordinal_list(toks: &[&Token<'_>], i: usize) -> Option<(usize, u32)> {
    let first = lexicon::ordinal(word(toks, i))?;
    let mut days = 1u32 << first;
    let listable = |d: &u32| *d <= 28 || *d == 31;
    if !listable(&first) {
        return Some((1, days));
    }
    let mut j = i + 1;
    loop {
        let and = usize::from(matches!(word(toks, j), "and" | "&"));
        match lexicon::ordinal(word(toks, j + and)).filter(listable) {
            Some(d) => {
                days |= 1 << d;
                j += and + 1;
            }
            None => return Some((j - i, days)),
        }
    }
}

/// `of the|every|each month` at `j`: its length, or 0.
fn of_the_month(toks: &[&Token<'_>], j: usize) -> usize {
    let ok =
        word(toks, j) == "of" && matches!(word(toks, j + 1), "the" | "every" | "each") && word(toks, j + 2) == "month";
    if ok { 3 } else { 0 }
}

/// A day of the month said after `every` or `monthly on`: `2nd tuesday`,
/// `last friday`, `1st and 3rd monday` (with an optional `of the month`),
/// `last day`, `15th`, `1st and 15th`.
fn day_of_month_rule(toks: &[&Token<'_>], i: usize) -> Option<(usize, Recur)> {
    if let Some((n, positions)) = position_list(toks, i)
        && let Some(wd) = lexicon::listed_weekday(word(toks, i + n))
    {
        return Some((n + 1 + of_the_month(toks, i + n + 1), Recur::monthly_nth(positions, wd)));
    }
    if word(toks, i) == "last" && word(toks, i + 1) == "day" {
        return Some((2 + of_the_month(toks, i + 2), Recur::monthly_on_days(1 << 31)));
    }
    ordinal_list(toks, i).map(|(n, days)| (n, Recur::monthly_on_days(days)))
}

/// Extends a weekly rule without days by `on <weekday list>` (`every 2 weeks
/// on monday`), a monthly one without a day by `on (the) <day of the month>`
/// (`every month on the 1st`, `monthly on the last friday`) and a yearly one
/// by `on <date>` (`yearly on march 3`); `j` is the token after the rule,
/// `n` its length.
fn with_on_tail(toks: &[&Token<'_>], j: usize, n: usize, r: Recur) -> (usize, Recur) {
    if word(toks, j) != "on" {
        return (n, r);
    }
    let plain = r.days == 0 && r.month_days == 0 && r.month.is_none();
    match r.freq {
        Freq::Weekly if plain => match day_list(toks, j + 1) {
            Some((m, days, _)) => (n + 1 + m, Recur { days, ..r }),
            None => (n, r),
        },
        Freq::Monthly if plain => {
            let the = usize::from(word(toks, j + 1) == "the");
            match day_of_month_rule(toks, j + 1 + the) {
                Some((m, day)) => (n + 1 + the + m, Recur { interval: r.interval, ..day }),
                None => (n, r),
            }
        }
        Freq::Yearly if plain => match yearly_date(toks, j + 1) {
            Some((m, date)) => (n + 1 + m, Recur { interval: r.interval, ..date }),
            None => (n, r),
        },
        _ => (n, r),
    }
}

/// `march 3`, `3rd of march` … as a yearly rule; not a day the month never
/// has (`feb 30` is left for the date grammar to refuse).
fn yearly_date(toks: &[&Token<'_>], i: usize) -> Option<(usize, Recur)> {
    let (n, month, day) = when::month_and_day(toks, i)?;
    (day <= lexicon::max_days(month))
        .then_some((n, Recur { month: Some(month), month_days: 1 << day, ..Recur::new(Freq::Yearly) }))
}

/// What follows `every`, at `i`, and a time said inside a weekday list.
fn every(toks: &[&Token<'_>], i: usize) -> Option<(usize, Recur, Option<Clock>)> {
    let w = word(toks, i);
    if w == "other" {
        let (n, r, c) = unit_or_days(toks, i + 1)?;
        return Some((n + 1, Recur { interval: 2, ..r }, c));
    }
    let count = lexicon::count(w, false).or_else(|| lexicon::nth(w).and_then(|n| u32::try_from(n).ok()));
    if let Some(n) = count
        && let Some(unit) = lexicon::unit(word(toks, i + 1))
    {
        return Some((2, Recur { interval: n, ..Recur::new(freq_of(unit)) }, None));
    }
    if let Some((n, r)) = day_of_month_rule(toks, i) {
        return Some((n, r, None));
    }
    if let Some((n, r)) = yearly_date(toks, i) {
        return Some((n, r, None));
    }
    unit_or_days(toks, i)
}

/// A bare unit, `weekday(s)`, `weekend(s)` or a weekday list at `i`.
fn unit_or_days(toks: &[&Token<'_>], i: usize) -> Option<(usize, Recur, Option<Clock>)> {
    let w = word(toks, i);
    let r = match w {
        "day" => Recur::new(Freq::Daily),
        "week" => Recur::new(Freq::Weekly),
        "month" => Recur::new(Freq::Monthly),
        "year" => Recur::new(Freq::Yearly),
        "weekday" | "weekdays" => Recur::weekly_on(WORKWEEK),
        "weekend" | "weekends" => Recur::weekly_on(WEEKEND),
        _ => return day_list(toks, i).map(|(n, days, c)| (n, Recur::weekly_on(days), c)),
    };
    Some((1, r, None))
}

/// `monday`, `mon, fri`, `monday and thursday`, `mon, wed & fri` at `i`,
/// and `at <time>` between two of them (`monday at 9am and friday`).
fn day_list(toks: &[&Token<'_>], i: usize) -> Option<(usize, u8, Option<Clock>)> {
    let mut days = bit(lexicon::listed_weekday(word(toks, i))?);
    let mut clock = None;
    let mut j = i + 1;
    loop {
        let w = word(toks, j);
        if let Some(d) = lexicon::listed_weekday(w) {
            days |= bit(d);
            j += 1;
        } else if let ("and" | "&", Some(d)) = (w, lexicon::listed_weekday(word(toks, j + 1))) {
            days |= bit(d);
            j += 2;
        } else if let Some((m, c)) = time_between(toks, j) {
            clock.get_or_insert(c);
            j += m;
        } else {
            return Some((j - i, days, clock));
        }
    }
}

/// `at <time> and|&` followed by a weekday, at `j`: its length without the
/// weekday, and the time.
fn time_between(toks: &[&Token<'_>], j: usize) -> Option<(usize, Clock)> {
    if word(toks, j) != "at" {
        return None;
    }
    let (m, c) = clock::match_time(toks, j + 1, true, true).ok().flatten()?;
    let k = j + 1 + m;
    (matches!(word(toks, k), "and" | "&") && lexicon::listed_weekday(word(toks, k + 1)).is_some()).then_some((m + 2, c))
}
