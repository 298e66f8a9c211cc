//! `steward thought …` and `steward suggestion …` as clap types.

use clap::Subcommand;
use steward::{Priority, SearchField, ThoughtStatus};

use super::{PageArgs, domain};
use crate::ids::IdArg;

#[derive(Debug, Subcommand)]
pub(crate) enum ThoughtCommand {
    /// Capture a thought.
    Add {
        /// The thought; several words are joined with spaces.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
        /// Tag it (repeatable).
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
    },
    /// List thoughts, newest first.
    List {
        /// active, archived, completed.
        #[arg(long, value_parser = domain::<ThoughtStatus>)]
        status: Option<ThoughtStatus>,
        /// Only thoughts with any of these tags (repeatable).
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Search thoughts, best match first, with a relevance score.
    Search {
        #[arg(required = true, num_args = 1..)]
        words: Vec<String>,
        /// Where to look: content, tags (repeatable; default both).
        #[arg(long = "in", value_parser = search_field, value_name = "FIELD")]
        fields: Vec<SearchField>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show every field of one thought.
    Show {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
    /// Change a thought's content, tags or status.
    Edit {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
        /// The new content.
        #[arg(long)]
        content: Option<String>,
        /// Replace the tags with these (repeatable).
        #[arg(long = "tag", value_name = "TAG", conflicts_with = "no_tags")]
        tags: Vec<String>,
        /// Remove every tag.
        #[arg(long)]
        no_tags: bool,
        /// active, archived, completed.
        #[arg(long, value_parser = domain::<ThoughtStatus>)]
        status: Option<ThoughtStatus>,
        /// Only if the thought is still at this version (else exit code 4).
        #[arg(long, value_name = "VERSION")]
        if_version: Option<i64>,
    },
    /// Analyse a thought now (what a worker does after capture): type,
    /// tags, and a suggestion or task by your settings.
    Analyze {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
    /// Archive a thought (hidden from `--status active`, kept).
    Archive {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
    /// Delete a thought; tasks made from it stay.
    Rm {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SuggestionCommand {
    /// Open suggestions, most confident first (`--all`: every one, newest first).
    List {
        /// Include decided suggestions.
        #[arg(long)]
        all: bool,
        /// Include soft-deleted ones (with --all).
        #[arg(long, requires = "all")]
        deleted: bool,
        /// Only those at least this confident (0–1).
        #[arg(long, value_name = "CONFIDENCE", conflicts_with = "all")]
        min_confidence: Option<f64>,
        /// Only those made from this thought (an id or its prefix).
        #[arg(long, value_parser = IdArg::parse, value_name = "ID", conflicts_with_all = ["all", "min_confidence"])]
        thought: Option<IdArg>,
    },
    /// Show every field of one suggestion.
    Show {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
    },
    /// Propose a task from a thought by hand (analysis proposes them too).
    Add {
        /// The thought it comes from (an id or its prefix).
        #[arg(value_parser = IdArg::parse)]
        thought: IdArg,
        /// The proposed task's title.
        title: String,
        /// How sure the proposal is (0–1).
        #[arg(long, default_value_t = 1.0)]
        confidence: f64,
        #[arg(long, value_parser = domain::<Priority>)]
        priority: Option<Priority>,
        /// A due date hint: YYYY-MM-DD or a quick-add date.
        #[arg(long, value_name = "WHEN")]
        due: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Why it was proposed.
        #[arg(long)]
        reasoning: Option<String>,
    },
    /// Accept: create the task, optionally changing what was proposed.
    Accept {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long, value_parser = domain::<Priority>)]
        priority: Option<Priority>,
        /// YYYY-MM-DD or a quick-add date ("next friday").
        #[arg(long, value_name = "WHEN")]
        due: Option<String>,
        /// Estimated effort in minutes.
        #[arg(long, value_name = "MINUTES")]
        effort: Option<i32>,
    },
    /// Reject a suggestion.
    Reject {
        #[arg(value_parser = IdArg::parse)]
        id: IdArg,
        /// Why (kept with the suggestion).
        #[arg(long)]
        reason: Option<String>,
    },
}

fn search_field(raw: &str) -> Result<SearchField, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "content" => Ok(SearchField::Content),
        "tags" => Ok(SearchField::Tags),
        _ => Err(format!("'{raw}' is not one of content, tags")),
    }
}
