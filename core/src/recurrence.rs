//! Repetition rules (RFC 5545 RRULE) for tasks: validation and "when next".
//!
//! Due dates are calendar dates in the owner's timezone, so occurrences are
//! computed on naive dates (anchored at midnight UTC) and never shift with
//! daylight-saving changes.

use chrono::{NaiveDate, TimeZone};
use rrule::{RRuleSet, Tz};

use crate::error::{Error, Result};

/// The rules [`Recurrence::parse`] accepts, as far as a pattern can say
/// (feature `openapi`): a daily, weekly, monthly or yearly `FREQ` with an
/// optional interval, weekdays and end date; empty stops the repetition.
#[cfg(feature = "openapi")]
pub(crate) const SCHEMA_PATTERN: &str = r"^\s*((RRULE:)?FREQ=(DAILY|WEEKLY|MONTHLY|YEARLY)(;INTERVAL=[1-9][0-9]{0,2})?(;BYDAY=(MO|TU|WE|TH|FR|SA|SU)(,(MO|TU|WE|TH|FR|SA|SU)){0,6})?(;UNTIL=(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])(T([01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]Z)?)?)?\s*$";

/// How far ahead `next_after` looks before giving up on a rule that has no
/// more occurrences in practice (e.g. `BYMONTHDAY=31;BYMONTH=2`).
const SEARCH_LIMIT: usize = 50_000;

/// A validated RRULE, kept in canonical text form (no `RRULE:` prefix,
/// upper case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurrence {
    rule: String,
}

impl Recurrence {
    /// Accepts `FREQ=…;…` with or without the `RRULE:` prefix. `DTSTART`,
    /// `EXDATE` and friends are not part of a task's rule: the task's due
    /// date is its start.
    pub fn parse(raw: &str) -> Result<Recurrence> {
        let upper = raw.trim().to_ascii_uppercase();
        let rule = upper.strip_prefix("RRULE:").unwrap_or(&upper).trim().to_string();
        if rule.is_empty() || rule.contains(['\n', '\r', ':']) {
            return Err(Error::invalid("recurrence", "must be one RRULE such as FREQ=WEEKLY;BYDAY=MO"));
        }
        if !rule.split(';').any(|part| part.starts_with("FREQ=")) {
            return Err(Error::invalid("recurrence", "an RRULE needs FREQ (e.g. FREQ=DAILY)"));
        }
        // Occurrences are dates: a rule that repeats within a day would make
        // the next occurrence the same date (and time) as the last one.
        if let Some(freq) = rule.split(';').find_map(|part| part.strip_prefix("FREQ="))
            && matches!(freq, "SECONDLY" | "MINUTELY" | "HOURLY")
        {
            return Err(Error::invalid(
                "recurrence",
                format!(
                    "FREQ={freq} repeats within a day; a task recurs at most daily (DAILY, WEEKLY, MONTHLY or YEARLY)"
                ),
            ));
        }
        if rule.split(';').any(|part| ["BYHOUR=", "BYMINUTE=", "BYSECOND="].iter().any(|by| part.starts_with(by))) {
            return Err(Error::invalid(
                "recurrence",
                "BYHOUR, BYMINUTE and BYSECOND are not supported: a task recurs on dates and keeps its due time",
            ));
        }
        // Each occurrence is a new task anchored at its own due date, so a
        // COUNT would restart with every occurrence; UNTIL expresses an end.
        if rule.split(';').any(|part| part.starts_with("COUNT=")) {
            return Err(Error::invalid("recurrence", "COUNT is not supported for tasks; use UNTIL=YYYYMMDD"));
        }
        // A date-only UNTIL (what the COUNT message suggests) ends with
        // that whole day; the rule engine wants an instant in UTC, as the
        // occurrences are.
        let rule = rule
            .split(';')
            .map(|part| match part.strip_prefix("UNTIL=") {
                Some(date) if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) => {
                    format!("UNTIL={date}T235959Z")
                }
                _ => part.to_string(),
            })
            .collect::<Vec<_>>()
            .join(";");
        let parsed = Recurrence { rule };
        // Checked from a start before any UNTIL a client writes: a rule
        // that ended long ago is still a rule (it has no next occurrence).
        parsed.set_from(NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default())?;
        Ok(parsed)
    }

    pub fn as_str(&self) -> &str {
        &self.rule
    }

    fn set_from(&self, start: NaiveDate) -> Result<RRuleSet> {
        let text = format!("DTSTART:{}T000000Z\nRRULE:{}", start.format("%Y%m%d"), self.rule);
        text.parse::<RRuleSet>().map_err(|e| Error::invalid("recurrence", format!("not a valid RRULE: {e}")))
    }

    /// The first occurrence strictly after `anchor` that is also on or after
    /// `not_before`; `None` when the rule has ended (COUNT/UNTIL).
    pub fn next_after(&self, anchor: NaiveDate, not_before: NaiveDate) -> Option<NaiveDate> {
        let set = self.set_from(anchor).ok()?;
        let floor = Tz::UTC.from_utc_datetime(&anchor.and_hms_opt(0, 0, 0)?);
        set.into_iter()
            .take(SEARCH_LIMIT)
            .filter(|at| *at > floor)
            .map(|at| at.date_naive())
            .find(|date| *date >= not_before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn accepts_prefix_and_lower_case_and_canonicalises() {
        let r = Recurrence::parse("rrule:freq=weekly;byday=mo,th").unwrap();
        assert_eq!(r.as_str(), "FREQ=WEEKLY;BYDAY=MO,TH");
    }

    #[test]
    fn rejects_garbage_and_missing_freq() {
        assert!(Recurrence::parse("every day").is_err());
        assert!(Recurrence::parse("INTERVAL=2").is_err());
        assert!(Recurrence::parse("FREQ=SOMETIMES").is_err());
        assert!(Recurrence::parse("DTSTART:20200101T000000Z\nRRULE:FREQ=DAILY").is_err());
    }

    #[test]
    fn weekly_rule_finds_the_next_listed_weekday() {
        let r = Recurrence::parse("FREQ=WEEKLY;BYDAY=MO,TH").unwrap();
        // 2026-02-23 is a Monday.
        assert_eq!(r.next_after(d(2026, 2, 23), d(2026, 2, 23)), Some(d(2026, 2, 26)));
        assert_eq!(r.next_after(d(2026, 2, 26), d(2026, 2, 26)), Some(d(2026, 3, 2)));
    }

    #[test]
    fn overdue_daily_task_skips_to_today_not_the_past() {
        let r = Recurrence::parse("FREQ=DAILY").unwrap();
        assert_eq!(r.next_after(d(2026, 1, 1), d(2026, 2, 21)), Some(d(2026, 2, 21)));
    }

    #[test]
    fn monthly_on_the_31st_skips_short_months() {
        let r = Recurrence::parse("FREQ=MONTHLY;BYMONTHDAY=31").unwrap();
        assert_eq!(r.next_after(d(2026, 1, 31), d(2026, 1, 31)), Some(d(2026, 3, 31)));
    }

    #[test]
    fn a_rule_that_ended_long_ago_is_a_rule_without_a_next_occurrence() {
        let r = Recurrence::parse("FREQ=MONTHLY;UNTIL=19481121").unwrap();
        assert_eq!(r.next_after(d(2026, 1, 1), d(2026, 1, 1)), None);
    }

    #[test]
    fn a_date_only_until_ends_with_that_day() {
        let r = Recurrence::parse("FREQ=DAILY;UNTIL=20260102").unwrap();
        assert_eq!(r.as_str(), "FREQ=DAILY;UNTIL=20260102T235959Z");
        assert_eq!(r.next_after(d(2026, 1, 1), d(2026, 1, 1)), Some(d(2026, 1, 2)));
        assert_eq!(r.next_after(d(2026, 1, 2), d(2026, 1, 2)), None);
    }

    #[test]
    fn rule_past_its_until_has_no_next_occurrence() {
        let r = Recurrence::parse("FREQ=DAILY;UNTIL=20260102T235959Z").unwrap();
        assert_eq!(r.next_after(d(2026, 1, 1), d(2026, 1, 1)), Some(d(2026, 1, 2)));
        assert_eq!(r.next_after(d(2026, 1, 2), d(2026, 1, 2)), None);
    }

    #[test]
    fn sub_daily_rules_are_refused() {
        for rule in [
            "FREQ=SECONDLY",
            "freq=minutely;interval=5",
            "RRULE:FREQ=HOURLY",
            "FREQ=DAILY;BYHOUR=9,17",
            "FREQ=WEEKLY;BYMINUTE=0",
        ] {
            let err = Recurrence::parse(rule).unwrap_err();
            assert!(matches!(err, Error::Invalid(_)), "{rule}: {err:?}");
        }
    }

    #[test]
    fn last_day_clamped_rules_fire_every_month() {
        let r = Recurrence::parse("FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1").unwrap();
        assert_eq!(r.next_after(d(2026, 1, 30), d(2026, 1, 30)), Some(d(2026, 2, 28)));
        assert_eq!(r.next_after(d(2026, 2, 28), d(2026, 2, 28)), Some(d(2026, 3, 30)));
        let r = Recurrence::parse("FREQ=MONTHLY;BYMONTHDAY=-1").unwrap();
        assert_eq!(r.next_after(d(2026, 3, 31), d(2026, 3, 31)), Some(d(2026, 4, 30)));
        let r = Recurrence::parse("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1").unwrap();
        assert_eq!(r.next_after(d(2027, 2, 28), d(2027, 2, 28)), Some(d(2028, 2, 29)));
        assert_eq!(r.next_after(d(2028, 2, 29), d(2028, 2, 29)), Some(d(2029, 2, 28)));
    }

    #[test]
    fn count_is_refused_with_a_hint() {
        let err = Recurrence::parse("FREQ=DAILY;COUNT=3").unwrap_err();
        assert!(err.to_string().contains("UNTIL"));
    }
}
