//! `steward webhook …`: add, list and remove the caller's webhooks. The
//! rules (what a URL or an event list may be, who may change them) are
//! core's; deliveries are the workers'.

use steward::{NewWebhook, Principal, Steward, Webhook, WebhookId};

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
        WebhookCommand::Remove { id } => {
            let id = WebhookId(id.uuid("webhook")?);
            steward.delete_webhook(p, id).await?;
            out.emit(&serde_json::json!({ "deleted": id }), || format!("deleted webhook {id}"))
        }
    }
}

fn table(hooks: &[Webhook]) -> String {
    if hooks.is_empty() {
        return "no webhooks".into();
    }
    let mut table = output::table(&["id", "url", "events", "created"]);
    for h in hooks {
        table.add_row(vec![
            h.id.to_string(),
            output::shorten(&h.url, 60),
            h.events.join(", "),
            output::instant(&h.created_at),
        ]);
    }
    table.to_string()
}
