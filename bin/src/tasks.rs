//! `steward parse` and `steward task …`: translate the arguments, call one
//! engine operation, print the result. The quick-add grammar, validation and
//! the status machine are core's.

use chrono::Utc;
use steward::quickadd;
use steward::{NewTask, PageRequest, Principal, SortOrder, Steward, TaskQuery};

use crate::cli::{ParseArgs, TaskAddArgs, TaskCommand, TaskListArgs};
use crate::errors::Failure;
use crate::output::{self, Output};

/// `steward parse`: what quick-add understands, as JSON. No database.
pub(crate) fn parse(args: &ParseArgs) -> Result<(), Failure> {
    let now = args.now.unwrap_or_else(Utc::now);
    let parsed = quickadd::parse(&args.text.join(" "), now, args.tz).map_err(unparsable)?;
    output::print(&output::to_json(&parsed)?)?;
    Ok(())
}

pub(crate) async fn run(command: TaskCommand, steward: &Steward, p: &Principal, out: Output) -> Result<(), Failure> {
    match command {
        TaskCommand::Add(args) => add(args, steward, p, out).await,
        TaskCommand::List(args) => list(args, steward, p, out).await,
        TaskCommand::Show { id } => {
            let task = steward.task(p, id).await?;
            out.emit(&task, || output::task_details(&task))
        }
        TaskCommand::Done { id } => {
            let done = steward.complete_task(p, id).await?;
            out.emit(&done, || output::completion(&done))
        }
    }
}

/// Quick-add; override flags win over the phrase (merged by core, one write).
async fn add(args: TaskAddArgs, steward: &Steward, p: &Principal, out: Output) -> Result<(), Failure> {
    let overrides = NewTask {
        description: args.description,
        priority: args.priority,
        due_date: args.due,
        tags: args.tags,
        parent_id: args.parent,
        assignee: args.assignee,
        ..NewTask::default()
    };
    let task = steward.quick_add_with(p, &args.text.join(" "), overrides).await?.task;
    out.emit(&task, || output::task_table(std::slice::from_ref(&task)))
}

async fn list(args: TaskListArgs, steward: &Steward, p: &Principal, out: Output) -> Result<(), Failure> {
    let query = TaskQuery {
        status: args.status,
        priority: args.priority,
        tag: args.tag,
        assignee: args.assignee,
        parent_id: None,
        due_before: args.due_before,
        due_after: args.due_after,
        text: args.search,
        sort_by: args.sort.unwrap_or_default(),
        order: if args.asc { SortOrder::Asc } else { SortOrder::Desc },
        page: PageRequest::new(args.page.limit, args.page.offset)?,
    };
    let page = steward.tasks(p, query).await?;
    out.emit(&output::page_json("tasks", &page)?, || output::task_page(&page))
}

fn unparsable(error: quickadd::ParseError) -> Failure {
    steward::Error::invalid("text", error.to_string()).into()
}
