//! `steward suggestion …`: tasks proposed from thoughts. Listing, accepting
//! (the task is created in the same write) and rejecting are core's
//! operations; `add` proposes one by hand, as analysis does.

use steward::{AcceptOverrides, NewSuggestion, Principal, Steward, Suggestion};

use crate::cli::SuggestionCommand;
use crate::errors::Failure;
use crate::ids;
use crate::output::{self, Output};
use crate::when;

/// Suggestions listed by `list --all` (the engine's maximum).
const HISTORY_LIMIT: u32 = 500;

pub(crate) async fn run(
    command: SuggestionCommand,
    steward: &Steward,
    p: &Principal,
    out: Output,
) -> Result<(), Failure> {
    match command {
        SuggestionCommand::List { all, deleted, min_confidence, thought } => {
            let suggestions = match (all, thought) {
                (true, _) => steward.suggestion_history(p, deleted, HISTORY_LIMIT).await?,
                (false, Some(thought)) => {
                    let thought = ids::thought(steward, p, &thought).await?;
                    steward.suggestions_for_thought(p, thought).await?
                }
                (false, None) => steward.pending_suggestions(p, min_confidence).await?,
            };
            let body = serde_json::json!({ "suggestions": suggestions });
            out.emit(&body, || suggestion_list(&suggestions))
        }
        SuggestionCommand::Show { id } => {
            let suggestion = steward.suggestion(p, ids::suggestion(steward, p, &id).await?).await?;
            out.emit(&suggestion, || output::suggestion_details(&suggestion))
        }
        SuggestionCommand::Add { thought, title, confidence, priority, due, description, reasoning } => {
            let thought = ids::thought(steward, p, &thought).await?;
            let due = when::resolve_opt(steward, p, "due", due.as_deref()).await?;
            let input = NewSuggestion {
                title,
                description,
                priority,
                estimated_effort_minutes: None,
                due_date_hint: due.map(|d| d.date),
                confidence,
                reasoning,
            };
            let suggestion = steward.suggest_task(p, thought, input).await?;
            out.emit(&suggestion, || output::suggestion_table(std::slice::from_ref(&suggestion)))
        }
        SuggestionCommand::Accept { id, title, description, priority, due, effort } => {
            let id = ids::suggestion(steward, p, &id).await?;
            let due = when::resolve_opt(steward, p, "due", due.as_deref()).await?;
            let overrides = AcceptOverrides {
                title,
                description,
                priority,
                estimated_effort_minutes: effort,
                due_date: due.map(|d| d.date),
            };
            let (task, suggestion) = steward.accept_suggestion(p, id, overrides).await?;
            let body = serde_json::json!({ "task": task, "suggestion": suggestion });
            out.emit(&body, || format!("accepted; created:\n{}", output::task_table(std::slice::from_ref(&task))))
        }
        SuggestionCommand::Reject { id, reason } => {
            let id = ids::suggestion(steward, p, &id).await?;
            let suggestion = steward.reject_suggestion(p, id, reason).await?;
            out.emit(&suggestion, || output::suggestion_table(std::slice::from_ref(&suggestion)))
        }
    }
}

fn suggestion_list(suggestions: &[Suggestion]) -> String {
    if suggestions.is_empty() {
        return "no suggestions".into();
    }
    format!("{}\n{} suggestions", output::suggestion_table(suggestions), suggestions.len())
}
