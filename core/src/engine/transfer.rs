//! Import and export: tasks and thoughts as JSON Lines.
//!
//! The line format is [`Portable`]: the record as Steward serialises it,
//! tagged with `"type": "task"` or `"type": "thought"`. Exports list the
//! owner's thoughts first (so tasks' `source_thought_id` resolve on import),
//! each kind in id order. Imports accept the same lines, and also minimal
//! ones written by hand (`{"type":"task","title":"…"}`): every field except
//! the title/content is optional. Ids, versions, statuses and timestamps in
//! the input are kept, so an export re-imported into a database without
//! those ids round-trips tasks exactly and thoughts' own fields (content,
//! tags, context, status); what analysis found out about a thought is not
//! imported — it is derived, and analysis recomputes it.
//!
//! An import batch is one write set; when it fails as a whole (a duplicate
//! id, a reference that does not resolve) the batch is retried record by
//! record, so good lines land and bad ones are reported by line number.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Engine, event};
use crate::error::{Entity, Error, Result};
use crate::event::EventKind;
use crate::ids::{TaskId, ThoughtId};
use crate::store::{Record, Write};
use crate::task::{NewTask, Task, TaskStatus};
use crate::thought::{NewThought, Thought, ThoughtStatus};
use crate::user::Principal;

/// One exported line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Portable {
    Thought(Thought),
    Task(Task),
}

/// One imported line: what may be given, beyond the create fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Incoming {
    Task {
        id: Option<TaskId>,
        version: Option<i64>,
        status: Option<TaskStatus>,
        completed_at: Option<DateTime<Utc>>,
        created_at: Option<DateTime<Utc>>,
        updated_at: Option<DateTime<Utc>>,
        #[serde(flatten)]
        fields: NewTask,
    },
    Thought {
        id: Option<ThoughtId>,
        version: Option<i64>,
        status: Option<ThoughtStatus>,
        created_at: Option<DateTime<Utc>>,
        updated_at: Option<DateTime<Utc>>,
        #[serde(flatten)]
        fields: NewThought,
    },
}

/// What an import batch did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    pub imported: u64,
    /// `(line number, what was wrong)` for every line that did not land.
    pub failed: Vec<(u64, Error)>,
}

impl ImportReport {
    pub fn merge(&mut self, other: ImportReport) {
        self.imported += other.imported;
        self.failed.extend(other.failed);
    }
}

/// Where an export continues.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ExportCursor {
    #[default]
    Start,
    Thoughts(ThoughtId),
    TasksFrom(Option<TaskId>),
    Done,
}

impl Engine {
    /// The next page of an export (at most `limit` lines) and where to go
    /// on; [`ExportCursor::Done`] when everything was listed.
    #[tracing::instrument(level = "info", name = "export_page", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn export_page(
        &self,
        p: &Principal,
        cursor: ExportCursor,
        limit: u32,
    ) -> Result<(Vec<Portable>, ExportCursor)> {
        let limit = limit.clamp(1, 10_000);
        let thoughts_after = match cursor {
            ExportCursor::Done => return Ok((Vec::new(), ExportCursor::Done)),
            ExportCursor::Start => Some(None),
            ExportCursor::Thoughts(after) => Some(Some(after)),
            ExportCursor::TasksFrom(_) => None,
        };
        if let Some(after) = thoughts_after {
            let page = self.store.thoughts_after(p.user_id, after, limit).await?;
            let next = match page.last() {
                Some(last) if page.len() == limit as usize => ExportCursor::Thoughts(last.id),
                _ => ExportCursor::TasksFrom(None),
            };
            if !page.is_empty() {
                return Ok((page.into_iter().map(Portable::Thought).collect(), next));
            }
            return Box::pin(self.export_page(p, next, limit)).await;
        }
        let ExportCursor::TasksFrom(after) = cursor else { return Ok((Vec::new(), ExportCursor::Done)) };
        let page = self.store.tasks_after(p.user_id, after, limit).await?;
        let next = match page.last() {
            Some(last) if page.len() == limit as usize => ExportCursor::TasksFrom(Some(last.id)),
            _ => ExportCursor::Done,
        };
        Ok((page.into_iter().map(Portable::Task).collect(), next))
    }

    /// Imports numbered JSON lines as one batch (see the module docs).
    #[tracing::instrument(level = "info", name = "import_batch", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn import_batch(&self, p: &Principal, lines: Vec<(u64, String)>) -> Result<ImportReport> {
        p.require_write()?;
        let now = self.now();
        let mut report = ImportReport::default();
        let mut records: Vec<(u64, Record)> = Vec::with_capacity(lines.len());
        for (line, text) in lines {
            match self.import_record(p, &text, now) {
                Ok(record) => records.push((line, record)),
                Err(e) => report.failed.push((line, e)),
            }
        }
        let ids: HashSet<Uuid> = records.iter().map(|(_, r)| r.id()).collect();
        let mut checked = Vec::with_capacity(records.len());
        for (line, record) in records {
            match self.check_import_refs(p, &record, &ids).await {
                Ok(()) => checked.push((line, record)),
                Err(e) => report.failed.push((line, e)),
            }
        }
        let writes: Vec<Write> = checked.iter().flat_map(|(_, r)| import_writes(p, r.clone(), now)).collect();
        match self.commit(writes).await {
            Ok(()) => report.imported += checked.len() as u64,
            Err(Error::Unavailable(reason)) => return Err(Error::Unavailable(reason)),
            Err(_) => {
                for (line, record) in checked {
                    match self.commit(import_writes(p, record, now).to_vec()).await {
                        Ok(()) => report.imported += 1,
                        Err(e) => report.failed.push((line, e)),
                    }
                }
            }
        }
        report.failed.sort_by_key(|(line, _)| *line);
        Ok(report)
    }

    fn import_record(&self, p: &Principal, text: &str, now: DateTime<Utc>) -> Result<Record> {
        let incoming: Incoming = serde_json::from_str(text)
            .map_err(|e| Error::invalid("line", format!("not a task or thought line: {e}")))?;
        let stamp = |t: Option<DateTime<Utc>>| t.map(crate::clock::to_micros);
        match incoming {
            Incoming::Task { id, version, status, completed_at, created_at, updated_at, fields } => {
                let id = id.unwrap_or_else(|| self.new_id());
                let created = stamp(created_at).unwrap_or(now);
                let mut task = Task::create(id, p.user_id, fields, created)?;
                task.updated_at = stamp(updated_at).unwrap_or(created).max(created);
                task.status = status.unwrap_or(TaskStatus::Pending);
                task.completed_at =
                    (task.status == TaskStatus::Done).then(|| stamp(completed_at).unwrap_or(task.updated_at));
                task.version = version.unwrap_or(1).max(1);
                Ok(Record::Task(task))
            }
            Incoming::Thought { id, version, status, created_at, updated_at, fields } => {
                let id = id.unwrap_or_else(|| self.new_id());
                let created = stamp(created_at).unwrap_or(now);
                let mut thought = Thought::capture(id, p.user_id, fields, created)?;
                thought.updated_at = stamp(updated_at).unwrap_or(created).max(created);
                thought.status = status.unwrap_or_default();
                thought.version = version.unwrap_or(1).max(1);
                Ok(Record::Thought(thought))
            }
        }
    }

    /// A task's parent and source thought must be the owner's: already
    /// stored, or arriving in the same batch.
    async fn check_import_refs(&self, p: &Principal, record: &Record, batch: &HashSet<Uuid>) -> Result<()> {
        let Record::Task(task) = record else { return Ok(()) };
        if let Some(parent) = task.parent_id
            && !batch.contains(&parent.0)
        {
            self.task(p, parent).await?;
        }
        if let Some(thought) = task.source_thought_id
            && !batch.contains(&thought.0)
            && self.store.thought(p.user_id, thought).await?.is_none()
        {
            return Err(Error::not_found(Entity::SourceThought));
        }
        Ok(())
    }
}

/// The insert and its (snapshot-free, to keep bulk imports lean) event.
fn import_writes(p: &Principal, record: Record, now: DateTime<Utc>) -> [Write; 2] {
    let (kind, entity) = match record {
        Record::Task(_) => (EventKind::TaskImported, Entity::Task),
        _ => (EventKind::ThoughtImported, Entity::Thought),
    };
    let imported = event::<()>(p.user_id, Some(p), kind, entity, record.id(), None, None, now);
    [Write::Insert(record), imported]
}
