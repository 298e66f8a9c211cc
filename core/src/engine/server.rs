//! The settings an admin keeps for every process on the database (see
//! [`crate::server_settings`]), and what core itself reads of them.

use crate::access::Access;
use crate::agent::AgentConfig;
use crate::error::Result;
use crate::job::Sweep;
use crate::server_settings::{
    APPROVAL_POLICY, PolicySetting, ServerSetting, ServerSettingsChange, kept, retention_in_force,
};
use crate::user::Principal;

use super::Engine;

impl Engine {
    /// The server settings kept in the database (what an admin changed
    /// while servers ran, `PUT /api/v1/config`), by name: shared by every
    /// process on the database and kept across restarts. Core itself
    /// follows two of them: the approval policy
    /// ([`Engine::agent_config_in_force`]) and the retention of finished
    /// jobs ([`Engine::sweep_in_force`]).
    pub async fn server_settings(&self) -> Result<Vec<ServerSetting>> {
        self.store.server_settings().await
    }

    /// Keeps or forgets the settings of `change` all together (admins
    /// only); answers every setting kept afterwards.
    #[tracing::instrument(level = "info", name = "change_server_settings", skip_all, fields(user = %by.user_id, role = %by.role))]
    pub async fn change_server_settings(
        &self,
        by: &Principal,
        change: ServerSettingsChange,
    ) -> Result<Vec<ServerSetting>> {
        by.require(Access::Administer)?;
        self.store.change_server_settings(change, Some(by.user_id), self.now()).await?;
        self.store.server_settings().await
    }

    /// The agent configuration in force: this engine's
    /// ([`Engine::agent_config`]) under the approval policy an admin kept,
    /// read now, so a change reaches every process at its next decision.
    pub async fn agent_config_in_force(&self) -> Result<AgentConfig> {
        let settings = self.store.server_settings().await?;
        Ok(self.agent_config_under(&settings))
    }

    /// This engine's agent configuration under what `settings` keep.
    pub fn agent_config_under(&self, settings: &[ServerSetting]) -> AgentConfig {
        match kept(settings, APPROVAL_POLICY, PolicySetting::read) {
            Some(policy) => policy.over(&self.agent),
            None => self.agent.clone(),
        }
    }

    /// `sweep` as it runs now: a retention sweep keeps finished jobs as
    /// long as an admin's kept retention says, when one is kept.
    pub async fn sweep_in_force(&self, sweep: Sweep) -> Result<Sweep> {
        let Sweep::Retention { keep } = sweep else { return Ok(sweep) };
        let settings = self.store.server_settings().await?;
        Sweep::retention(retention_in_force(&settings, keep))
    }
}
