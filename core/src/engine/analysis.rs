//! Thought analysis as the queue runs it: analyse a captured thought (by
//! rules today, through the [`Analyzer`] seam), record what was found, and
//! act on it as the owner's settings say — merge auto-tags, link related
//! thoughts, and propose a task (`suggest`), create it (`auto_create`) or
//! do nothing (`disabled`). One write set; running it twice changes nothing
//! the second time.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{CONFLICT_RETRIES, Engine, event, retry_on_conflict};
use crate::access::Access;
use crate::analysis::{Analysis, AnalysisContext, Analyzer, keywords};
use crate::error::{Entity, Error, Result};
use crate::event::EventKind;
use crate::ids::{ThoughtId, UserId};
use crate::job::{Job, NewJob, kinds};
use crate::query::{PageRequest, Scored, SearchField, ThoughtSearch};
use crate::settings::{Settings, SuggestionMode};
use crate::store::{Record, SuggestionQuery, Write};
use crate::suggestion::{NewSuggestion, Suggestion};
use crate::task::{NewTask, Priority, Task};
use crate::thought::{THOUGHT_TAGS_MAX, Thought};
use crate::user::Principal;

/// How many related thoughts analysis links.
pub const RELATED_LINKS: usize = 5;
/// How many of a thought's keywords related-thought search looks for.
const RELATED_KEYWORDS: usize = 4;

/// What analysing a thought did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisOutcome {
    pub thought: Thought,
    /// The suggestion made (mode `suggest`).
    pub suggestion: Option<Suggestion>,
    /// The task created (mode `auto_create`).
    pub task: Option<Task>,
    /// The thought had been analysed before: nothing was written.
    pub already_analyzed: bool,
}

/// A `thought.analyze` job's payload.
#[derive(Debug, Clone, Copy, Deserialize)]
struct AnalysisJob {
    thought_id: ThoughtId,
    user_id: UserId,
}

impl Engine {
    /// Runs a `thought.analyze` job (what the worker's handler calls, as
    /// `Principal::system()`). `Ok(None)` when the thought was deleted
    /// since: nothing to do. A payload that is not a thought's is
    /// `Error::Invalid` (no retry can fix it).
    #[tracing::instrument(level = "info", name = "run_analysis_job", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn run_analysis_job(
        &self,
        p: &Principal,
        payload: &Value,
        analyzer: &dyn Analyzer,
    ) -> Result<Option<AnalysisOutcome>> {
        p.require(Access::OperateQueue)?;
        let job: AnalysisJob = serde_json::from_value(payload.clone())
            .map_err(|e| Error::invalid("payload", format!("not a thought.analyze payload: {e}")))?;
        match self.analyze_thought(p, job.user_id, job.thought_id, analyzer).await {
            Ok(outcome) => Ok(Some(outcome)),
            Err(Error::NotFound { entity: Entity::Thought }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The job that analyses `thought`: low class, one pending per thought.
    pub(super) fn analysis_job(&self, thought: &Thought, now: DateTime<Utc>) -> Result<Job> {
        let new = NewJob::new(kinds::THOUGHT_ANALYZE, json!({ "thought_id": thought.id, "user_id": thought.user_id }))
            .class(Priority::Low)
            .owner(thought.user_id)
            .unique_key(format!("{}:{}", kinds::THOUGHT_ANALYZE, thought.id));
        self.job_from(new, now)
    }

    /// Analyses `owner`'s thought with `analyzer` (in the owner's timezone
    /// and date order) and records it as [`Engine::apply_analysis`] does.
    /// What a `thought.analyze` job does, as `Principal::system()`.
    #[tracing::instrument(level = "info", name = "analyze_thought", skip_all, fields(user = %p.user_id, role = %p.role, thought = %id))]
    pub async fn analyze_thought(
        &self,
        p: &Principal,
        owner: UserId,
        id: ThoughtId,
        analyzer: &dyn Analyzer,
    ) -> Result<AnalysisOutcome> {
        let p = p.acting_for(owner)?;
        p.require_write()?;
        let thought = self.thought(&p, id).await?;
        if thought.analyzed_at.is_some() {
            return Ok(AnalysisOutcome { thought, suggestion: None, task: None, already_analyzed: true });
        }
        let settings = self.settings(&p).await?;
        let analysis = analyzer.analyze(&thought.content, &AnalysisContext::for_settings(&settings, self.now())).await;
        self.apply_analysis(&p, owner, id, analysis).await
    }

    /// Records an analysis computed elsewhere (a model, the rules): fills
    /// the thought's fields, adds the suggested tags to its own when
    /// `auto_tagging_enabled` (up to five), links related thoughts, and, if
    /// the proposed task's confidence reaches `suggestion_confidence_threshold`,
    /// makes a suggestion (`suggest`), or creates the task linked to the
    /// thought (`auto_create` with `auto_task_creation_enabled`; otherwise
    /// a suggestion). Events `thought.analyzed`, `suggestion.created`,
    /// `task.created`. A thought analysed before is left as it is, and a
    /// thought that already has a suggestion or a task gets no other.
    #[tracing::instrument(level = "info", name = "apply_analysis", skip_all, fields(user = %p.user_id, role = %p.role, thought = %id))]
    pub async fn apply_analysis(
        &self,
        p: &Principal,
        owner: UserId,
        id: ThoughtId,
        analysis: Analysis,
    ) -> Result<AnalysisOutcome> {
        let p = p.acting_for(owner)?;
        p.require_write()?;
        let settings = self.settings(&p).await?;
        retry_on_conflict!(None::<i64>, self.try_apply_analysis(&p, id, &analysis, &settings).await)
    }

    async fn try_apply_analysis(
        &self,
        p: &Principal,
        id: ThoughtId,
        analysis: &Analysis,
        settings: &Settings,
    ) -> Result<AnalysisOutcome> {
        let now = self.now();
        let before = self.thought(p, id).await?;
        if before.analyzed_at.is_some() {
            return Ok(AnalysisOutcome { thought: before, suggestion: None, task: None, already_analyzed: true });
        }
        let mut thought = before.clone();
        thought.record_analysis(analysis.thought.clone(), now)?;
        if settings.auto_tagging_enabled {
            for tag in &thought.suggested_tags {
                if thought.tags.len() < THOUGHT_TAGS_MAX && !thought.tags.contains(tag) {
                    thought.tags.push(tag.clone());
                }
            }
        }
        thought.related_thought_ids =
            self.related_thoughts(p, id, RELATED_LINKS as u32).await?.into_iter().map(|s| s.item.id).collect();
        let proposal = self.proposal(p, &before, analysis, settings).await?;
        let (mut suggestion, mut task) = (None, None);
        match (proposal, settings.task_suggestion_mode) {
            (Some(input), SuggestionMode::AutoCreate) if settings.auto_task_creation_enabled => {
                task = Some(Task::create(self.new_id(), p.user_id, task_input(input, id), now)?);
            }
            (Some(input), _) => suggestion = Some(Suggestion::propose(self.new_id(), p.user_id, id, input, now)?),
            (None, _) => {}
        }
        thought.task_id = task.as_ref().map(|t| t.id).or(thought.task_id);
        thought.touch(now);
        let mut writes = Vec::new();
        // A task first: the thought names it.
        if let Some(task) = &task {
            writes.push(Write::Insert(Record::Task(task.clone())));
            writes.push(event(
                p.user_id,
                Some(p),
                EventKind::TaskCreated,
                Entity::Task,
                task.id.0,
                None,
                Some(task),
                now,
            ));
        }
        writes.push(Write::Update { record: Record::Thought(thought.clone()), expected_version: Some(before.version) });
        if let Some(made) = &suggestion {
            writes.push(Write::Insert(Record::Suggestion(made.clone())));
            writes.push(event(
                p.user_id,
                Some(p),
                EventKind::SuggestionCreated,
                Entity::Suggestion,
                made.id.0,
                None,
                Some(made),
                now,
            ));
        }
        writes.push(event(
            p.user_id,
            Some(p),
            EventKind::ThoughtAnalyzed,
            Entity::Thought,
            id.0,
            Some(&before),
            Some(&thought),
            now,
        ));
        self.commit(writes).await?;
        Ok(AnalysisOutcome { thought, suggestion, task, already_analyzed: false })
    }

    /// The task to propose, if the settings want one, the analysis is sure
    /// enough, and the thought has no suggestion or task yet.
    async fn proposal(
        &self,
        p: &Principal,
        thought: &Thought,
        analysis: &Analysis,
        settings: &Settings,
    ) -> Result<Option<NewSuggestion>> {
        let Some(task) = analysis.task.clone() else { return Ok(None) };
        if settings.task_suggestion_mode == SuggestionMode::Disabled
            || task.confidence < settings.suggestion_confidence_threshold
            || thought.task_id.is_some()
        {
            return Ok(None);
        }
        let query =
            SuggestionQuery { thought: Some(thought.id), include_deleted: true, limit: 1, ..Default::default() };
        let earlier = self.store.suggestions(p.user_id, &query).await?;
        Ok(earlier.is_empty().then_some(task))
    }

    /// The owner's thoughts most like this one: a full-text search for each
    /// of its main keywords, scores summed, best first (then newest), at
    /// most `limit`; scores relative to the best, in (0, 1].
    #[tracing::instrument(level = "info", name = "related_thoughts", skip_all, fields(user = %p.user_id, role = %p.role, thought = %id))]
    pub async fn related_thoughts(&self, p: &Principal, id: ThoughtId, limit: u32) -> Result<Vec<Scored<Thought>>> {
        let thought = self.thought(p, id).await?;
        let mut found: Vec<Scored<Thought>> = Vec::new();
        for word in keywords(&thought.content).into_iter().take(RELATED_KEYWORDS) {
            let search = ThoughtSearch {
                text: word,
                fields: vec![SearchField::Content, SearchField::Tags],
                page: PageRequest { limit: 20, offset: 0 },
            };
            for hit in self.store.search_thoughts(p.user_id, &search).await?.items {
                if hit.item.id == id {
                    continue;
                }
                match found.iter_mut().find(|f| f.item.id == hit.item.id) {
                    Some(seen) => {
                        seen.match_score += hit.match_score;
                        for field in hit.matched_fields {
                            if !seen.matched_fields.contains(&field) {
                                seen.matched_fields.push(field);
                            }
                        }
                    }
                    None => found.push(hit),
                }
            }
        }
        found.sort_by(|a, b| b.match_score.total_cmp(&a.match_score).then(b.item.created_at.cmp(&a.item.created_at)));
        found.truncate(limit.clamp(1, 50) as usize);
        let best = found.first().map_or(1.0, |f| f.match_score);
        for f in &mut found {
            f.match_score = (f.match_score / best).clamp(f64::MIN_POSITIVE, 1.0);
        }
        Ok(found)
    }
}

fn task_input(s: NewSuggestion, thought: ThoughtId) -> NewTask {
    NewTask {
        title: s.title,
        description: s.description,
        priority: s.priority,
        due_date: s.due_date_hint,
        estimated_effort_minutes: s.estimated_effort_minutes,
        source_thought_id: Some(thought),
        ..NewTask::default()
    }
}
