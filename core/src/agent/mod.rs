//! The agent: the language-model port, the built-in tools, and (with the
//! engine) the loop that lets a model act on a person's data, pausing for
//! their approval before anything sensitive.

pub mod choice;
pub mod external;
pub mod model;
pub mod policy;
pub mod progress;
pub mod run;
pub mod tools;
pub mod watch;

pub use crate::engine::{AgentTool, CallSummary, ChatOutcome, RUN_GRACE};
pub use choice::{Backend, ModelChoice, OneModel};
pub use external::{ExternalTool, ExternalTools};
pub use model::{
    LanguageModel, Message, ModelError, ModelReply, ModelRequest, Part, Speaker, StopReason, TextSink, ToolCall,
    ToolResult, ToolSpec, Usage,
};
pub use policy::{AgentConfig, PolicyRule, ToolPolicy};
pub use progress::{Next, OpenCall, Progress};
pub use run::{AgentRun, CallKey, CallOutcome, Conversation, RunStatus, RunStep, StepKind, Verdict};
pub use tools::{Builtin, Effect};
pub use watch::RunWatcher;
