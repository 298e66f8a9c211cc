//! The in-memory store: the reference implementation of [`Store`], used by
//! tests, examples and the WASM build. It keeps everything in one mutex and
//! applies a write set to a copy of the state, swapping it in only when every
//! write succeeded, which makes each `apply` atomic. That copy costs O(n) per
//! write: fine for what this store is for, not for millions of records.
//!
//! `state` holds the tables, `apply` the write rules (references, owners,
//! versions, cascades), `queries` the reads and `queue` the work queue; this
//! file only locks and delegates.

mod apply;
mod queries;
mod queue;
mod state;

use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::agent::model::Usage;
use crate::agent::run::{AgentRun, Conversation, RunStep};
use crate::approval::Approval;
use crate::consciousness::{CheckQuery, ConsciousnessCheck};
use crate::error::Result;
use crate::event::{Event, EventQuery};
use crate::ids::{
    ApiKeyId, ApprovalId, CheckId, ConversationId, JobId, RunId, SuggestionId, TaskId, ThoughtId, UserId, WebhookId,
};
use crate::job::{Claim, Job, JobChange, JobQuery, JobState, LeaseToken, QueueStats};
use crate::query::{
    Page, PageRequest, Scored, StatsWindow, TaskGroup, TaskQuery, TaskStatistics, ThoughtQuery, ThoughtSearch,
};
use crate::search;
use crate::server_settings::{ServerSetting, ServerSettingsChange};
use crate::settings::{Profile, Settings};
use crate::store::{ApprovalQuery, Store, SuggestionQuery, Write};
use crate::suggestion::Suggestion;
use crate::task::{Task, TaskStatus};
use crate::thought::Thought;
use crate::user::{ApiKey, User};
use crate::webhook::Webhook;
use state::{State, keyset, paginate};

/// A [`Store`] in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.lock())
    }
}

#[cfg_attr(not(target_family = "wasm"), async_trait)]
#[cfg_attr(target_family = "wasm", async_trait(?Send))]
impl Store for MemoryStore {
    async fn apply(&self, writes: Vec<Write>) -> Result<()> {
        let mut state = self.lock();
        let mut next = state.clone();
        for write in writes {
            next.apply(write)?;
        }
        *state = next;
        Ok(())
    }

    async fn user(&self, id: UserId) -> Result<Option<User>> {
        Ok(self.read(|s| s.users.get(&id).cloned()))
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let email = email.trim().to_lowercase();
        Ok(self.read(|s| s.users.rows.values().find(|(_, u)| u.email == email).map(|(_, u)| u.clone())))
    }

    async fn users(&self, page: PageRequest) -> Result<Page<User>> {
        Ok(self.read(|s| paginate(s.users.sorted(|_| true).into_iter().map(|(_, u)| u).collect(), page)))
    }

    async fn first_admin(&self) -> Result<Option<User>> {
        Ok(self.read(State::first_admin))
    }

    async fn api_key(&self, owner: UserId, id: ApiKeyId) -> Result<Option<ApiKey>> {
        Ok(self.read(|s| s.keys.get(&id).filter(|k| k.user_id == owner).cloned()))
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        Ok(self.read(|s| {
            let keys = s.keys.sorted(|k| k.key_hash == key_hash && s.users.get(&k.user_id).is_some());
            keys.into_iter().next().map(|(_, k)| k)
        }))
    }

    async fn api_keys(&self, owner: UserId) -> Result<Vec<ApiKey>> {
        Ok(self.read(|s| s.keys.sorted(|k| k.user_id == owner).into_iter().map(|(_, k)| k).collect()))
    }

    async fn task(&self, owner: UserId, id: TaskId) -> Result<Option<Task>> {
        Ok(self.read(|s| s.tasks.get(&id).filter(|t| t.user_id == owner).cloned()))
    }

    async fn tasks(&self, owner: UserId, q: &TaskQuery) -> Result<Page<Task>> {
        let terms = q.text.as_deref().map(search::terms).unwrap_or_default();
        if q.text.is_some() && terms.is_empty() {
            return Ok(paginate(Vec::new(), q.page));
        }
        Ok(self.read(|s| s.tasks(owner, q, &terms)))
    }

    async fn tasks_after(&self, owner: UserId, after: Option<TaskId>, limit: u32) -> Result<Vec<Task>> {
        Ok(self.read(|s| keyset(&s.tasks, after, limit, |t| t.user_id == owner)))
    }

    async fn task_statistics(&self, owner: UserId, window: StatsWindow) -> Result<TaskStatistics> {
        Ok(self.read(|s| {
            let groups = s.tasks.rows.values().filter(|(_, t)| t.user_id == owner).map(|(_, t)| {
                let done_since = |from| t.status == TaskStatus::Done && t.completed_at.is_some_and(|at| at >= from);
                TaskGroup {
                    status: t.status,
                    priority: t.priority,
                    count: 1,
                    overdue: u64::from(t.is_overdue(window.today)),
                    completed_last_7_days: u64::from(done_since(window.week_ago())),
                    completed_last_30_days: u64::from(done_since(window.month_ago())),
                }
            });
            let late = s.jobs.values().filter(|j| {
                j.owner == Some(owner)
                    && j.kind == crate::job::kinds::TASK_AGENT
                    && j.state.is_pending()
                    && j.deadline < window.now
            });
            TaskStatistics::from_groups(groups, late.count() as u64)
        }))
    }

    async fn thoughts_after(&self, owner: UserId, after: Option<ThoughtId>, limit: u32) -> Result<Vec<Thought>> {
        Ok(self.read(|s| keyset(&s.thoughts, after, limit, |t| t.user_id == owner)))
    }

    async fn thought(&self, owner: UserId, id: ThoughtId) -> Result<Option<Thought>> {
        Ok(self.read(|s| s.thoughts.get(&id).filter(|t| t.user_id == owner).cloned()))
    }

    async fn thoughts(&self, owner: UserId, q: &ThoughtQuery) -> Result<Page<Thought>> {
        Ok(self.read(|s| s.thoughts(owner, q)))
    }

    async fn search_thoughts(&self, owner: UserId, q: &ThoughtSearch) -> Result<Page<Scored<Thought>>> {
        let terms = search::terms(&q.text);
        if terms.is_empty() {
            return Ok(paginate(Vec::new(), q.page));
        }
        Ok(self.read(|s| s.search_thoughts(owner, q, &terms)))
    }

    async fn suggestion(&self, owner: UserId, id: SuggestionId) -> Result<Option<Suggestion>> {
        Ok(self.read(|s| s.suggestions.get(&id).filter(|x| x.user_id == owner).cloned()))
    }

    async fn suggestions(&self, owner: UserId, q: &SuggestionQuery) -> Result<Vec<Suggestion>> {
        Ok(self.read(|s| s.suggestions(owner, q)))
    }

    async fn approval(&self, owner: UserId, id: ApprovalId) -> Result<Option<Approval>> {
        Ok(self.read(|s| s.approvals.get(&id).filter(|a| a.user_id == owner).cloned()))
    }

    async fn approvals(&self, owner: UserId, q: &ApprovalQuery) -> Result<Page<Approval>> {
        Ok(self.read(|s| s.approvals(owner, q)))
    }

    async fn conversation(&self, owner: UserId, id: ConversationId) -> Result<Option<Conversation>> {
        Ok(self.read(|s| s.conversations.get(&id).filter(|c| c.user_id == owner).cloned()))
    }

    async fn conversations(&self, owner: UserId, page: PageRequest) -> Result<Page<Conversation>> {
        Ok(self.read(|s| {
            let mut rows = s.conversations.sorted(|c| c.user_id == owner);
            rows.sort_by(|(a_seq, a), (b_seq, b)| b.updated_at.cmp(&a.updated_at).then(b_seq.cmp(a_seq)));
            paginate(rows.into_iter().map(|(_, c)| c).collect(), page)
        }))
    }

    async fn run(&self, owner: UserId, id: RunId) -> Result<Option<AgentRun>> {
        Ok(self.read(|s| s.runs.get(&id).filter(|r| r.user_id == owner).cloned()))
    }

    async fn runs(&self, owner: UserId, conversation: ConversationId) -> Result<Vec<AgentRun>> {
        Ok(self.read(|s| {
            let mut rows = s.runs.sorted(|r| r.user_id == owner && r.conversation_id == conversation);
            rows.sort_by(|(a_seq, a), (b_seq, b)| a.created_at.cmp(&b.created_at).then(a_seq.cmp(b_seq)));
            rows.into_iter().map(|(_, r)| r).collect()
        }))
    }

    async fn agent_usage(&self, owner: UserId) -> Result<Usage> {
        Ok(self.read(|s| {
            s.runs.rows.values().filter(|(_, r)| r.user_id == owner).fold(Usage::default(), |sum, (_, r)| sum + r.usage)
        }))
    }

    async fn run_steps(&self, owner: UserId, run: RunId) -> Result<Vec<RunStep>> {
        Ok(self.read(|s| {
            let mut steps: Vec<RunStep> =
                s.steps.sorted(|st| st.user_id == owner && st.run_id == run).into_iter().map(|(_, st)| st).collect();
            steps.sort_by_key(|st| st.seq);
            steps
        }))
    }

    async fn settings(&self, owner: UserId) -> Result<Option<Settings>> {
        Ok(self.read(|s| s.settings.get(&owner).cloned()))
    }

    async fn profile(&self, owner: UserId) -> Result<Option<Profile>> {
        Ok(self.read(|s| s.profiles.get(&owner).cloned()))
    }

    async fn consciousness_check(&self, owner: UserId, id: CheckId) -> Result<Option<ConsciousnessCheck>> {
        Ok(self.read(|s| s.checks.get(&id).filter(|c| c.user_id == owner).cloned()))
    }

    async fn consciousness_checks(&self, owner: UserId, q: &CheckQuery) -> Result<Vec<ConsciousnessCheck>> {
        Ok(self.read(|s| s.consciousness_checks(owner, q)))
    }

    async fn webhook(&self, owner: UserId, id: WebhookId) -> Result<Option<Webhook>> {
        Ok(self.read(|s| s.webhooks.get(&id).filter(|w| w.user_id == owner).cloned()))
    }

    async fn webhooks(&self, owner: UserId) -> Result<Vec<Webhook>> {
        Ok(self.read(|s| s.webhooks.sorted(|w| w.user_id == owner).into_iter().map(|(_, w)| w).collect()))
    }

    async fn events(&self, owner: UserId, q: &EventQuery) -> Result<Vec<Event>> {
        Ok(self.read(|s| s.events(owner, q)))
    }

    async fn enqueue(&self, jobs: Vec<Job>) -> Result<Vec<Job>> {
        let mut state = self.lock();
        let mut next = state.clone();
        let queued = jobs.into_iter().map(|job| next.enqueue(job)).collect::<Result<Vec<_>>>()?;
        *state = next;
        Ok(queued)
    }

    async fn claim_jobs(&self, claim: &Claim) -> Result<Vec<Job>> {
        Ok(self.lock().claim_jobs(claim))
    }

    async fn change_jobs(&self, changes: Vec<JobChange>) -> Result<Vec<bool>> {
        Ok(self.lock().change_jobs(changes))
    }

    async fn extend_leases(&self, leases: Vec<(JobId, LeaseToken)>, until: DateTime<Utc>) -> Result<Vec<bool>> {
        Ok(self.lock().extend_leases(leases, until))
    }

    async fn bury_lapsed_jobs(&self, now: DateTime<Utc>) -> Result<u64> {
        Ok(self.lock().bury_lapsed_jobs(now))
    }

    async fn job(&self, id: JobId) -> Result<Option<Job>> {
        Ok(self.read(|s| s.jobs.get(&id).cloned()))
    }

    async fn jobs(&self, q: &JobQuery) -> Result<Page<Job>> {
        Ok(self.read(|s| s.jobs(q)))
    }

    async fn queue_stats(&self, now: DateTime<Utc>) -> Result<QueueStats> {
        Ok(self.read(|s| s.queue_stats(now)))
    }

    async fn purge_jobs(&self, states: &[JobState], before: DateTime<Utc>) -> Result<u64> {
        Ok(self.lock().purge_jobs(states, before))
    }

    async fn server_settings(&self) -> Result<Vec<ServerSetting>> {
        Ok(self.read(|s| s.server_settings.clone()))
    }

    async fn change_server_settings(
        &self,
        change: ServerSettingsChange,
        by: Option<UserId>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let mut state = self.lock();
        let kept = &mut state.server_settings;
        for (name, value) in change.into_changes() {
            kept.retain(|s| s.name != name);
            if let Some(value) = value {
                kept.push(ServerSetting { name, value, changed_at: at, changed_by: by });
            }
        }
        kept.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(())
    }
}
