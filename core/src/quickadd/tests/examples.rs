//! The examples the issue requires, verbatim.

use super::{date, err, p, p_at, time, utc};
use crate::Priority;
use crate::quickadd::ParseError;
use chrono_tz::Tz;

#[test]
fn due_tomorrow_with_p2_is_high_priority_tomorrow() {
    let t = p("fix bug due tomorrow p2");
    assert_eq!(t.title, "fix bug");
    assert_eq!(t.priority, Some(Priority::High));
    assert_eq!(t.due_date, date(2026, 2, 22));
}

#[test]
fn add_level_priority_task_opener_sets_priority_and_is_dropped() {
    let t = p("add high priority task fix bug due tomorrow");
    assert_eq!(t.title, "fix bug");
    assert_eq!(t.priority, Some(Priority::High));
    assert_eq!(t.due_date, date(2026, 2, 22));
}

#[test]
fn tomorrow_at_5pm_with_tag() {
    let t = p("call mom tomorrow at 5pm #family");
    assert_eq!(t.title, "call mom");
    assert_eq!(t.due_date, date(2026, 2, 22));
    assert_eq!(t.due_time, time(17, 0));
    assert_eq!(t.tags, vec!["family"]);
}

#[test]
fn every_weekday_from_saturday_starts_monday() {
    let t = p("standup every weekday at 9:30am #work");
    assert_eq!(t.title, "standup");
    assert_eq!(t.due_date, date(2026, 2, 23));
    assert_eq!(t.due_time, time(9, 30));
    assert_eq!(t.recurrence.as_deref(), Some("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"));
    assert_eq!(t.tags, vec!["work"]);
}

#[test]
fn by_friday_p1_is_critical_next_friday() {
    let t = p("submit report by friday p1");
    assert_eq!(t.title, "submit report");
    assert_eq!(t.priority, Some(Priority::Critical));
    assert_eq!(t.due_date, date(2026, 2, 27));
}

#[test]
fn every_monday_and_thursday_starts_on_the_first_of_them() {
    let t = p("gym every monday and thursday at 7am");
    assert_eq!(t.title, "gym");
    assert_eq!(t.due_date, date(2026, 2, 23));
    assert_eq!(t.due_time, time(7, 0));
    assert_eq!(t.recurrence.as_deref(), Some("FREQ=WEEKLY;BYDAY=MO,TH"));
}

#[test]
fn passed_time_without_date_is_tomorrow_and_title_case_is_kept() {
    let t = p("email Bob at 9am");
    assert_eq!(t.title, "email Bob");
    assert_eq!(t.due_date, date(2026, 2, 22));
    assert_eq!(t.due_time, time(9, 0));
}

#[test]
fn remind_me_to_every_day_at_a_time_still_ahead_is_today() {
    let t = p("remind me to stretch every day at 11am");
    assert_eq!(t.title, "stretch");
    assert_eq!(t.due_date, date(2026, 2, 21));
    assert_eq!(t.due_time, time(11, 0));
    assert_eq!(t.recurrence.as_deref(), Some("FREQ=DAILY"));
}

#[test]
fn priority_alone_has_no_title() {
    assert_eq!(err("p1"), ParseError::EmptyTitle);
}

#[test]
fn tomorrow_is_relative_to_the_users_zone_not_utc() {
    let t = p_at("call dad tomorrow", utc(2026, 2, 21, 23, 30), Tz::America__New_York);
    assert_eq!(t.title, "call dad");
    assert_eq!(t.due_date, date(2026, 2, 22));
}
