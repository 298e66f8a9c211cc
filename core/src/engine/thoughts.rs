//! Thought and suggestion operations: capture, read, search, update, delete,
//! analysis results, and the suggestion lifecycle (propose, accept, reject,
//! soft delete, restore).

use super::{CONFLICT_RETRIES, Engine, check_version, event, retry_on_conflict};
use crate::error::{Entity, Error, FieldError, Result};
use crate::event::EventKind;
use crate::ids::{SuggestionId, ThoughtId};
use crate::query::{Page, PageRequest, Scored, SearchField, ThoughtQuery, ThoughtSearch};
use crate::store::{Record, SuggestionQuery, Write};
use crate::suggestion::{AcceptOverrides, NewSuggestion, Suggestion};
use crate::task::{NewTask, Task};
use crate::thought::{NewThought, Thought, ThoughtAnalysis, ThoughtPatch};
use crate::user::Principal;

impl Engine {
    /// Captures a thought: one write, no analysis. When the owner's settings
    /// want analysis, a low-class `thought.analyze` job is enqueued in the
    /// same write set (see [`Engine::analyze_thought`]).
    #[tracing::instrument(level = "info", name = "capture_thought", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn capture_thought(&self, p: &Principal, input: NewThought) -> Result<Thought> {
        p.require_write()?;
        let now = self.now();
        let thought = Thought::capture(self.new_id(), p.user_id, input, now)?;
        let captured = event(
            p.user_id,
            Some(p),
            EventKind::ThoughtCaptured,
            Entity::Thought,
            thought.id.0,
            None,
            Some(&thought),
            now,
        );
        let mut writes = vec![Write::Insert(Record::Thought(thought.clone())), captured];
        let settings = self.store.settings(p.user_id).await?;
        if settings.is_none_or(|s| s.wants_analysis()) {
            writes.push(Write::Enqueue(self.analysis_job(&thought, now)?));
        }
        self.commit(writes).await?;
        Ok(thought)
    }

    #[tracing::instrument(level = "info", name = "thought", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn thought(&self, p: &Principal, id: ThoughtId) -> Result<Thought> {
        self.store.thought(p.user_id, id).await?.ok_or(Error::not_found(Entity::Thought))
    }

    #[tracing::instrument(level = "info", name = "thoughts", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn thoughts(&self, p: &Principal, mut query: ThoughtQuery) -> Result<Page<Thought>> {
        query.tags = query.tags.iter().map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()).collect();
        self.store.thoughts(p.user_id, &query).await
    }

    /// Full-text search. `text` must have something in it; `fields` defaults
    /// to content and tags.
    #[tracing::instrument(level = "info", name = "search_thoughts", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn search_thoughts(
        &self,
        p: &Principal,
        text: &str,
        fields: &[SearchField],
        page: PageRequest,
    ) -> Result<Page<Scored<Thought>>> {
        if text.trim().is_empty() {
            return Err(Error::Invalid(vec![FieldError::query("q", "must not be empty")]));
        }
        let fields = if fields.is_empty() { vec![SearchField::Content, SearchField::Tags] } else { fields.to_vec() };
        let search = ThoughtSearch { text: text.trim().to_string(), fields, page };
        self.store.search_thoughts(p.user_id, &search).await
    }

    #[tracing::instrument(level = "info", name = "update_thought", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn update_thought(
        &self,
        p: &Principal,
        id: ThoughtId,
        patch: ThoughtPatch,
        if_match: Option<i64>,
    ) -> Result<Thought> {
        self.change_thought(p, id, EventKind::ThoughtUpdated, if_match, |t, _| t.apply(patch.clone())).await
    }

    /// Records what analysis found out about a thought.
    #[tracing::instrument(level = "info", name = "record_analysis", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn record_analysis(&self, p: &Principal, id: ThoughtId, analysis: ThoughtAnalysis) -> Result<Thought> {
        self.change_thought(p, id, EventKind::ThoughtAnalyzed, None, |t, now| t.record_analysis(analysis.clone(), now))
            .await
    }

    /// Read, change, write with the version read, recomputed on a lost race
    /// unless `if_match` made the write conditional.
    async fn change_thought(
        &self,
        p: &Principal,
        id: ThoughtId,
        kind: EventKind,
        if_match: Option<i64>,
        change: impl Fn(&mut Thought, chrono::DateTime<chrono::Utc>) -> Result<()>,
    ) -> Result<Thought> {
        p.require_write()?;
        retry_on_conflict!(if_match, {
            let now = self.now();
            let before = self.thought(p, id).await?;
            check_version(Entity::Thought, if_match, before.version)?;
            let mut thought = before.clone();
            change(&mut thought, now)?;
            thought.touch(now);
            let changed = event(p.user_id, Some(p), kind, Entity::Thought, id.0, Some(&before), Some(&thought), now);
            let write =
                Write::Update { record: Record::Thought(thought.clone()), expected_version: Some(before.version) };
            self.commit(vec![write, changed]).await.map(|()| thought)
        })
    }

    /// Deletes a thought. Tasks made from it stay (their `source_thought_id`
    /// becomes null); its suggestions go with it.
    #[tracing::instrument(level = "info", name = "delete_thought", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn delete_thought(&self, p: &Principal, id: ThoughtId, if_match: Option<i64>) -> Result<()> {
        p.require_write()?;
        let now = self.now();
        let before = self.thought(p, id).await?;
        check_version(Entity::Thought, if_match, before.version)?;
        let deleted =
            event(p.user_id, Some(p), EventKind::ThoughtDeleted, Entity::Thought, id.0, Some(&before), None, now);
        self.commit(vec![Write::Delete { entity: Entity::Thought, owner: p.user_id, id: id.0 }, deleted]).await
    }

    /// Proposes a task from a thought.
    #[tracing::instrument(level = "info", name = "suggest_task", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn suggest_task(&self, p: &Principal, thought: ThoughtId, input: NewSuggestion) -> Result<Suggestion> {
        p.require_write()?;
        self.thought(p, thought).await?;
        let now = self.now();
        let suggestion = Suggestion::propose(self.new_id(), p.user_id, thought, input, now)?;
        let created = event(
            p.user_id,
            Some(p),
            EventKind::SuggestionCreated,
            Entity::Suggestion,
            suggestion.id.0,
            None,
            Some(&suggestion),
            now,
        );
        self.commit(vec![Write::Insert(Record::Suggestion(suggestion.clone())), created]).await?;
        Ok(suggestion)
    }

    #[tracing::instrument(level = "info", name = "suggestion", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn suggestion(&self, p: &Principal, id: SuggestionId) -> Result<Suggestion> {
        self.store.suggestion(p.user_id, id).await?.ok_or(Error::not_found(Entity::Suggestion))
    }

    /// Open suggestions, most confident first.
    #[tracing::instrument(level = "info", name = "pending_suggestions", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn pending_suggestions(&self, p: &Principal, min_confidence: Option<f64>) -> Result<Vec<Suggestion>> {
        if min_confidence.is_some_and(|c| !(0.0..=1.0).contains(&c)) {
            return Err(Error::Invalid(vec![FieldError::query("min_confidence", "must be between 0 and 1")]));
        }
        let query = SuggestionQuery { open_only: true, min_confidence, ..SuggestionQuery::default() };
        self.store.suggestions(p.user_id, &query).await
    }

    /// Every suggestion, newest first.
    #[tracing::instrument(level = "info", name = "suggestion_history", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn suggestion_history(
        &self,
        p: &Principal,
        include_deleted: bool,
        limit: u32,
    ) -> Result<Vec<Suggestion>> {
        let query = SuggestionQuery { include_deleted, limit, ..SuggestionQuery::default() };
        self.store.suggestions(p.user_id, &query).await
    }

    #[tracing::instrument(level = "info", name = "suggestions_for_thought", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn suggestions_for_thought(&self, p: &Principal, thought: ThoughtId) -> Result<Vec<Suggestion>> {
        self.thought(p, thought).await?;
        let query = SuggestionQuery { thought: Some(thought), ..SuggestionQuery::default() };
        self.store.suggestions(p.user_id, &query).await
    }

    /// Accepts an open suggestion: creates the task (linked to the source
    /// thought), marks the suggestion accepted and links the thought to the
    /// task, all in one write. A decided suggestion is `InvalidTransition`.
    #[tracing::instrument(level = "info", name = "accept_suggestion", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn accept_suggestion(
        &self,
        p: &Principal,
        id: SuggestionId,
        overrides: AcceptOverrides,
    ) -> Result<(Task, Suggestion)> {
        p.require_write()?;
        retry_on_conflict!(None::<i64>, self.try_accept(p, id, overrides.clone()).await)
    }

    async fn try_accept(&self, p: &Principal, id: SuggestionId, o: AcceptOverrides) -> Result<(Task, Suggestion)> {
        let now = self.now();
        let before = self.suggestion(p, id).await?;
        let input = NewTask {
            title: o.title.unwrap_or_else(|| before.title.clone()),
            description: o.description.or_else(|| before.description.clone()),
            priority: Some(o.priority.unwrap_or(before.priority)),
            estimated_effort_minutes: o.estimated_effort_minutes.or(before.estimated_effort_minutes),
            due_date: o.due_date.or(before.due_date_hint),
            source_thought_id: Some(before.source_thought_id),
            ..NewTask::default()
        };
        let task = Task::create(self.new_id(), p.user_id, input, now)?;
        let mut suggestion = before.clone();
        suggestion.accept(task.id, now)?;
        suggestion.touch(now);
        let mut writes = vec![
            Write::Insert(Record::Task(task.clone())),
            Write::Update { record: Record::Suggestion(suggestion.clone()), expected_version: Some(before.version) },
            event(p.user_id, Some(p), EventKind::TaskCreated, Entity::Task, task.id.0, None, Some(&task), now),
            event(
                p.user_id,
                Some(p),
                EventKind::SuggestionAccepted,
                Entity::Suggestion,
                id.0,
                Some(&before),
                Some(&suggestion),
                now,
            ),
        ];
        if let Some(thought) = self.store.thought(p.user_id, before.source_thought_id).await? {
            let mut linked = thought.clone();
            linked.task_id = Some(task.id);
            linked.touch(now);
            writes.push(Write::Update { record: Record::Thought(linked), expected_version: Some(thought.version) });
        }
        self.commit(writes).await?;
        Ok((task, suggestion))
    }

    #[tracing::instrument(level = "info", name = "reject_suggestion", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn reject_suggestion(
        &self,
        p: &Principal,
        id: SuggestionId,
        reason: Option<String>,
    ) -> Result<Suggestion> {
        self.change_suggestion(p, id, EventKind::SuggestionRejected, |s, now| s.reject(reason.clone(), now)).await
    }

    /// Soft delete: hidden from lists, status kept, restorable.
    #[tracing::instrument(level = "info", name = "delete_suggestion", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn delete_suggestion(
        &self,
        p: &Principal,
        id: SuggestionId,
        reason: Option<String>,
    ) -> Result<Suggestion> {
        self.change_suggestion(p, id, EventKind::SuggestionDeleted, |s, now| s.delete(reason.clone(), now)).await
    }

    /// Undoes a soft delete (`Error::NotDeleted` if it was not deleted).
    #[tracing::instrument(level = "info", name = "restore_suggestion", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn restore_suggestion(&self, p: &Principal, id: SuggestionId) -> Result<Suggestion> {
        self.change_suggestion(p, id, EventKind::SuggestionRestored, |s, _| s.restore()).await
    }

    async fn change_suggestion(
        &self,
        p: &Principal,
        id: SuggestionId,
        kind: EventKind,
        change: impl Fn(&mut Suggestion, chrono::DateTime<chrono::Utc>) -> Result<()>,
    ) -> Result<Suggestion> {
        p.require_write()?;
        retry_on_conflict!(None::<i64>, {
            let now = self.now();
            let before = self.suggestion(p, id).await?;
            let mut suggestion = before.clone();
            match change(&mut suggestion, now) {
                Err(e) => Err(e),
                Ok(()) => {
                    suggestion.touch(now);
                    let changed = event(
                        p.user_id,
                        Some(p),
                        kind,
                        Entity::Suggestion,
                        id.0,
                        Some(&before),
                        Some(&suggestion),
                        now,
                    );
                    let write = Write::Update {
                        record: Record::Suggestion(suggestion.clone()),
                        expected_version: Some(before.version),
                    };
                    self.commit(vec![write, changed]).await.map(|()| suggestion)
                }
            }
        })
    }
}
