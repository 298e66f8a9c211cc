//! Phrases new users typed that the first grammar got wrong (issue 11), and
//! their neighbours, as one table each. "Now" is Saturday 2026-02-21 10:30
//! UTC in UTC unless a row says otherwise.

use super::{err, p, p_at, sat, utc};
use crate::Priority;
use crate::quickadd::{DateOrder, ParseError, ParseOptions, parse_with};
use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;

/// What a row expects: title, due date, due time, RRULE.
type Expect<'a> = (&'a str, Option<(i32, u32, u32)>, Option<(u32, u32)>, Option<&'a str>);

fn check_rows(rows: &[(&str, Expect<'_>)]) {
    for (text, (title, date, time, rule)) in rows {
        let t = p(text);
        let date = date.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d));
        let time = time.and_then(|(h, m)| NaiveTime::from_hms_opt(h, m, 0));
        assert_eq!(
            (t.title.as_str(), t.due_date, t.due_time, t.recurrence.as_deref()),
            (*title, date, time, *rule),
            "{text:?}"
        );
    }
}

#[test]
fn abbreviations_of_tomorrow() {
    check_rows(&[
        ("email Marie tmrw", ("email Marie", Some((2026, 2, 22)), None, None)),
        ("email Marie tmr", ("email Marie", Some((2026, 2, 22)), None, None)),
        ("email Marie tomorow at 4pm", ("email Marie", Some((2026, 2, 22)), Some((16, 0)), None)),
        ("email Marie eow", ("email Marie", Some((2026, 2, 27)), None, None)),
    ]);
}

#[test]
fn hours_and_minutes_from_now() {
    check_rows(&[
        ("review PR in 2 hours", ("review PR", Some((2026, 2, 21)), Some((12, 30)), None)),
        ("review PR in an hour", ("review PR", Some((2026, 2, 21)), Some((11, 30)), None)),
        ("review PR in 30 mins", ("review PR", Some((2026, 2, 21)), Some((11, 0)), None)),
        ("review PR in half an hour", ("review PR", Some((2026, 2, 21)), Some((11, 0)), None)),
        ("review PR in 14 hours", ("review PR", Some((2026, 2, 22)), Some((0, 30)), None)),
    ]);
}

#[test]
fn numeric_dates_month_first_by_default() {
    check_rows(&[
        ("doctor appointment on 12/15", ("doctor appointment", Some((2026, 12, 15)), None, None)),
        ("doctor appointment on 3/4", ("doctor appointment", Some((2026, 3, 4)), None, None)),
        ("doctor appointment on 31/12", ("doctor appointment", Some((2026, 12, 31)), None, None)),
        ("doctor appointment by 1/5", ("doctor appointment", Some((2027, 1, 5)), None, None)),
        ("doctor appointment 12/15/2027", ("doctor appointment", Some((2027, 12, 15)), None, None)),
        ("doctor appointment 12/15/27", ("doctor appointment", Some((2027, 12, 15)), None, None)),
        // Without a connector or a year a fraction or a ratio stays a title.
        ("mix 1/2 cup", ("mix 1/2 cup", None, None, None)),
        ("support 24/7", ("support 24/7", None, None, None)),
    ]);
}

#[test]
fn numeric_dates_day_first_when_the_user_says_so() {
    let day_month = ParseOptions::default().with_date_order(DateOrder::DayMonth);
    let due = |text: &str| parse_with(text, sat(), Tz::UTC, &day_month).map(|t| (t.title, t.due_date));
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
    assert_eq!(due("dentist on 3/4"), Ok(("dentist".into(), d(2026, 4, 3))));
    assert_eq!(due("dentist on 15/12"), Ok(("dentist".into(), d(2026, 12, 15))));
    // Unambiguous either way.
    assert_eq!(due("dentist on 12/31"), Ok(("dentist".into(), d(2026, 12, 31))));
    assert_eq!(due("dentist 31/12/2026"), Ok(("dentist".into(), d(2026, 12, 31))));
    assert_eq!(due("dentist on 30/2"), Err(ParseError::NoSuchDate("February 30".into())));
    // `parse` is month first.
    assert_eq!(p("dentist on 3/4").due_date, d(2026, 3, 4));
}

#[test]
fn end_of_day_and_parts_of_the_day() {
    check_rows(&[
        ("finish report by end of day", ("finish report", Some((2026, 2, 21)), Some((17, 0)), None)),
        ("finish report eod", ("finish report", Some((2026, 2, 21)), Some((17, 0)), None)),
        ("finish report end of the day friday", ("finish report", Some((2026, 2, 27)), Some((17, 0)), None)),
        ("remind me to call John tomorrow morning", ("call John", Some((2026, 2, 22)), Some((9, 0)), None)),
        ("call John tomorrow afternoon", ("call John", Some((2026, 2, 22)), Some((14, 0)), None)),
        ("call John friday evening", ("call John", Some((2026, 2, 27)), Some((18, 0)), None)),
        ("call John tomorrow night", ("call John", Some((2026, 2, 22)), Some((20, 0)), None)),
        ("call John this afternoon", ("call John", Some((2026, 2, 21)), Some((14, 0)), None)),
        ("call John in the evening", ("call John", Some((2026, 2, 21)), Some((18, 0)), None)),
        ("call John in the morning", ("call John", Some((2026, 2, 22)), Some((9, 0)), None)),
        ("call John at noon", ("call John", Some((2026, 2, 21)), Some((12, 0)), None)),
        ("call John at night", ("call John", Some((2026, 2, 21)), Some((20, 0)), None)),
        ("call John tomorrow morning at 7", ("call John", Some((2026, 2, 22)), Some((7, 0)), None)),
        ("call John tomorrow evening at 7", ("call John", Some((2026, 2, 22)), Some((19, 0)), None)),
        (
            "take out trash every sunday night",
            ("take out trash", Some((2026, 2, 22)), Some((20, 0)), Some("FREQ=WEEKLY;BYDAY=SU")),
        ),
        ("stretch every morning", ("stretch", Some((2026, 2, 22)), Some((9, 0)), Some("FREQ=DAILY"))),
        (
            "standup every weekday morning",
            ("standup", Some((2026, 2, 23)), Some((9, 0)), Some("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR")),
        ),
        // Alone, a part of the day is a title word.
        ("movie night", ("movie night", None, None, None)),
        ("morning run", ("morning run", None, None, None)),
    ]);
}

#[test]
fn nth_and_last_weekday_of_the_month() {
    check_rows(&[
        ("team lunch every last friday", ("team lunch", Some((2026, 2, 27)), None, Some("FREQ=MONTHLY;BYDAY=-1FR"))),
        (
            "team lunch last friday of every month",
            ("team lunch", Some((2026, 2, 27)), None, Some("FREQ=MONTHLY;BYDAY=-1FR")),
        ),
        (
            "team lunch the last friday of each month",
            ("team lunch", Some((2026, 2, 27)), None, Some("FREQ=MONTHLY;BYDAY=-1FR")),
        ),
        ("book club every 2nd tuesday", ("book club", Some((2026, 3, 10)), None, Some("FREQ=MONTHLY;BYDAY=2TU"))),
        (
            "book club every second tuesday of the month",
            ("book club", Some((2026, 3, 10)), None, Some("FREQ=MONTHLY;BYDAY=2TU")),
        ),
        (
            "review every first monday of the month",
            ("review", Some((2026, 3, 2)), None, Some("FREQ=MONTHLY;BYDAY=1MO")),
        ),
        ("review monthly on the 3rd thursday", ("review", Some((2026, 3, 19)), None, Some("FREQ=MONTHLY;BYDAY=3TH"))),
        (
            "close books every last day of the month",
            ("close books", Some((2026, 2, 28)), None, Some("FREQ=MONTHLY;BYMONTHDAY=-1")),
        ),
        ("sync every second week", ("sync", Some((2026, 2, 21)), None, Some("FREQ=WEEKLY;INTERVAL=2"))),
        ("club every 2nd and 4th tuesday", ("club", Some((2026, 2, 24)), None, Some("FREQ=MONTHLY;BYDAY=2TU,4TU"))),
        (
            "club first and third monday of every month",
            ("club", Some((2026, 3, 2)), None, Some("FREQ=MONTHLY;BYDAY=1MO,3MO")),
        ),
        ("club every 1st & last friday", ("club", Some((2026, 2, 27)), None, Some("FREQ=MONTHLY;BYDAY=1FR,-1FR"))),
        // `last` alone is a title word.
        ("read every last page", ("read every last page", None, None, None)),
    ]);
}

#[test]
fn several_days_of_the_month() {
    check_rows(&[
        ("pay bills every 1st and 15th", ("pay bills", Some((2026, 3, 1)), None, Some("FREQ=MONTHLY;BYMONTHDAY=1,15"))),
        (
            "pay bills every month on the 1st and 15th",
            ("pay bills", Some((2026, 3, 1)), None, Some("FREQ=MONTHLY;BYMONTHDAY=1,15")),
        ),
        (
            "pay bills every 15th and 31st",
            ("pay bills", Some((2026, 2, 28)), None, Some("FREQ=MONTHLY;BYMONTHDAY=15,-1")),
        ),
        (
            "pay bills every 1st, 10th & 20th",
            ("pay bills", Some((2026, 3, 1)), None, Some("FREQ=MONTHLY;BYMONTHDAY=1,10,20")),
        ),
        // The 29th and 30th need their own rule, so they do not join a list.
        (
            "pay bills every 1st and 30th",
            ("pay bills and 30th", Some((2026, 3, 1)), None, Some("FREQ=MONTHLY;BYMONTHDAY=1")),
        ),
    ]);
}

#[test]
fn days_a_short_month_lacks_fall_on_its_last_day() {
    check_rows(&[
        (
            "pay rent every month on the 31st",
            ("pay rent", Some((2026, 2, 28)), None, Some("FREQ=MONTHLY;BYMONTHDAY=-1")),
        ),
        ("pay rent every 31st", ("pay rent", Some((2026, 2, 28)), None, Some("FREQ=MONTHLY;BYMONTHDAY=-1"))),
        (
            "pay rent every 30th",
            ("pay rent", Some((2026, 2, 28)), None, Some("FREQ=MONTHLY;BYMONTHDAY=28,29,30;BYSETPOS=-1")),
        ),
        (
            "pay rent every 29th",
            ("pay rent", Some((2026, 2, 28)), None, Some("FREQ=MONTHLY;BYMONTHDAY=28,29;BYSETPOS=-1")),
        ),
        ("pay rent every 28th", ("pay rent", Some((2026, 2, 28)), None, Some("FREQ=MONTHLY;BYMONTHDAY=28"))),
        (
            "leap party every feb 29",
            ("leap party", Some((2026, 2, 28)), None, Some("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1")),
        ),
        (
            "leap party yearly on feb 29",
            ("leap party", Some((2026, 2, 28)), None, Some("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1")),
        ),
        ("birthday every march 3", ("birthday", Some((2026, 3, 3)), None, Some("FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3"))),
        (
            "audit every 31 december",
            ("audit", Some((2026, 12, 31)), None, Some("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=31")),
        ),
    ]);
    // In a leap year the 29th exists.
    assert_eq!(p_at("pay every 29th", utc(2028, 2, 1, 8, 0), Tz::UTC).due_date, NaiveDate::from_ymd_opt(2028, 2, 29));
    assert_eq!(p_at("pay every 31st", utc(2026, 4, 1, 8, 0), Tz::UTC).due_date, NaiveDate::from_ymd_opt(2026, 4, 30));
}

#[test]
fn a_time_between_the_days_of_a_list() {
    check_rows(&[
        (
            "call mom every monday at 9am and friday",
            ("call mom", Some((2026, 2, 23)), Some((9, 0)), Some("FREQ=WEEKLY;BYDAY=MO,FR")),
        ),
        (
            "call mom every mon at 6pm & wed and fri",
            ("call mom", Some((2026, 2, 23)), Some((18, 0)), Some("FREQ=WEEKLY;BYDAY=MO,WE,FR")),
        ),
        (
            "call mom every monday at 9am and dad",
            ("call mom and dad", Some((2026, 2, 23)), Some((9, 0)), Some("FREQ=WEEKLY;BYDAY=MO")),
        ),
    ]);
}

#[test]
fn priority_words_and_marks() {
    for (text, title, pr) in [
        ("urgent fix login", "fix login", Priority::Critical),
        ("urgent: fix login", "fix login", Priority::Critical),
        ("URGENT - fix login", "- fix login", Priority::Critical),
        ("fix login urgent", "fix login", Priority::Critical),
        ("fix login asap", "fix login", Priority::Critical),
        ("fix asap the login", "fix the login", Priority::Critical),
        ("important: renew passport", "renew passport", Priority::High),
        ("renew passport important!", "renew passport", Priority::High),
        ("fix login !!!", "fix login", Priority::Critical),
        ("!! fix login", "fix login", Priority::High),
        ("urgent add a task to fix login tomorrow", "fix login", Priority::Critical),
    ] {
        let t = p(text);
        assert_eq!((t.title.as_str(), t.priority), (title, Some(pr)), "{text}");
    }
    // Urgent care is a place.
    let t = p("urgent care appointment tomorrow");
    assert_eq!((t.title.as_str(), t.priority), ("urgent care appointment", None));
    let t = p("urgent: urgent care visit");
    assert_eq!((t.title.as_str(), t.priority), ("urgent care visit", Some(Priority::Critical)));
}

#[test]
fn conversational_openers() {
    for text in [
        "add a task to call mom",
        "add task to call mom",
        "add a reminder to call mom",
        "remind me to call mom",
        "don't forget to call mom",
        "Dont forget to call mom",
        "do not forget to call mom",
        "remember to call mom",
        "I need to call mom",
        "i have to call mom",
        "I must call mom",
        "need to call mom",
        "please call mom",
        "todo: call mom",
        "TODO: call mom",
        "to do: call mom",
        "task: call mom",
        "please remind me to call mom",
    ] {
        assert_eq!(p(text).title, "call mom", "{text}");
    }
    // Only at the start, `todo` only with its colon, `don't forget` only
    // with `to` or a colon.
    assert_eq!(p("todo list cleanup").title, "todo list cleanup");
    assert_eq!(p("don't forget: call mom").title, "call mom");
    assert_eq!(p("don't forget the milk").title, "don't forget the milk");
    assert_eq!(p("tell Ann I need to leave").title, "tell Ann I need to leave");
}

#[test]
fn times_in_other_zones_move_into_the_users() {
    let at = |text: &str, tz: Tz| {
        let t = p_at(text, sat(), tz);
        (t.title, t.due_date, t.due_time)
    };
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
    let h = |hh, mm| NaiveTime::from_hms_opt(hh, mm, 0);
    // 3pm in Los Angeles on 21 February is 23:00 UTC, midnight in Berlin.
    assert_eq!(at("call Anna at 3pm PST", Tz::UTC), ("call Anna".into(), d(2026, 2, 21), h(23, 0)));
    assert_eq!(at("call Anna at 3pm PST", Tz::Europe__Berlin), ("call Anna".into(), d(2026, 2, 22), h(0, 0)));
    assert_eq!(at("call Anna at 3pm CET", Tz::UTC), ("call Anna".into(), d(2026, 2, 21), h(14, 0)));
    assert_eq!(at("call Anna at 15:00 UTC+2", Tz::UTC), ("call Anna".into(), d(2026, 2, 21), h(13, 0)));
    assert_eq!(at("call Anna at 15:00 GMT-05:30", Tz::UTC), ("call Anna".into(), d(2026, 2, 21), h(20, 30)));
    assert_eq!(at("call Anna 3pm utc", Tz::Asia__Tokyo), ("call Anna".into(), d(2026, 2, 22), h(0, 0)));
    // 9am in Paris has passed (it is 11:30 there): tomorrow 9am Paris.
    assert_eq!(at("call Anna at 9am Europe/Paris", Tz::UTC), ("call Anna".into(), d(2026, 2, 22), h(8, 0)));
    assert_eq!(at("call Anna tomorrow at 9am EST", Tz::UTC), ("call Anna".into(), d(2026, 2, 22), h(14, 0)));
    assert_eq!(at("call Anna at 10am america/new_york", Tz::UTC), ("call Anna".into(), d(2026, 2, 21), h(15, 0)));
    // A zone in a rule moves the first occurrence; the rule keeps its days.
    let t = p_at("call mom every monday at 9am PST", sat(), Tz::Europe__Berlin);
    assert_eq!(
        (t.due_date, t.due_time, t.recurrence.as_deref()),
        (d(2026, 2, 23), h(18, 0), Some("FREQ=WEEKLY;BYDAY=MO"))
    );
    // Alone, a zone word is a title word.
    assert_eq!(at("PST meeting notes", Tz::UTC), ("PST meeting notes".into(), None, None));
}

#[test]
fn bare_hours_read_as_people_mean_them() {
    let h = |hh, mm| NaiveTime::from_hms_opt(hh, mm, 0);
    assert_eq!((p("meeting at 5 tomorrow").title.as_str(), p("meeting at 5 tomorrow").due_time), ("meeting", h(17, 0)));
    for (text, hh, mm) in [
        ("meet at 1", 13, 0),
        ("meet at 7", 19, 0),
        ("meet at 8", 8, 0),
        ("meet at 11", 11, 0),
        ("meet at 12", 12, 0),
        ("meet at 0", 0, 0),
        ("meet at 05", 5, 0),
        ("meet at 17", 17, 0),
        ("meet at 6:45", 18, 45),
        ("meet at 06:45", 6, 45),
        ("meet at 7am", 7, 0),
    ] {
        assert_eq!(p(text).due_time, h(hh, mm), "{text}");
    }
}

#[test]
fn impossible_dates_and_times_name_the_problem() {
    for (text, message) in [
        ("pay rent feb 30", "February 30 does not exist"),
        ("pay rent 2026-02-30", "February 30, 2026 does not exist"),
        ("pay rent at 25:00", "25:00 is not a time of day"),
        ("pay rent 13pm", "13pm is not a time of day"),
        ("pay rent on 2/30", "February 30 does not exist"),
        ("pay rent on 13/13", "13/13 does not exist"),
        ("pay rent 2/30/2026", "February 30, 2026 does not exist"),
        ("pay rent every feb 30", "February 30 does not exist"),
    ] {
        assert_eq!(err(text).to_string(), message, "{text}");
    }
}
