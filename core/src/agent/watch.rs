//! Watching a run move while a caller waits on it: a chat streamed to a
//! client sees each step once it is written, and the model's text as it
//! arrives. Watching changes nothing about the run: the store stays the
//! record, and a watcher that goes away (a client that hangs up) leaves
//! the run to finish on its own.

use super::run::RunStep;

/// Told about one run as it moves. Calls come from the task advancing the
/// run, in order; they must return quickly (hand the news on, do not wait).
pub trait RunWatcher: Send + Sync + std::fmt::Debug {
    /// A step, once it is written.
    fn step(&self, step: &RunStep);
    /// A piece of the model's text, as it arrives (its whole turn is a step
    /// once the turn ends).
    fn text(&self, delta: &str);
}
