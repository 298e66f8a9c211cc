//! The in-memory store: the reference implementation of [`Store`], used by
//! tests, examples and the WASM build. It keeps everything in one mutex and
//! applies a write set to a copy of the state, swapping it in only when every
//! write succeeded, which makes each `apply` atomic. That copy costs O(n) per
//! write: fine for what this store is for, not for millions of records.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use async_trait::async_trait;
use uuid::Uuid;

use crate::approval::Approval;
use crate::error::{Conflict, Entity, Error, Result};
use crate::event::{Event, EventQuery};
use crate::ids::{ApiKeyId, ApprovalId, JobId, SuggestionId, TaskId, ThoughtId, UserId};
use crate::job::{Claim, ClassStats, Holder, Job, JobChange, JobQuery, JobState, LeaseToken, QueueStats};
use crate::query::{
    MAX_SEARCH_RESULTS, Page, PageRequest, Scored, SortOrder, TaskQuery, TaskSort, ThoughtQuery, ThoughtSearch,
    ThoughtSort,
};
use crate::search;
use crate::settings::{Profile, Settings};
use crate::store::{ApprovalQuery, Record, Store, SuggestionQuery, Write};
use crate::suggestion::Suggestion;
use crate::task::Priority;
use crate::task::Task;
use crate::thought::Thought;
use crate::user::{ApiKey, User};
use chrono::{DateTime, Utc};

/// Records of one kind with their insertion order.
#[derive(Debug, Clone)]
struct Table<K, V> {
    rows: HashMap<K, (u64, V)>,
}

impl<K: Hash + Eq + Copy, V: Clone> Table<K, V> {
    fn get(&self, k: &K) -> Option<&V> {
        self.rows.get(k).map(|(_, v)| v)
    }
    fn sorted(&self, mut keep: impl FnMut(&V) -> bool) -> Vec<(u64, V)> {
        let mut out: Vec<(u64, V)> = self.rows.values().filter(|(_, v)| keep(v)).cloned().collect();
        out.sort_by_key(|(seq, _)| *seq);
        out
    }
}

impl<K, V> Default for Table<K, V> {
    fn default() -> Self {
        Table { rows: HashMap::new() }
    }
}

#[derive(Debug, Clone, Default)]
struct State {
    next_seq: u64,
    users: Table<UserId, User>,
    keys: Table<ApiKeyId, ApiKey>,
    tasks: Table<TaskId, Task>,
    thoughts: Table<ThoughtId, Thought>,
    suggestions: Table<SuggestionId, Suggestion>,
    approvals: Table<ApprovalId, Approval>,
    settings: Table<UserId, Settings>,
    profiles: Table<UserId, Profile>,
    events: Vec<Event>,
    jobs: HashMap<JobId, Job>,
}

/// A [`Store`] in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&state)
    }
}

fn paginate<T>(items: Vec<T>, page: PageRequest) -> Page<T> {
    let total = items.len() as u64;
    let items =
        items.into_iter().skip(usize::try_from(page.offset).unwrap_or(usize::MAX)).take(page.limit as usize).collect();
    Page { items, total, offset: page.offset, limit: page.limit }
}

/// Up to `limit` rows with a key greater than `after`, in key order.
fn keyset<K: Hash + Eq + Copy + Ord, V: Clone>(
    table: &Table<K, V>,
    after: Option<K>,
    limit: u32,
    keep: impl Fn(&V) -> bool,
) -> Vec<V> {
    let mut rows: Vec<(K, &V)> = table
        .rows
        .iter()
        .filter(|(k, (_, v))| after.is_none_or(|a| **k > a) && keep(v))
        .map(|(k, (_, v))| (*k, v))
        .collect();
    rows.sort_by_key(|(k, _)| *k);
    rows.into_iter().take(limit as usize).map(|(_, v)| v.clone()).collect()
}

fn directed(ord: Ordering, order: SortOrder) -> Ordering {
    match order {
        SortOrder::Asc => ord,
        SortOrder::Desc => ord.reverse(),
    }
}

fn insert<K: Hash + Eq + Copy, V>(table: &mut Table<K, V>, entity: Entity, seq: u64, key: K, value: V) -> Result<()> {
    if table.rows.contains_key(&key) {
        return Err(Error::Conflict(Conflict::DuplicateId { entity }));
    }
    table.rows.insert(key, (seq, value));
    Ok(())
}

/// Replaces an owner's record, checking the version when asked.
fn update<K: Hash + Eq + Copy, V>(
    table: &mut Table<K, V>,
    entity: Entity,
    key: K,
    value: V,
    owner: impl Fn(&V) -> UserId,
    version: impl Fn(&V) -> Option<i64>,
    expected: Option<i64>,
) -> Result<()> {
    let Some((_, current)) = table.rows.get_mut(&key).filter(|(_, cur)| owner(cur) == owner(&value)) else {
        return Err(Error::not_found(entity));
    };
    if let (Some(expected), Some(actual)) = (expected, version(current))
        && expected != actual
    {
        return Err(Error::VersionConflict { entity, expected, actual });
    }
    *current = value;
    Ok(())
}

impl State {
    fn check_task_refs(&self, task: &Task) -> Result<()> {
        if task.parent_id.is_some_and(|p| self.tasks.get(&p).is_none()) {
            return Err(Error::not_found(Entity::Task));
        }
        if task.source_thought_id.is_some_and(|t| self.thoughts.get(&t).is_none()) {
            return Err(Error::not_found(Entity::SourceThought));
        }
        Ok(())
    }

    fn apply(&mut self, write: Write) -> Result<()> {
        self.next_seq += 1;
        let seq = self.next_seq;
        match write {
            Write::Insert(record) => self.insert(seq, record),
            Write::Update { record, expected_version } => self.update(record, expected_version),
            Write::Delete { entity, owner, id } => self.delete(entity, owner, id),
            Write::Append(event) => {
                let seq = i64::try_from(seq).map_err(|_| Error::Internal("event sequence overflow".into()))?;
                self.events.push(event.into_event(seq));
                Ok(())
            }
            Write::Enqueue(job) => {
                self.enqueue(job)?;
                Ok(())
            }
        }
    }

    /// The job as queued: `job`, or the pending one holding its unique key.
    fn enqueue(&mut self, job: Job) -> Result<Job> {
        if let Some(key) = &job.unique_key
            && let Some(existing) =
                self.jobs.values().find(|j| j.state.is_pending() && j.unique_key.as_ref() == Some(key))
        {
            return Ok(existing.clone());
        }
        if self.jobs.contains_key(&job.id) {
            return Err(Error::Conflict(Conflict::DuplicateId { entity: Entity::Job }));
        }
        self.jobs.insert(job.id, job.clone());
        Ok(job)
    }

    fn insert(&mut self, seq: u64, record: Record) -> Result<()> {
        match record {
            Record::User(u) => {
                if self.users.rows.values().any(|(_, x)| x.email == u.email) {
                    return Err(Error::Conflict(Conflict::UniqueField { entity: Entity::User, field: "email" }));
                }
                insert(&mut self.users, Entity::User, seq, u.id, u)
            }
            Record::ApiKey(k) => insert(&mut self.keys, Entity::ApiKey, seq, k.id, k),
            Record::Task(t) => {
                self.check_task_refs(&t)?;
                insert(&mut self.tasks, Entity::Task, seq, t.id, t)
            }
            Record::Thought(t) => {
                if t.task_id.is_some_and(|id| self.tasks.get(&id).is_none()) {
                    return Err(Error::not_found(Entity::Task));
                }
                insert(&mut self.thoughts, Entity::Thought, seq, t.id, t)
            }
            Record::Suggestion(s) => {
                if self.thoughts.get(&s.source_thought_id).is_none() {
                    return Err(Error::not_found(Entity::Thought));
                }
                insert(&mut self.suggestions, Entity::Suggestion, seq, s.id, s)
            }
            Record::Approval(a) => {
                if a.task_id.is_some_and(|t| self.tasks.get(&t).is_none()) {
                    return Err(Error::not_found(Entity::Task));
                }
                insert(&mut self.approvals, Entity::Approval, seq, a.id, a)
            }
            Record::Settings(s) => insert(&mut self.settings, Entity::Settings, seq, s.user_id, s),
            Record::Profile(p) => insert(&mut self.profiles, Entity::Profile, seq, p.user_id, p),
        }
    }

    fn update(&mut self, record: Record, expected: Option<i64>) -> Result<()> {
        match record {
            Record::User(u) => update(&mut self.users, Entity::User, u.id, u, |x| x.id, |_| None, None),
            Record::ApiKey(k) => update(&mut self.keys, Entity::ApiKey, k.id, k, |x| x.user_id, |_| None, None),
            Record::Task(t) => {
                self.check_task_refs(&t)?;
                update(&mut self.tasks, Entity::Task, t.id, t, |x| x.user_id, |x| Some(x.version), expected)
            }
            Record::Thought(t) => {
                if t.task_id.is_some_and(|id| self.tasks.get(&id).is_none()) {
                    return Err(Error::not_found(Entity::Task));
                }
                update(&mut self.thoughts, Entity::Thought, t.id, t, |x| x.user_id, |x| Some(x.version), expected)
            }
            Record::Suggestion(s) => {
                if s.created_task_id.is_some_and(|id| self.tasks.get(&id).is_none()) {
                    return Err(Error::not_found(Entity::Task));
                }
                update(&mut self.suggestions, Entity::Suggestion, s.id, s, |x| x.user_id, |x| Some(x.version), expected)
            }
            Record::Approval(a) => {
                if a.task_id.is_some_and(|id| self.tasks.get(&id).is_none()) {
                    return Err(Error::not_found(Entity::Task));
                }
                update(&mut self.approvals, Entity::Approval, a.id, a, |x| x.user_id, |x| Some(x.version), expected)
            }
            Record::Settings(s) => {
                update(&mut self.settings, Entity::Settings, s.user_id, s, |x| x.user_id, |x| Some(x.version), expected)
            }
            Record::Profile(p) => {
                update(&mut self.profiles, Entity::Profile, p.user_id, p, |x| x.user_id, |x| Some(x.version), expected)
            }
        }
    }

    fn delete(&mut self, entity: Entity, owner: UserId, id: Uuid) -> Result<()> {
        let missing = Error::not_found(entity);
        match entity {
            Entity::Task => {
                let root = TaskId(id);
                if self.tasks.get(&root).is_none_or(|t| t.user_id != owner) {
                    return Err(missing);
                }
                let mut doomed = vec![root];
                let mut i = 0;
                while let Some(parent) = doomed.get(i).copied() {
                    doomed.extend(
                        self.tasks.rows.values().filter(|(_, t)| t.parent_id == Some(parent)).map(|(_, t)| t.id),
                    );
                    i += 1;
                }
                for t in &doomed {
                    self.tasks.rows.remove(t);
                }
                for (_, s) in self.suggestions.rows.values_mut() {
                    if s.created_task_id.is_some_and(|t| doomed.contains(&t)) {
                        s.created_task_id = None;
                    }
                }
                for (_, th) in self.thoughts.rows.values_mut() {
                    if th.task_id.is_some_and(|t| doomed.contains(&t)) {
                        th.task_id = None;
                    }
                }
                for (_, a) in self.approvals.rows.values_mut() {
                    if a.task_id.is_some_and(|t| doomed.contains(&t)) {
                        a.task_id = None;
                    }
                }
                Ok(())
            }
            Entity::Thought => {
                let thought = ThoughtId(id);
                if self.thoughts.get(&thought).is_none_or(|t| t.user_id != owner) {
                    return Err(missing);
                }
                self.thoughts.rows.remove(&thought);
                for (_, t) in self.tasks.rows.values_mut() {
                    if t.source_thought_id == Some(thought) {
                        t.source_thought_id = None;
                    }
                }
                self.suggestions.rows.retain(|_, (_, s)| s.source_thought_id != thought);
                Ok(())
            }
            Entity::ApiKey => {
                let key = ApiKeyId(id);
                if self.keys.get(&key).is_none_or(|k| k.user_id != owner) {
                    return Err(missing);
                }
                self.keys.rows.remove(&key);
                Ok(())
            }
            other => Err(Error::Internal(format!("deleting a {other} is not supported"))),
        }
    }
}

fn task_order(a: &(u64, Task), b: &(u64, Task), sort: TaskSort, order: SortOrder) -> Ordering {
    let (ta, tb) = (&a.1, &b.1);
    let key = match sort {
        TaskSort::CreatedAt => ta.created_at.cmp(&tb.created_at),
        TaskSort::UpdatedAt => ta.updated_at.cmp(&tb.updated_at),
        TaskSort::Priority => ta.priority.rank().cmp(&tb.priority.rank()),
        TaskSort::Title => ta.title.to_ascii_lowercase().cmp(&tb.title.to_ascii_lowercase()),
        TaskSort::DueDate => match (ta.due_date, tb.due_date) {
            // Undated tasks come last whichever the direction.
            (None, None) => Ordering::Equal,
            (None, Some(_)) => return Ordering::Greater,
            (Some(_), None) => return Ordering::Less,
            (Some(x), Some(y)) => (x, ta.due_time).cmp(&(y, tb.due_time)),
        },
    };
    directed(key.then(a.0.cmp(&b.0)), order)
}

fn task_matches(t: &Task, owner: UserId, q: &TaskQuery, terms: &[String]) -> bool {
    t.user_id == owner
        && q.status.is_none_or(|s| t.status == s)
        && q.priority.is_none_or(|p| t.priority == p)
        && q.assignee.is_none_or(|a| t.assignee == a)
        && q.parent_id.is_none_or(|p| t.parent_id == Some(p))
        && q.tag.as_ref().is_none_or(|tag| t.tags.contains(tag))
        && q.due_before.is_none_or(|d| t.due_date.is_some_and(|due| due <= d))
        && q.due_after.is_none_or(|d| t.due_date.is_some_and(|due| due >= d))
        && (terms.is_empty() || {
            let words = search::words(&format!("{} {}", t.title, t.description.as_deref().unwrap_or("")));
            search::match_count(&words, terms).is_some()
        })
}

#[cfg_attr(not(target_family = "wasm"), async_trait)]
#[cfg_attr(target_family = "wasm", async_trait(?Send))]
impl Store for MemoryStore {
    async fn apply(&self, writes: Vec<Write>) -> Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
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

    async fn api_key(&self, owner: UserId, id: ApiKeyId) -> Result<Option<ApiKey>> {
        Ok(self.read(|s| s.keys.get(&id).filter(|k| k.user_id == owner).cloned()))
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        Ok(self.read(|s| s.keys.rows.values().find(|(_, k)| k.key_hash == key_hash).map(|(_, k)| k.clone())))
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
        Ok(self.read(|s| {
            let mut rows = s.tasks.sorted(|t| task_matches(t, owner, q, &terms));
            rows.sort_by(|a, b| task_order(a, b, q.sort_by, q.order));
            paginate(rows.into_iter().map(|(_, t)| t).collect(), q.page)
        }))
    }

    async fn tasks_after(&self, owner: UserId, after: Option<TaskId>, limit: u32) -> Result<Vec<Task>> {
        Ok(self.read(|s| keyset(&s.tasks, after, limit, |t| t.user_id == owner)))
    }

    async fn thoughts_after(&self, owner: UserId, after: Option<ThoughtId>, limit: u32) -> Result<Vec<Thought>> {
        Ok(self.read(|s| keyset(&s.thoughts, after, limit, |t| t.user_id == owner)))
    }

    async fn thought(&self, owner: UserId, id: ThoughtId) -> Result<Option<Thought>> {
        Ok(self.read(|s| s.thoughts.get(&id).filter(|t| t.user_id == owner).cloned()))
    }

    async fn thoughts(&self, owner: UserId, q: &ThoughtQuery) -> Result<Page<Thought>> {
        Ok(self.read(|s| {
            let mut rows = s.thoughts.sorted(|t| {
                t.user_id == owner
                    && q.status.is_none_or(|st| t.status == st)
                    && (q.tags.is_empty() || q.tags.iter().any(|tag| t.tags.contains(tag)))
            });
            rows.sort_by(|a, b| {
                let key = match q.sort_by {
                    ThoughtSort::CreatedAt => a.1.created_at.cmp(&b.1.created_at),
                    ThoughtSort::UpdatedAt => a.1.updated_at.cmp(&b.1.updated_at),
                };
                directed(key.then(a.0.cmp(&b.0)), q.order)
            });
            paginate(rows.into_iter().map(|(_, t)| t).collect(), q.page)
        }))
    }

    async fn search_thoughts(&self, owner: UserId, q: &ThoughtSearch) -> Result<Page<Scored<Thought>>> {
        let terms = search::terms(&q.text);
        if terms.is_empty() {
            return Ok(paginate(Vec::new(), q.page));
        }
        Ok(self.read(|s| {
            let mut hits: Vec<(usize, u64, Thought)> = Vec::new();
            for (seq, t) in s.thoughts.sorted(|t| t.user_id == owner) {
                let mut text = String::new();
                for field in &q.fields {
                    text.push(' ');
                    match field {
                        crate::query::SearchField::Content => text.push_str(&t.content),
                        crate::query::SearchField::Tags => text.push_str(&t.tags.join(" ")),
                    }
                }
                if let Some(n) = search::match_count(&search::words(&text), &terms) {
                    hits.push((n, seq, t));
                }
            }
            hits.sort_by(|a, b| b.0.cmp(&a.0).then(b.2.created_at.cmp(&a.2.created_at)).then(b.1.cmp(&a.1)));
            hits.truncate(MAX_SEARCH_RESULTS as usize);
            let raw: Vec<f64> = hits.iter().map(|h| h.0 as f64).collect();
            let scores = search::normalise(&raw);
            let scored = hits
                .into_iter()
                .zip(scores)
                .map(|((_, _, t), score)| Scored {
                    matched_fields: search::matched_fields(&t, &terms, &q.fields),
                    item: t,
                    match_score: score,
                })
                .collect();
            paginate(scored, q.page)
        }))
    }

    async fn suggestion(&self, owner: UserId, id: SuggestionId) -> Result<Option<Suggestion>> {
        Ok(self.read(|s| s.suggestions.get(&id).filter(|x| x.user_id == owner).cloned()))
    }

    async fn suggestions(&self, owner: UserId, q: &SuggestionQuery) -> Result<Vec<Suggestion>> {
        Ok(self.read(|s| {
            let mut rows = s.suggestions.sorted(|x| {
                x.user_id == owner
                    && q.thought.is_none_or(|t| x.source_thought_id == t)
                    && (!q.open_only || x.status.is_open())
                    && q.min_confidence.is_none_or(|c| x.confidence >= c)
                    && (q.include_deleted || !x.is_deleted)
            });
            rows.sort_by(|a, b| {
                let newest = b.1.created_at.cmp(&a.1.created_at).then(b.0.cmp(&a.0));
                if q.open_only { b.1.confidence.total_cmp(&a.1.confidence).then(newest) } else { newest }
            });
            rows.into_iter().take(q.effective_limit() as usize).map(|(_, x)| x).collect()
        }))
    }

    async fn approval(&self, owner: UserId, id: ApprovalId) -> Result<Option<Approval>> {
        Ok(self.read(|s| s.approvals.get(&id).filter(|a| a.user_id == owner).cloned()))
    }

    async fn approvals(&self, owner: UserId, q: &ApprovalQuery) -> Result<Page<Approval>> {
        Ok(self.read(|s| {
            let mut rows =
                s.approvals.sorted(|a| a.user_id == owner && q.status.is_none_or(|st| a.status_at(q.as_of) == st));
            rows.sort_by(|a, b| b.1.created_at.cmp(&a.1.created_at).then(b.0.cmp(&a.0)));
            paginate(rows.into_iter().map(|(_, a)| a).collect(), q.page)
        }))
    }

    async fn settings(&self, owner: UserId) -> Result<Option<Settings>> {
        Ok(self.read(|s| s.settings.get(&owner).cloned()))
    }

    async fn profile(&self, owner: UserId) -> Result<Option<Profile>> {
        Ok(self.read(|s| s.profiles.get(&owner).cloned()))
    }

    async fn events(&self, owner: UserId, q: &EventQuery) -> Result<Vec<Event>> {
        Ok(self.read(|s| {
            s.events
                .iter()
                .filter(|e| {
                    e.user_id == owner
                        && q.after_seq.is_none_or(|after| e.seq > after)
                        && q.entity.is_none_or(|en| e.entity == en)
                        && q.entity_id.is_none_or(|id| e.entity_id == id)
                        && q.since.is_none_or(|since| e.at >= since)
                })
                .take(q.effective_limit() as usize)
                .cloned()
                .collect()
        }))
    }

    async fn enqueue(&self, jobs: Vec<Job>) -> Result<Vec<Job>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = state.clone();
        let queued = jobs.into_iter().map(|job| next.enqueue(job)).collect::<Result<Vec<_>>>()?;
        *state = next;
        Ok(queued)
    }

    async fn claim_jobs(&self, claim: &Claim) -> Result<Vec<Job>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut ready: Vec<&Job> = state.jobs.values().filter(|j| claim.may_take(j)).collect();
        ready.sort_by(|a, b| crate::job::claim_order(a, b));
        let taken: Vec<Job> = ready.into_iter().take(claim.limit as usize).map(|j| claim.taken(j)).collect();
        for job in &taken {
            state.jobs.insert(job.id, job.clone());
        }
        Ok(taken)
    }

    async fn change_jobs(&self, changes: Vec<JobChange>) -> Result<Vec<bool>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        Ok(changes
            .into_iter()
            .map(|change| match state.jobs.get_mut(&change.id) {
                Some(job) if change.only_if.holds(job) => {
                    *job = change.applied_to(job);
                    true
                }
                _ => false,
            })
            .collect())
    }

    async fn extend_leases(&self, leases: Vec<(JobId, LeaseToken)>, until: DateTime<Utc>) -> Result<Vec<bool>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        Ok(leases
            .into_iter()
            .map(|(id, lease)| match state.jobs.get_mut(&id) {
                Some(job) if Holder::Lease(lease).holds(job) => {
                    job.lease_until = Some(until);
                    true
                }
                _ => false,
            })
            .collect())
    }

    async fn bury_lapsed_jobs(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut buried = 0;
        for job in state.jobs.values_mut() {
            if job.state == JobState::Running
                && job.lease_until.is_some_and(|l| l < now)
                && job.attempts >= job.max_attempts
            {
                job.state = JobState::Dead;
                job.last_error = Some(crate::job::LEASE_EXPIRED.into());
                job.locked_by = None;
                job.lease_until = None;
                job.updated_at = now;
                job.finished_at = Some(now);
                buried += 1;
            }
        }
        Ok(buried)
    }

    async fn job(&self, id: JobId) -> Result<Option<Job>> {
        Ok(self.read(|s| s.jobs.get(&id).cloned()))
    }

    async fn jobs(&self, q: &JobQuery) -> Result<Page<Job>> {
        Ok(self.read(|s| {
            let mut rows: Vec<Job> = s
                .jobs
                .values()
                .filter(|j| q.state.is_none_or(|st| j.state == st) && q.kind.as_ref().is_none_or(|k| *k == j.kind))
                .cloned()
                .collect();
            rows.sort_by_key(|j| std::cmp::Reverse(j.id));
            paginate(rows, q.page)
        }))
    }

    async fn queue_stats(&self, now: DateTime<Utc>) -> Result<QueueStats> {
        Ok(self.read(|s| {
            let classes = Priority::ALL
                .into_iter()
                .map(|class| {
                    let mut c = ClassStats::empty(class);
                    for j in s.jobs.values().filter(|j| j.class == class) {
                        c.add(j, now);
                    }
                    c
                })
                .collect();
            QueueStats { as_of: now, classes }
        }))
    }

    async fn purge_jobs(&self, states: &[JobState], before: DateTime<Utc>) -> Result<u64> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let was = state.jobs.len();
        state.jobs.retain(|_, j| !(states.contains(&j.state) && j.finished_at.is_some_and(|f| f < before)));
        Ok((was - state.jobs.len()) as u64)
    }
}
