//! Date phrases: relative words, weekdays, `next …`, `end of month`,
//! `in N …`, ISO and month-day dates, rollovers, leap years, time zones.
//! Unless said otherwise "now" is Saturday 2026-02-21 10:30 UTC.

use super::{date, err, p, p_at, plain, time, utc};
use crate::quickadd::ParseError;
use chrono::NaiveDate;
use chrono_tz::Tz;

/// The title and due date of `text` at the reference instant.
fn due(text: &str) -> (String, Option<NaiveDate>) {
    let t = p(text);
    (t.title, t.due_date)
}

fn due_on(text: &str, now: chrono::DateTime<chrono::Utc>) -> Option<NaiveDate> {
    p_at(text, now, Tz::UTC).due_date
}

#[test]
fn today_is_the_date_of_now() {
    assert_eq!(due("pay rent today"), ("pay rent".into(), date(2026, 2, 21)));
}

#[test]
fn tomorrow_is_the_next_day() {
    assert_eq!(due("pay rent tomorrow"), ("pay rent".into(), date(2026, 2, 22)));
}

#[test]
fn day_after_tomorrow_with_or_without_the() {
    assert_eq!(due("pay rent day after tomorrow"), ("pay rent".into(), date(2026, 2, 23)));
    assert_eq!(due("pay rent the day after tomorrow"), ("pay rent".into(), date(2026, 2, 23)));
}

#[test]
fn tonight_is_today_at_eight_pm() {
    let t = p("watch film tonight");
    assert_eq!((t.title.as_str(), t.due_date, t.due_time), ("watch film", date(2026, 2, 21), time(20, 0)));
}

#[test]
fn tonight_with_a_bare_hour_reads_it_as_evening() {
    assert_eq!(p("watch film tonight at 9").due_time, time(21, 0));
    assert_eq!(p("watch film at 9 tonight").due_time, time(21, 0));
    assert_eq!(p("watch film tonight at 9:15").due_time, time(21, 15));
    assert_eq!(p("watch film tonight at 09:15").due_time, time(9, 15));
    assert_eq!(p("watch film tonight at 11pm").due_time, time(23, 0));
}

#[test]
fn bare_weekday_equal_to_today_is_today() {
    assert_eq!(due("clean saturday").1, date(2026, 2, 21));
}

#[test]
fn bare_weekday_is_the_next_such_day() {
    assert_eq!(due("clean sunday").1, date(2026, 2, 22));
    assert_eq!(due("clean monday").1, date(2026, 2, 23));
    assert_eq!(due("clean fri").1, date(2026, 2, 27));
    assert_eq!(due("clean Thursday").1, date(2026, 2, 26));
    assert_eq!(due("clean tues").1, date(2026, 2, 24));
}

#[test]
fn ambiguous_short_weekdays_alone_are_title_words() {
    plain("sat exam prep", "sat exam prep");
    plain("buy sun cream", "buy sun cream");
    plain("get wed", "get wed");
}

#[test]
fn ambiguous_short_weekdays_after_a_connector_are_dates() {
    assert_eq!(due("exam on sat"), ("exam".into(), date(2026, 2, 21)));
    assert_eq!(due("exam on sun"), ("exam".into(), date(2026, 2, 22)));
    assert_eq!(due("exam by wed"), ("exam".into(), date(2026, 2, 25)));
    assert_eq!(due("exam next sat"), ("exam".into(), date(2026, 2, 28)));
}

#[test]
fn next_weekday_is_strictly_after_today() {
    assert_eq!(due("clean next saturday").1, date(2026, 2, 28));
    assert_eq!(due("clean next friday").1, date(2026, 2, 27));
    assert_eq!(due("clean next mon").1, date(2026, 2, 23));
}

#[test]
fn this_weekday_is_like_a_bare_weekday() {
    assert_eq!(due("clean this friday").1, date(2026, 2, 27));
    assert_eq!(due("clean this saturday").1, date(2026, 2, 21));
}

#[test]
fn next_week_is_next_monday_even_on_a_monday() {
    assert_eq!(due("plan next week").1, date(2026, 2, 23));
    assert_eq!(due_on("plan next week", utc(2026, 2, 23, 8, 0)), date(2026, 3, 2));
}

#[test]
fn next_month_is_its_first_day_across_year_end() {
    assert_eq!(due("plan next month").1, date(2026, 3, 1));
    assert_eq!(due_on("plan next month", utc(2026, 12, 31, 8, 0)), date(2027, 1, 1));
}

#[test]
fn next_year_is_the_next_first_of_january() {
    assert_eq!(due("plan next year").1, date(2027, 1, 1));
}

#[test]
fn end_of_month_in_february_and_leap_february() {
    assert_eq!(due("invoice end of month"), ("invoice".into(), date(2026, 2, 28)));
    assert_eq!(due_on("invoice by end of the month", utc(2028, 2, 3, 8, 0)), date(2028, 2, 29));
    assert_eq!(due_on("invoice end of month", utc(2026, 12, 5, 8, 0)), date(2026, 12, 31));
    assert_eq!(due_on("invoice end of month", utc(2026, 4, 30, 8, 0)), date(2026, 4, 30));
}

#[test]
fn in_n_days_weeks_months_years() {
    assert_eq!(due("renew in 3 days"), ("renew".into(), date(2026, 2, 24)));
    assert_eq!(due("renew in 10 days").1, date(2026, 3, 3));
    assert_eq!(due("renew in a week").1, date(2026, 2, 28));
    assert_eq!(due("renew in two weeks").1, date(2026, 3, 7));
    assert_eq!(due("renew in 1 month").1, date(2026, 3, 21));
    assert_eq!(due("renew in twelve months").1, date(2027, 2, 21));
    assert_eq!(due("renew in a year").1, date(2027, 2, 21));
    assert_eq!(due("renew in an day").1, date(2026, 2, 22));
}

#[test]
fn in_n_months_clamps_to_the_end_of_a_shorter_month() {
    assert_eq!(due_on("renew in 3 months", utc(2025, 11, 30, 8, 0)), date(2026, 2, 28));
    assert_eq!(due_on("renew in 1 month", utc(2028, 1, 31, 8, 0)), date(2028, 2, 29));
}

#[test]
fn in_weeks_rolls_over_the_year() {
    assert_eq!(due_on("renew in 2 weeks", utc(2026, 12, 25, 8, 0)), date(2027, 1, 8));
}

#[test]
fn in_without_a_count_and_unit_is_title() {
    plain("meet in the park", "meet in the park");
    plain("meet in 0 days", "meet in 0 days");
    plain("meet in 3 sheep", "meet in 3 sheep");
}

#[test]
fn iso_date_and_invalid_iso_date() {
    assert_eq!(due("trip 2026-05-10"), ("trip".into(), date(2026, 5, 10)));
    assert_eq!(due("trip on 2025-01-01").1, date(2025, 1, 1));
    plain("trip 2026-5-10", "trip 2026-5-10");
}

#[test]
fn month_day_forms() {
    for text in ["taxes march 3", "taxes 3 march", "taxes mar 3rd", "taxes 3rd of march", "taxes Mar 3"] {
        assert_eq!(due(text), ("taxes".into(), date(2026, 3, 3)), "{text}");
    }
    assert_eq!(due("taxes by may 5th").1, date(2026, 5, 5));
    assert_eq!(due("taxes sept 9").1, date(2026, 9, 9));
}

#[test]
fn month_day_with_a_year() {
    assert_eq!(due("taxes march 3rd 2027"), ("taxes".into(), date(2027, 3, 3)));
    assert_eq!(due("taxes march 3, 2027"), ("taxes".into(), date(2027, 3, 3)));
    assert_eq!(due("taxes 3 march 2025").1, date(2025, 3, 3));
}

#[test]
fn month_day_without_year_today_is_today() {
    assert_eq!(due("party feb 21").1, date(2026, 2, 21));
}

#[test]
fn month_day_already_past_rolls_to_next_year() {
    assert_eq!(due_on("taxes march 3", utc(2026, 4, 10, 8, 0)), date(2027, 3, 3));
    assert_eq!(due("party jan 5").1, date(2027, 1, 5));
}

#[test]
fn february_29_without_year_is_the_next_leap_day() {
    assert_eq!(due("leap party feb 29").1, date(2028, 2, 29));
    assert_eq!(due_on("leap party feb 29", utc(2028, 1, 10, 8, 0)), date(2028, 2, 29));
    assert_eq!(due("leap party feb 29 2028").1, date(2028, 2, 29));
}

#[test]
fn impossible_dates_are_errors_naming_the_date() {
    for (text, message) in [
        ("party feb 29 2027", "February 29, 2027 does not exist"),
        ("pay rent feb 30", "February 30 does not exist"),
        ("party 31 april", "April 31 does not exist"),
        ("party 31st of june", "June 31 does not exist"),
        ("trip 2026-02-30", "February 30, 2026 does not exist"),
        ("trip 2026-13-01", "2026-13-01 does not exist"),
    ] {
        let e = err(text);
        assert!(matches!(e, ParseError::NoSuchDate(_)), "{text}");
        assert_eq!(e.to_string(), message, "{text}");
    }
}

#[test]
fn day_numbers_no_month_has_stay_in_the_title() {
    plain("party march 32", "party march 32");
}

#[test]
fn month_name_without_a_day_is_a_title_word() {
    plain("buy may flowers", "buy may flowers");
    plain("march on", "march on");
}

#[test]
fn dates_use_the_users_zone() {
    // 23:30 UTC Saturday is 08:30 Sunday in Tokyo and 18:30 Saturday in New York.
    let late = utc(2026, 2, 21, 23, 30);
    assert_eq!(p_at("x today", late, Tz::Asia__Tokyo).due_date, date(2026, 2, 22));
    assert_eq!(p_at("x today", late, Tz::America__New_York).due_date, date(2026, 2, 21));
    assert_eq!(p_at("x sunday", late, Tz::Asia__Tokyo).due_date, date(2026, 2, 22));
    assert_eq!(p_at("x next sunday", late, Tz::Asia__Tokyo).due_date, date(2026, 3, 1));
    assert_eq!(p_at("x tomorrow", late, Tz::Pacific__Kiritimati).due_date, date(2026, 2, 23));
}

#[test]
fn first_date_wins_and_later_ones_leave_the_title() {
    let t = p("review tomorrow friday");
    assert_eq!((t.title.as_str(), t.due_date), ("review", date(2026, 2, 22)));
}

#[test]
fn explicit_date_with_passed_time_stays_on_that_date() {
    let t = p("standup today at 9am");
    assert_eq!((t.due_date, t.due_time), (date(2026, 2, 21), time(9, 0)));
}

#[test]
fn the_ordinal_after_a_connector_is_the_next_such_month_day() {
    assert_eq!(due("meeting on the 15th"), ("meeting".into(), date(2026, 3, 15)));
    assert_eq!(due("meeting on the 21st").1, date(2026, 2, 21));
    assert_eq!(due("meeting due the 30th").1, date(2026, 3, 30));
    assert_eq!(due_on("meeting by the 31st", utc(2026, 4, 1, 8, 0)), date(2026, 5, 31));
    assert_eq!(due_on("meeting on the 2nd", utc(2026, 12, 20, 8, 0)), date(2027, 1, 2));
}

#[test]
fn the_ordinal_without_a_connector_is_title() {
    plain("write the 1st draft", "write the 1st draft");
}
