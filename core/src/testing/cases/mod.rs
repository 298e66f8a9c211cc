//! The conformance cases, one public async function each, grouped by
//! concept. Each takes a fresh store.

mod agent;
mod agent_runs;
mod analysis;
mod approvals;
mod concurrency;
mod consciousness;
mod jobs;
mod roles;
mod tasks;
mod thoughts;
mod users;
mod webhooks;
mod writes;

pub use agent::*;
pub use agent_runs::*;
pub use analysis::*;
pub use approvals::*;
pub use concurrency::*;
pub use consciousness::*;
pub use jobs::*;
pub use roles::*;
pub use tasks::*;
pub use thoughts::*;
pub use users::*;
pub use webhooks::*;
pub use writes::*;
