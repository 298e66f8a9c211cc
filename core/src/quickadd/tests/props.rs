//! Property tests: no input panics, a title always re-parses to itself, and
//! every rule written is one the recurrence engine accepts, with either
//! date order.

use crate::quickadd::{DateOrder, ParseOptions, parse_with};
use crate::recurrence::Recurrence;
use chrono::{DateTime, Datelike, Utc};
use chrono_tz::{TZ_VARIANTS, Tz};
use proptest::prelude::*;

/// Words of the grammar and near misses, so random phrases form (and almost
/// form) grammar often.
const VOCAB: &[&str] = &[
    "add",
    "a",
    "an",
    "new",
    "task",
    "todo",
    "remind",
    "me",
    "to",
    "p1",
    "p2",
    "p3",
    "p4",
    "p5",
    "P1",
    "high",
    "low",
    "medium",
    "critical",
    "urgent",
    "priority",
    "high-priority",
    "#work",
    "#Work,",
    "#123",
    "#",
    "today",
    "tonight",
    "tomorrow",
    "the",
    "day",
    "after",
    "next",
    "this",
    "week",
    "month",
    "year",
    "end",
    "of",
    "in",
    "days",
    "weeks",
    "months",
    "two",
    "twelve",
    "0",
    "1",
    "3",
    "9",
    "12",
    "15",
    "17",
    "31",
    "2027",
    "2026-05-10",
    "2026-02-30",
    "march",
    "mar",
    "may",
    "feb",
    "29",
    "3rd",
    "15th",
    "31st",
    "monday",
    "mon,",
    "fri",
    "sat",
    "sun",
    "wed",
    "mondays",
    "and",
    "&",
    "every",
    "other",
    "daily",
    "weekly",
    "weekday",
    "weekend",
    "due",
    "by",
    "on",
    "at",
    "5pm",
    "5:30",
    "pm",
    "am",
    "p.m.",
    "noon",
    "midnight",
    "9:30am",
    "17:00",
    "13pm",
    "x",
    "Bob",
    "fix",
    "é",
    "日本",
    "tmrw",
    "hours",
    "hour",
    "mins",
    "half",
    "morning",
    "afternoon",
    "evening",
    "night",
    "eod",
    "close",
    "business",
    "last",
    "first",
    "second",
    "2nd",
    "5th",
    "friday",
    "tuesday",
    "each",
    "12/15",
    "31/12",
    "1/2",
    "13/13",
    "2/30",
    "12/15/27",
    "25:00",
    "10:60",
    "0am",
    "asap",
    "important",
    "urgent:",
    "!!",
    "!!!",
    "don't",
    "forget",
    "i",
    "need",
    "todo:",
    "please",
    "remember",
    "reminder",
    "PST",
    "cet",
    "UTC+2",
    "gmt-5:30",
    "Europe/Paris",
    "5",
    "7",
    "30",
    "29th",
    "30th",
    "4th",
    "third",
];

fn now_strategy() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        // Around the present, where the grammar is used.
        (1_600_000_000i64..2_000_000_000).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap_or_default()),
        // Anywhere chrono can represent, including the extremes.
        any::<i64>().prop_map(|s| DateTime::from_timestamp(s / 1_000, 0).unwrap_or_default()),
        Just(DateTime::<Utc>::MAX_UTC),
        Just(DateTime::<Utc>::MIN_UTC),
    ]
}

fn tz_strategy() -> impl Strategy<Value = Tz> {
    (0..TZ_VARIANTS.len()).prop_map(|i| TZ_VARIANTS.get(i).copied().unwrap_or(Tz::UTC))
}

fn phrase_strategy() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        4 => proptest::sample::select(VOCAB).prop_map(str::to_owned),
        1 => "[a-z0-9#:,.-]{1,6}",
        1 => any::<String>(),
    ];
    let sep = prop_oneof![Just(" "), Just("  "), Just("\t"), Just(""), Just("\u{3000}")];
    proptest::collection::vec((word, sep), 0..14)
        .prop_map(|parts| parts.into_iter().map(|(w, s)| format!("{w}{s}")).collect())
}

/// The invariants every result must satisfy, with both date orders.
fn check(text: &str, now: DateTime<Utc>, tz: Tz) -> Result<(), TestCaseError> {
    for order in [DateOrder::MonthDay, DateOrder::DayMonth] {
        let options = ParseOptions::default().with_date_order(order);
        let Ok(task) = parse_with(text, now, tz, &options) else { continue };
        prop_assert!(!task.title.is_empty());
        prop_assert_eq!(task.title.trim(), task.title.as_str());
        // (At the end of chrono's calendar there may be no tomorrow.)
        let at_the_end = now.year() > 9999;
        prop_assert!(
            task.due_time.is_none() || task.due_date.is_some() || at_the_end,
            "time without a date from {:?}",
            text
        );
        if let Some(rule) = &task.recurrence {
            prop_assert!(Recurrence::parse(rule).is_ok(), "{:?} from {:?} is refused", rule, text);
        }
        match parse_with(&task.title, now, tz, &options) {
            Ok(again) => prop_assert_eq!(&again.title, &task.title, "title of {:?} re-parsed differently", text),
            Err(e) => prop_assert!(false, "title {:?} of {:?} failed: {}", task.title, text, e),
        }
    }
    Ok(())
}

/// 2048 cases, or `PROPTEST_CASES` when set (for longer runs).
fn config() -> ProptestConfig {
    let default = ProptestConfig::default();
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() { default.cases } else { 2048 };
    ProptestConfig { cases, ..default }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_unicode_never_panics(text in any::<String>(), now in now_strategy(), tz in tz_strategy()) {
        check(&text, now, tz)?;
    }

    #[test]
    fn grammar_like_phrases_keep_the_invariants(text in phrase_strategy(), now in now_strategy(), tz in tz_strategy()) {
        check(&text, now, tz)?;
    }

    #[test]
    fn title_is_idempotent_near_the_present(text in phrase_strategy(), secs in 1_600_000_000i64..2_000_000_000) {
        let now = DateTime::from_timestamp(secs, 0).unwrap_or_default();
        check(&text, now, Tz::UTC)?;
        check(&text, now, Tz::America__New_York)?;
    }
}
