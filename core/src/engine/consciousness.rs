//! Consciousness checks as operations: request one (it runs on the queue),
//! run one (the rule-based review of recent thoughts, recorded once), and
//! read them back (one, the latest completed, the history).

use serde::Deserialize;
use serde_json::{Value, json};

use super::schedule::CONSCIOUSNESS_JOB;
use super::{CONFLICT_RETRIES, Engine, event, retry_on_conflict};
use crate::access::Access;
use crate::analysis::AnalysisContext;
use crate::consciousness::{CheckQuery, CheckStatus, ConsciousnessCheck};
use crate::error::{Entity, Error, Result};
use crate::event::EventKind;
use crate::ids::{CheckId, UserId};
use crate::job::NewJob;
use crate::query::{PageRequest, SortOrder, ThoughtQuery};
use crate::store::{Record, Write};
use crate::task::Priority;
use crate::thought::ThoughtStatus;
use crate::user::Principal;

/// How many of the newest active thoughts a check looks at.
pub const RECENT_THOUGHTS: u32 = 50;

/// An `agent.consciousness` job's payload: a requested check names its
/// record; a scheduled one only its owner.
#[derive(Debug, Clone, Copy, Deserialize)]
struct CheckJob {
    user_id: UserId,
    #[serde(default)]
    check_id: Option<CheckId>,
}

impl Engine {
    /// Asks for a check: a pending record and its `agent.consciousness` job
    /// (medium class), in one write. The returned id is the API's
    /// `analysis_id`.
    #[tracing::instrument(level = "info", name = "request_consciousness_check", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn request_consciousness_check(&self, p: &Principal) -> Result<ConsciousnessCheck> {
        p.require_write()?;
        let now = self.now();
        let check = ConsciousnessCheck::request(self.new_id(), p.user_id, now);
        let job = NewJob::new(CONSCIOUSNESS_JOB, json!({ "user_id": p.user_id, "check_id": check.id }))
            .class(Priority::Medium)
            .owner(p.user_id)
            .unique_key(format!("{CONSCIOUSNESS_JOB}:{}:{}", p.user_id, check.id));
        let requested = event(
            p.user_id,
            Some(p),
            EventKind::ConsciousnessCheckRequested,
            Entity::ConsciousnessCheck,
            check.id.0,
            None,
            Some(&check),
            now,
        );
        let writes = vec![
            Write::Insert(Record::ConsciousnessCheck(check.clone())),
            requested,
            Write::Enqueue(self.job_from(job, now)?),
        ];
        self.commit(writes).await?;
        Ok(check)
    }

    /// Runs a check over `owner`'s newest active thoughts: completes the
    /// named pending check, or (`None`, a scheduled check) records a new
    /// completed one. A check already completed is returned as it is, so a
    /// redelivered job changes nothing.
    #[tracing::instrument(level = "info", name = "run_consciousness_check", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn run_consciousness_check(
        &self,
        p: &Principal,
        owner: UserId,
        id: Option<CheckId>,
    ) -> Result<ConsciousnessCheck> {
        let p = p.acting_for(owner)?;
        p.require_write()?;
        retry_on_conflict!(None::<i64>, self.try_run_check(&p, id).await)
    }

    async fn try_run_check(&self, p: &Principal, id: Option<CheckId>) -> Result<ConsciousnessCheck> {
        let before = match id {
            Some(id) => Some(self.consciousness_check(p, id).await?),
            None => None,
        };
        if let Some(done) = before.as_ref().filter(|c| c.status != CheckStatus::Pending) {
            return Ok(done.clone());
        }
        let settings = self.settings(p).await?;
        let query = ThoughtQuery {
            status: Some(ThoughtStatus::Active),
            order: SortOrder::Desc,
            page: PageRequest { limit: RECENT_THOUGHTS, offset: 0 },
            ..ThoughtQuery::default()
        };
        let thoughts = self.store.thoughts(p.user_id, &query).await?.items;
        let now = self.now();
        let ctx = AnalysisContext::for_settings(&settings, now);
        let findings = crate::analysis::review_with(self.model.as_ref(), &thoughts, &ctx).await;
        let mut check = before.clone().unwrap_or_else(|| ConsciousnessCheck::request(self.new_id(), p.user_id, now));
        check.complete(findings, now)?;
        let write = match &before {
            Some(before) => {
                check.touch(now);
                Write::Update {
                    record: Record::ConsciousnessCheck(check.clone()),
                    expected_version: Some(before.version),
                }
            }
            None => Write::Insert(Record::ConsciousnessCheck(check.clone())),
        };
        let completed = event(
            p.user_id,
            Some(p),
            EventKind::ConsciousnessCheckCompleted,
            Entity::ConsciousnessCheck,
            check.id.0,
            before.as_ref(),
            Some(&check),
            now,
        );
        self.commit(vec![write, completed]).await?;
        Ok(check)
    }

    /// Runs an `agent.consciousness` job (the worker's handler, as
    /// `Principal::system()`). `Ok(None)` when there is nothing to do: the
    /// requested check is gone, or a scheduled check's owner turned checks
    /// off. A payload that is not a check's is `Error::Invalid`.
    #[tracing::instrument(level = "info", name = "run_consciousness_job", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn run_consciousness_job(&self, p: &Principal, payload: &Value) -> Result<Option<ConsciousnessCheck>> {
        p.require(Access::OperateQueue)?;
        let job: CheckJob = serde_json::from_value(payload.clone())
            .map_err(|e| Error::invalid("payload", format!("not an agent.consciousness payload: {e}")))?;
        let owner = p.acting_for(job.user_id)?;
        if job.check_id.is_none() && !self.settings(&owner).await?.consciousness_check_enabled {
            return Ok(None);
        }
        match self.run_consciousness_check(p, job.user_id, job.check_id).await {
            Ok(check) => Ok(Some(check)),
            Err(Error::NotFound { entity: Entity::ConsciousnessCheck }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(level = "info", name = "consciousness_check", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn consciousness_check(&self, p: &Principal, id: CheckId) -> Result<ConsciousnessCheck> {
        self.store.consciousness_check(p.user_id, id).await?.ok_or(Error::not_found(Entity::ConsciousnessCheck))
    }

    /// The newest completed check, if any.
    #[tracing::instrument(level = "info", name = "latest_consciousness_check", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn latest_consciousness_check(&self, p: &Principal) -> Result<Option<ConsciousnessCheck>> {
        let query = CheckQuery { status: Some(CheckStatus::Completed), limit: 1 };
        Ok(self.store.consciousness_checks(p.user_id, &query).await?.into_iter().next())
    }

    /// Checks newest first, any status (`limit` 0 means 20; at most 100).
    #[tracing::instrument(level = "info", name = "consciousness_check_history", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn consciousness_check_history(&self, p: &Principal, limit: u32) -> Result<Vec<ConsciousnessCheck>> {
        self.store.consciousness_checks(p.user_id, &CheckQuery { status: None, limit }).await
    }
}
