//! The agent: the language-model port, the built-in tools, and (with the
//! engine) the loop that lets a model act on a person's data, pausing for
//! their approval before anything sensitive.

pub mod model;
pub mod tools;

pub use model::{
    LanguageModel, Message, ModelError, ModelReply, ModelRequest, Part, Speaker, StopReason, TextSink, ToolCall,
    ToolResult, ToolSpec, Usage,
};
pub use tools::{Builtin, Effect};
