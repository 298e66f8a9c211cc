//! List filters both stores share: a `WHERE` clause assembled from fixed
//! fragments with its bind values ([`Filter`], [`Arg`]), and the filters of
//! the lists whose SQL is the same in both dialects (suggestions, approvals,
//! events). Where a filter restates a core rule (which suggestion statuses
//! are open, when a pending approval reads as expired) it is rendered from
//! core's definition here, once. Only fixed SQL fragments written in this
//! crate are ever concatenated; every value is a bind parameter.

use chrono::{DateTime, NaiveDate, Utc};
use steward_core::approval::ApprovalStatus;
use steward_core::consciousness::CheckQuery;
use steward_core::event::EventQuery;
use steward_core::store::{ApprovalQuery, SuggestionQuery};
use steward_core::suggestion::SuggestionStatus;
use uuid::Uuid;

use crate::schema::Placeholders;

/// A bind value; each dialect binds it as its column type (an instant is
/// unix microseconds in SQLite, `timestamptz` in PostgreSQL).
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Id(Uuid),
    Text(String),
    #[cfg_attr(not(feature = "postgres"), allow(dead_code, reason = "arrays are PostgreSQL's"))]
    Texts(Vec<String>),
    Int(i64),
    #[cfg_attr(not(feature = "postgres"), allow(dead_code, reason = "SQLite has one integer type"))]
    SmallInt(i16),
    Real(f64),
    #[cfg_attr(not(feature = "postgres"), allow(dead_code, reason = "SQLite filters dates as keys"))]
    Date(NaiveDate),
    Instant(DateTime<Utc>),
}

/// `clause AND clause AND …` and the values its placeholders stand for, in
/// order.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    sql: String,
    args: Vec<Arg>,
    style: Placeholders,
}

impl Filter {
    /// Every list is scoped to an owner first.
    pub(crate) fn owner(style: Placeholders, owner: Uuid) -> Filter {
        Filter { sql: format!("user_id = {}", style.nth(1)), args: vec![Arg::Id(owner)], style }
    }

    /// No restriction (the user list).
    pub(crate) fn everything(style: Placeholders) -> Filter {
        let sql = match style {
            Placeholders::Question => "1",
            Placeholders::Numbered => "true",
        };
        Filter { sql: sql.into(), args: Vec::new(), style }
    }

    /// Adds `AND (clause)`, where each `?` in `clause` stands for the next
    /// of `args` (and becomes the dialect's placeholder).
    pub(crate) fn and(&mut self, clause: &str, args: impl IntoIterator<Item = Arg>) -> &mut Filter {
        self.sql.push_str(" AND (");
        let mut n = self.args.len();
        for c in clause.chars() {
            if c == '?' {
                n += 1;
                self.sql.push_str(&self.style.nth(n));
            } else {
                self.sql.push(c);
            }
        }
        self.sql.push(')');
        self.args.extend(args);
        debug_assert_eq!(n, self.args.len(), "one arg per placeholder");
        self
    }

    /// The number the next bound value gets.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code, reason = "only numbered placeholders count"))]
    pub(crate) fn next(&self) -> usize {
        self.args.len() + 1
    }

    pub(crate) fn sql(&self) -> &str {
        &self.sql
    }

    pub(crate) fn args(&self) -> &[Arg] {
        &self.args
    }
}

/// `'a', 'b'`: a list of enum names as SQL literals (fixed names from core,
/// never input).
fn literals(names: impl IntoIterator<Item = &'static str>) -> String {
    names.into_iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
}

/// `status IN (…)` of the open suggestion statuses ([`SuggestionStatus::OPEN`]).
pub(crate) fn open_suggestions() -> String {
    format!("status IN ({})", literals(SuggestionStatus::OPEN.map(SuggestionStatus::as_str)))
}

/// The owner's suggestions `q` asks for, and their order.
pub(crate) fn suggestions(style: Placeholders, owner: Uuid, q: &SuggestionQuery) -> (Filter, &'static str) {
    let mut f = Filter::owner(style, owner);
    if let Some(thought) = q.thought {
        f.and("source_thought_id = ?", [Arg::Id(thought.0)]);
    }
    if q.open_only {
        f.and(&open_suggestions(), []);
    }
    if let Some(min) = q.min_confidence {
        f.and("confidence >= ?", [Arg::Real(min)]);
    }
    if !q.include_deleted {
        f.and(
            match style {
                Placeholders::Question => "is_deleted = 0",
                Placeholders::Numbered => "NOT is_deleted",
            },
            [],
        );
    }
    let order = if q.open_only { "confidence DESC, created_at DESC, seq DESC" } else { "created_at DESC, seq DESC" };
    (f, order)
}

/// The owner's approvals of `q.status` as of `q.as_of`, by
/// [`steward_core::Approval::status_at`]: a pending approval whose expiry
/// has come reads as expired (`expired_approval_never_executes` in the
/// conformance suite lists at exactly the expiry).
pub(crate) fn approvals(style: Placeholders, owner: Uuid, q: &ApprovalQuery) -> Filter {
    let mut f = Filter::owner(style, owner);
    let (pending, expired) = (ApprovalStatus::Pending.as_str(), ApprovalStatus::Expired.as_str());
    let as_of = Arg::Instant(q.as_of);
    match q.status {
        None => {}
        Some(ApprovalStatus::Pending) => {
            f.and(&format!("status = '{pending}' AND expires_at > ?"), [as_of]);
        }
        Some(ApprovalStatus::Expired) => {
            f.and(&format!("status = '{expired}' OR (status = '{pending}' AND expires_at <= ?)"), [as_of]);
        }
        Some(other) => {
            f.and("status = ?", [Arg::Text(other.as_str().into())]);
        }
    }
    f
}

/// The owner's consciousness checks `q` asks for (newest first).
pub(crate) fn consciousness_checks(style: Placeholders, owner: Uuid, q: &CheckQuery) -> Filter {
    let mut f = Filter::owner(style, owner);
    if let Some(status) = q.status {
        f.and("status = ?", [Arg::Text(status.as_str().into())]);
    }
    f
}

/// The owner's events `q` asks for (in `seq` order).
pub(crate) fn events(style: Placeholders, owner: Uuid, q: &EventQuery) -> Filter {
    let mut f = Filter::owner(style, owner);
    if let Some(after) = q.after_seq {
        f.and("seq > ?", [Arg::Int(after)]);
    }
    if let Some(entity) = q.entity {
        f.and("entity = ?", [Arg::Text(entity.as_str().into())]);
    }
    if let Some(id) = q.entity_id {
        f.and("entity_id = ?", [Arg::Id(id)]);
    }
    if let Some(since) = q.since {
        f.and("at >= ?", [Arg::Instant(since)]);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_number_their_placeholders_in_order() {
        let mut f = Filter::owner(Placeholders::Numbered, Uuid::nil());
        f.and("status = ?", [Arg::Text("pending".into())]);
        f.and("due_date >= ? AND due_date <= ?", [Arg::Date(NaiveDate::MIN), Arg::Date(NaiveDate::MAX)]);
        assert_eq!(f.sql, "user_id = $1 AND (status = $2) AND (due_date >= $3 AND due_date <= $4)");
        assert_eq!(f.args.len(), 4);
        assert_eq!(f.next(), 5);
        let mut q = Filter::owner(Placeholders::Question, Uuid::nil());
        q.and("status = ?", [Arg::Text("pending".into())]);
        assert_eq!(q.sql, "user_id = ? AND (status = ?)");
    }

    #[test]
    fn open_suggestions_are_cores() {
        assert_eq!(open_suggestions(), "status IN ('pending', 'presented')");
    }
}
