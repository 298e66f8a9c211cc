//! The scripted model, where the tests have always found it (it lives in
//! `agent::scripted`, for every crate's tests).

pub use crate::agent::scripted::{ScriptedModel, calls_reply, text_reply};
