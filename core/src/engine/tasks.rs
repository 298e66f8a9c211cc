//! Task operations: create (plain and quick-add), read, list, update, status
//! changes, completion with recurrence, delete.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::{CONFLICT_RETRIES, Engine, check_version, event, retry_on_conflict};
use crate::error::{Entity, Error, Result};
use crate::event::EventKind;
use crate::ids::TaskId;
use crate::job::{Job, NewJob, kinds};
use crate::query::{Page, StatsWindow, TaskQuery, TaskStatistics};
use crate::quickadd::{self, ParsedTask};
use crate::store::{Record, Write};
use crate::task::{Assignee, NewTask, Task, TaskPatch, TaskStatus};
use crate::user::Principal;

/// Sub-steps may nest, but not endlessly.
const MAX_DEPTH: usize = 32;

/// The result of completing a task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Completion {
    pub task: Task,
    /// The next occurrence, created in the same write, for a recurring task.
    pub next: Option<Task>,
}

/// A task made from a quick-add phrase, with what the parser understood.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuickAdd {
    pub task: Task,
    pub parsed: ParsedTask,
}

impl Engine {
    #[tracing::instrument(level = "info", name = "create_task", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn create_task(&self, p: &Principal, input: NewTask) -> Result<Task> {
        p.require_write()?;
        let now = self.now();
        let task = Task::create(self.new_id(), p.user_id, input, now)?;
        if let Some(parent) = task.parent_id {
            self.task(p, parent).await?;
        }
        if let Some(thought) = task.source_thought_id
            && self.store.thought(p.user_id, thought).await?.is_none()
        {
            return Err(Error::not_found(Entity::SourceThought));
        }
        let created =
            event(p.user_id, Some(p), EventKind::TaskCreated, Entity::Task, task.id.0, None, Some(&task), now);
        let mut writes = vec![Write::Insert(Record::Task(task.clone())), created];
        if task.assignee == Assignee::Agent && task.status.is_open() {
            writes.push(Write::Enqueue(self.agent_job(&task, now)?));
        }
        self.commit(writes).await?;
        Ok(task)
    }

    /// Parses `text` with the quick-add grammar in the owner's timezone and
    /// creates the task.
    #[tracing::instrument(level = "info", name = "quick_add", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn quick_add(&self, p: &Principal, text: &str) -> Result<QuickAdd> {
        self.quick_add_with(p, text, NewTask::default()).await
    }

    /// Quick-add where explicit fields win over what the phrase said: any
    /// field set in `overrides` replaces the parsed one (the title always
    /// comes from the phrase), and its tags are added to the phrase's
    /// `#tags`, skipping ones already there. One write, like any create.
    #[tracing::instrument(level = "info", name = "quick_add_with", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn quick_add_with(&self, p: &Principal, text: &str, overrides: NewTask) -> Result<QuickAdd> {
        p.require_write()?;
        let now = self.now();
        let settings = self.store.settings(p.user_id).await?;
        let (tz, options) = settings.map_or((chrono_tz::UTC, Default::default()), |s| (s.tz(), s.parse_options()));
        let parsed =
            quickadd::parse_with(text, now, tz, &options).map_err(|e| Error::invalid("text", e.to_string()))?;
        let task = self.create_task(p, merge_quick_add(&parsed, overrides)).await?;
        Ok(QuickAdd { task, parsed })
    }

    #[tracing::instrument(level = "info", name = "task", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn task(&self, p: &Principal, id: TaskId) -> Result<Task> {
        self.store.task(p.user_id, id).await?.ok_or(Error::not_found(Entity::Task))
    }

    #[tracing::instrument(level = "info", name = "tasks", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn tasks(&self, p: &Principal, mut query: TaskQuery) -> Result<Page<Task>> {
        query.tag = query.tag.map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty());
        query.text = query.text.filter(|t| !t.trim().is_empty());
        self.store.tasks(p.user_id, &query).await
    }

    /// The caller's tasks at a glance: by status and priority, overdue (as
    /// of the caller's today, in their timezone), completed in the last 7
    /// and 30 days, and agent tasks whose job is late.
    #[tracing::instrument(level = "info", name = "task_statistics", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn task_statistics(&self, p: &Principal) -> Result<TaskStatistics> {
        let now = self.now();
        let (_, today) = self.today(p.user_id, now).await?;
        self.store.task_statistics(p.user_id, StatsWindow { today, now }).await
    }

    /// A partial update. A status in the patch follows the status machine;
    /// moving to `done` completes the task (see [`Engine::complete_task`]).
    #[tracing::instrument(level = "info", name = "update_task", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn update_task(
        &self,
        p: &Principal,
        id: TaskId,
        patch: TaskPatch,
        if_match: Option<i64>,
    ) -> Result<Task> {
        p.require_write()?;
        retry_on_conflict!(if_match, self.try_update_task(p, id, patch.clone(), if_match).await).map(|c| c.task)
    }

    /// Moves a task through its status machine (`Error::InvalidTransition`
    /// for an illegal move).
    #[tracing::instrument(level = "info", name = "set_task_status", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn set_task_status(
        &self,
        p: &Principal,
        id: TaskId,
        status: TaskStatus,
        if_match: Option<i64>,
    ) -> Result<Completion> {
        p.require_write()?;
        let patch = TaskPatch { status: Some(status), ..TaskPatch::default() };
        retry_on_conflict!(if_match, self.try_update_task(p, id, patch.clone(), if_match).await)
    }

    /// Marks a task done. Completing a done task changes nothing; completing
    /// a recurring task creates its next occurrence in the same write, once,
    /// however many completes race.
    #[tracing::instrument(level = "info", name = "complete_task", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn complete_task(&self, p: &Principal, id: TaskId) -> Result<Completion> {
        p.require_write()?;
        retry_on_conflict!(None::<i64>, {
            let task = self.task(p, id).await?;
            if task.status == TaskStatus::Done {
                Ok(Completion { task, next: None })
            } else {
                let patch = TaskPatch { status: Some(TaskStatus::Done), ..TaskPatch::default() };
                self.try_update_task(p, id, patch, None).await
            }
        })
    }

    async fn try_update_task(
        &self,
        p: &Principal,
        id: TaskId,
        patch: TaskPatch,
        if_match: Option<i64>,
    ) -> Result<Completion> {
        let now = self.now();
        let before = self.task(p, id).await?;
        check_version(Entity::Task, if_match, before.version)?;
        let mut task = before.clone();
        let parent_changed = patch.parent_id.is_some() && patch.parent_id != before.parent_id;
        task.apply(patch, now)?;
        if parent_changed {
            self.check_parent(p, &task).await?;
        }
        task.touch(now);
        let completed = before.status != TaskStatus::Done && task.status == TaskStatus::Done;
        let kind = if completed { EventKind::TaskCompleted } else { EventKind::TaskUpdated };
        let mut writes = vec![
            Write::Update { record: Record::Task(task.clone()), expected_version: Some(before.version) },
            event(p.user_id, Some(p), kind, Entity::Task, id.0, Some(&before), Some(&task), now),
        ];
        if task.assignee == Assignee::Agent && before.assignee != Assignee::Agent && task.status.is_open() {
            writes.push(Write::Enqueue(self.agent_job(&task, now)?));
        }
        let next = if completed { self.next_occurrence(p, &task, now).await? } else { None };
        if let Some(next) = &next {
            writes.push(Write::Insert(Record::Task(next.clone())));
            writes.push(event(
                p.user_id,
                Some(p),
                EventKind::TaskCreated,
                Entity::Task,
                next.id.0,
                None,
                Some(next),
                now,
            ));
        }
        self.commit(writes).await?;
        Ok(Completion { task, next })
    }

    /// The job that puts the agent to work on `task`: the task's priority is
    /// the job's class; one pending job per task.
    fn agent_job(&self, task: &Task, now: DateTime<Utc>) -> Result<Job> {
        let new = NewJob::new(kinds::TASK_AGENT, json!({ "task_id": task.id, "user_id": task.user_id }))
            .class(task.priority)
            .owner(task.user_id)
            .unique_key(format!("{}:{}", kinds::TASK_AGENT, task.id));
        self.job_from(new, now)
    }

    async fn next_occurrence(&self, p: &Principal, done: &Task, now: DateTime<Utc>) -> Result<Option<Task>> {
        if done.recurrence.is_none() {
            return Ok(None);
        }
        let (_, today) = self.today(p.user_id, now).await?;
        done.next_occurrence(self.new_id(), today, now)
    }

    /// The new parent exists, is the owner's, and is not the task itself or
    /// one of its own sub-steps.
    async fn check_parent(&self, p: &Principal, task: &Task) -> Result<()> {
        let mut cursor = task.parent_id;
        for _ in 0..MAX_DEPTH {
            let Some(id) = cursor else { return Ok(()) };
            if id == task.id {
                return Err(Error::invalid("parent_id", "a task cannot be nested under its own sub-step"));
            }
            cursor = self.task(p, id).await?.parent_id;
        }
        Err(Error::invalid("parent_id", format!("sub-steps nest at most {MAX_DEPTH} levels deep")))
    }

    /// Deletes a task and its sub-steps.
    #[tracing::instrument(level = "info", name = "delete_task", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn delete_task(&self, p: &Principal, id: TaskId, if_match: Option<i64>) -> Result<()> {
        p.require_write()?;
        let now = self.now();
        let before = self.task(p, id).await?;
        check_version(Entity::Task, if_match, before.version)?;
        let deleted = event(p.user_id, Some(p), EventKind::TaskDeleted, Entity::Task, id.0, Some(&before), None, now);
        self.commit(vec![Write::Delete { entity: Entity::Task, owner: p.user_id, id: id.0 }, deleted]).await
    }
}

fn merge_quick_add(parsed: &ParsedTask, o: NewTask) -> NewTask {
    let mut tags = parsed.tags.clone();
    for tag in o.tags {
        if !tags.iter().any(|t| t.eq_ignore_ascii_case(tag.trim())) {
            tags.push(tag);
        }
    }
    NewTask {
        title: parsed.title.clone(),
        description: o.description,
        priority: o.priority.or(parsed.priority),
        due_date: o.due_date.or(parsed.due_date),
        due_time: o.due_time.or(parsed.due_time),
        recurrence: o.recurrence.or_else(|| parsed.recurrence.clone()),
        tags,
        parent_id: o.parent_id,
        estimated_effort_minutes: o.estimated_effort_minutes,
        assignee: o.assignee,
        source_thought_id: o.source_thought_id,
        metadata: o.metadata,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};

    use super::*;
    use crate::task::Priority;

    fn parsed(text: &str) -> ParsedTask {
        let now = Utc.with_ymd_and_hms(2026, 2, 21, 10, 30, 0).unwrap();
        quickadd::parse(text, now, chrono_tz::UTC).unwrap()
    }

    #[test]
    fn overrides_win_and_tags_accumulate_without_duplicates() {
        let phrase = parsed("fix bug tomorrow p3 #work");
        let overrides = NewTask {
            title: "ignored".into(),
            priority: Some(Priority::Critical),
            tags: vec!["WORK".into(), "urgent".into()],
            description: Some("details".into()),
            ..NewTask::default()
        };
        let task = merge_quick_add(&phrase, overrides);
        assert_eq!(task.title, "fix bug");
        assert_eq!(task.priority, Some(Priority::Critical));
        assert_eq!(task.due_date, NaiveDate::from_ymd_opt(2026, 2, 22));
        assert_eq!(task.tags, vec!["work".to_string(), "urgent".to_string()]);
        assert_eq!(task.description.as_deref(), Some("details"));
    }

    #[test]
    fn without_overrides_the_phrase_decides() {
        let phrase = parsed("standup every weekday at 9:30am #work p2");
        let task = merge_quick_add(&phrase, NewTask::default());
        assert_eq!((task.priority, task.due_date, task.due_time), (phrase.priority, phrase.due_date, phrase.due_time));
        assert_eq!((task.recurrence, task.tags), (phrase.recurrence.clone(), phrase.tags.clone()));
    }
}
