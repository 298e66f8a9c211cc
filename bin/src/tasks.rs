//! `steward parse` and `steward task …`: translate the arguments, call one
//! engine operation, print the result. The quick-add grammar, validation and
//! the status machine are core's.

use chrono::Utc;
use steward::quickadd;
use steward::{NewTask, Page, PageRequest, Principal, SortOrder, Steward, Task, TaskPatch, TaskQuery, TaskStatus};

use crate::cli::{PageArgs, ParseArgs, TaskAddArgs, TaskCommand, TaskEditArgs, TaskListArgs};
use crate::errors::Failure;
use crate::ids;
use crate::output::{self, Output};
use crate::when;

/// Overdue tasks gathered to page through them (they are filtered here,
/// as the engine's list takes one status, not "any open one").
const OVERDUE_CAP: u64 = 10_000;

/// `steward parse`: what quick-add understands, as JSON. No database.
pub(crate) fn parse(args: &ParseArgs) -> Result<(), Failure> {
    let now = args.now.unwrap_or_else(Utc::now);
    let options = quickadd::ParseOptions::default().with_date_order(args.date_order);
    let parsed = quickadd::parse_with(&args.text.join(" "), now, args.tz, &options).map_err(unparsable)?;
    output::print(&output::to_json(&parsed)?)?;
    Ok(())
}

pub(crate) async fn run(command: TaskCommand, steward: &Steward, p: &Principal, out: Output) -> Result<(), Failure> {
    match command {
        TaskCommand::Add(args) => add(args, steward, p, out).await,
        TaskCommand::List(args) => list(args, steward, p, out).await,
        TaskCommand::Search { words, page } => search(words.join(" "), page, steward, p, out).await,
        TaskCommand::Show { id } => {
            let task = steward.task(p, ids::task(steward, p, &id).await?).await?;
            out.emit(&task, || output::task_details(&task))
        }
        TaskCommand::Edit(args) => edit(args, steward, p, out).await,
        TaskCommand::Start { id } => {
            let id = ids::task(steward, p, &id).await?;
            let started = steward.set_task_status(p, id, TaskStatus::InProgress, None).await?;
            out.emit(&started.task, || output::task_table(std::slice::from_ref(&started.task)))
        }
        TaskCommand::Done { id } => {
            let done = steward.complete_task(p, ids::task(steward, p, &id).await?).await?;
            out.emit(&done, || output::completion(&done))
        }
        TaskCommand::Cancel { id } => {
            let id = ids::task(steward, p, &id).await?;
            let cancelled = steward.set_task_status(p, id, TaskStatus::Cancelled, None).await?;
            out.emit(&cancelled.task, || output::task_table(std::slice::from_ref(&cancelled.task)))
        }
        TaskCommand::Stats => {
            let stats = steward.task_statistics(p).await?;
            out.emit(&stats, || output::task_statistics(&stats))
        }
        TaskCommand::Rm { id } => {
            let id = ids::task(steward, p, &id).await?;
            steward.delete_task(p, id, None).await?;
            let report = serde_json::json!({ "deleted": id });
            out.emit(&report, || format!("deleted task {id} (and its sub-steps)"))
        }
    }
}

/// Quick-add; override flags win over the phrase (merged by core, one write).
async fn add(args: TaskAddArgs, steward: &Steward, p: &Principal, out: Output) -> Result<(), Failure> {
    let due = when::resolve_opt(steward, p, "due", args.due.as_deref()).await?;
    let parent_id = ids::opt_task(steward, p, args.parent.as_ref()).await?;
    let overrides = NewTask {
        description: args.description,
        priority: args.priority,
        due_date: due.map(|d| d.date),
        due_time: due.and_then(|d| d.time),
        tags: args.tags,
        parent_id,
        assignee: args.assignee,
        ..NewTask::default()
    };
    let task = steward.quick_add_with(p, &args.text.join(" "), overrides).await?.task;
    out.emit(&task, || output::task_table(std::slice::from_ref(&task)))
}

async fn edit(args: TaskEditArgs, steward: &Steward, p: &Principal, out: Output) -> Result<(), Failure> {
    let id = ids::task(steward, p, &args.id).await?;
    let due = when::resolve_opt(steward, p, "due", args.due.as_deref()).await?;
    let parent_id = ids::opt_task(steward, p, args.parent.as_ref()).await?;
    let tags = if args.no_tags { Some(Vec::new()) } else { Some(args.tags).filter(|t| !t.is_empty()) };
    let patch = TaskPatch {
        title: args.title,
        description: args.description,
        priority: args.priority,
        status: args.status,
        due_date: due.map(|d| d.date),
        due_time: due.and_then(|d| d.time),
        recurrence: args.recurrence,
        tags,
        parent_id,
        estimated_effort_minutes: args.effort,
        assignee: args.assignee,
        metadata: None,
    };
    if patch == TaskPatch::default() {
        return Err(steward::Error::invalid("edit", "nothing to change: give at least one option (see --help)").into());
    }
    let task = steward.update_task(p, id, patch, args.if_version).await?;
    out.emit(&task, || output::task_details(&task))
}

async fn list(args: TaskListArgs, steward: &Steward, p: &Principal, out: Output) -> Result<(), Failure> {
    let due_before = when::resolve_opt(steward, p, "due_before", args.due_before.as_deref()).await?;
    let due_after = when::resolve_opt(steward, p, "due_after", args.due_after.as_deref()).await?;
    let parent_id = ids::opt_task(steward, p, args.parent.as_ref()).await?;
    let mut query = TaskQuery {
        status: args.status,
        priority: args.priority,
        tag: args.tag,
        assignee: args.assignee,
        parent_id,
        due_before: due_before.map(|d| d.date),
        due_after: due_after.map(|d| d.date),
        text: args.search,
        sort_by: args.sort.unwrap_or_default(),
        order: if args.asc { SortOrder::Asc } else { SortOrder::Desc },
        page: PageRequest::new(args.page.limit, args.page.offset)?,
    };
    let page = if args.overdue {
        let tz = steward.settings(p).await?.tz();
        let today = Utc::now().with_timezone(&tz).date_naive();
        let yesterday = today.pred_opt().unwrap_or(today);
        query.due_before = Some(query.due_before.map_or(yesterday, |d| d.min(yesterday)));
        overdue(steward, p, query, today).await?
    } else {
        steward.tasks(p, query).await?
    };
    out.emit(&output::page_json("tasks", &page)?, || output::task_page(&page))
}

/// Open tasks due before `today`, paged here: every matching task up to
/// [`OVERDUE_CAP`] is read in the query's order and the open ones kept.
async fn overdue(
    steward: &Steward,
    p: &Principal,
    query: TaskQuery,
    today: chrono::NaiveDate,
) -> Result<Page<Task>, Failure> {
    let wanted = query.page;
    let mut open = Vec::new();
    let mut offset = 0u64;
    loop {
        let page = steward.tasks(p, TaskQuery { page: PageRequest::new(100, offset)?, ..query.clone() }).await?;
        open.extend(page.items.iter().filter(|t| t.is_overdue(today)).cloned());
        offset += page.items.len() as u64;
        if !page.has_more() || page.items.is_empty() || offset >= OVERDUE_CAP {
            break;
        }
    }
    let total = open.len() as u64;
    let items = open.into_iter().skip(usize::try_from(wanted.offset).unwrap_or(usize::MAX)).take(wanted.limit as usize);
    Ok(Page { items: items.collect(), total, offset: wanted.offset, limit: wanted.limit })
}

async fn search(text: String, page: PageArgs, steward: &Steward, p: &Principal, out: Output) -> Result<(), Failure> {
    if text.trim().is_empty() {
        return Err(steward::Error::invalid("words", "must not be empty").into());
    }
    let query =
        TaskQuery { text: Some(text), page: PageRequest::new(page.limit, page.offset)?, ..TaskQuery::default() };
    let page = steward.tasks(p, query).await?;
    out.emit(&output::page_json("tasks", &page)?, || output::task_page(&page))
}

fn unparsable(error: quickadd::ParseError) -> Failure {
    steward::Error::invalid("text", error.to_string()).into()
}
