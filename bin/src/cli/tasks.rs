//! `steward task …` as clap types.

use clap::{Args, Subcommand};
use steward::{Assignee, Priority, TaskSort, TaskStatus};

use super::{PageArgs, domain};
use crate::ids::IdArg;

#[derive(Debug, Subcommand)]
pub(crate) enum TaskCommand {
    /// Add a task from a quick-add phrase (`call mom tomorrow at 5pm #family`).
    Add(TaskAddArgs),
    /// List tasks, newest first.
    List(TaskListArgs),
    /// Tasks whose title or description has all these words.
    Search {
        #[arg(required = true, num_args = 1..)]
        words: Vec<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show every field of one task.
    Show {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
    /// Change any field of a task; only the options given change.
    Edit(TaskEditArgs),
    /// Mark a task in progress.
    Start {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
    /// Mark a task done (a recurring task gets its next occurrence).
    Done {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
    /// Cancel a task (`task edit ID --status pending` restores it).
    Cancel {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
    /// Counts by status and priority, overdue, completed in the last 7 and
    /// 30 days, and agent tasks whose job is late.
    Stats,
    /// Delete a task and its sub-steps.
    Rm {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
}

#[derive(Debug, Args)]
pub(crate) struct TaskAddArgs {
    /// The quick-add phrase; several words are joined with spaces.
    #[arg(required = true, num_args = 1..)]
    pub(crate) text: Vec<String>,
    /// Override the priority (critical, high, medium, low).
    #[arg(long, value_parser = domain::<Priority>)]
    pub(crate) priority: Option<Priority>,
    /// Override the due date: YYYY-MM-DD or a quick-add phrase ("next friday 5pm").
    #[arg(long, value_name = "WHEN")]
    pub(crate) due: Option<String>,
    /// Add a tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub(crate) tags: Vec<String>,
    /// A longer description.
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// Make the task a sub-step of this task (an id or its prefix).
    #[arg(long, value_parser = IdArg::parse, value_name = "ID")]
    pub(crate) parent: Option<IdArg>,
    /// Who does it (me, agent).
    #[arg(long, value_parser = domain::<Assignee>)]
    pub(crate) assignee: Option<Assignee>,
}

#[derive(Debug, Args)]
pub(crate) struct TaskEditArgs {
    #[arg(value_parser = IdArg::parse)]
    pub(crate) id: IdArg,
    #[arg(long)]
    pub(crate) title: Option<String>,
    /// A longer description (empty clears it).
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// critical, high, medium, low.
    #[arg(long, value_parser = domain::<Priority>)]
    pub(crate) priority: Option<Priority>,
    /// pending, in_progress, waiting_approval, done, cancelled.
    #[arg(long, value_parser = domain::<TaskStatus>)]
    pub(crate) status: Option<TaskStatus>,
    /// YYYY-MM-DD or a quick-add phrase ("next friday 5pm", "tomorrow").
    #[arg(long, value_name = "WHEN")]
    pub(crate) due: Option<String>,
    /// An RRULE (`FREQ=WEEKLY;BYDAY=MO`); empty stops the repetition.
    #[arg(long, value_name = "RRULE")]
    pub(crate) recurrence: Option<String>,
    /// Replace the tags with these (repeatable).
    #[arg(long = "tag", value_name = "TAG", conflicts_with = "no_tags")]
    pub(crate) tags: Vec<String>,
    /// Remove every tag.
    #[arg(long)]
    pub(crate) no_tags: bool,
    /// Make it a sub-step of this task (an id or its prefix).
    #[arg(long, value_parser = IdArg::parse, value_name = "ID")]
    pub(crate) parent: Option<IdArg>,
    /// Estimated effort in minutes.
    #[arg(long, value_name = "MINUTES")]
    pub(crate) effort: Option<i32>,
    /// me, agent.
    #[arg(long, value_parser = domain::<Assignee>)]
    pub(crate) assignee: Option<Assignee>,
    /// Only if the task is still at this version (else exit code 4).
    #[arg(long, value_name = "VERSION")]
    pub(crate) if_version: Option<i64>,
}

#[derive(Debug, Args)]
pub(crate) struct TaskListArgs {
    /// pending, in_progress, waiting_approval, done, cancelled.
    #[arg(long, value_parser = domain::<TaskStatus>)]
    pub(crate) status: Option<TaskStatus>,
    /// critical, high, medium, low.
    #[arg(long, value_parser = domain::<Priority>)]
    pub(crate) priority: Option<Priority>,
    /// Only tasks with this tag.
    #[arg(long)]
    pub(crate) tag: Option<String>,
    /// me, agent.
    #[arg(long, value_parser = domain::<Assignee>)]
    pub(crate) assignee: Option<Assignee>,
    /// Due on or before this day: YYYY-MM-DD or a quick-add date ("friday").
    #[arg(long, value_name = "WHEN")]
    pub(crate) due_before: Option<String>,
    /// Due on or after this day: YYYY-MM-DD or a quick-add date ("next week").
    #[arg(long, value_name = "WHEN")]
    pub(crate) due_after: Option<String>,
    /// Only open tasks due before today (in your timezone).
    #[arg(long, conflicts_with = "status")]
    pub(crate) overdue: bool,
    /// Sub-steps of this task (an id or its prefix).
    #[arg(long, value_parser = IdArg::parse, value_name = "ID")]
    pub(crate) parent: Option<IdArg>,
    /// Words that must all appear in the title or description.
    #[arg(long, value_name = "QUERY")]
    pub(crate) search: Option<String>,
    /// created_at, updated_at, due_date, priority, title.
    #[arg(long, value_parser = domain::<TaskSort>, value_name = "FIELD")]
    pub(crate) sort: Option<TaskSort>,
    /// Ascending order (default: descending).
    #[arg(long)]
    pub(crate) asc: bool,
    #[command(flatten)]
    pub(crate) page: PageArgs,
}
