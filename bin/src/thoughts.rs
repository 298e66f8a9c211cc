//! `steward thought …`: capture a thought, list thoughts. Capture is one
//! insert; analysis happens later on the queue, not here.

use steward::{NewThought, PageRequest, Principal, Steward, ThoughtQuery};

use crate::cli::ThoughtCommand;
use crate::errors::Failure;
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
    }
}
