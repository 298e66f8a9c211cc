//! The agent's queue handlers: `agent.run` moves a run on (after a start
//! nobody finished inline, or when an approval it waits for was decided or
//! expired), `task.agent` works a task assigned to the agent through a run
//! of its own. Both act as the engine's system principal on the owner's
//! behalf; the loop itself is core's (`Engine::advance_run`).

use serde::Deserialize;
use steward_core::job::kinds;
use steward_core::{Engine, Error, Job, Principal, TaskId, UserId};

use crate::worker::{Handlers, JobError};

#[derive(Debug, Deserialize)]
struct RunPayload {
    run_id: steward_core::RunId,
    user_id: UserId,
}

#[derive(Debug, Deserialize)]
struct TaskPayload {
    task_id: TaskId,
    user_id: UserId,
}

/// The handlers for `agent.run` and `task.agent`, to register with a
/// worker pool.
pub fn handlers(engine: Engine) -> Handlers {
    let for_runs = engine.clone();
    Handlers::new()
        .on(kinds::AGENT_RUN, move |job: Job| {
            let engine = for_runs.clone();
            async move {
                let payload: RunPayload = payload(&job)?;
                let moved = engine.advance_run(&Principal::system(), payload.user_id, payload.run_id).await;
                settle(&engine, &job, payload.user_id, payload.run_id, moved).await
            }
        })
        .on(kinds::TASK_AGENT, move |job: Job| {
            let engine = engine.clone();
            async move {
                let payload: TaskPayload = payload(&job)?;
                let system = Principal::system();
                let run = match engine.run_for_task_job(&system, payload.user_id, payload.task_id, job.id).await {
                    Ok(run) => run,
                    // The task is gone, or its owner: nothing to work on.
                    Err(Error::NotFound { .. }) => return Ok(()),
                    Err(e) => return Err(JobError::retry(e.to_string())),
                };
                let moved = engine.advance_run(&system, payload.user_id, run.id).await;
                settle(&engine, &job, payload.user_id, run.id, moved).await
            }
        })
}

fn payload<T: serde::de::DeserializeOwned>(job: &Job) -> Result<T, JobError> {
    serde_json::from_value(job.payload.clone()).map_err(|e| JobError::fatal(format!("bad payload: {e}")))
}

/// A run that moved on is done for this job (it finished, or it waits for
/// approvals that will wake it). One that could not move (the model or the
/// store is down) is retried; on the last attempt it fails, with why.
async fn settle(
    engine: &Engine,
    job: &Job,
    owner: UserId,
    run: steward_core::RunId,
    moved: steward_core::Result<steward_core::agent::AgentRun>,
) -> Result<(), JobError> {
    match moved {
        Ok(run) => {
            tracing::debug!(run = %run.id, status = %run.status, "agent run moved on");
            Ok(())
        }
        Err(Error::NotFound { .. }) => Ok(()),
        Err(e) if job.attempts >= job.max_attempts => {
            let reason = format!("gave up after {} attempts: {e}", job.attempts);
            engine
                .fail_run(&Principal::system(), owner, run, &reason)
                .await
                .map_err(|e| JobError::retry(e.to_string()))?;
            Err(JobError::fatal(reason))
        }
        Err(e) => Err(JobError::retry(e.to_string())),
    }
}
