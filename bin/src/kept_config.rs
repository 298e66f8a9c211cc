//! `steward config …`: the settings an admin keeps for every process on the
//! database, as `GET | PUT /api/v1/config` shows and changes them. The
//! approval policy and the retention are read by core where it decides
//! (each agent run step, each scheduled sweep), so `steward chat`, `steward
//! worker` and every server follow a change at once; a server applies its
//! rate limit and registration within a second. The checks are the
//! server's and core's (`server::config::parse_change`).

use serde::Serialize;
use serde_json::{Map, Value};
use steward::core::access::Access;
use steward::core::agent::AgentConfig;
use steward::core::server_settings::retention_in_force;
use steward::scheduler::SchedulerOptions;
use steward::{Error, Principal, ServerSetting, Steward};

use crate::cli::ConfigCommand;
use crate::errors::Failure;
use crate::output::Output;
use crate::server::config::{self as server_config, ADJUSTABLE, ApprovalPolicy, KeptSetting};

/// What `steward config show` prints (`--json`).
#[derive(Debug, Serialize)]
struct Shown {
    /// The policy in force: the engine's own under the one kept.
    approval_policy: ApprovalPolicy,
    /// Days finished jobs are kept, as the next scheduled sweep will.
    finished_jobs_days: i64,
    kept_settings: Vec<KeptSetting>,
}

pub(crate) async fn run(command: ConfigCommand, steward: &Steward, p: &Principal, out: Output) -> Result<(), Failure> {
    p.require(Access::Administer)?;
    let settings = match command {
        ConfigCommand::Show => steward.server_settings().await?,
        ConfigCommand::Set { name, value } => {
            let value: Value = serde_json::from_str(value.trim())
                .map_err(|e| Error::invalid(&name, format!("is not JSON ({e}); a string is written in quotes")))?;
            if value.is_null() {
                return Err(Error::invalid(&name, format!("to forget it: steward config unset {name}")).into());
            }
            change(steward, p, &name, value).await?
        }
        ConfigCommand::Unset { name } => change(steward, p, &name, Value::Null).await?,
    };
    let agent = steward.agent_config_under(&settings);
    let days = retention_in_force(&settings, SchedulerOptions::default().keep_finished).num_days();
    let text = human(&agent, days, &settings);
    let shown = Shown {
        approval_policy: ApprovalPolicy::of(&agent),
        finished_jobs_days: days,
        kept_settings: server_config::shown(settings),
    };
    out.emit(&shown, || text)
}

/// Keeps `value` as `name` (`null`: forgets it), checked as `PUT /config`
/// checks it; answers every setting kept afterwards.
async fn change(steward: &Steward, p: &Principal, name: &str, value: Value) -> Result<Vec<ServerSetting>, Error> {
    if !ADJUSTABLE.contains(&name) {
        return Err(Error::invalid(name, format!("is not a setting kept here; one of {}", ADJUSTABLE.join(", "))));
    }
    let body = Map::from_iter([(name.to_string(), value)]);
    let change = server_config::parse_change(&body).map_err(Error::Invalid)?;
    steward.change_server_settings(p, change).await
}

fn human(agent: &AgentConfig, days: i64, kept: &[ServerSetting]) -> String {
    let rules = if agent.policy.rules.is_empty() {
        "none (reads and single writes run; deletes, bulk changes and external tools wait for approval)".to_string()
    } else {
        agent
            .policy
            .rules
            .iter()
            .map(|r| format!("{} {}", r.pattern, r.verdict.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let kept = if kept.is_empty() {
        "nothing (every process goes by what it was started with)".to_string()
    } else {
        kept.iter().map(|k| format!("{} = {}", k.name, k.value)).collect::<Vec<_>>().join("\n                   ")
    };
    format!(
        "approval rules     {rules}\napproval lifetime  {} s\nmax turns          {}\nfinished jobs kept {days} days\nkept               {kept}",
        agent.approval_ttl.num_seconds(),
        agent.max_turns
    )
}
