#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::*;
use crate::error::Error;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn job(new: NewJob) -> Result<Job> {
    Job::build(new, JobId(uuid::Uuid::from_u128(1)), t("2026-03-01T12:00:00Z"), &QueueConfig::default())
}

#[test]
fn deadline_is_runnable_time_plus_the_class_sla() {
    let now = t("2026-03-01T12:00:00Z");
    for (class, hours) in [(Priority::Critical, 0), (Priority::High, 1), (Priority::Medium, 4), (Priority::Low, 24)] {
        let j = job(NewJob::new("x", json!({})).class(class)).unwrap();
        assert_eq!(j.deadline, now + Duration::hours(hours), "{class}");
        assert_eq!(j.run_at, now);
    }
    let later = t("2026-03-02T08:00:00Z");
    let scheduled = job(NewJob::new("x", json!({})).class(Priority::High).run_at(later)).unwrap();
    assert_eq!(scheduled.deadline, later + Duration::hours(1), "the SLA starts when the job may run");
}

#[test]
fn bad_jobs_are_refused_with_every_reason() {
    let err = job(NewJob::new("Bad Kind!", json!({})).max_attempts(0).unique_key("k\0")).unwrap_err();
    let Error::Invalid(fields) = err else { panic!("expected Invalid") };
    let names: Vec<&str> = fields.iter().map(|f| f.loc[1].as_str()).collect();
    assert!(names.contains(&"kind") && names.contains(&"max_attempts") && names.contains(&"unique_key"), "{names:?}");
    assert!(matches!(job(NewJob::new("x", json!({ "a": ["ok", "nul\0"] }))), Err(Error::Invalid(_))));
    assert!(job(NewJob::new("x", json!({ "text": "a literal \\u0000 is fine" }))).is_ok());
    let big = "x".repeat(MAX_PAYLOAD_BYTES);
    assert!(matches!(job(NewJob::new("x", json!({ "big": big }))), Err(Error::Invalid(_))));
}

#[test]
fn backoff_doubles_within_its_jitter_band_and_caps() {
    let b = Backoff::default();
    for retry in 1..=20u32 {
        let full = (2_000.0 * 2f64.powi(retry as i32 - 1)).min(3_600_000.0);
        let low = b.delay(retry, 0.0).num_milliseconds() as f64;
        let high = b.delay(retry, 0.999_999).num_milliseconds() as f64;
        assert!((low - full / 2.0).abs() <= 1.0, "retry {retry}: {low} vs {}", full / 2.0);
        assert!((high - full).abs() <= 1.0 + full * 1e-6, "retry {retry}: {high} vs {full}");
    }
    let none = Backoff { jitter: 0.0, ..Backoff::default() };
    assert_eq!(none.delay(3, 0.7), Duration::seconds(8));
    assert_eq!(b.delay(u32::MAX, 0.5), Duration::minutes(45), "huge retry numbers stay capped");
}

fn running(attempts: u32, max: u32) -> Job {
    let mut j = job(NewJob::new("x", json!({})).max_attempts(max)).unwrap();
    j.state = JobState::Running;
    j.attempts = attempts;
    j.locked_by = Some("w1".into());
    j.lease_until = Some(t("2026-03-01T12:05:00Z"));
    j
}

#[test]
fn outcomes_become_the_right_state() {
    let now = t("2026-03-01T12:01:00Z");
    let cfg = QueueConfig::default();
    let ok = Outcome::Succeeded.change(&running(1, 3), now, &cfg, 0.5).unwrap();
    assert_eq!(
        (ok.state, ok.only_if.clone()),
        (JobState::Succeeded, Holder::Lease(LeaseToken { worker: "w1".into(), attempt: 1 }))
    );
    let retry = Outcome::Failed("boom".into()).change(&running(2, 3), now, &cfg, 0.0).unwrap();
    assert_eq!(retry.state, JobState::FailedRetrying);
    assert_eq!(retry.run_at, Some(now + Duration::seconds(2)), "second attempt failed: 4 s with jitter 0 → 2 s");
    let dead = Outcome::Failed("boom".into()).change(&running(3, 3), now, &cfg, 0.0).unwrap();
    assert_eq!((dead.state, dead.last_error.as_deref()), (JobState::Dead, Some("boom")));
    let fatal = Outcome::Fatal("bad payload".into()).change(&running(1, 3), now, &cfg, 0.0).unwrap();
    assert_eq!(fatal.state, JobState::Dead);
    let released = Outcome::Released.change(&running(1, 3), now, &cfg, 0.0).unwrap();
    assert_eq!((released.state, released.attempts, released.run_at), (JobState::Available, 0, Some(now)));
    let idle = job(NewJob::new("x", json!({}))).unwrap();
    assert!(matches!(Outcome::Succeeded.change(&idle, now, &cfg, 0.0), Err(Error::InvalidTransition { .. })));
}

#[test]
fn breaches_count_pending_jobs_past_deadline_and_late_finishes() {
    let mut j = job(NewJob::new("x", json!({})).class(Priority::High)).unwrap();
    assert!(!j.sla_breached(t("2026-03-01T12:59:00Z")));
    assert!(j.sla_breached(t("2026-03-01T13:01:00Z")));
    j.state = JobState::Succeeded;
    j.finished_at = Some(t("2026-03-01T12:30:00Z"));
    assert!(!j.sla_breached(t("2026-03-09T00:00:00Z")), "finished in time stays in time");
}
