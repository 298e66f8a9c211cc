//! The handlers for the job kinds Steward itself enqueues: scheduler ticks,
//! thought analysis, consciousness checks and webhook deliveries (the agent's own are in
//! [`crate::agent`]; [`crate::Steward::handlers`] has them all). Each extracts the job, calls
//! one engine operation as `Principal::system()` and maps the result; the
//! rules are the engine's. `steward worker` runs exactly this set.

use steward_core::analysis::{ModelAnalyzer, Rules};
use steward_core::engine::CONSCIOUSNESS_JOB;
use steward_core::job::kinds;
use steward_core::{Engine, Error, Job, Principal};

use crate::scheduler;
use crate::worker::{Handlers, JobError};

/// Every built-in handler, for a pool that should run Steward's own jobs.
pub fn builtin_handlers(engine: Engine) -> Handlers {
    let analyze = engine.clone();
    let check = engine.clone();
    let deliver = engine.clone();
    scheduler::handlers(engine)
        .on(kinds::THOUGHT_ANALYZE, move |job: Job| {
            let engine = analyze.clone();
            async move {
                // With a model, it is asked first; the rules answer when it fails.
                let model = match job.owner {
                    Some(owner) => engine.model_for(owner).await.map_err(failure)?,
                    None => engine.model(),
                };
                let done = match model {
                    Some(model) => {
                        let analyzer = ModelAnalyzer::new(model);
                        engine.run_analysis_job(&Principal::system(), &job.payload, &analyzer).await
                    }
                    None => engine.run_analysis_job(&Principal::system(), &job.payload, &Rules).await,
                }
                .map_err(failure)?;
                tracing::debug!(analysed = done.is_some(), "thought analysis finished");
                Ok(())
            }
        })
        .on(CONSCIOUSNESS_JOB, move |job: Job| {
            let engine = check.clone();
            async move {
                let done = engine.run_consciousness_job(&Principal::system(), &job).await.map_err(failure)?;
                tracing::debug!(ran = done.is_some(), "consciousness check finished");
                Ok(())
            }
        })
        .merge(crate::webhooks::handlers(deliver))
}

/// Input no retry can fix is fatal; anything else may pass.
pub(crate) fn failure(e: Error) -> JobError {
    match e {
        Error::Invalid(_) | Error::Forbidden(_) => JobError::fatal(e.to_string()),
        other => JobError::retry(other.to_string()),
    }
}
