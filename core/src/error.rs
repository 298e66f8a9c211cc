//! The public error of the domain: only what a caller can act on.
//!
//! Stores and providers keep their own detailed errors and convert into this
//! one at their boundary; every frontend maps it exactly once (HTTP status,
//! exception class, exit code). Nobody matches on messages.

use std::fmt;

use serde::Serialize;

/// The kind of object an error is about; also the `entity_type` of events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Entity {
    User,
    ApiKey,
    Task,
    Thought,
    /// A thought named as the source of something else (a task's `source_thought_id`).
    SourceThought,
    Suggestion,
    Approval,
    Settings,
    Profile,
    Job,
    Run,
    Conversation,
    Step,
    ConsciousnessCheck,
    Webhook,
    /// One of the ongoing projects in a profile, named in a path.
    Project,
}

impl Entity {
    /// Every entity, in declaration order.
    pub const ALL: [Entity; 16] = [
        Entity::User,
        Entity::ApiKey,
        Entity::Task,
        Entity::Thought,
        Entity::SourceThought,
        Entity::Suggestion,
        Entity::Approval,
        Entity::Settings,
        Entity::Profile,
        Entity::Job,
        Entity::Run,
        Entity::Conversation,
        Entity::Step,
        Entity::ConsciousnessCheck,
        Entity::Webhook,
        Entity::Project,
    ];

    /// The stable snake_case name (`task`, `api_key`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::User => "user",
            Entity::ApiKey => "api_key",
            Entity::Task => "task",
            Entity::Thought => "thought",
            Entity::SourceThought => "source_thought",
            Entity::Suggestion => "suggestion",
            Entity::Approval => "approval",
            Entity::Settings => "settings",
            Entity::Profile => "profile",
            Entity::Job => "job",
            Entity::Run => "run",
            Entity::Conversation => "conversation",
            Entity::Step => "step",
            Entity::ConsciousnessCheck => "consciousness_check",
            Entity::Webhook => "webhook",
            Entity::Project => "project",
        }
    }
}

/// The names of [`Entity::as_str`] (feature `openapi`).
#[cfg(feature = "openapi")]
impl schemars::JsonSchema for Entity {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Entity".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = Entity::ALL.iter().map(|e| e.as_str()).collect();
        schemars::json_schema!({ "type": "string", "enum": names })
    }
}

/// Reads back [`Entity::as_str`] (what stores keep in event rows).
impl std::str::FromStr for Entity {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Entity::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| Error::invalid("entity", format!("'{s}' is not an entity")))
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One violated input rule: where (`["body", "title"]`) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub loc: Vec<String>,
    pub msg: String,
}

impl FieldError {
    /// A rule on a body field.
    pub fn body(field: &str, msg: impl Into<String>) -> Self {
        FieldError { loc: vec!["body".into(), field.into()], msg: msg.into() }
    }
    /// A rule on a query parameter.
    pub fn query(field: &str, msg: impl Into<String>) -> Self {
        FieldError { loc: vec!["query".into(), field.into()], msg: msg.into() }
    }
}

impl fmt::Display for FieldError {
    /// The field's path without where it came from (`title: …`;
    /// `approval_policy.rules.0.pattern: …` for a nested one).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.loc.as_slice() {
            [] => write!(f, "input: {}", self.msg),
            [only] => write!(f, "{only}: {}", self.msg),
            [_, path @ ..] => write!(f, "{}: {}", path.join("."), self.msg),
        }
    }
}

/// What a [`Error::Conflict`] is about: a kind a caller can match on, never
/// a message to parse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Conflict {
    /// A record of this kind with this id already exists.
    DuplicateId { entity: Entity },
    /// Another record already holds this unique value (a user's `email`).
    UniqueField { entity: Entity, field: &'static str },
    /// The record moved on between the read and the write (a job claimed
    /// meanwhile); read it again.
    Changed { entity: Entity },
    /// The record is already (soft-)deleted.
    AlreadyDeleted { entity: Entity },
    /// A destination the caller named (a backup or export file) exists and
    /// is never overwritten.
    DestinationExists { path: String },
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conflict::DuplicateId { entity } => write!(f, "a {entity} with this id already exists"),
            Conflict::UniqueField { entity, field } => write!(f, "a {entity} with this {field} already exists"),
            Conflict::Changed { entity } => write!(f, "the {entity} changed meanwhile; read it again"),
            Conflict::AlreadyDeleted { entity } => write!(f, "the {entity} is already deleted"),
            Conflict::DestinationExists { path } => write!(f, "{path} already exists; choose a new file"),
        }
    }
}

/// Everything that can go wrong in a domain operation, as a caller sees it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The object does not exist, or belongs to someone else.
    #[error("{entity} not found")]
    NotFound { entity: Entity },
    /// Input broke one or more rules; nothing was written.
    #[error("invalid input: {}", join(.0))]
    Invalid(Vec<FieldError>),
    /// A state change the state machine does not allow.
    #[error("cannot change {entity} from {from} to {to}")]
    InvalidTransition { entity: Entity, from: String, to: String },
    /// The approval's `expires_at` has passed; it now reads `expired`.
    #[error("approval expired at {}", .expired_at.to_rfc3339())]
    ApprovalExpired { expired_at: chrono::DateTime<chrono::Utc> },
    /// A conditional write saw another version (`If-Match` was stale, or a
    /// concurrent writer won).
    #[error("{entity} version conflict: expected {expected}, found {actual}")]
    VersionConflict { entity: Entity, expected: i64, actual: i64 },
    /// Restoring something that was not deleted.
    #[error("{entity} is not deleted")]
    NotDeleted { entity: Entity },
    /// A uniqueness rule or a concurrent change; [`Conflict`] says which.
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// Authenticated, but the role may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Missing or wrong credentials.
    #[error("unauthorized")]
    Unauthorized,
    /// Storage or a provider is down or timed out; retrying later may work.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or corrupted data; the message carries no internals for clients.
    #[error("internal error: {0}")]
    Internal(String),
}

fn join(errors: &[FieldError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

impl Error {
    /// Shorthand for a single invalid body field.
    pub fn invalid(field: &str, msg: impl Into<String>) -> Self {
        Error::Invalid(vec![FieldError::body(field, msg)])
    }
    pub fn conflict(conflict: Conflict) -> Self {
        Error::Conflict(conflict)
    }
    pub fn not_found(entity: Entity) -> Self {
        Error::NotFound { entity }
    }
    pub(crate) fn transition(entity: Entity, from: impl fmt::Display, to: impl fmt::Display) -> Self {
        Error::InvalidTransition { entity, from: from.to_string(), to: to.to_string() }
    }
    /// A stable machine-readable code, the same one every frontend exposes.
    pub fn code(&self) -> String {
        match self {
            Error::NotFound { entity } => format!("{}_NOT_FOUND", entity.as_str().to_ascii_uppercase()),
            Error::Invalid(_) => "INVALID_CONTENT".into(),
            Error::InvalidTransition { .. } | Error::ApprovalExpired { .. } => "INVALID_TRANSITION".into(),
            Error::VersionConflict { .. } => "VERSION_CONFLICT".into(),
            Error::NotDeleted { .. } => "NOT_DELETED".into(),
            Error::Conflict(_) => "CONFLICT".into(),
            Error::Forbidden(_) => "FORBIDDEN".into(),
            Error::Unauthorized => "UNAUTHORIZED".into(),
            Error::Unavailable(_) => "UNAVAILABLE".into(),
            Error::Internal(_) => "INTERNAL_ERROR".into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entity_name_reads_back() {
        for e in Entity::ALL {
            assert_eq!(e.as_str().parse::<Entity>(), Ok(e));
        }
        assert!("nonsense".parse::<Entity>().is_err());
    }

    #[test]
    fn a_field_error_names_its_path_without_its_source() {
        let at = |loc: &[&str]| FieldError { loc: loc.iter().map(|s| s.to_string()).collect(), msg: "bad".into() };
        assert_eq!(at(&["body", "title"]).to_string(), "title: bad");
        assert_eq!(at(&["query", "limit"]).to_string(), "limit: bad");
        assert_eq!(
            at(&["body", "approval_policy", "rules", "0", "pattern"]).to_string(),
            "approval_policy.rules.0.pattern: bad"
        );
        assert_eq!(at(&["body"]).to_string(), "body: bad");
        assert_eq!(at(&[]).to_string(), "input: bad");
    }
}
