//! Sending webhook deliveries: the handler of `webhook.deliver` jobs. The
//! engine says what to send (the body, its signature, the headers) or that
//! the webhook is gone; this module makes the one POST. A 2xx answer
//! finishes the job; anything else, or no answer within [`TIMEOUT`], fails
//! it, and the queue retries with its backoff until the job is dead.
//!
//! Logs name the delivery and the webhook, never the URL, the secret or the
//! body.

use std::time::Duration;

use steward_core::job::kinds;
use steward_core::{Delivery, Engine, Job, Principal};

use crate::worker::{Handlers, JobError};

/// How long one delivery may take, connecting included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The `webhook.deliver` handler.
pub fn handlers(engine: Engine) -> Handlers {
    // Redirects are not followed: a receiver answers where it was registered.
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT / 2)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("steward-webhooks/", env!("CARGO_PKG_VERSION")))
        .build();
    Handlers::default().on(kinds::WEBHOOK_DELIVER, move |job: Job| {
        let engine = engine.clone();
        let client = client.as_ref().map(Clone::clone).map_err(|e| e.to_string());
        async move {
            let client = client.map_err(|e| JobError::retry(format!("no HTTP client: {e}")))?;
            let delivery = engine
                .webhook_delivery(&Principal::system(), job.id.0, &job.payload)
                .await
                .map_err(crate::jobs::failure)?;
            let Some(delivery) = delivery else {
                tracing::debug!(delivery = %job.id.0, "webhook gone; nothing to deliver");
                return Ok(());
            };
            send(&client, &delivery).await
        }
    })
}

async fn send(client: &reqwest::Client, delivery: &Delivery) -> Result<(), JobError> {
    let mut request = client.post(&delivery.url).body(delivery.body.clone());
    for (name, value) in delivery.headers() {
        request = request.header(name, value);
    }
    let answer = request.send().await.map_err(|e| {
        tracing::info!(delivery = %delivery.id, webhook = %delivery.webhook_id.0, timeout = e.is_timeout(), "webhook unreachable");
        JobError::retry(format!("webhook unreachable: {}", e.without_url()))
    })?;
    let status = answer.status();
    tracing::info!(delivery = %delivery.id, webhook = %delivery.webhook_id.0, status = status.as_u16(), "webhook answered");
    if status.is_success() { Ok(()) } else { Err(JobError::retry(format!("webhook answered {status}"))) }
}
