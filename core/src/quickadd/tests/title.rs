//! Titles, priorities, tags, connector words, openers, errors and the JSON
//! shape.

use super::{date, err, p, plain, time};
use crate::Priority;
use crate::quickadd::ParseError;

#[test]
fn p_levels_map_to_priorities() {
    for (text, pr) in [
        ("fix p1", Priority::Critical),
        ("fix p2", Priority::High),
        ("fix P3", Priority::Medium),
        ("fix p4", Priority::Low),
    ] {
        let t = p(text);
        assert_eq!((t.title.as_str(), t.priority), ("fix", Some(pr)), "{text}");
    }
}

#[test]
fn p_numbers_out_of_range_are_title_words() {
    plain("p5 fix", "p5 fix");
    plain("fix p0", "fix p0");
    plain("fix p12", "fix p12");
}

#[test]
fn level_priority_phrases() {
    for (text, pr) in [
        ("fix low priority", Priority::Low),
        ("fix medium priority", Priority::Medium),
        ("fix High Priority", Priority::High),
        ("fix critical priority", Priority::Critical),
        ("fix urgent priority", Priority::Critical),
        ("fix high-priority", Priority::High),
    ] {
        let t = p(text);
        assert_eq!((t.title.as_str(), t.priority), ("fix", Some(pr)), "{text}");
    }
}

#[test]
fn priority_words_alone_are_title_words() {
    plain("set priority", "set priority");
    plain("reply to urgent email", "reply to urgent email");
    plain("read important memo", "read important memo");
    plain("high five", "high five");
}

#[test]
fn first_priority_wins() {
    assert_eq!(p("fix p3 p1").priority, Some(Priority::Medium));
    assert_eq!(p("fix p3 p1").title, "fix");
}

#[test]
fn tags_are_lowercased_deduplicated_and_in_order() {
    let t = p("plan #Work trip #home #work #a-b_c");
    assert_eq!(t.title, "plan trip");
    assert_eq!(t.tags, vec!["work", "home", "a-b_c"]);
}

#[test]
fn tags_may_be_unicode_and_carry_trailing_punctuation() {
    let t = p("plan #Café, #日本.");
    assert_eq!(t.tags, vec!["café", "日本"]);
}

#[test]
fn hash_numbers_and_odd_hashes_stay_in_the_title() {
    plain("fix issue #123", "fix issue #123");
    plain("fix # now", "fix # now");
    plain("fix #a#b", "fix #a#b");
    plain("C# rocks", "C# rocks");
}

#[test]
fn connectors_before_dates_and_times_are_dropped() {
    assert_eq!(p("pay due friday").title, "pay");
    assert_eq!(p("pay due on friday").title, "pay");
    assert_eq!(p("pay by tomorrow").title, "pay");
    assert_eq!(p("pay on monday at 5pm").title, "pay");
}

#[test]
fn connectors_elsewhere_stay_in_the_title() {
    let t = p("meet at the park at 5pm");
    assert_eq!((t.title.as_str(), t.due_time), ("meet at the park", time(17, 0)));
    plain("turn on lights", "turn on lights");
    plain("pay dues by hand", "pay dues by hand");
    plain("due diligence", "due diligence");
}

#[test]
fn add_task_openers_are_dropped() {
    for text in [
        "add task buy milk",
        "Add a task buy milk",
        "add a new task: buy milk",
        "add new todo buy milk",
        "remind me to buy milk",
    ] {
        assert_eq!(p(text).title, "buy milk", "{text}");
    }
    let t = p("add low priority task buy milk");
    assert_eq!((t.title.as_str(), t.priority), ("buy milk", Some(Priority::Low)));
    let t = p("add a urgent priority task call bank");
    assert_eq!((t.title.as_str(), t.priority), ("call bank", Some(Priority::Critical)));
}

#[test]
fn add_without_task_is_a_title_word() {
    plain("add milk to list", "add milk to list");
    plain("remind me later", "remind me later");
    plain("buy milk add task", "buy milk add task");
}

#[test]
fn title_case_is_kept_and_whitespace_collapsed() {
    let t = p("  Email   BOB\tabout\n the Q3 plan  Tomorrow ");
    assert_eq!((t.title.as_str(), t.due_date), ("Email BOB about the Q3 plan", date(2026, 2, 22)));
}

#[test]
fn nothing_but_grammar_is_an_empty_title() {
    for text in ["", "   ", "tomorrow #x p2", "add task", "remind me to", "add task every day at 5pm", "due tomorrow"] {
        assert_eq!(err(text), ParseError::EmptyTitle, "{text:?}");
    }
}

#[test]
fn empty_title_error_message() {
    assert_eq!(ParseError::EmptyTitle.to_string(), "the task has no title once dates, tags and priority are taken out");
}

#[test]
fn words_brought_together_by_removal_are_taken_out_too() {
    // Taking `#x` out leaves `may 5`, which must not survive into the title.
    let t = p("buy may #x 5 paint");
    assert_eq!((t.title.as_str(), t.due_date), ("buy paint", date(2026, 5, 5)));
    let t = p("look at #x 5");
    assert_eq!((t.title.as_str(), t.due_time), ("look", time(17, 0)));
    assert_eq!(p("#x add task fix").title, "fix");
}

#[test]
fn json_has_the_documented_keys_in_order() {
    let t = p("standup every weekday at 9:30am #work p2");
    let json = serde_json::to_string(&t).unwrap_or_default();
    assert_eq!(
        json,
        r#"{"title":"standup","priority":"high","due_date":"2026-02-23","due_time":"09:30","tags":["work"],"recurrence":"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"}"#
    );
}

#[test]
fn json_uses_null_for_missing_parts() {
    let json = serde_json::to_string(&p("just a title")).unwrap_or_default();
    assert_eq!(
        json,
        r#"{"title":"just a title","priority":null,"due_date":null,"due_time":null,"tags":[],"recurrence":null}"#
    );
}

#[test]
fn huge_input_is_parsed_in_linear_time() {
    // Each removal brings the next `may 5` together; a pass-per-layer parser
    // would take quadratic time here.
    let text = format!("{}#x {}keep", "may ".repeat(5_000), "5 ".repeat(5_000));
    let t = p(&text);
    assert_eq!((t.title.as_str(), t.due_date), ("keep", date(2026, 5, 5)));
}
