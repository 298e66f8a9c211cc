//! `steward thought …`: capture, list, search, show, edit, archive and
//! delete thoughts. Capture is one insert; analysis happens later on the
//! queue, or at once with `analyze`.

use steward::core::analysis::Rules;
use steward::{
    AnalysisOutcome, NewThought, PageRequest, Principal, Steward, ThoughtPatch, ThoughtQuery, ThoughtStatus,
};

use crate::cli::ThoughtCommand;
use crate::errors::Failure;
use crate::ids;
use crate::output::{self, Output};

pub(crate) async fn run(command: ThoughtCommand, steward: &Steward, p: &Principal, out: Output) -> Result<(), Failure> {
    match command {
        ThoughtCommand::Add { text, tags } => {
            let input = NewThought { content: text.join(" "), tags, context: None };
            let thought = steward.capture_thought(p, input).await?;
            out.emit(&thought, || output::thought_table(std::slice::from_ref(&thought)))
        }
        ThoughtCommand::List { status, tags, page } => {
            let query = ThoughtQuery {
                status,
                tags,
                page: PageRequest::new(page.limit, page.offset)?,
                ..ThoughtQuery::default()
            };
            let page = steward.thoughts(p, query).await?;
            out.emit(&output::page_json("thoughts", &page)?, || output::thought_page(&page))
        }
        ThoughtCommand::Search { words, fields, page } => {
            let page = PageRequest::new(page.limit, page.offset)?;
            let found = steward.search_thoughts(p, &words.join(" "), &fields, page).await?;
            out.emit(&output::page_json("thoughts", &found)?, || output::scored_thought_page(&found))
        }
        ThoughtCommand::Show { id } => {
            let thought = steward.thought(p, ids::thought(steward, p, &id).await?).await?;
            out.emit(&thought, || output::thought_details(&thought))
        }
        ThoughtCommand::Edit { id, content, tags, no_tags, status, if_version } => {
            let id = ids::thought(steward, p, &id).await?;
            let tags = if no_tags { Some(Vec::new()) } else { Some(tags).filter(|t| !t.is_empty()) };
            let patch = ThoughtPatch { content, tags, status, context: None };
            if patch == ThoughtPatch::default() {
                let msg = "nothing to change: give --content, --tag, --no-tags or --status";
                return Err(steward::Error::invalid("edit", msg).into());
            }
            let thought = steward.update_thought(p, id, patch, if_version).await?;
            out.emit(&thought, || output::thought_details(&thought))
        }
        ThoughtCommand::Analyze { id } => {
            let id = ids::thought(steward, p, &id).await?;
            let done = steward.analyze_thought(p, p.user_id, id, &Rules).await?;
            out.emit(&done, || analysed(&done))
        }
        ThoughtCommand::Archive { id } => {
            let id = ids::thought(steward, p, &id).await?;
            let patch = ThoughtPatch { status: Some(ThoughtStatus::Archived), ..ThoughtPatch::default() };
            let thought = steward.update_thought(p, id, patch, None).await?;
            out.emit(&thought, || output::thought_table(std::slice::from_ref(&thought)))
        }
        ThoughtCommand::Rm { id } => {
            let id = ids::thought(steward, p, &id).await?;
            steward.delete_thought(p, id, None).await?;
            let report = serde_json::json!({ "deleted": id });
            out.emit(&report, || format!("deleted thought {id} (tasks made from it stay)"))
        }
    }
}

fn analysed(done: &AnalysisOutcome) -> String {
    let mut text = output::thought_details(&done.thought);
    if done.already_analyzed {
        text.push_str("\n\n(already analysed: nothing changed)");
    }
    if let Some(s) = &done.suggestion {
        text.push_str(&format!("\n\nsuggested:\n{}", output::suggestion_table(std::slice::from_ref(s))));
    }
    if let Some(t) = &done.task {
        text.push_str(&format!("\n\ncreated:\n{}", output::task_table(std::slice::from_ref(t))));
    }
    text
}
