//! Approvals: a human decision an action waits for.
//!
//! `pending → approved | rejected | expired | cancelled`, exactly once. Expiry
//! is the engine's business, not the caller's: a pending approval whose
//! `expires_at` has passed *is* expired, whether or not a sweep has written
//! that down yet, and can no longer be approved.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Entity, Error, Result};
use crate::ids::{ApprovalId, RunId, TaskId, UserId};
use crate::task::enum_text;
use crate::validate::Checks;

/// How long an approval waits when the request names no expiry.
pub const DEFAULT_APPROVAL_TTL: Duration = Duration::hours(24);
/// The longest an approval may wait.
pub const MAX_APPROVAL_TTL: Duration = Duration::days(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Rejected,
    Expired,
    Cancelled,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Rejected => "rejected",
            ApprovalStatus::Expired => "expired",
            ApprovalStatus::Cancelled => "cancelled",
        }
    }
}
enum_text!(
    ApprovalStatus,
    "status",
    [
        ApprovalStatus::Pending,
        ApprovalStatus::Approved,
        ApprovalStatus::Rejected,
        ApprovalStatus::Expired,
        ApprovalStatus::Cancelled
    ]
);

/// A person's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Approved,
    Rejected,
}

impl Decision {
    pub fn status(self) -> ApprovalStatus {
        match self {
            Decision::Approved => ApprovalStatus::Approved,
            Decision::Rejected => ApprovalStatus::Rejected,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub struct Approval {
    pub id: ApprovalId,
    pub user_id: UserId,
    pub task_id: Option<TaskId>,
    pub run_id: Option<RunId>,
    pub action_type: String,
    /// For an agent tool call: `{"tool": …, "arguments": …}`.
    pub details: Value,
    pub status: ApprovalStatus,
    pub requested_by: String,
    pub decided_by: Option<UserId>,
    #[serde(with = "crate::serde_time::micros_opt")]
    #[cfg_attr(feature = "openapi", schemars(with = "Option<chrono::DateTime<chrono::Utc>>"))]
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub expires_at: DateTime<Utc>,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::serde_time::micros")]
    #[cfg_attr(feature = "openapi", schemars(with = "chrono::DateTime<chrono::Utc>"))]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(default)]
#[cfg_attr(feature = "openapi", schemars(extend("required" = ["action_type"])))]
pub struct NewApproval {
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = 100), pattern(crate::validate::patterns::TEXT)))]
    pub action_type: String,
    #[cfg_attr(feature = "openapi", schemars(with = "Option<serde_json::Map<String, serde_json::Value>>"))]
    pub details: Option<Value>,
    pub task_id: Option<TaskId>,
    pub run_id: Option<RunId>,
    /// Who asks: `agent`, a service name, or a person; defaults to the owner.
    #[cfg_attr(feature = "openapi", schemars(length(min = 1, max = 200), pattern(crate::validate::patterns::TEXT)))]
    pub requested_by: Option<String>,
    /// Absolute expiry; defaults to 24 hours from now, at most 30 days.
    pub expires_at: Option<DateTime<Utc>>,
}

/// What a decision attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecideOutcome {
    Decided,
    /// The approval had expired; it is now recorded as such and the decision
    /// was not taken.
    Expired,
}

impl Approval {
    pub(crate) fn request(id: ApprovalId, user_id: UserId, input: NewApproval, now: DateTime<Utc>) -> Result<Approval> {
        let mut c = Checks::new();
        let action_type = c.text("action_type", &input.action_type, 1, 100);
        let details = input.details.unwrap_or_else(|| Value::Object(Default::default()));
        c.object("details", &details);
        let requested_by = input.requested_by.unwrap_or_else(|| "user".into());
        let requested_by = c.text("requested_by", &requested_by, 1, 200);
        let expires_at = input.expires_at.map(crate::clock::to_micros).unwrap_or(now + DEFAULT_APPROVAL_TTL);
        if expires_at <= now {
            c.fail("expires_at", "must be in the future");
        } else if expires_at - now > MAX_APPROVAL_TTL {
            c.fail("expires_at", "must be at most 30 days ahead");
        }
        c.finish()?;
        Ok(Approval {
            id,
            user_id,
            task_id: input.task_id,
            run_id: input.run_id,
            action_type,
            details,
            status: ApprovalStatus::Pending,
            requested_by,
            decided_by: None,
            decided_at: None,
            reason: None,
            expires_at,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// The status as of `now`: a pending approval past its expiry reads
    /// `expired` even before anything has written that down.
    pub fn status_at(&self, now: DateTime<Utc>) -> ApprovalStatus {
        if self.status == ApprovalStatus::Pending && now >= self.expires_at {
            ApprovalStatus::Expired
        } else {
            self.status
        }
    }

    /// This approval as it reads at `now` (see [`Approval::status_at`]).
    pub fn as_of(mut self, now: DateTime<Utc>) -> Approval {
        self.status = self.status_at(now);
        self
    }

    /// Takes a decision exactly once. Past expiry the approval becomes
    /// `expired` instead and the outcome says so.
    pub(crate) fn decide(
        &mut self,
        decision: Decision,
        by: UserId,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<DecideOutcome> {
        if self.status != ApprovalStatus::Pending {
            return Err(Error::transition(Entity::Approval, self.status, decision.status()));
        }
        if now >= self.expires_at {
            self.status = ApprovalStatus::Expired;
            return Ok(DecideOutcome::Expired);
        }
        self.status = decision.status();
        self.decided_by = Some(by);
        self.decided_at = Some(now);
        self.reason = reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
        Ok(DecideOutcome::Decided)
    }

    /// Withdraws a pending request (the asking run was cancelled).
    pub(crate) fn cancel(&mut self, now: DateTime<Utc>) -> Result<()> {
        if self.status_at(now) != ApprovalStatus::Pending {
            return Err(Error::transition(Entity::Approval, self.status_at(now), ApprovalStatus::Cancelled));
        }
        self.status = ApprovalStatus::Cancelled;
        Ok(())
    }

    /// Records expiry if due; returns whether anything changed.
    pub(crate) fn expire_if_due(&mut self, now: DateTime<Utc>) -> bool {
        if self.status == ApprovalStatus::Pending && now >= self.expires_at {
            self.status = ApprovalStatus::Expired;
            true
        } else {
            false
        }
    }

    pub(crate) fn touch(&mut self, now: DateTime<Utc>) {
        self.updated_at = now.max(self.updated_at);
        self.version += 1;
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Step {
        Decide(Decision, i64),
        Cancel(i64),
        Sweep(i64),
    }

    fn step() -> impl Strategy<Value = Step> {
        let decision = prop_oneof![Just(Decision::Approved), Just(Decision::Rejected)];
        prop_oneof![
            (decision, 0i64..7200).prop_map(|(d, s)| Step::Decide(d, s)),
            (0i64..7200).prop_map(Step::Cancel),
            (0i64..7200).prop_map(Step::Sweep),
        ]
    }

    proptest! {
        /// An approval leaves `pending` at most once; nothing is ever
        /// approved at or after its expiry; a decided approval never changes.
        #[test]
        fn decided_exactly_once_and_never_after_expiry(steps in proptest::collection::vec(step(), 1..20)) {
            let created = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
            let input = NewApproval { action_type: "x".into(), expires_at: Some(created + Duration::hours(1)), ..Default::default() };
            let mut a = Approval::request(ApprovalId(uuid::Uuid::from_u128(1)), UserId(uuid::Uuid::from_u128(2)), input, created).unwrap();
            let mut settled: Option<ApprovalStatus> = None;
            let mut elapsed = 0;
            for s in steps {
                let before = a.clone();
                let (secs, result) = match s {
                    Step::Decide(d, secs) => {
                        let now = created + Duration::seconds(elapsed.max(secs));
                        (secs, a.decide(d, UserId(uuid::Uuid::from_u128(2)), None, now).map(|_| ()))
                    }
                    Step::Cancel(secs) => (secs, a.cancel(created + Duration::seconds(elapsed.max(secs)))),
                    Step::Sweep(secs) => {
                        a.expire_if_due(created + Duration::seconds(elapsed.max(secs)));
                        (secs, Ok(()))
                    }
                };
                elapsed = elapsed.max(secs);
                if let Some(status) = settled {
                    prop_assert_eq!(a.status, status, "settled approvals never change");
                    prop_assert_eq!(&a, &before);
                }
                if result.is_err() {
                    prop_assert!(a == before || a.status == ApprovalStatus::Expired);
                }
                if a.status == ApprovalStatus::Approved {
                    prop_assert!(a.decided_at.is_some_and(|t| t < a.expires_at));
                }
                if a.status != ApprovalStatus::Pending {
                    settled = Some(a.status);
                }
            }
        }
    }
}
