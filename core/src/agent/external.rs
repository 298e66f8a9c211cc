//! The seam for tools from outside Steward (MCP servers come through it):
//! what they are called, their schemas, whether repeating a call is
//! harmless, and how to call one. The engine treats every external tool
//! as [`super::Effect::External`]: by default each call needs approval, and
//! a call interrupted by a crash is never repeated silently.

use async_trait::async_trait;
use serde_json::Value;

use super::model::ToolSpec;
use crate::ids::UserId;

/// One external tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalTool {
    /// Its name must not clash with a built-in's (prefix it: `mcp.fs.read`).
    pub spec: ToolSpec,
    /// Calling it twice with the same arguments does no more than once:
    /// after a crash mid-call it may simply be called again.
    pub idempotent: bool,
}

/// A source of external tools.
///
/// Contract: `tools` is cheap and stable while the engine runs; `call` runs
/// the named tool once for `owner` and answers its result as text, or an
/// error text the model is shown. A call may have happened even when it
/// fails (the engine never assumes otherwise).
#[cfg_attr(not(target_family = "wasm"), async_trait)]
#[cfg_attr(target_family = "wasm", async_trait(?Send))]
pub trait ExternalTools: Send + Sync + std::fmt::Debug {
    fn tools(&self) -> Vec<ExternalTool>;
    async fn call(&self, owner: UserId, name: &str, arguments: &Value) -> Result<String, String>;
}
