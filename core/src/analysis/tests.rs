//! Table tests over realistic thoughts, and properties over any input.

#![allow(clippy::unwrap_used)]

use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::ids::{SuggestionId, ThoughtId, UserId};
use crate::quickadd::DateOrder;
use crate::suggestion::Suggestion;
use crate::task::Priority;
use crate::thought::{NewThought, Thought, ThoughtType};

/// Saturday 21 February 2026, 10:30 UTC.
fn ctx() -> AnalysisContext {
    AnalysisContext::utc(Utc.with_ymd_and_hms(2026, 2, 21, 10, 30, 0).unwrap())
}

fn date(m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2026, m, d)
}

#[test]
fn thought_types_by_table() {
    use ThoughtType::*;
    let table: &[(&str, ThoughtType, bool)] = &[
        ("call mom tomorrow", Task, true),
        ("Buy milk, eggs and bread", Task, true),
        ("I need to renew my passport before the trip", Task, true),
        ("need to finish the quarterly report by friday", Task, true),
        ("Todo: pay the electricity bill", Task, true),
        ("we should update the onboarding docs", Task, true),
        ("email the landlord about the broken heater", Task, true),
        ("fix the leaking kitchen tap", Task, true),
        ("remind me to water the plants on sunday", Reminder, true),
        ("Don't forget to pick up the dry cleaning", Reminder, true),
        ("remember to send Anna the slides", Reminder, true),
        ("dentist appointment next tuesday at 3pm", Reminder, true),
        ("What is the capital of Australia?", Question, false),
        ("why does the build take so long", Question, false),
        ("Should I switch to a standing desk?", Question, false),
        ("is the pharmacy open on sundays?", Question, false),
        ("Idea: an app that tracks houseplant watering", Idea, false),
        ("what if we ran the standup async", Question, false),
        ("it would be cool to have a podcast about rust", Idea, false),
        ("Today I had a great walk by the river and felt calm", Journal, false),
        ("I feel overwhelmed by everything this week", Journal, false),
        ("grateful for the sunny weather", Journal, false),
        ("The wifi password at the cafe is coffee123", Note, false),
        ("Anna's birthday is in march", Note, false),
        ("interesting article about sourdough starters", Note, false),
        ("", Note, false),
    ];
    for (text, kind, actionable) in table {
        let a = analyze(text, &ctx());
        assert_eq!(a.thought.thought_type, Some(*kind), "type of {text:?}");
        assert_eq!(a.thought.is_actionable, *actionable, "actionable {text:?}: {:?}", a.thought);
        assert_eq!(a.task.is_some(), *actionable, "task of {text:?}");
    }
}

#[test]
fn confidence_grows_with_the_signals() {
    let c = |t: &str| analyze(t, &ctx()).thought.actionable_confidence;
    assert!(c("buy milk") >= 0.7, "{}", c("buy milk"));
    assert!(c("I need to buy milk tomorrow") > c("buy milk"));
    assert!(c("I need to buy milk tomorrow") <= 0.95);
    assert!(c("I feel tired") < 0.5);
    assert!(c("note about nothing in particular") < 0.5);
}

#[test]
fn suggestions_carry_title_due_date_priority_and_effort() {
    struct Case {
        text: &'static str,
        title: &'static str,
        due: Option<NaiveDate>,
        priority: Priority,
        effort: i32,
    }
    let cases = [
        Case { text: "call mom tomorrow", title: "Call mom", due: date(2, 22), priority: Priority::Medium, effort: 15 },
        Case {
            text: "I need to finish the quarterly report by friday. The numbers are in the shared drive.",
            title: "Finish the quarterly report",
            due: date(2, 27),
            priority: Priority::Medium,
            effort: 120,
        },
        Case {
            text: "remind me to pay rent on march 1st",
            title: "Pay rent",
            due: date(3, 1),
            priority: Priority::Medium,
            effort: 15,
        },
        Case {
            text: "URGENT: fix the production database backup",
            title: "Fix the production database backup",
            due: None,
            priority: Priority::High,
            effort: 120,
        },
        Case {
            text: "Todo: buy groceries p1",
            title: "Buy groceries",
            due: None,
            priority: Priority::Critical,
            effort: 30,
        },
        Case {
            text: "someday organise the garage",
            title: "Organise the garage",
            due: None,
            priority: Priority::Low,
            effort: 60,
        },
        Case {
            text: "don't forget to book flights for the wedding next friday",
            title: "Book flights for the wedding",
            due: date(2, 27),
            priority: Priority::Medium,
            effort: 30,
        },
    ];
    for case in cases {
        let a = analyze(case.text, &ctx());
        let task = a.task.unwrap_or_else(|| panic!("no task for {:?}", case.text));
        assert_eq!(task.title, case.title, "{:?}", case.text);
        assert_eq!(task.due_date_hint, case.due, "{:?}", case.text);
        assert_eq!(task.priority, Some(case.priority), "{:?}", case.text);
        assert_eq!(task.estimated_effort_minutes, Some(case.effort), "{:?}", case.text);
        assert_eq!(task.confidence, a.thought.actionable_confidence);
        assert!(task.reasoning.as_deref().is_some_and(|r| r.starts_with("Local rules")));
    }
}

#[test]
fn the_description_keeps_the_whole_thought_when_the_title_is_only_part() {
    let a = analyze("call the plumber. The sink is leaking again.", &ctx());
    let task = a.task.unwrap();
    assert_eq!(task.title, "Call the plumber");
    assert_eq!(task.description.as_deref(), Some("call the plumber. The sink is leaking again."));
    let short = analyze("call the plumber", &ctx()).task.unwrap();
    assert_eq!(short.description, None);
}

#[test]
fn tags_come_from_hashtags_then_topics() {
    let tags = |t: &str| analyze(t, &ctx()).thought.suggested_tags;
    assert_eq!(tags("call mom about dad's birthday"), vec!["family", "social"]);
    assert_eq!(tags("prepare slides for the client meeting #Q3"), vec!["q3", "work"]);
    assert_eq!(tags("pay the rent and the insurance bill"), vec!["finance"]);
    assert_eq!(tags("book a hotel and flights for the trip"), vec!["travel", "learning"]);
    assert_eq!(tags("#a #b #c #d #e #f #g buy milk"), vec!["a", "b", "c", "d", "e"]);
    assert!(tags("#123 issue").is_empty(), "a number is not a tag");
    assert!(tags("nothing to see").is_empty());
}

#[test]
fn tone_and_urgency() {
    let a = |t: &str| analyze(t, &ctx()).thought;
    assert_eq!(a("so happy and proud of the team").emotional_tone.as_deref(), Some("positive"));
    assert_eq!(a("stressed and tired").emotional_tone.as_deref(), Some("negative"));
    assert_eq!(a("great day but exhausted").emotional_tone.as_deref(), Some("mixed"));
    assert_eq!(a("the meeting is at noon").emotional_tone.as_deref(), Some("neutral"));
    assert_eq!(a("call the bank asap").urgency.as_deref(), Some("high"));
    assert_eq!(a("call the bank today").urgency.as_deref(), Some("high"));
    assert_eq!(a("call the bank on thursday").urgency.as_deref(), Some("medium"));
    assert_eq!(a("call the bank").urgency.as_deref(), Some("low"));
}

#[test]
fn topics_are_the_most_named_words() {
    let a = analyze("Sourdough starter notes: feed the starter daily, sourdough loves warmth", &ctx());
    assert_eq!(a.thought.related_topics[..2], ["sourdough".to_string(), "starter".to_string()]);
    assert!(keywords("the and for with").is_empty());
}

#[test]
fn dates_follow_the_owners_timezone_and_date_order() {
    let now = Utc.with_ymd_and_hms(2026, 2, 21, 23, 30, 0).unwrap();
    let mut ctx = AnalysisContext::utc(now);
    let utc = analyze("call mom tomorrow", &ctx).task.unwrap();
    assert_eq!(utc.due_date_hint, date(2, 22));
    ctx.tz = chrono_tz::Asia::Tokyo; // already Sunday there
    let tokyo = analyze("call mom tomorrow", &ctx).task.unwrap();
    assert_eq!(tokyo.due_date_hint, date(2, 23));
    ctx.options = ctx.options.with_date_order(DateOrder::DayMonth);
    let day_month = analyze("pay rent on 3/4", &ctx).task.unwrap();
    assert_eq!(day_month.due_date_hint, date(4, 3));
}

#[test]
fn the_rules_analyzer_answers_like_analyze() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let a = rt.block_on(Rules.analyze("buy milk", &ctx()));
    assert_eq!(a, analyze("buy milk", &ctx()));
    assert_eq!(Rules.name(), "rules");
}

#[test]
fn analysis_is_deterministic() {
    let text = "I need to email the client about the invoice tomorrow #work";
    assert_eq!(analyze(text, &ctx()), analyze(text, &ctx()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any text: no panic, confidences in range, tags valid, and whatever it
    /// proposes passes the records' own validation.
    #[test]
    fn never_panics_and_always_returns_valid_values(text in "\\PC{0,300}|[a-z #:.!?,\n]{0,120}") {
        let a = analyze(&text, &ctx());
        let t = &a.thought;
        prop_assert!((0.0..=1.0).contains(&t.actionable_confidence));
        prop_assert_eq!(t.is_actionable, t.actionable_confidence >= ACTIONABLE_AT);
        prop_assert!(t.suggested_tags.len() <= THOUGHT_TAGS_MAX);
        prop_assert!(t.related_topics.len() <= MAX_TOPICS);
        let now = ctx().now;
        if let Ok(mut thought) = Thought::capture(ThoughtId(uuid::Uuid::nil()), UserId(uuid::Uuid::nil()), NewThought::new(text.clone()), now) {
            prop_assert!(thought.record_analysis(t.clone(), now).is_ok(), "{:?}", t);
            if let Some(task) = a.task.clone() {
                let proposed = Suggestion::propose(SuggestionId(uuid::Uuid::nil()), thought.user_id, thought.id, task, now);
                prop_assert!(proposed.is_ok(), "{:?}", proposed);
            }
        }
        if let Some(task) = &a.task {
            prop_assert!(!task.title.is_empty() && task.title.chars().count() <= crate::task::TITLE_MAX);
            prop_assert!(task.estimated_effort_minutes.is_some_and(|m| m > 0));
            prop_assert!((0.0..=1.0).contains(&task.confidence));
        }
    }
}

#[test]
fn the_review_sums_up_recent_thoughts() {
    let thought = |text: &str| {
        Thought::capture(ThoughtId(uuid::Uuid::nil()), UserId(uuid::Uuid::nil()), NewThought::new(text), ctx().now)
            .unwrap()
    };
    let empty = review(&[], &ctx());
    assert_eq!(
        (empty.summary.as_str(), empty.thoughts_analyzed),
        ("No thoughts captured recently: nothing to reflect on yet.", 0)
    );
    let thoughts = [
        thought("call the sourdough supplier about the invoice"),
        thought("sourdough starter is bubbling nicely, so happy"),
        thought("why does sourdough need so long?"),
    ];
    let found = review(&thoughts, &ctx());
    assert_eq!(found.thoughts_analyzed, 3);
    assert_eq!(
        found.summary,
        "Looked at 3 recent thoughts: 1 task, 1 note, 1 question. Main themes: finance. 1 could become a task."
    );
    assert_eq!(found.patterns, vec!["You keep coming back to \"sourdough\" (3 thoughts).".to_string()]);
    assert_eq!(found.suggested_actions[0], "Turn into a task: Call the sourdough supplier about the invoice");
    assert_eq!(found.positives, vec!["1 of your recent thoughts is upbeat.".to_string()]);
    assert_eq!(found.tokens_used, 0);
}
