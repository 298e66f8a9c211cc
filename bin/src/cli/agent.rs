//! `steward chat`, `steward approval …`, `steward run …` and
//! `steward conversation …` as clap types.

use clap::{Args, Subcommand};
use steward::ApprovalStatus;

use super::{PageArgs, domain};
use crate::ids::IdArg;

#[derive(Debug, Args)]
pub(crate) struct ChatArgs {
    /// What to ask; several words are joined with spaces.
    #[arg(required = true, num_args = 1..)]
    pub(crate) message: Vec<String>,
    /// Carry on this conversation (its full id) instead of starting one.
    #[arg(long, value_parser = IdArg::parse)]
    pub(crate) conversation: Option<IdArg>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ApprovalCommand {
    /// List approvals, newest first (pending ones unless `--status`).
    List {
        /// pending, approved, rejected, expired or cancelled.
        #[arg(long, value_parser = domain::<ApprovalStatus>)]
        status: Option<ApprovalStatus>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show every field of one approval.
    Show {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
    /// Approve; the agent run waiting for it carries on at once.
    Approve(DecideArgs),
    /// Reject; the agent is told, with the reason.
    Reject(DecideArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DecideArgs {
    /// The approval's full id.
    #[arg(value_parser = IdArg::parse)]
    pub(crate) id: IdArg,
    /// Why (the agent sees it).
    #[arg(long)]
    pub(crate) reason: Option<String>,
    /// Leave the waiting run to a worker instead of carrying it on here.
    #[arg(long)]
    pub(crate) no_resume: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RunCommand {
    /// Show a run with its steps.
    Show {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
    /// Carry a run on from where it stopped (after a crash, or decisions).
    Resume {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
    /// The tokens all your agent runs used.
    Usage,
    /// Cancel a run that has not finished (its pending approvals too).
    Cancel {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConversationCommand {
    /// List conversations, most recent first.
    List {
        #[command(flatten)]
        page: PageArgs,
    },
    /// Print a conversation's messages.
    Show {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
    /// Delete a conversation with its runs.
    Rm {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
}
