//! Word lists of the grammar: weekdays, months, counts, ordinals, priority
//! levels and connector words. Every function takes a normalised word
//! (lowercase, trailing punctuation removed) and never allocates.

use crate::Priority;
use chrono::Weekday;

/// The largest count the grammar accepts (`in N days`, `every N weeks`).
const MAX_COUNT: u32 = 9999;

/// A weekday name, full (`friday`) or short (`fri`, `tues`, `thurs`). The
/// flag is true for the short forms that are also everyday English words
/// (`sat`, `sun`, `wed`): those only count as a date after a connector
/// (`on sat`) or `next`/`this`; in an `every` list they always count.
pub(crate) fn weekday(w: &str) -> Option<(Weekday, bool)> {
    Some(match w {
        "monday" | "mon" => (Weekday::Mon, false),
        "tuesday" | "tue" | "tues" => (Weekday::Tue, false),
        "wednesday" => (Weekday::Wed, false),
        "wed" => (Weekday::Wed, true),
        "thursday" | "thu" | "thur" | "thurs" => (Weekday::Thu, false),
        "friday" | "fri" => (Weekday::Fri, false),
        "saturday" => (Weekday::Sat, false),
        "sat" => (Weekday::Sat, true),
        "sunday" => (Weekday::Sun, false),
        "sun" => (Weekday::Sun, true),
        _ => return None,
    })
}

/// A weekday in an `every` list: any form of [`weekday`], or a plural of
/// the full name (`every mondays`).
pub(crate) fn listed_weekday(w: &str) -> Option<Weekday> {
    let singular = match w.strip_suffix('s') {
        Some(s) if s.len() > 5 && s.ends_with("day") => s,
        _ => w,
    };
    weekday(singular).map(|(d, _)| d)
}

/// A month name, full or three-letter (`sept` too), as 1..=12.
pub(crate) fn month(w: &str) -> Option<u32> {
    Some(match w {
        "january" | "jan" => 1,
        "february" | "feb" => 2,
        "march" | "mar" => 3,
        "april" | "apr" => 4,
        "may" => 5,
        "june" | "jun" => 6,
        "july" | "jul" => 7,
        "august" | "aug" => 8,
        "september" | "sep" | "sept" => 9,
        "october" | "oct" => 10,
        "november" | "nov" => 11,
        "december" | "dec" => 12,
        _ => return None,
    })
}

/// Whether `w` starts with an ASCII digit: every numeric form of the
/// grammar does, so the rest of a word need not be looked at otherwise.
pub(crate) fn starts_with_digit(w: &str) -> bool {
    w.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

/// Up to `max_len` ASCII digits and nothing else, as a number.
pub(crate) fn digits(w: &str, max_len: usize) -> Option<u32> {
    if w.is_empty() || w.len() > max_len || !w.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    w.parse().ok()
}

/// A count: digits (`3`) or a word `one`..`twelve`; with `article`, also
/// `a`/`an` (as in `in a week`). Zero and numbers over 9999 are not counts.
pub(crate) fn count(w: &str, article: bool) -> Option<u32> {
    let n = match w {
        "a" | "an" if article => 1,
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        _ => digits(w, 4)?,
    };
    (1..=MAX_COUNT).contains(&n).then_some(n)
}

/// A day of the month, 1..=31: `3`, `03`, `3rd`, `21st`.
pub(crate) fn day_of_month(w: &str) -> Option<u32> {
    let n = ordinal(w).or_else(|| digits(w, 2))?;
    (1..=31).contains(&n).then_some(n)
}

/// A number with an ordinal suffix (`1st`, `2nd`, `15th`), 1..=31. The
/// suffix is not checked against the number (`3th` is accepted).
pub(crate) fn ordinal(w: &str) -> Option<u32> {
    if !starts_with_digit(w) {
        return None;
    }
    let stem = ["st", "nd", "rd", "th"].iter().find_map(|s| w.strip_suffix(s))?;
    let n = digits(stem, 2)?;
    (1..=31).contains(&n).then_some(n)
}

/// The position of a weekday in its month: `first`/`1st` .. `fifth`/`5th`
/// as 1..=5, `last` as -1.
pub(crate) fn nth(w: &str) -> Option<i8> {
    Some(match w {
        "first" | "1st" => 1,
        "second" | "2nd" => 2,
        "third" | "3rd" => 3,
        "fourth" | "4th" => 4,
        "fifth" | "5th" => 5,
        "last" => -1,
        _ => return None,
    })
}

/// A unit of `in N …` shorter than a day, in minutes: `hour(s)`, `hr(s)`,
/// `minute(s)`, `min(s)`.
pub(crate) fn clock_unit(w: &str) -> Option<u32> {
    Some(match w {
        "hour" | "hours" | "hr" | "hrs" => 60,
        "minute" | "minutes" | "min" | "mins" => 1,
        _ => return None,
    })
}

/// A four-digit year.
pub(crate) fn year(w: &str) -> Option<i32> {
    if w.len() != 4 {
        return None;
    }
    digits(w, 4).and_then(|y| i32::try_from(y).ok()).filter(|y| *y >= 1000)
}

/// The word before `priority`: `low`, `medium`, `high`, `critical`, `urgent`.
pub(crate) fn level(w: &str) -> Option<Priority> {
    Some(match w {
        "low" => Priority::Low,
        "medium" => Priority::Medium,
        "high" => Priority::High,
        "critical" | "urgent" => Priority::Critical,
        _ => return None,
    })
}

/// A priority said as a word: `urgent` and `asap` are critical, `important`
/// is high. Where they count is the scanner's business.
pub(crate) fn priority_word(w: &str) -> Option<Priority> {
    Some(match w {
        "urgent" | "asap" => Priority::Critical,
        "important" => Priority::High,
        _ => return None,
    })
}

/// A standalone run of exclamation marks: `!!!` is critical, `!!` high.
pub(crate) fn bangs(trimmed: &str) -> Option<Priority> {
    match trimmed {
        "!!!" => Some(Priority::Critical),
        "!!" => Some(Priority::High),
        _ => None,
    }
}

/// `p1`..`p4`.
pub(crate) fn p_level(w: &str) -> Option<Priority> {
    Some(match w {
        "p1" => Priority::Critical,
        "p2" => Priority::High,
        "p3" => Priority::Medium,
        "p4" => Priority::Low,
        _ => return None,
    })
}

/// The English name of month 1..=12, for messages.
pub(crate) fn month_name(m: u32) -> &'static str {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    m.checked_sub(1).and_then(|i| NAMES.get(i as usize)).copied().unwrap_or("month")
}

/// The most days month 1..=12 can have (29 for February).
pub(crate) fn max_days(m: u32) -> u32 {
    match m {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Words dropped when they introduce a date or time: `due`, `by`, `on`, `at`.
pub(crate) fn connector(w: &str) -> bool {
    matches!(w, "due" | "by" | "on" | "at")
}

/// A unit of `in N …` / `every N …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Day,
    Week,
    Month,
    Year,
}

/// `day(s)`, `week(s)`, `month(s)`, `year(s)`.
pub(crate) fn unit(w: &str) -> Option<Unit> {
    Some(match w {
        "day" | "days" => Unit::Day,
        "week" | "weeks" => Unit::Week,
        "month" | "months" => Unit::Month,
        "year" | "years" => Unit::Year,
        _ => return None,
    })
}

/// A tag token (trailing punctuation already trimmed): `#` then letters,
/// digits, `-` and `_`, with at least one letter (so `#123`, an issue
/// number, stays in the title). Returns the tag lowercased, without `#`.
pub(crate) fn tag(trimmed_raw: &str) -> Option<String> {
    let body = trimmed_raw.strip_prefix('#')?;
    let ok = !body.is_empty()
        && body.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        && body.chars().any(char::is_alphabetic);
    ok.then(|| body.to_lowercase())
}
