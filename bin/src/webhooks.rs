//! `steward webhook …`: add, list, edit and remove the caller's webhooks. The
//! rules (what a URL or an event list may be, who may change them) are
//! core's; deliveries are the workers'.

use steward::{NewWebhook, Principal, Steward, Webhook, WebhookId, WebhookPatch};

use crate::cli::WebhookCommand;
use crate::errors::Failure;
use crate::output::{self, Output};

pub(crate) async fn run(command: WebhookCommand, steward: &Steward, p: &Principal, out: Output) -> Result<(), Failure> {
    match command {
        WebhookCommand::Add { url, events, secret } => {
            let hook = steward.create_webhook(p, NewWebhook { url, events, secret }).await?;
            out.emit(&hook, || format!("added webhook {} for {}", hook.id, hook.events.join(", ")))
        }
        WebhookCommand::List => {
            let hooks = steward.webhooks(p).await?;
            let body = serde_json::json!({ "webhooks": hooks });
            out.emit(&body, || table(&hooks))
        }
        WebhookCommand::Edit { id, url, events, enable, disable, new_secret } => {
            let id = WebhookId(id.uuid("webhook")?);
            let secret = if new_secret { Some(secret_from_environment()?) } else { None };
            let active = match (enable, disable) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let events = (!events.is_empty()).then_some(events);
            let hook = steward.update_webhook(p, id, WebhookPatch { url, events, secret, active }, None).await?;
            out.emit(&hook, || format!("changed webhook {} (version {})", hook.id, hook.version))
        }
        WebhookCommand::Remove { id } => {
            let id = WebhookId(id.uuid("webhook")?);
            steward.delete_webhook(p, id).await?;
            out.emit(&serde_json::json!({ "deleted": id }), || format!("deleted webhook {id}"))
        }
    }
}

/// The variable `webhook add` reads the secret from.
const SECRET_VAR: &str = "STEWARD_WEBHOOK_SECRET";

fn secret_from_environment() -> Result<String, Failure> {
    match std::env::var(SECRET_VAR) {
        Ok(secret) => Ok(secret),
        Err(_) => Err(steward::Error::invalid(
            "secret",
            format!("--new-secret reads the new secret from {SECRET_VAR}, which is not set"),
        )
        .into()),
    }
}

fn table(hooks: &[Webhook]) -> String {
    if hooks.is_empty() {
        return "no webhooks".into();
    }
    let mut table = output::table(&["id", "url", "events", "active", "created"]);
    for h in hooks {
        table.add_row(vec![
            h.id.to_string(),
            output::shorten(&h.url, 60),
            h.events.join(", "),
            if h.active { "yes" } else { "no" }.to_string(),
            output::instant(&h.created_at),
        ]);
    }
    table.to_string()
}
