//! Time phrases and how a time without a date picks today or tomorrow.
//! "Now" is Saturday 2026-02-21 10:30 UTC unless said otherwise.

use super::{date, err, p, p_at, plain, time, utc};
use crate::quickadd::ParseError;
use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;

fn when(text: &str) -> (String, Option<NaiveDate>, Option<NaiveTime>) {
    let t = p(text);
    (t.title, t.due_date, t.due_time)
}

#[test]
fn twelve_hour_forms() {
    for (text, h, m) in [
        ("call 5pm", 17, 0),
        ("call at 5pm", 17, 0),
        ("call 5:30pm", 17, 30),
        ("call 5:30 pm", 17, 30),
        ("call 5 PM", 17, 0),
        ("call 11:45 p.m.", 23, 45),
        ("call 11a.m.", 11, 0),
        ("call 12pm", 12, 0),
        ("call 05pm", 17, 0),
    ] {
        let (title, _, t) = when(text);
        assert_eq!((title.as_str(), t), ("call", time(h, m)), "{text}");
    }
}

#[test]
fn twelve_am_is_midnight_and_twelve_pm_is_noon() {
    assert_eq!(when("call 12am").2, time(0, 0));
    assert_eq!(when("call 12:30am").2, time(0, 30));
    assert_eq!(when("call 12:30pm").2, time(12, 30));
}

#[test]
fn colon_time_without_am_pm_is_24_hour() {
    assert_eq!(when("call 17:00"), ("call".into(), date(2026, 2, 21), time(17, 0)));
    assert_eq!(when("call at 9:30"), ("call".into(), date(2026, 2, 22), time(9, 30)));
    assert_eq!(when("call 00:05").2, time(0, 5));
    assert_eq!(when("call 09:30"), ("call".into(), date(2026, 2, 22), time(9, 30)));
}

#[test]
fn one_digit_hour_colon_time_needs_a_connector() {
    plain("read john 3:16", "read john 3:16");
    plain("mix 1:10 ratio", "mix 1:10 ratio");
    assert_eq!(when("call at 5:30"), ("call".into(), date(2026, 2, 21), time(17, 30)));
    assert_eq!(when("call by 9:30").2, time(9, 30));
    assert_eq!(when("call 5:30pm").2, time(17, 30));
}

#[test]
fn noon_and_midnight() {
    assert_eq!(when("lunch at noon"), ("lunch".into(), date(2026, 2, 21), time(12, 0)));
    assert_eq!(when("backup midnight"), ("backup".into(), date(2026, 2, 22), time(0, 0)));
}

#[test]
fn bare_hour_only_counts_right_after_at() {
    assert_eq!(when("call at 9"), ("call".into(), date(2026, 2, 22), time(9, 0)));
    assert_eq!(when("call at 17"), ("call".into(), date(2026, 2, 21), time(17, 0)));
    plain("read chapter 3", "read chapter 3");
    plain("buy 9 eggs", "buy 9 eggs");
    plain("call by 9", "call by 9");
    plain("stay at 24", "stay at 24");
}

#[test]
fn impossible_times_are_errors_naming_the_time() {
    for (text, message) in [
        ("call 13pm", "13pm is not a time of day"),
        ("call 0am", "0am is not a time of day"),
        ("call 13:30 pm", "13:30 pm is not a time of day"),
        ("call at 25:00", "25:00 is not a time of day"),
        ("call by 10:60", "10:60 is not a time of day"),
    ] {
        let e = err(text);
        assert!(matches!(e, ParseError::NoSuchTime(_)), "{text}");
        assert_eq!(e.to_string(), message, "{text}");
    }
}

#[test]
fn clock_like_numbers_without_a_connector_stay_in_the_title() {
    // A lap time or a score, not a time of day.
    plain("run 10k in 45:00", "run 10k in 45:00");
    plain("call 25:00", "call 25:00");
    plain("call 10:60", "call 10:60");
    plain("call 10:5", "call 10:5");
    plain("i am here", "i am here");
}

#[test]
fn time_still_ahead_is_today_and_passed_time_is_tomorrow() {
    assert_eq!(when("call 11am").1, date(2026, 2, 21));
    assert_eq!(when("call 10am").1, date(2026, 2, 22));
}

#[test]
fn time_exactly_now_counts_as_ahead() {
    assert_eq!(when("call at 10:30").1, date(2026, 2, 21));
}

#[test]
fn time_without_date_is_judged_in_the_users_zone() {
    // 10:30 UTC is 05:30 in New York: 9am is still ahead there.
    let t = p_at("call 9am", utc(2026, 2, 21, 10, 30), Tz::America__New_York);
    assert_eq!((t.due_date, t.due_time), (date(2026, 2, 21), time(9, 0)));
    // 10:30 UTC is 19:30 in Tokyo: 9am has passed.
    let t = p_at("call 9am", utc(2026, 2, 21, 10, 30), Tz::Asia__Tokyo);
    assert_eq!(t.due_date, date(2026, 2, 22));
}

#[test]
fn passed_time_on_the_last_day_of_the_year_rolls_into_next_year() {
    let t = p_at("call 9am", utc(2026, 12, 31, 22, 0), Tz::UTC);
    assert_eq!(t.due_date, date(2027, 1, 1));
}

#[test]
fn date_and_time_in_either_order() {
    assert_eq!(when("call friday 5pm"), ("call".into(), date(2026, 2, 27), time(17, 0)));
    assert_eq!(when("call at 5pm on friday"), ("call".into(), date(2026, 2, 27), time(17, 0)));
}

#[test]
fn first_time_wins() {
    assert_eq!(when("call 5pm 6pm"), ("call".into(), date(2026, 2, 21), time(17, 0)));
}
