//! The periodic sweeps the scheduler runs: reminders, approval expiry,
//! consciousness checks, retention. Each is idempotent, and the scheduler
//! runs each as a job holding a unique key, so one sweep of a kind runs at a
//! time across every process: that is what makes "one reminder per task,
//! never twice" hold without a lock.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

use super::{Engine, event};
use crate::access::Access;
use crate::error::{Entity, Result};
use crate::event::{EventKind, EventQuery};
use crate::ids::TaskId;
use crate::job::{NewJob, Sweep};
use crate::query::{PageRequest, TaskQuery};
use crate::task::{Priority, Task};
use crate::user::{Principal, User};

/// How far ahead a reminder looks.
pub const REMINDER_WINDOW: Duration = Duration::minutes(30);
/// The job kind of a user's periodic consciousness check (its handler comes
/// with the agent).
pub const CONSCIOUSNESS_JOB: &str = "agent.consciousness";

/// What a reminder event carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Reminder<'a> {
    task_id: TaskId,
    title: &'a str,
    due_at: DateTime<Utc>,
}

impl Engine {
    /// Runs one sweep (what a `scheduler.tick` job does); returns how many
    /// things it did (reminders sent, approvals expired, checks enqueued,
    /// jobs purged and buried).
    #[tracing::instrument(level = "info", name = "run_sweep", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn run_sweep(&self, p: &Principal, sweep: Sweep) -> Result<u64> {
        match sweep {
            Sweep::Reminders => self.send_due_reminders(p, REMINDER_WINDOW).await,
            Sweep::Approvals => self.expire_all_approvals(p).await,
            Sweep::Consciousness => self.schedule_consciousness_checks(p).await,
            Sweep::Retention { keep } => {
                let purged = self.purge_finished_jobs(p, keep).await?;
                Ok(purged + self.bury_lapsed_jobs(p).await?)
            }
        }
    }

    /// Every user, oldest first (the sweeps visit them all).
    async fn all_users(&self) -> Result<Vec<User>> {
        let mut users = Vec::new();
        let mut offset = 0;
        loop {
            let page = self.store.users(PageRequest { limit: 100, offset }).await?;
            let more = page.has_more();
            users.extend(page.items);
            if !more {
                return Ok(users);
            }
            offset += 100;
        }
    }

    /// Records one `task.reminder` event for each open task of every user
    /// that is due (date and time, in its owner's timezone) within `window`
    /// from now and has no reminder for that moment yet. Tasks with a due
    /// date but no time are not reminded. Returns how many were sent.
    #[tracing::instrument(level = "info", name = "send_due_reminders", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn send_due_reminders(&self, p: &Principal, window: Duration) -> Result<u64> {
        p.require(Access::OperateQueue)?;
        let now = self.now();
        let horizon = now + window;
        let mut sent = 0;
        for user in self.all_users().await? {
            let (tz, today) = self.today(user.id, now).await?;
            let last_day = horizon.with_timezone(&tz).date_naive();
            for task in self.tasks_due_between(&user, today, last_day).await? {
                let Some(due_at) = task.due_at(tz) else { continue };
                if due_at <= now || due_at > horizon || self.reminded(&task, due_at).await? {
                    continue;
                }
                let note = Reminder { task_id: task.id, title: &task.title, due_at };
                let ev = event(user.id, None, EventKind::TaskReminder, Entity::Task, task.id.0, None, Some(&note), now);
                self.commit(vec![ev]).await?;
                sent += 1;
            }
        }
        Ok(sent)
    }

    async fn tasks_due_between(&self, user: &User, first: NaiveDate, last: NaiveDate) -> Result<Vec<Task>> {
        let mut tasks = Vec::new();
        let mut offset = 0;
        loop {
            let query = TaskQuery {
                due_after: Some(first),
                due_before: Some(last),
                page: PageRequest { limit: 100, offset },
                ..TaskQuery::default()
            };
            let page = self.store.tasks(user.id, &query).await?;
            let more = page.has_more();
            tasks.extend(page.items.into_iter().filter(|t| t.status.is_open()));
            if !more {
                return Ok(tasks);
            }
            offset += 100;
        }
    }

    /// Whether a reminder for `task` due at `due_at` was already recorded.
    async fn reminded(&self, task: &Task, due_at: DateTime<Utc>) -> Result<bool> {
        let due = json!(due_at);
        let mut after_seq = None;
        loop {
            let query = EventQuery {
                after_seq,
                entity: Some(Entity::Task),
                entity_id: Some(task.id.0),
                since: None,
                limit: 1000,
            };
            let events = self.store.events(task.user_id, &query).await?;
            if events
                .iter()
                .any(|e| e.is(EventKind::TaskReminder) && e.after.as_ref().is_some_and(|a| a["due_at"] == due))
            {
                return Ok(true);
            }
            match events.last() {
                Some(last) if events.len() == 1000 => after_seq = Some(last.seq),
                _ => return Ok(false),
            }
        }
    }

    /// Writes down lapsed approvals as expired for every user; returns how many.
    #[tracing::instrument(level = "info", name = "expire_all_approvals", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn expire_all_approvals(&self, p: &Principal) -> Result<u64> {
        p.require(Access::OperateQueue)?;
        let mut expired = 0;
        for user in self.all_users().await? {
            loop {
                let n = self.expire_approvals(&user.principal()).await?;
                expired += n as u64;
                if n < 100 {
                    break;
                }
            }
        }
        Ok(expired)
    }

    /// Makes sure every user with consciousness checks enabled has one
    /// pending check, due one interval from now; returns how many were
    /// enqueued (users that already had one are left alone).
    #[tracing::instrument(level = "info", name = "schedule_consciousness_checks", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn schedule_consciousness_checks(&self, p: &Principal) -> Result<u64> {
        p.require(Access::OperateQueue)?;
        let now = self.now();
        let mut wanted = Vec::new();
        for user in self.all_users().await? {
            let settings = self.settings(&user.principal()).await?;
            if !settings.consciousness_check_enabled {
                continue;
            }
            let every = Duration::minutes(i64::from(settings.consciousness_check_interval_minutes.max(1)));
            let new = NewJob::new(CONSCIOUSNESS_JOB, json!({ "user_id": user.id }))
                .class(Priority::Low)
                .owner(user.id)
                .run_at(now + every)
                .unique_key(format!("{CONSCIOUSNESS_JOB}:{}", user.id));
            wanted.push(self.job_from(new, now)?);
        }
        if wanted.is_empty() {
            return Ok(0);
        }
        let ids: Vec<_> = wanted.iter().map(|j| j.id).collect();
        let queued = self.store.enqueue(wanted).await?;
        Ok(queued.iter().zip(ids).filter(|(q, id)| q.id == *id).count() as u64)
    }
}
