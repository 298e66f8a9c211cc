//! Time-zone words after a time (`3pm PST`, `15:00 UTC+2`, `9am
//! Europe/Paris`) and moving a wall-clock reading from that zone into the
//! user's. Abbreviations name the region's zone rather than a fixed offset:
//! people write `PST` all year and mean Pacific time, so `PST`, `PDT` and
//! `PT` are all America/Los_Angeles.

use super::lexicon;
use super::token::{Token, trim_trailing};
use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{TZ_VARIANTS, Tz};

/// The zone a time was said in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Zone {
    Named(Tz),
    Fixed(FixedOffset),
}

/// Abbreviations and the zone each stands for. Ambiguous ones take their
/// most common reading (`IST`: India, `CST`: US Central, `BST`: London).
const ABBREVIATIONS: &[(&str, Tz)] = &[
    ("utc", Tz::UTC),
    ("gmt", Tz::UTC),
    ("pst", Tz::America__Los_Angeles),
    ("pdt", Tz::America__Los_Angeles),
    ("pt", Tz::America__Los_Angeles),
    ("mst", Tz::America__Denver),
    ("mdt", Tz::America__Denver),
    ("mt", Tz::America__Denver),
    ("cst", Tz::America__Chicago),
    ("cdt", Tz::America__Chicago),
    ("ct", Tz::America__Chicago),
    ("est", Tz::America__New_York),
    ("edt", Tz::America__New_York),
    ("et", Tz::America__New_York),
    ("bst", Tz::Europe__London),
    ("wet", Tz::Europe__Lisbon),
    ("west", Tz::Europe__Lisbon),
    ("cet", Tz::Europe__Paris),
    ("cest", Tz::Europe__Paris),
    ("eet", Tz::Europe__Athens),
    ("eest", Tz::Europe__Athens),
    ("ist", Tz::Asia__Kolkata),
    ("jst", Tz::Asia__Tokyo),
    ("aest", Tz::Australia__Sydney),
    ("aedt", Tz::Australia__Sydney),
];

/// A zone word: an abbreviation above, `UTC±H`, `UTC±HH:MM`, `GMT±H`, or an
/// IANA name in any case (`Europe/Paris`, `europe/paris`).
pub(crate) fn zone(tok: &Token<'_>) -> Option<Zone> {
    let w = &*tok.word;
    if let Some((_, tz)) = ABBREVIATIONS.iter().find(|(abbr, _)| *abbr == w) {
        return Some(Zone::Named(*tz));
    }
    if let Some(rest) = w.strip_prefix("utc").or_else(|| w.strip_prefix("gmt")) {
        return offset(rest).map(Zone::Fixed);
    }
    if w.contains('/') {
        let name = trim_trailing(tok.raw);
        let tz = name
            .parse::<Tz>()
            .ok()
            .or_else(|| TZ_VARIANTS.iter().copied().find(|tz| tz.name().eq_ignore_ascii_case(name)));
        return tz.map(Zone::Named);
    }
    None
}

/// `+2`, `-5`, `+05:30`, `+0530` as an offset east of UTC, within ±14 hours.
fn offset(s: &str) -> Option<FixedOffset> {
    let (sign, body) = match s.as_bytes().first()? {
        b'+' => (1, s.get(1..)?),
        b'-' => (-1, s.get(1..)?),
        _ => return None,
    };
    let (h, m) = match body.split_once(':') {
        Some((h, m)) => (h, m),
        None if body.len() == 4 => (body.get(..2)?, body.get(2..)?),
        None => (body, "0"),
    };
    let h = i32::try_from(lexicon::digits(h, 2)?).ok()?;
    let m = i32::try_from(lexicon::digits(m, 2)?).ok()?;
    if h > 14 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// The wall-clock reading of `now` in `zone`; UTC stands in past the end of
/// chrono's calendar.
pub(crate) fn local_now(zone: Zone, now: DateTime<Utc>) -> NaiveDateTime {
    let utc = now.naive_utc();
    let offset = match zone {
        Zone::Named(tz) => tz.offset_from_utc_datetime(&utc).fix(),
        Zone::Fixed(off) => off,
    };
    utc.checked_add_offset(offset).unwrap_or(utc)
}

/// `at`, a reading of the clock in `from`, as a reading in `to`. A reading
/// that a daylight-saving jump skips is taken with the offset before it.
pub(crate) fn convert(at: NaiveDateTime, from: Zone, to: Tz) -> Option<NaiveDateTime> {
    let offset = match from {
        Zone::Fixed(off) => off,
        Zone::Named(tz) => match tz.offset_from_local_datetime(&at).earliest() {
            Some(off) => off.fix(),
            None => tz.offset_from_utc_datetime(&at).fix(),
        },
    };
    let utc = at.checked_sub_offset(offset)?;
    utc.checked_add_offset(to.offset_from_utc_datetime(&utc).fix())
}
