//! `/config`: the server's configuration for admins, the runtime-adjustable
//! part changed by `PUT` (see `server/config.rs`), and `/config/security`,
//! the security-relevant part for any authenticated caller (what a client
//! must know to behave: how to authenticate, token lifetime, limits, CORS).

use axum::extract::State;
use serde_json::{Map, Value};
use steward::core::access::Access;

use crate::server::auth::Caller;
use crate::server::config;
use crate::server::envelope::Reply;
use crate::server::error::ApiError;
use crate::server::extract::Body;
use crate::server::state::AppState;

pub(crate) async fn show(State(s): State<AppState>, Caller(p): Caller) -> Result<Reply, ApiError> {
    p.require(Access::Administer)?;
    Ok(Reply::ok(view(&s)))
}

pub(crate) async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    Body(body): Body<Map<String, Value>>,
) -> Result<Reply, ApiError> {
    p.require(Access::Administer)?;
    let change = config::parse_change(&body).map_err(ApiError::invalid)?;
    if !change.is_empty() {
        let kept = |name: &str| change.changes().iter().find(|(n, _)| n == name).and_then(|(_, v)| v.clone());
        let forgotten: Vec<&str> =
            change.changes().iter().filter(|(_, v)| v.is_none()).map(|(n, _)| n.as_str()).collect();
        tracing::info!(
            by = %p.user_id,
            rate_limit_per_minute = kept("rate_limit_per_minute").and_then(|v| v.as_u64()),
            registration_enabled = kept("registration_enabled").and_then(|v| v.as_bool()),
            approval_policy_kept = kept("approval_policy").is_some(),
            retention_days = kept("retention").and_then(|v| v["finished_jobs_days"].as_u64()),
            forgotten = ?forgotten,
            "runtime configuration changed"
        );
        s.runtime.change(&s.steward, &p, change).await?;
    } else {
        // Nothing to keep: what is kept now (another server's change
        // included) is what the answer shows.
        s.runtime.refresh(&s.steward).await?;
    }
    Ok(Reply::ok(view(&s)))
}

pub(crate) async fn security(State(s): State<AppState>, Caller(_): Caller) -> Reply {
    Reply::ok(config::security(&s.config, &s.runtime))
}

fn view(s: &AppState) -> config::FullConfig {
    let scheduler = s.workers.as_ref().is_some_and(|w| w.scheduler);
    config::full(&s.config, &s.runtime, s.workers.clone(), &s.steward, scheduler)
}
