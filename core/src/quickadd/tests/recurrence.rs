//! Recurrence phrases, their RRULEs and their first occurrence.
//! "Now" is Saturday 2026-02-21 10:30 UTC unless said otherwise.

use super::{date, p, p_at, plain, time, utc};
use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;

/// Title, RRULE and due date of `text`.
fn rule(text: &str) -> (String, Option<String>, Option<NaiveDate>) {
    let t = p(text);
    (t.title, t.recurrence, t.due_date)
}

fn rr(text: &str) -> String {
    rule(text).1.unwrap_or_default()
}

#[test]
fn every_unit_and_its_adverb_start_today() {
    for (a, b, expect) in [
        ("every day", "daily", "FREQ=DAILY"),
        ("every week", "weekly", "FREQ=WEEKLY"),
        ("every month", "monthly", "FREQ=MONTHLY"),
        ("every year", "yearly", "FREQ=YEARLY"),
    ] {
        for text in [format!("water plants {a}"), format!("water plants {b}")] {
            assert_eq!(rule(&text), ("water plants".into(), Some(expect.into()), date(2026, 2, 21)), "{text}");
        }
    }
    assert_eq!(rr("renew annually"), "FREQ=YEARLY");
}

#[test]
fn every_week_with_a_passed_time_starts_tomorrow() {
    let t = p("review every week at 9am");
    assert_eq!((t.due_date, t.due_time), (date(2026, 2, 22), time(9, 0)));
}

#[test]
fn every_weekday_and_weekend() {
    assert_eq!(
        rule("standup every weekday"),
        ("standup".into(), Some("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR".into()), date(2026, 2, 23))
    );
    assert_eq!(rule("hike every weekend"), ("hike".into(), Some("FREQ=WEEKLY;BYDAY=SA,SU".into()), date(2026, 2, 21)));
}

#[test]
fn every_named_weekday() {
    assert_eq!(rule("gym every monday"), ("gym".into(), Some("FREQ=WEEKLY;BYDAY=MO".into()), date(2026, 2, 23)));
    assert_eq!(rr("gym every mondays"), "FREQ=WEEKLY;BYDAY=MO");
    assert_eq!(rule("gym every sat").2, date(2026, 2, 21));
}

#[test]
fn weekday_lists_with_commas_and_and_are_sorted_monday_first() {
    assert_eq!(rule("gym every mon, fri"), ("gym".into(), Some("FREQ=WEEKLY;BYDAY=MO,FR".into()), date(2026, 2, 23)));
    assert_eq!(rr("gym every friday and monday"), "FREQ=WEEKLY;BYDAY=MO,FR");
    assert_eq!(rr("gym every sun, wed & fri"), "FREQ=WEEKLY;BYDAY=WE,FR,SU");
    assert_eq!(rr("gym every mon tue"), "FREQ=WEEKLY;BYDAY=MO,TU");
}

#[test]
fn and_after_a_weekday_list_without_a_weekday_stays_in_the_title() {
    assert_eq!(
        rule("gym every monday and stretch"),
        ("gym and stretch".into(), Some("FREQ=WEEKLY;BYDAY=MO".into()), date(2026, 2, 23))
    );
}

#[test]
fn weekday_recurrence_today_depends_on_the_time() {
    assert_eq!(p("swim every saturday at 11am").due_date, date(2026, 2, 21));
    assert_eq!(p("swim every saturday at 9am").due_date, date(2026, 2, 28));
    assert_eq!(p("swim every saturday").due_date, date(2026, 2, 21));
}

#[test]
fn every_n_units_has_an_interval() {
    assert_eq!(rule("water every 3 days"), ("water".into(), Some("FREQ=DAILY;INTERVAL=3".into()), date(2026, 2, 21)));
    assert_eq!(rr("water every 2 weeks"), "FREQ=WEEKLY;INTERVAL=2");
    assert_eq!(rr("water every two months"), "FREQ=MONTHLY;INTERVAL=2");
    assert_eq!(rr("water every 4 years"), "FREQ=YEARLY;INTERVAL=4");
}

#[test]
fn interval_of_one_is_left_out() {
    assert_eq!(rr("water every 1 day"), "FREQ=DAILY");
    assert_eq!(rr("water every one week"), "FREQ=WEEKLY");
}

#[test]
fn every_other_is_an_interval_of_two() {
    assert_eq!(rr("sync every other week"), "FREQ=WEEKLY;INTERVAL=2");
    assert_eq!(rr("sync every other day"), "FREQ=DAILY;INTERVAL=2");
    assert_eq!(
        rule("sync every other monday"),
        ("sync".into(), Some("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO".into()), date(2026, 2, 23))
    );
}

#[test]
fn every_ordinal_is_monthly_by_month_day() {
    assert_eq!(
        rule("pay rent every 15th"),
        ("pay rent".into(), Some("FREQ=MONTHLY;BYMONTHDAY=15".into()), date(2026, 3, 15))
    );
    assert_eq!(rule("pay rent every 21st").2, date(2026, 2, 21));
    assert_eq!(rule("pay rent every 21st at 9am").2, date(2026, 3, 21));
    assert_eq!(rule("pay rent every 1st").2, date(2026, 3, 1));
}

#[test]
fn month_day_recurrence_falls_on_the_last_day_of_shorter_months() {
    // The 30th, or February's last day.
    assert_eq!(rule("close books every 30th").2, date(2026, 2, 28));
    assert_eq!(p_at("close books every 31st", utc(2026, 4, 1, 8, 0), Tz::UTC).due_date, date(2026, 4, 30));
}

#[test]
fn month_day_recurrence_rolls_over_the_year() {
    assert_eq!(p_at("pay every 5th", utc(2026, 12, 20, 8, 0), Tz::UTC).due_date, date(2027, 1, 5));
}

#[test]
fn explicit_date_wins_over_the_first_occurrence() {
    assert_eq!(rule("pay rent monthly on march 1"), ("pay rent".into(), Some("FREQ=MONTHLY".into()), date(2026, 3, 1)));
}

#[test]
fn recurrence_first_occurrence_uses_the_users_zone() {
    // 23:30 UTC Saturday is 08:30 Sunday in Tokyo.
    let t = p_at("gym every sunday at 8am", utc(2026, 2, 21, 23, 30), Tz::Asia__Tokyo);
    assert_eq!(t.due_date, date(2026, 3, 1));
    let t = p_at("gym every sunday at 9am", utc(2026, 2, 21, 23, 30), Tz::Asia__Tokyo);
    assert_eq!(t.due_date, date(2026, 2, 22));
}

#[test]
fn first_recurrence_wins() {
    assert_eq!(rule("sync daily weekly"), ("sync".into(), Some("FREQ=DAILY".into()), date(2026, 2, 21)));
}

#[test]
fn every_without_a_rule_stays_in_the_title() {
    plain("read every page", "read every page");
    plain("water every 0 days", "water every 0 days");
    plain("water every 3 hours", "water every 3 hours");
    plain("every", "every");
}

#[test]
fn weekly_rule_takes_on_weekday_list() {
    assert_eq!(
        rule("sync every 2 weeks on monday"),
        ("sync".into(), Some("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO".into()), date(2026, 2, 23))
    );
    assert_eq!(rr("sync every week on mon and fri"), "FREQ=WEEKLY;BYDAY=MO,FR");
    assert_eq!(rr("sync weekly on tuesday"), "FREQ=WEEKLY;BYDAY=TU");
}

#[test]
fn monthly_rule_takes_on_the_ordinal() {
    assert_eq!(
        rule("pay bills every month on the 1st"),
        ("pay bills".into(), Some("FREQ=MONTHLY;BYMONTHDAY=1".into()), date(2026, 3, 1))
    );
    assert_eq!(rr("pay bills monthly on 21st"), "FREQ=MONTHLY;BYMONTHDAY=21");
    assert_eq!(rr("pay bills every other month on the 5th"), "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=5");
}

#[test]
fn on_tail_that_is_not_a_rule_part_is_left_for_the_date() {
    // `on friday` after a daily rule is a date, which wins over the rule.
    assert_eq!(rule("sync every day on friday"), ("sync".into(), Some("FREQ=DAILY".into()), date(2026, 2, 27)));
    assert_eq!(rule("sync every monday on the 15th").1.as_deref(), Some("FREQ=WEEKLY;BYDAY=MO"));
}

#[test]
fn connectors_before_a_recurrence_are_dropped() {
    assert_eq!(rule("pay due every friday"), ("pay".into(), Some("FREQ=WEEKLY;BYDAY=FR".into()), date(2026, 2, 27)));
    assert_eq!(rule("yoga on every sat").0, "yoga");
}

#[test]
fn weekday_list_longer_than_a_phrase_can_be_is_still_taken_out() {
    let t = p("gym every mon tue thu fri mon tue thu fri mon tue thu fri mon tue thu fri mon fri");
    assert_eq!(t.title, "gym");
    assert_eq!(t.recurrence.as_deref(), Some("FREQ=WEEKLY;BYDAY=MO,TU,TH,FR"));
}

#[test]
fn every_rule_the_parser_writes_is_valid_and_agrees_with_the_rrule_engine() {
    use crate::recurrence::Recurrence;
    let phrases = [
        "x every monday",
        "x every weekday",
        "x every mon, wed and fri",
        "x every 15th",
        "x every 29th",
        "x every 30th",
        "x every 31st",
        "x every last friday",
        "x every 2nd tuesday",
        "x every 5th sunday",
        "x every last day of the month",
        "x every feb 29",
        "x every march 31",
        "x monthly on the 1st monday",
        "x every 2nd and 4th tuesday",
        "x every 1st & last friday",
        "x every 1st and 15th",
        "x every 15th and 31st",
    ];
    // One start a day for two years, a leap day among them.
    let mut day = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap_or_default();
    for _ in 0..730 {
        let now = utc(day.year(), day.month(), day.day(), 0, 0);
        for text in phrases {
            let t = p_at(text, now, Tz::UTC);
            let rule = t.recurrence.unwrap_or_default();
            let parsed = match Recurrence::parse(&rule) {
                Ok(r) => r,
                Err(e) => panic!("{text}: {rule} refused: {e}"),
            };
            let from_engine = day.pred_opt().and_then(|before| parsed.next_after(before, day));
            assert_eq!(t.due_date, from_engine, "{text} ({rule}) from {day}");
        }
        day = day.succ_opt().unwrap_or(day);
    }
}
