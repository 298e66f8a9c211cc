//! `steward check …` as clap types: consciousness checks.

use clap::Subcommand;

use crate::ids::IdArg;

#[derive(Debug, Subcommand)]
pub(crate) enum CheckCommand {
    /// Ask for a check; a worker runs it (prints its id).
    Request,
    /// Run a check over your recent thoughts now and print it.
    Run,
    /// The newest completed check.
    Latest,
    /// Checks, newest first.
    History {
        /// At most this many (1–100).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100))]
        limit: u32,
    },
    /// Show every field of one check.
    Show {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
}
