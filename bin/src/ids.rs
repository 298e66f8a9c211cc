//! Ids as people type them: a whole UUID, or an unambiguous prefix of at
//! least four hex digits (like git), looked up among the acting user's own
//! records. A prefix that fits several records is an input error listing
//! them; one that fits none is "not found".
//!
//! Tasks and thoughts are looked up with the engine's keyset export pages,
//! which list a user's records in id order: the search starts just below the
//! smallest id with the prefix and stops at the first id without it, so it
//! reads a handful of rows however many records there are. Suggestions and
//! jobs have no such listing; the newest [`SUGGESTION_CAP`] suggestions and
//! [`JOB_CAP`] jobs the caller may see are searched.

use steward::core::SuggestionId;
use steward::core::job::JobQuery;
use steward::{
    CheckId, Entity, Error, ExportCursor, JobId, PageRequest, Portable, Principal, Steward, TaskId, ThoughtId,
};

use crate::errors::Failure;

/// The shortest prefix accepted.
pub(crate) const MIN_PREFIX: usize = 4;
/// Candidates named in an "ambiguous" error.
const LIST_CANDIDATES: usize = 5;
/// Rows read per keyset page while looking for a prefix.
const PAGE: u32 = 20;
/// Suggestions searched for a prefix, newest first (the engine's maximum).
const SUGGESTION_CAP: u32 = 500;
/// Consciousness checks searched for a prefix, newest first (the engine's maximum).
const CHECK_CAP: u32 = 100;
/// Jobs searched for a prefix, newest first.
const JOB_CAP: u64 = 5_000;

/// An id as typed: lower-case hex digits without hyphens, 4 to 32 of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdArg {
    hex: String,
}

impl IdArg {
    /// Clap's value parser: the shape only (the lookup needs the database).
    pub(crate) fn parse(raw: &str) -> Result<IdArg, String> {
        let hex: String = raw.trim().chars().filter(|c| *c != '-').collect::<String>().to_ascii_lowercase();
        let shaped = (MIN_PREFIX..=32).contains(&hex.len()) && hex.chars().all(|c| c.is_ascii_hexdigit());
        if !shaped {
            return Err(format!(
                "'{raw}' is not an id (a UUID such as 0195f3a2-7c1e-7b3a-9f1d-2c4e5a6b7c8d, \
                 or its first {MIN_PREFIX} or more hex digits)"
            ));
        }
        Ok(IdArg { hex })
    }

    /// The whole id, for records without a prefix lookup (approvals, runs,
    /// conversations).
    pub(crate) fn uuid(&self, what: &str) -> Result<uuid::Uuid, Failure> {
        self.whole().and_then(|hex| uuid::Uuid::parse_str(&hex).ok()).ok_or_else(|| {
            Failure::Domain(Error::invalid("id", format!("give the {what}'s whole id (32 hex digits), not a prefix")))
        })
    }

    fn whole(&self) -> Option<String> {
        (self.hex.len() == 32).then(|| self.hex.clone())
    }

    fn fits(&self, id: &impl ToString) -> bool {
        id.to_string().replace('-', "").starts_with(&self.hex)
    }

    /// The id just below the smallest id with this prefix (keyset pages
    /// start *after* their cursor), or `None` to start at the beginning.
    fn just_below(&self) -> Option<String> {
        let padded = format!("{:0<32}", self.hex);
        let lowest = u128::from_str_radix(&padded, 16).ok()?;
        lowest.checked_sub(1).map(|below| format!("{below:032x}"))
    }
}

impl std::fmt::Display for IdArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hex)
    }
}

/// [`task`] for an optional argument (`--parent`).
pub(crate) async fn opt_task(steward: &Steward, p: &Principal, id: Option<&IdArg>) -> Result<Option<TaskId>, Failure> {
    match id {
        Some(id) => Ok(Some(task(steward, p, id).await?)),
        None => Ok(None),
    }
}

/// The acting user's task whose id is or starts with `id`.
pub(crate) async fn task(steward: &Steward, p: &Principal, id: &IdArg) -> Result<TaskId, Failure> {
    if let Some(whole) = id.whole() {
        return whole.parse().map_err(|_| not_found(Entity::Task));
    }
    let mut cursor = match id.just_below() {
        Some(below) => ExportCursor::TasksFrom(Some(below.parse().map_err(|_| not_found(Entity::Task))?)),
        None => ExportCursor::TasksFrom(None),
    };
    let mut found = Vec::new();
    'pages: while cursor != ExportCursor::Done {
        let (page, next) = steward.export_page(p, cursor, PAGE).await?;
        for record in page {
            let Portable::Task(task) = record else { break 'pages };
            if !id.fits(&task.id) || found.len() > LIST_CANDIDATES {
                break 'pages;
            }
            found.push(task.id);
        }
        cursor = next;
    }
    one(Entity::Task, id, found)
}

/// The acting user's thought whose id is or starts with `id`.
pub(crate) async fn thought(steward: &Steward, p: &Principal, id: &IdArg) -> Result<ThoughtId, Failure> {
    if let Some(whole) = id.whole() {
        return whole.parse().map_err(|_| not_found(Entity::Thought));
    }
    let mut cursor = match id.just_below() {
        Some(below) => ExportCursor::Thoughts(below.parse().map_err(|_| not_found(Entity::Thought))?),
        None => ExportCursor::Start,
    };
    let mut found = Vec::new();
    'pages: while cursor != ExportCursor::Done {
        let (page, next) = steward.export_page(p, cursor, PAGE).await?;
        for record in page {
            // Past the thoughts, the export goes on with tasks.
            let Portable::Thought(thought) = record else { break 'pages };
            if !id.fits(&thought.id) || found.len() > LIST_CANDIDATES {
                break 'pages;
            }
            found.push(thought.id);
        }
        if matches!(next, ExportCursor::TasksFrom(_)) {
            break;
        }
        cursor = next;
    }
    one(Entity::Thought, id, found)
}

/// The acting user's suggestion whose id is or starts with `id`.
pub(crate) async fn suggestion(steward: &Steward, p: &Principal, id: &IdArg) -> Result<SuggestionId, Failure> {
    if let Some(whole) = id.whole() {
        return whole.parse().map_err(|_| not_found(Entity::Suggestion));
    }
    let history = steward.suggestion_history(p, true, SUGGESTION_CAP).await?;
    let found: Vec<SuggestionId> = history.iter().map(|s| s.id).filter(|s| id.fits(s)).collect();
    one(Entity::Suggestion, id, found)
}

/// The acting user's consciousness check whose id is or starts with `id`,
/// among their newest [`CHECK_CAP`].
pub(crate) async fn check(steward: &Steward, p: &Principal, id: &IdArg) -> Result<CheckId, Failure> {
    if let Some(whole) = id.whole() {
        return whole.parse().map_err(|_| not_found(Entity::ConsciousnessCheck));
    }
    let history = steward.consciousness_check_history(p, CHECK_CAP).await?;
    let found: Vec<CheckId> = history.iter().map(|c| c.id).filter(|c| id.fits(c)).collect();
    one(Entity::ConsciousnessCheck, id, found)
}

/// The job whose id is or starts with `id`, among the jobs `p` may see.
pub(crate) async fn job(steward: &Steward, p: &Principal, id: &IdArg) -> Result<JobId, Failure> {
    if let Some(whole) = id.whole() {
        return whole.parse().map_err(|_| not_found(Entity::Job));
    }
    let mut found = Vec::new();
    let mut offset = 0;
    while offset < JOB_CAP {
        let query = JobQuery { state: None, kind: None, page: PageRequest::new(100, offset)? };
        let page = steward.jobs(p, &query).await?;
        found.extend(page.items.iter().map(|j| j.id).filter(|j| id.fits(j)));
        if !page.has_more() || page.items.is_empty() || found.len() > LIST_CANDIDATES {
            break;
        }
        offset += page.items.len() as u64;
    }
    one(Entity::Job, id, found)
}

fn one<T: std::fmt::Display + Copy>(entity: Entity, id: &IdArg, found: Vec<T>) -> Result<T, Failure> {
    match found.as_slice() {
        [] => Err(not_found(entity)),
        [only] => Ok(*only),
        many => {
            let mut names: Vec<String> = many.iter().take(LIST_CANDIDATES).map(ToString::to_string).collect();
            if many.len() > LIST_CANDIDATES {
                names.push("…".into());
            }
            let msg = format!("id prefix '{id}' is ambiguous: it fits {}", names.join(", "));
            Err(Error::invalid("id", msg).into())
        }
    }
}

fn not_found(entity: Entity) -> Failure {
    Error::not_found(entity).into()
}

#[cfg(test)]
mod tests {
    use super::IdArg;

    #[test]
    fn prefixes_are_hex_without_hyphens_and_at_least_four_digits() {
        assert_eq!(IdArg::parse("0195-F3a2").map(|i| i.to_string()), Ok("0195f3a2".to_string()));
        assert!(IdArg::parse("019").is_err());
        assert!(IdArg::parse("zzzz").is_err());
        assert!(IdArg::parse(&"a".repeat(33)).is_err());
    }

    #[test]
    fn the_cursor_starts_just_below_the_smallest_id_with_the_prefix() {
        let id = IdArg::parse("0196").map(|i| i.just_below());
        assert_eq!(id, Ok(Some(format!("0195{}", "f".repeat(28)))));
        assert_eq!(IdArg::parse("0000").map(|i| i.just_below()), Ok(None));
    }
}
