//! Consciousness checks as operations: request one (it runs on the queue),
//! run one (the rule-based review of recent thoughts, recorded once), and
//! read them back (one, the latest completed, the history).

use serde::Deserialize;
use serde_json::json;

use super::schedule::CONSCIOUSNESS_JOB;
use super::{CONFLICT_RETRIES, Engine, event};
use crate::access::Access;
use crate::agent::run::derived_uuid;
use crate::analysis::AnalysisContext;
use crate::consciousness::{CheckQuery, CheckStatus, ConsciousnessCheck};
use crate::error::{Conflict, Entity, Error, Result};
use crate::event::EventKind;
use crate::ids::{CheckId, UserId};
use crate::job::{Job, NewJob};
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

/// Which check a run completes: a requested (pending) one, or a new one
/// recorded under this id unless it is already there.
#[derive(Debug, Clone, Copy)]
enum Target {
    Requested(CheckId),
    Fresh(CheckId),
}

impl Target {
    fn id(self) -> CheckId {
        match self {
            Target::Requested(id) | Target::Fresh(id) => id,
        }
    }
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
    /// named pending check, or (`None`, a check run outside the queue)
    /// records a new completed one. A check already completed is returned as
    /// it is, so a redelivered job changes nothing.
    #[tracing::instrument(level = "info", name = "run_consciousness_check", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn run_consciousness_check(
        &self,
        p: &Principal,
        owner: UserId,
        id: Option<CheckId>,
    ) -> Result<ConsciousnessCheck> {
        let target = match id {
            Some(id) => Target::Requested(id),
            None => Target::Fresh(CheckId(self.new_id())),
        };
        self.run_check_for(p, owner, target).await
    }

    async fn run_check_for(&self, p: &Principal, owner: UserId, target: Target) -> Result<ConsciousnessCheck> {
        let p = p.acting_for(owner)?;
        p.require_write()?;
        let mut tries = 0;
        loop {
            match self.try_run_check(&p, target).await {
                // A redelivery of the same scheduled job raced this one and
                // recorded the check first: that record is the answer.
                Err(Error::Conflict(Conflict::DuplicateId { entity: Entity::ConsciousnessCheck }))
                    if matches!(target, Target::Fresh(_)) && tries < CONFLICT_RETRIES =>
                {
                    tries += 1;
                }
                Err(Error::VersionConflict { .. }) if tries < CONFLICT_RETRIES => tries += 1,
                other => break other,
            }
        }
    }

    async fn try_run_check(&self, p: &Principal, target: Target) -> Result<ConsciousnessCheck> {
        let before = match target {
            Target::Requested(id) => Some(self.consciousness_check(p, id).await?),
            Target::Fresh(id) => self.store.consciousness_check(p.user_id, id).await?,
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
        let model = self.model_by(Some(&settings));
        let findings = crate::analysis::review_with(model.as_ref(), &thoughts, &ctx).await;
        let mut check = before.clone().unwrap_or_else(|| ConsciousnessCheck::request(target.id(), p.user_id, now));
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
    /// off. A scheduled check's id is derived from the job's, so a job
    /// delivered twice records one check. A payload that is not a check's
    /// is `Error::Invalid`.
    #[tracing::instrument(level = "info", name = "run_consciousness_job", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn run_consciousness_job(&self, p: &Principal, job: &Job) -> Result<Option<ConsciousnessCheck>> {
        p.require(Access::OperateQueue)?;
        let payload: CheckJob = serde_json::from_value(job.payload.clone())
            .map_err(|e| Error::invalid("payload", format!("not an agent.consciousness payload: {e}")))?;
        let owner = p.acting_for(payload.user_id)?;
        let target = match payload.check_id {
            Some(id) => Target::Requested(id),
            None if !self.settings(&owner).await?.consciousness_check_enabled => return Ok(None),
            None => Target::Fresh(CheckId(derived_uuid(&[CONSCIOUSNESS_JOB.as_bytes(), job.id.0.as_bytes()]))),
        };
        match self.run_check_for(p, payload.user_id, target).await {
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
