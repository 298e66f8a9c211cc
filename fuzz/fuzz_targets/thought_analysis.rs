//! Fuzzes rule-based thought analysis: arbitrary text must never panic,
//! confidences stay in [0, 1], tags are valid and at most five, and a
//! proposed task has a one-line title of 1-200 characters.

#![no_main]

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use steward_core::analysis::{AnalysisContext, analyze};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let now = DateTime::from_timestamp(1_771_669_800, 0).unwrap_or_default();
    let found = analyze(text, &AnalysisContext::utc(now));
    let t = &found.thought;
    assert!((0.0..=1.0).contains(&t.actionable_confidence));
    assert!(t.suggested_tags.len() <= 5);
    for tag in &t.suggested_tags {
        assert!(!tag.is_empty() && tag.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(*tag, tag.to_lowercase());
    }
    if let Some(task) = &found.task {
        let n = task.title.chars().count();
        assert!((1..=200).contains(&n) && !task.title.chars().any(char::is_control), "{task:?}");
        assert!((0.0..=1.0).contains(&task.confidence));
    }
});
