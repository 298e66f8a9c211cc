//! Sending webhook deliveries: the handler of `webhook.deliver` jobs. The
//! engine says what to send (the body, its signature, the headers) or that
//! the webhook is gone; this module makes the one POST. A 2xx answer
//! finishes the job; anything else, or no answer within [`TIMEOUT`], fails
//! it, and the queue retries with its backoff until the job is dead.
//!
//! Unless the engine lets webhooks reach any address, every address a
//! host name resolves to is checked when the connection is made (by the
//! client's own resolver, so what is checked is what is connected to, and
//! a name re-pointed at the server's network after the webhook was written
//! gets nowhere); such a delivery fails at once, without retries. A URL
//! naming an address is the engine's to judge. No proxy from the
//! environment is used then, since a proxy would resolve the name itself.
//!
//! Logs name the delivery and the webhook, never the URL, the secret or the
//! body.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use steward_core::job::kinds;
use steward_core::webhook::Targets;
use steward_core::{Delivery, Engine, Job, Principal};

use crate::worker::{Handlers, JobError};

/// How long one delivery may take, connecting included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The `webhook.deliver` handler.
pub fn handlers(engine: Engine) -> Handlers {
    // Redirects are not followed: a receiver answers where it was registered.
    let mut builder = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT / 2)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("steward-webhooks/", env!("CARGO_PKG_VERSION")));
    let targets = engine.webhook_targets();
    if targets != Targets::AnyAddress {
        builder = builder.dns_resolver(CheckedResolver { targets }).no_proxy();
    }
    let client = builder.build();
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
        if refused(&e) {
            tracing::warn!(delivery = %delivery.id, webhook = %delivery.webhook_id.0, "webhook host resolves to a refused address; not sent");
            return JobError::fatal(RefusedTarget.to_string());
        }
        tracing::info!(delivery = %delivery.id, webhook = %delivery.webhook_id.0, timeout = e.is_timeout(), "webhook unreachable");
        JobError::retry(format!("webhook unreachable: {}", e.without_url()))
    })?;
    let status = answer.status();
    tracing::info!(delivery = %delivery.id, webhook = %delivery.webhook_id.0, status = status.as_u16(), "webhook answered");
    if status.is_success() { Ok(()) } else { Err(JobError::retry(format!("webhook answered {status}"))) }
}

/// A host name that resolves to an address webhooks may not reach.
#[derive(Debug, thiserror::Error)]
#[error(
    "the webhook's host resolves to a private, loopback, link-local or unspecified address, which this server does not send to"
)]
struct RefusedTarget;

/// Whether `e` comes from [`CheckedResolver`] refusing the host.
fn refused(e: &reqwest::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(error) = cause {
        if error.is::<RefusedTarget>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// The system's resolver, refusing a name when any of its addresses is
/// one `targets` do not allow (whichever one a connection would try).
#[derive(Debug)]
struct CheckedResolver {
    targets: Targets,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let targets = self.targets;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if found.iter().any(|at| !targets.allow(at.ip())) {
                return Err(RefusedTarget.into());
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}
