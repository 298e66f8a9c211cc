//! The memory store's reads: filters and orders written once in Rust, which
//! the SQL stores reproduce (the conformance suite checks they agree).

use std::cmp::Ordering;

use super::state::{State, directed, paginate};
use crate::approval::Approval;
use crate::consciousness::{CheckQuery, ConsciousnessCheck};
use crate::event::{Event, EventQuery};
use crate::ids::UserId;
use crate::query::{
    MAX_SEARCH_RESULTS, Page, Scored, SearchField, SortOrder, TaskQuery, TaskSort, ThoughtQuery, ThoughtSearch,
    ThoughtSort,
};
use crate::search;
use crate::store::{ApprovalQuery, SuggestionQuery};
use crate::suggestion::Suggestion;
use crate::task::Task;
use crate::thought::Thought;
use crate::user::{Role, User};

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

impl State {
    pub(super) fn first_admin(&self) -> Option<User> {
        self.users
            .sorted(|u| u.role == Role::Admin)
            .into_iter()
            .min_by(|a, b| a.1.created_at.cmp(&b.1.created_at).then(a.0.cmp(&b.0)))
            .map(|(_, u)| u)
    }

    pub(super) fn tasks(&self, owner: UserId, q: &TaskQuery, terms: &[String]) -> Page<Task> {
        let mut rows = self.tasks.sorted(|t| task_matches(t, owner, q, terms));
        rows.sort_by(|a, b| task_order(a, b, q.sort_by, q.order));
        paginate(rows.into_iter().map(|(_, t)| t).collect(), q.page)
    }

    pub(super) fn thoughts(&self, owner: UserId, q: &ThoughtQuery) -> Page<Thought> {
        let mut rows = self.thoughts.sorted(|t| {
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
    }

    pub(super) fn search_thoughts(&self, owner: UserId, q: &ThoughtSearch, terms: &[String]) -> Page<Scored<Thought>> {
        let mut hits: Vec<(usize, u64, Thought)> = Vec::new();
        for (seq, t) in self.thoughts.sorted(|t| t.user_id == owner) {
            let mut text = String::new();
            for field in &q.fields {
                text.push(' ');
                match field {
                    SearchField::Content => text.push_str(&t.content),
                    SearchField::Tags => text.push_str(&t.tags.join(" ")),
                }
            }
            if let Some(n) = search::match_count(&search::words(&text), terms) {
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
                matched_fields: search::matched_fields(&t, terms, &q.fields),
                item: t,
                match_score: score,
            })
            .collect();
        paginate(scored, q.page)
    }

    pub(super) fn suggestions(&self, owner: UserId, q: &SuggestionQuery) -> Vec<Suggestion> {
        let mut rows = self.suggestions.sorted(|x| {
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
    }

    pub(super) fn approvals(&self, owner: UserId, q: &ApprovalQuery) -> Page<Approval> {
        let mut rows =
            self.approvals.sorted(|a| a.user_id == owner && q.status.is_none_or(|st| a.status_at(q.as_of) == st));
        rows.sort_by(|a, b| b.1.created_at.cmp(&a.1.created_at).then(b.0.cmp(&a.0)));
        paginate(rows.into_iter().map(|(_, a)| a).collect(), q.page)
    }

    pub(super) fn consciousness_checks(&self, owner: UserId, q: &CheckQuery) -> Vec<ConsciousnessCheck> {
        let mut rows = self.checks.sorted(|c| c.user_id == owner && q.status.is_none_or(|st| c.status == st));
        rows.sort_by(|a, b| b.1.created_at.cmp(&a.1.created_at).then(b.0.cmp(&a.0)));
        rows.into_iter().take(q.effective_limit() as usize).map(|(_, c)| c).collect()
    }

    pub(super) fn events(&self, owner: UserId, q: &EventQuery) -> Vec<Event> {
        self.events
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
    }
}
