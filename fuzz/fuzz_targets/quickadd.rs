//! Fuzzes the quick-add parser: arbitrary text, with a `now`, time zone and
//! date order taken from the first input bytes, must never panic; any title
//! must be non-empty, trimmed, single-spaced and re-parse to itself, and any
//! recurrence must be a rule the recurrence engine accepts.

#![no_main]

use chrono::{DateTime, Utc};
use chrono_tz::{TZ_VARIANTS, Tz};
use libfuzzer_sys::fuzz_target;
use steward_core::quickadd::{DateOrder, ParseOptions, parse_with};
use steward_core::recurrence::Recurrence;

/// The instant and zone the first 10 bytes choose (the lowest bit of the
/// zone bytes picks the date order); the rest is the text.
fn split(data: &[u8]) -> (DateTime<Utc>, Tz, ParseOptions, &[u8]) {
    let (head, text) = data.split_at(data.len().min(10));
    let mut secs = [0u8; 8];
    for (slot, byte) in secs.iter_mut().zip(head) {
        *slot = *byte;
    }
    let secs = i64::from_le_bytes(secs);
    let now = if secs & 1 == 0 {
        // Mostly near the present, where the grammar is used.
        DateTime::from_timestamp(1_600_000_000 + secs.rem_euclid(400_000_000), 0)
    } else {
        // Sometimes anywhere chrono can represent, extremes included.
        DateTime::from_timestamp(secs / 1_000, 0).or(Some(DateTime::<Utc>::MAX_UTC))
    }
    .unwrap_or_default();
    let zone = usize::from(u16::from_le_bytes([head.get(8).copied().unwrap_or(0), head.get(9).copied().unwrap_or(0)]));
    let tz = TZ_VARIANTS.get((zone >> 1) % TZ_VARIANTS.len()).copied().unwrap_or(Tz::UTC);
    let order = if zone & 1 == 0 { DateOrder::MonthDay } else { DateOrder::DayMonth };
    (now, tz, ParseOptions::default().with_date_order(order), text)
}

fuzz_target!(|data: &[u8]| {
    let (now, tz, options, bytes) = split(data);
    let text = String::from_utf8_lossy(bytes);
    let Ok(task) = parse_with(&text, now, tz, &options) else { return };
    assert!(!task.title.is_empty(), "empty title from {text:?}");
    assert_eq!(task.title.trim(), task.title, "untrimmed title from {text:?}");
    assert_eq!(
        task.title.split_whitespace().collect::<Vec<_>>().join(" "),
        task.title,
        "whitespace not collapsed in title from {text:?}"
    );
    if let Some(rule) = &task.recurrence {
        assert!(Recurrence::parse(rule).is_ok(), "rule {rule:?} from {text:?} is refused");
    }
    match parse_with(&task.title, now, tz, &options) {
        Ok(again) => assert_eq!(again.title, task.title, "title of {text:?} re-parsed differently"),
        Err(e) => panic!("title {:?} of {text:?} failed to re-parse: {e}", task.title),
    }
});
