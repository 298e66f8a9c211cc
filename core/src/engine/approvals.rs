//! Approval operations: request, read (as of now), list, decide exactly
//! once, cancel, and the expiry sweep.

use super::{CONFLICT_RETRIES, Engine, event, retry_on_conflict};
use crate::approval::{Approval, ApprovalStatus, DecideOutcome, Decision, NewApproval};
use crate::error::{Entity, Error, Result};
use crate::event::EventKind;
use crate::ids::ApprovalId;
use crate::query::{Page, PageRequest};
use crate::store::{ApprovalQuery, Record, Write};
use crate::user::Principal;

impl Engine {
    #[tracing::instrument(level = "info", name = "request_approval", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn request_approval(&self, p: &Principal, input: NewApproval) -> Result<Approval> {
        p.require_write()?;
        if let Some(task) = input.task_id {
            self.task(p, task).await?;
        }
        let now = self.now();
        let approval = Approval::request(self.new_id(), p.user_id, input, now)?;
        let requested = event(
            p.user_id,
            Some(p),
            EventKind::ApprovalRequested,
            Entity::Approval,
            approval.id.0,
            None,
            Some(&approval),
            now,
        );
        self.commit(vec![Write::Insert(Record::Approval(approval.clone())), requested]).await?;
        Ok(approval)
    }

    /// The approval as it reads now (a lapsed pending one reads `expired`).
    #[tracing::instrument(level = "info", name = "approval", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn approval(&self, p: &Principal, id: ApprovalId) -> Result<Approval> {
        let approval = self.store.approval(p.user_id, id).await?.ok_or(Error::not_found(Entity::Approval))?;
        Ok(approval.as_of(self.now()))
    }

    /// Approvals with `status` as of now (pending when not given), newest first.
    #[tracing::instrument(level = "info", name = "approvals", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn approvals(
        &self,
        p: &Principal,
        status: Option<ApprovalStatus>,
        page: PageRequest,
    ) -> Result<Page<Approval>> {
        let now = self.now();
        let query = ApprovalQuery { status: Some(status.unwrap_or(ApprovalStatus::Pending)), as_of: now, page };
        Ok(self.store.approvals(p.user_id, &query).await?.map(|a| a.as_of(now)))
    }

    /// Decides a pending approval, exactly once: of two racing decisions one
    /// sticks and the other is `InvalidTransition`. Past `expires_at` the
    /// approval is recorded as expired and the answer is `ApprovalExpired`.
    #[tracing::instrument(level = "info", name = "decide_approval", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn decide_approval(
        &self,
        p: &Principal,
        id: ApprovalId,
        decision: Decision,
        reason: Option<String>,
    ) -> Result<Approval> {
        p.require_write()?;
        retry_on_conflict!(None::<i64>, {
            let now = self.now();
            match self.store.approval(p.user_id, id).await {
                Err(e) => Err(e),
                Ok(None) => Err(Error::not_found(Entity::Approval)),
                Ok(Some(before)) => {
                    let mut approval = before.clone();
                    match approval.decide(decision, p.user_id, reason.clone(), now) {
                        Err(e) => Err(e),
                        Ok(outcome) => {
                            approval.touch(now);
                            let kind = match outcome {
                                DecideOutcome::Decided => EventKind::ApprovalDecided,
                                DecideOutcome::Expired => EventKind::ApprovalExpired,
                            };
                            let write = Write::Update {
                                record: Record::Approval(approval.clone()),
                                expected_version: Some(before.version),
                            };
                            let decided = event(
                                p.user_id,
                                Some(p),
                                kind,
                                Entity::Approval,
                                id.0,
                                Some(&before),
                                Some(&approval),
                                now,
                            );
                            let mut writes = vec![write, decided];
                            writes.extend(self.wake_run(&approval, now)?);
                            match (self.commit(writes).await, outcome) {
                                (Err(e), _) => Err(e),
                                (Ok(()), DecideOutcome::Decided) => Ok(approval),
                                (Ok(()), DecideOutcome::Expired) => {
                                    Err(Error::ApprovalExpired { expired_at: approval.expires_at })
                                }
                            }
                        }
                    }
                }
            }
        })
    }

    /// Withdraws a pending approval.
    #[tracing::instrument(level = "info", name = "cancel_approval", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn cancel_approval(&self, p: &Principal, id: ApprovalId) -> Result<Approval> {
        p.require_write()?;
        retry_on_conflict!(None::<i64>, {
            let now = self.now();
            let before = self.store.approval(p.user_id, id).await?.ok_or(Error::not_found(Entity::Approval))?;
            let mut approval = before.clone();
            approval.cancel(now)?;
            approval.touch(now);
            let write =
                Write::Update { record: Record::Approval(approval.clone()), expected_version: Some(before.version) };
            let cancelled = event(
                p.user_id,
                Some(p),
                EventKind::ApprovalCancelled,
                Entity::Approval,
                id.0,
                Some(&before),
                Some(&approval),
                now,
            );
            let mut writes = vec![write, cancelled];
            writes.extend(self.wake_run(&approval, now)?);
            self.commit(writes).await.map(|()| approval)
        })
    }

    /// Writes down every lapsed pending approval of the owner as expired
    /// (one event each); returns how many. Reads never need this — they
    /// already show `expired` — but it records when and emits the events.
    #[tracing::instrument(level = "info", name = "expire_approvals", skip_all, fields(user = %p.user_id, role = %p.role))]
    pub async fn expire_approvals(&self, p: &Principal) -> Result<usize> {
        let now = self.now();
        let query = ApprovalQuery {
            status: Some(ApprovalStatus::Expired),
            as_of: now,
            page: PageRequest { limit: 100, offset: 0 },
        };
        let mut expired = 0;
        for before in self.store.approvals(p.user_id, &query).await?.items {
            let mut approval = before.clone();
            if !approval.expire_if_due(now) {
                continue;
            }
            approval.touch(now);
            let write =
                Write::Update { record: Record::Approval(approval.clone()), expected_version: Some(before.version) };
            let ev = event(
                p.user_id,
                None,
                EventKind::ApprovalExpired,
                Entity::Approval,
                approval.id.0,
                Some(&before),
                Some(&approval),
                now,
            );
            let mut writes = vec![write, ev];
            writes.extend(self.wake_run(&approval, now)?);
            match self.commit(writes).await {
                Ok(()) => expired += 1,
                // Someone decided or expired it meanwhile: nothing to do.
                Err(Error::VersionConflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(expired)
    }
}
