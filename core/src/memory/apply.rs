//! Applying one write to the state: references first (each must exist and
//! belong to the writer's owner), then existence and owner, then the
//! expected version; cascades on delete. The order of checks is the one
//! every store follows, so all report the same error for the same write.

use std::hash::Hash;

use uuid::Uuid;

use super::state::{State, Table};
use crate::error::{Conflict, Entity, Error, Result};
use crate::ids::{ApiKeyId, ConversationId, RunId, TaskId, ThoughtId, UserId, WebhookId};
use crate::job::Job;
use crate::store::{Record, Write};

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
    /// Every record `record` names exists and is its owner's.
    fn check_references(&self, record: &Record) -> Result<()> {
        let owner = record.owner();
        for reference in record.references() {
            let holder = match reference.target() {
                Entity::Task => self.tasks.get(&TaskId(reference.id)).map(|t| t.user_id),
                Entity::Thought => self.thoughts.get(&ThoughtId(reference.id)).map(|t| t.user_id),
                Entity::Conversation => self.conversations.get(&ConversationId(reference.id)).map(|c| c.user_id),
                Entity::Run => self.runs.get(&RunId(reference.id)).map(|r| r.user_id),
                other => return Err(Error::Internal(format!("a reference to a {other} cannot be checked"))),
            };
            if holder != Some(owner) {
                return Err(Error::not_found(reference.entity));
            }
        }
        Ok(())
    }

    pub(super) fn apply(&mut self, write: Write) -> Result<()> {
        self.next_seq += 1;
        let seq = self.next_seq;
        match write {
            Write::Insert(record) => {
                self.check_references(&record)?;
                self.insert(seq, record)
            }
            Write::Update { record, expected_version } => {
                self.check_references(&record)?;
                self.update(record, expected_version)
            }
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
    pub(super) fn enqueue(&mut self, job: Job) -> Result<Job> {
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
                if self.users.rows.contains_key(&u.id) {
                    return Err(Error::Conflict(Conflict::DuplicateId { entity: Entity::User }));
                }
                if self.users.rows.values().any(|(_, x)| x.email == u.email) {
                    return Err(Error::Conflict(Conflict::UniqueField { entity: Entity::User, field: "email" }));
                }
                insert(&mut self.users, Entity::User, seq, u.id, u)
            }
            Record::ApiKey(k) => insert(&mut self.keys, Entity::ApiKey, seq, k.id, k),
            Record::Task(t) => insert(&mut self.tasks, Entity::Task, seq, t.id, t),
            Record::Thought(t) => insert(&mut self.thoughts, Entity::Thought, seq, t.id, t),
            Record::Suggestion(s) => insert(&mut self.suggestions, Entity::Suggestion, seq, s.id, s),
            Record::Approval(a) => insert(&mut self.approvals, Entity::Approval, seq, a.id, a),
            Record::Settings(s) => insert(&mut self.settings, Entity::Settings, seq, s.user_id, s),
            Record::Profile(p) => insert(&mut self.profiles, Entity::Profile, seq, p.user_id, p),
            Record::Conversation(c) => insert(&mut self.conversations, Entity::Conversation, seq, c.id, c),
            Record::Run(r) => insert(&mut self.runs, Entity::Run, seq, r.id, r),
            Record::Step(s) => {
                // Step n of a run is written once, whatever its id (as the
                // stores' unique (run_id, seq) keeps it).
                if self.steps.rows.values().any(|(_, x)| x.run_id == s.run_id && x.seq == s.seq) {
                    return Err(Error::Conflict(Conflict::DuplicateId { entity: Entity::Step }));
                }
                insert(&mut self.steps, Entity::Step, seq, s.id, s)
            }
            Record::ConsciousnessCheck(c) => insert(&mut self.checks, Entity::ConsciousnessCheck, seq, c.id, c),
            Record::Webhook(w) => insert(&mut self.webhooks, Entity::Webhook, seq, w.id, w),
        }
    }

    fn update(&mut self, record: Record, expected: Option<i64>) -> Result<()> {
        match record {
            Record::User(u) => update(&mut self.users, Entity::User, u.id, u, |x| x.id, |_| None, None),
            Record::ApiKey(k) => update(&mut self.keys, Entity::ApiKey, k.id, k, |x| x.user_id, |_| None, None),
            Record::Task(t) => {
                update(&mut self.tasks, Entity::Task, t.id, t, |x| x.user_id, |x| Some(x.version), expected)
            }
            Record::Thought(t) => {
                update(&mut self.thoughts, Entity::Thought, t.id, t, |x| x.user_id, |x| Some(x.version), expected)
            }
            Record::Suggestion(s) => {
                update(&mut self.suggestions, Entity::Suggestion, s.id, s, |x| x.user_id, |x| Some(x.version), expected)
            }
            Record::Approval(a) => {
                update(&mut self.approvals, Entity::Approval, a.id, a, |x| x.user_id, |x| Some(x.version), expected)
            }
            Record::Settings(s) => {
                update(&mut self.settings, Entity::Settings, s.user_id, s, |x| x.user_id, |x| Some(x.version), expected)
            }
            Record::Profile(p) => {
                update(&mut self.profiles, Entity::Profile, p.user_id, p, |x| x.user_id, |x| Some(x.version), expected)
            }
            Record::Conversation(c) => update(
                &mut self.conversations,
                Entity::Conversation,
                c.id,
                c,
                |x| x.user_id,
                |x| Some(x.version),
                expected,
            ),
            Record::ConsciousnessCheck(c) => update(
                &mut self.checks,
                Entity::ConsciousnessCheck,
                c.id,
                c,
                |x| x.user_id,
                |x| Some(x.version),
                expected,
            ),
            Record::Run(r) => {
                update(&mut self.runs, Entity::Run, r.id, r, |x| x.user_id, |x| Some(x.version), expected)
            }
            Record::Step(_) => Err(Error::Internal("a run step is never updated".into())),
            Record::Webhook(w) => {
                update(&mut self.webhooks, Entity::Webhook, w.id, w, |x| x.user_id, |x| Some(x.version), expected)
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
                for (_, r) in self.runs.rows.values_mut() {
                    if r.task_id.is_some_and(|t| doomed.contains(&t)) {
                        r.task_id = None;
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
            Entity::Conversation => {
                let conversation = ConversationId(id);
                if self.conversations.get(&conversation).is_none_or(|c| c.user_id != owner) {
                    return Err(missing);
                }
                self.conversations.rows.remove(&conversation);
                let runs: Vec<RunId> = self
                    .runs
                    .rows
                    .values()
                    .filter(|(_, r)| r.conversation_id == conversation)
                    .map(|(_, r)| r.id)
                    .collect();
                self.runs.rows.retain(|_, (_, r)| r.conversation_id != conversation);
                self.steps.rows.retain(|_, (_, s)| !runs.contains(&s.run_id));
                Ok(())
            }
            Entity::Webhook => {
                let hook = WebhookId(id);
                if self.webhooks.get(&hook).is_none_or(|w| w.user_id != owner) {
                    return Err(missing);
                }
                self.webhooks.rows.remove(&hook);
                Ok(())
            }
            other => Err(Error::Internal(format!("deleting a {other} is not supported"))),
        }
    }
}
