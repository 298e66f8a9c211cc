//! `steward check …`: consciousness checks. Requesting one enqueues it for
//! a worker; `run` runs one at once; the rest read them back. The review
//! is core's.

use steward::{ConsciousnessCheck, Principal, Steward};

use crate::cli::CheckCommand;
use crate::errors::Failure;
use crate::ids;
use crate::output::{self, Output};

pub(crate) async fn run(command: CheckCommand, steward: &Steward, p: &Principal, out: Output) -> Result<(), Failure> {
    match command {
        CheckCommand::Request => {
            let check = steward.request_consciousness_check(p).await?;
            out.emit(&check, || format!("requested check {} (a worker runs it: steward worker)", check.id))
        }
        CheckCommand::Run => {
            let check = steward.run_consciousness_check(p, p.user_id, None).await?;
            out.emit(&check, || details(&check))
        }
        CheckCommand::Latest => match steward.latest_consciousness_check(p).await? {
            Some(check) => out.emit(&check, || details(&check)),
            None => out.emit(&serde_json::Value::Null, || "no completed check yet".into()),
        },
        CheckCommand::History { limit } => {
            let checks = steward.consciousness_check_history(p, limit).await?;
            let body = serde_json::json!({ "checks": checks });
            out.emit(&body, || history(&checks))
        }
        CheckCommand::Show { id } => {
            let check = steward.consciousness_check(p, ids::check(steward, p, &id).await?).await?;
            out.emit(&check, || details(&check))
        }
    }
}

fn details(c: &ConsciousnessCheck) -> String {
    let mut text = format!(
        "{:<18} {}\n{:<18} {}\n{:<18} {}\n{:<18} {}",
        "id",
        c.id,
        "status",
        c.status,
        "thoughts analyzed",
        c.thoughts_analyzed,
        "completed",
        c.completed_at.as_ref().map_or_else(|| "-".into(), output::instant),
    );
    if let Some(summary) = &c.summary {
        text.push_str(&format!("\n\n{}", output::escape(summary)));
    }
    for (name, items) in [
        ("Themes", &c.themes),
        ("Patterns", &c.patterns),
        ("Suggested actions", &c.suggested_actions),
        ("Concerns", &c.concerns),
        ("Positives", &c.positives),
    ] {
        if !items.is_empty() {
            let lines: Vec<String> = items.iter().map(|i| format!("  - {}", output::escape(i))).collect();
            text.push_str(&format!("\n\n{name}:\n{}", lines.join("\n")));
        }
    }
    text
}

fn history(checks: &[ConsciousnessCheck]) -> String {
    if checks.is_empty() {
        return "no checks".into();
    }
    let mut table = output::table(&["id", "status", "thoughts", "created", "summary"]);
    for c in checks {
        table.add_row(vec![
            c.id.to_string(),
            c.status.to_string(),
            c.thoughts_analyzed.to_string(),
            output::instant(&c.created_at),
            output::shorten(c.summary.as_deref().unwrap_or("-"), 60),
        ]);
    }
    table.to_string()
}
