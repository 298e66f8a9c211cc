//! The work queue in memory: claims in [`claim_order`], changes under their
//! condition, leases, burial, stats and purges, each on the locked state.

use chrono::{DateTime, Utc};

use super::state::{State, paginate};
use crate::ids::JobId;
use crate::job::{Claim, ClassStats, Holder, Job, JobChange, JobQuery, JobState, LeaseToken, QueueStats, claim_order};
use crate::query::Page;
use crate::task::Priority;

impl State {
    pub(super) fn claim_jobs(&mut self, claim: &Claim) -> Vec<Job> {
        let mut ready: Vec<&Job> = self.jobs.values().filter(|j| claim.may_take(j)).collect();
        ready.sort_by(|a, b| claim_order(a, b));
        let taken: Vec<Job> = ready.into_iter().take(claim.limit as usize).map(|j| claim.taken(j)).collect();
        for job in &taken {
            self.jobs.insert(job.id, job.clone());
        }
        taken
    }

    pub(super) fn change_jobs(&mut self, changes: Vec<JobChange>) -> Vec<bool> {
        changes
            .into_iter()
            .map(|change| match self.jobs.get_mut(&change.id) {
                Some(job) if change.only_if.holds(job) => {
                    *job = change.applied_to(job);
                    true
                }
                _ => false,
            })
            .collect()
    }

    pub(super) fn extend_leases(&mut self, leases: Vec<(JobId, LeaseToken)>, until: DateTime<Utc>) -> Vec<bool> {
        leases
            .into_iter()
            .map(|(id, lease)| match self.jobs.get_mut(&id) {
                Some(job) if Holder::Lease(lease).holds(job) => {
                    job.lease_until = Some(until);
                    true
                }
                _ => false,
            })
            .collect()
    }

    pub(super) fn bury_lapsed_jobs(&mut self, now: DateTime<Utc>) -> u64 {
        let mut buried = 0;
        for job in self.jobs.values_mut() {
            if job.state == JobState::Running
                && job.lease_until.is_some_and(|l| l < now)
                && job.attempts >= job.max_attempts
            {
                job.state = JobState::Dead;
                job.last_error = Some(crate::job::LEASE_EXPIRED.into());
                job.locked_by = None;
                job.lease_until = None;
                job.updated_at = now;
                job.finished_at = Some(now);
                buried += 1;
            }
        }
        buried
    }

    pub(super) fn jobs(&self, q: &JobQuery) -> Page<Job> {
        let mut rows: Vec<Job> = self
            .jobs
            .values()
            .filter(|j| q.state.is_none_or(|st| j.state == st) && q.kind.as_ref().is_none_or(|k| *k == j.kind))
            .cloned()
            .collect();
        rows.sort_by_key(|j| std::cmp::Reverse(j.id));
        paginate(rows, q.page)
    }

    pub(super) fn queue_stats(&self, now: DateTime<Utc>) -> QueueStats {
        let classes = Priority::ALL
            .into_iter()
            .map(|class| {
                let mut c = ClassStats::empty(class);
                for j in self.jobs.values().filter(|j| j.class == class) {
                    c.add(j, now);
                }
                c
            })
            .collect();
        QueueStats { as_of: now, classes }
    }

    pub(super) fn purge_jobs(&mut self, states: &[JobState], before: DateTime<Utc>) -> u64 {
        let was = self.jobs.len();
        self.jobs.retain(|_, j| !(states.contains(&j.state) && j.finished_at.is_some_and(|f| f < before)));
        (was - self.jobs.len()) as u64
    }
}
