//! Consciousness checks: a look over a person's recent thoughts (themes,
//! patterns, suggested actions, concerns, positives), requested by them or
//! scheduled by their settings, and run on the queue. This module owns the
//! record and its one transition (`pending → completed | failed`); the
//! review itself is `analysis::review`, and running it is the engine's.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Entity, Error, Result};
use crate::ids::{CheckId, UserId};
use crate::task::enum_text;
use crate::validate::Checks;

/// Most entries in one of a check's lists.
pub const CHECK_LIST_MAX: usize = 20;
/// Longest entry in one of a check's lists, in characters.
pub const CHECK_ENTRY_MAX: usize = 500;
/// Longest summary, in characters.
pub const CHECK_SUMMARY_MAX: usize = 5000;

/// `pending → completed | failed`, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pending,
    Completed,
    Failed,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pending => "pending",
            CheckStatus::Completed => "completed",
            CheckStatus::Failed => "failed",
        }
    }
}
enum_text!(CheckStatus, "status", [CheckStatus::Pending, CheckStatus::Completed, CheckStatus::Failed]);

/// One consciousness check and, once completed, what it found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct ConsciousnessCheck {
    pub id: CheckId,
    pub user_id: UserId,
    pub status: CheckStatus,
    pub summary: Option<String>,
    pub themes: Vec<String>,
    pub patterns: Vec<String>,
    pub suggested_actions: Vec<String>,
    pub concerns: Vec<String>,
    pub positives: Vec<String>,
    pub thoughts_analyzed: i32,
    pub tokens_used: i64,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::serde_time::micros_opt")]
    #[cfg_attr(feature = "openapi", schemars(with = "Option<chrono::DateTime<chrono::Utc>>"))]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// What a review of recent thoughts found (by rules or a model).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Findings {
    pub summary: String,
    pub themes: Vec<String>,
    pub patterns: Vec<String>,
    pub suggested_actions: Vec<String>,
    pub concerns: Vec<String>,
    pub positives: Vec<String>,
    pub thoughts_analyzed: i32,
    pub tokens_used: i64,
}

/// Which checks to read: newest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckQuery {
    pub status: Option<CheckStatus>,
    /// 0 means 20; at most 100.
    pub limit: u32,
}

impl CheckQuery {
    pub fn effective_limit(&self) -> u32 {
        match self.limit {
            0 => 20,
            n => n.min(100),
        }
    }
}

impl ConsciousnessCheck {
    /// A check waiting to run.
    pub(crate) fn request(id: CheckId, user_id: UserId, now: DateTime<Utc>) -> ConsciousnessCheck {
        ConsciousnessCheck {
            id,
            user_id,
            status: CheckStatus::Pending,
            summary: None,
            themes: Vec::new(),
            patterns: Vec::new(),
            suggested_actions: Vec::new(),
            concerns: Vec::new(),
            positives: Vec::new(),
            thoughts_analyzed: 0,
            tokens_used: 0,
            created_at: now,
            completed_at: None,
            updated_at: now,
            version: 1,
        }
    }

    /// Records the findings; only a pending check completes.
    pub(crate) fn complete(&mut self, findings: Findings, now: DateTime<Utc>) -> Result<()> {
        if self.status != CheckStatus::Pending {
            return Err(Error::transition(Entity::ConsciousnessCheck, self.status, CheckStatus::Completed));
        }
        let mut c = Checks::new();
        let summary = c.text("summary", &findings.summary, 1, CHECK_SUMMARY_MAX);
        let mut list = |field: &str, items: &[String]| -> Vec<String> {
            if items.len() > CHECK_LIST_MAX {
                c.fail(field, format!("at most {CHECK_LIST_MAX} entries"));
            }
            items.iter().map(|i| c.text(field, i, 1, CHECK_ENTRY_MAX)).collect()
        };
        let themes = list("themes", &findings.themes);
        let patterns = list("patterns", &findings.patterns);
        let suggested_actions = list("suggested_actions", &findings.suggested_actions);
        let concerns = list("concerns", &findings.concerns);
        let positives = list("positives", &findings.positives);
        if findings.thoughts_analyzed < 0 || findings.tokens_used < 0 {
            c.fail("thoughts_analyzed", "counts must not be negative");
        }
        c.finish()?;
        *self = ConsciousnessCheck {
            status: CheckStatus::Completed,
            summary: Some(summary),
            themes,
            patterns,
            suggested_actions,
            concerns,
            positives,
            thoughts_analyzed: findings.thoughts_analyzed,
            tokens_used: findings.tokens_used,
            completed_at: Some(now),
            ..self.clone()
        };
        Ok(())
    }

    pub(crate) fn touch(&mut self, now: DateTime<Utc>) {
        self.updated_at = now.max(self.updated_at);
        self.version += 1;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_check_completes_once_with_valid_findings() {
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let mut check = ConsciousnessCheck::request(CheckId(uuid::Uuid::nil()), UserId(uuid::Uuid::nil()), now);
        let bad = Findings { summary: " ".into(), themes: vec![String::new()], ..Findings::default() };
        assert!(matches!(check.complete(bad, now), Err(Error::Invalid(e)) if e.len() == 2));
        assert_eq!(check.status, CheckStatus::Pending, "a refused completion changes nothing");
        let good =
            Findings { summary: "ok".into(), themes: vec!["work".into()], thoughts_analyzed: 3, ..Default::default() };
        check.complete(good.clone(), now).unwrap();
        assert_eq!((check.status, check.thoughts_analyzed, check.completed_at), (CheckStatus::Completed, 3, Some(now)));
        assert!(matches!(check.complete(good, now), Err(Error::InvalidTransition { .. })));
        assert_eq!("completed".parse::<CheckStatus>().unwrap(), CheckStatus::Completed);
    }
}
