//! Times of day: clock readings (`5pm`, `5:30 p.m.`, `17:00`, `at 9`,
//! `noon`), the zone they may be said in (`3pm PST`) and parts of the day
//! (`morning` … `night`, `end of day`), with the rule that reads a bare hour
//! the way people mean it.

use super::ParseError;
use super::lexicon;
use super::token::{Token, word};
use super::zone::{Zone, zone};
use chrono::{NaiveTime, Timelike};

/// A part of the day, and the hour it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// 09:00.
    Morning,
    /// 14:00.
    Afternoon,
    /// 17:00: the end of the working day (`end of day`, `eod`, `cob`).
    EndOfDay,
    /// 18:00.
    Evening,
    /// 20:00 (`night`, `tonight`).
    Night,
}

impl Part {
    pub(crate) fn time(self) -> NaiveTime {
        let h = match self {
            Part::Morning => 9,
            Part::Afternoon => 14,
            Part::EndOfDay => 17,
            Part::Evening => 18,
            Part::Night => 20,
        };
        NaiveTime::from_hms_opt(h, 0, 0).unwrap_or_default()
    }
}

/// `morning`, `afternoon`, `evening`, `night`.
pub(crate) fn part(w: &str) -> Option<Part> {
    Some(match w {
        "morning" => Part::Morning,
        "afternoon" => Part::Afternoon,
        "evening" => Part::Evening,
        "night" => Part::Night,
        _ => return None,
    })
}

/// A clock reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Clock {
    pub(crate) time: NaiveTime,
    /// Written without am/pm and without a leading zero (`at 5`, `at 5:30`),
    /// so the hour may mean either half of the day.
    pub(crate) ambiguous: bool,
    pub(crate) zone: Option<Zone>,
}

impl Clock {
    fn exact(time: NaiveTime) -> Self {
        Clock { time, ambiguous: false, zone: None }
    }

    /// The time meant, given the part of the day said with it. An ambiguous
    /// hour 1..=11 is in the afternoon with `afternoon`/`evening`/`night`/
    /// `tonight`/`end of day`, in the morning with `morning`, and otherwise
    /// in the afternoon for 1..=7 (`at 5` is 17:00) and the morning for
    /// 8..=11 (`at 9` is 09:00), as calendar apps read them.
    pub(crate) fn resolve(&self, part: Option<Part>) -> NaiveTime {
        let h = self.time.hour();
        if !self.ambiguous || !(1..=11).contains(&h) {
            return self.time;
        }
        let pm = match part {
            Some(Part::Morning) => false,
            Some(_) => true,
            None => h <= 7,
        };
        if pm { self.time.with_hour(h + 12).unwrap_or(self.time) } else { self.time }
    }
}

/// A time at `i`: `noon`, `midday`, `midnight`, `5pm`, `5:30pm`, `5 pm`,
/// `5:30 p.m.`, `17:00` or `09:30` (HH:MM is 24-hour; with a one-digit hour,
/// `5:30`, only after a connector, so `john 3:16` stays a title) or, right
/// after `at`, a bare hour 0..=23; then an optional zone (`3pm PST`).
/// A reading that cannot be a time is an error where it is plainly meant as
/// one: with am/pm (`13pm`) or after a connector (`at 25:00`).
pub(crate) fn match_time(
    toks: &[&Token<'_>],
    i: usize,
    after_connector: bool,
    after_at: bool,
) -> Result<Option<(usize, Clock)>, ParseError> {
    let Some((n, clock)) = reading(toks, i, after_connector, after_at)? else { return Ok(None) };
    Ok(Some(match toks.get(i + n).and_then(|t| zone(t)) {
        Some(z) => (n + 1, Clock { zone: Some(z), ..clock }),
        None => (n, clock),
    }))
}

fn reading(
    toks: &[&Token<'_>],
    i: usize,
    after_connector: bool,
    after_at: bool,
) -> Result<Option<(usize, Clock)>, ParseError> {
    let w0 = word(toks, i);
    let not_a_time = |text: String| Err(ParseError::NoSuchTime(text));
    match w0 {
        "noon" | "midday" => return Ok(NaiveTime::from_hms_opt(12, 0, 0).map(|t| (1, Clock::exact(t)))),
        "midnight" => return Ok(NaiveTime::from_hms_opt(0, 0, 0).map(|t| (1, Clock::exact(t)))),
        _ => {}
    }
    if !lexicon::starts_with_digit(w0) {
        return Ok(None);
    }
    if let Some((stem, pm)) = meridiem(w0)
        && let Some((h, m, _)) = clock(stem)
    {
        return match twelve_hour(h, m, pm) {
            Some(t) => Ok(Some((1, Clock::exact(t)))),
            None => not_a_time(w0.to_owned()),
        };
    }
    let Some((h, m, colon)) = clock(w0) else { return Ok(None) };
    let w1 = word(toks, i + 1);
    if let Some(("", pm)) = meridiem(w1) {
        return match twelve_hour(h, m, pm) {
            Some(t) => Ok(Some((2, Clock::exact(t)))),
            None => not_a_time(format!("{w0} {w1}")),
        };
    }
    let one_digit = w0.find(':') == Some(1);
    if colon && (after_connector || !one_digit) {
        return match NaiveTime::from_hms_opt(h, m, 0) {
            Some(time) => Ok(Some((1, Clock { time, ambiguous: one_digit, zone: None }))),
            None if after_connector => not_a_time(w0.to_owned()),
            None => Ok(None),
        };
    }
    if after_at && !colon {
        let ambiguous = !w0.starts_with('0');
        return Ok(NaiveTime::from_hms_opt(h, 0, 0).map(|time| (1, Clock { time, ambiguous, zone: None })));
    }
    Ok(None)
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
