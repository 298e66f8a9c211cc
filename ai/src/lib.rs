//! # steward-ai
//!
//! Language-model providers behind core's `LanguageModel` port. For now:
//! [`local::LocalModel`], the deterministic offline model that needs no key.

pub mod local;

pub use local::LocalModel;
