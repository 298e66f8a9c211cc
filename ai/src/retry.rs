//! [`Retrying`]: asks a model again when it fails for a reason that may pass
//! — rate limiting, a timeout, the provider being down — with exponential
//! backoff and jitter, waiting at least as long as a `Retry-After` asked
//! (up to a cap), for at most a set number of attempts.
//!
//! It does not decide what is transient ([`ModelError::is_transient`] does)
//! nor move to another model ([`crate::Fallback`] does).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use steward_core::agent::model::{LanguageModel, ModelError, ModelReply, ModelRequest, TextSink};

use crate::error_kind;

/// How [`Retrying`] retries.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 means never retry.
    pub max_attempts: u32,
    /// The wait before the first retry; each later wait doubles.
    pub min_delay: Duration,
    /// No backoff wait grows past this.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; a provider asking for more gets
    /// this much, and the caller decides what to do when attempts run out.
    pub max_retry_after: Duration,
    /// Adds a random part to each wait so that many clients do not retry in step.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    fn backoff(&self) -> ExponentialBuilder {
        let retries = self.max_attempts.saturating_sub(1) as usize;
        let builder = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay.max(self.min_delay))
            .with_factor(2.0)
            .with_max_times(retries);
        if self.jitter { builder.with_jitter() } else { builder }
    }

    /// The wait before the next attempt: the backoff's, or longer when the
    /// provider asked for longer.
    fn wait(&self, error: &ModelError, backoff: Option<Duration>) -> Option<Duration> {
        let backoff = backoff?;
        Some(match error.retry_after() {
            Some(asked) => backoff.max(asked.min(self.max_retry_after)),
            None => backoff,
        })
    }
}

/// A model asked again on transient failures. Implements
/// [`LanguageModel`] itself, under the inner model's name.
#[derive(Debug)]
pub struct Retrying<M> {
    inner: M,
    policy: RetryPolicy,
}

impl<M: LanguageModel> Retrying<M> {
    pub fn new(inner: M, policy: RetryPolicy) -> Retrying<M> {
        Retrying { inner, policy }
    }

    pub fn inner(&self) -> &M {
        &self.inner
    }

    fn log_retry(&self, error: &ModelError, wait: Duration) {
        tracing::warn!(
            model = self.inner.name(),
            error = error_kind(error),
            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            "model call failed; retrying"
        );
    }
}

#[async_trait]
impl<M: LanguageModel> LanguageModel for Retrying<M> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelReply, ModelError> {
        (|| self.inner.complete(request))
            .retry(self.policy.backoff())
            .when(ModelError::is_transient)
            .adjust(|e, backoff| self.policy.wait(e, backoff))
            .notify(|e, wait| self.log_retry(e, wait))
            .await
    }

    /// Retries only while no text has reached `on_text`: once part of an
    /// answer was handed on, a second answer would repeat it.
    async fn stream(&self, request: &ModelRequest, on_text: TextSink<'_>) -> Result<ModelReply, ModelError> {
        let spoke = AtomicBool::new(false);
        let sink = |text: &str| {
            spoke.store(true, Ordering::Relaxed);
            on_text(text);
        };
        (|| self.inner.stream(request, &sink))
            .retry(self.policy.backoff())
            .when(|e: &ModelError| e.is_transient() && !spoke.load(Ordering::Relaxed))
            .adjust(|e, backoff| self.policy.wait(e, backoff))
            .notify(|e, wait| self.log_retry(e, wait))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_lengthens_the_wait_up_to_the_cap() {
        let policy = RetryPolicy { max_retry_after: Duration::from_secs(5), ..RetryPolicy::default() };
        let limited = |s| ModelError::RateLimited { retry_after: Some(Duration::from_secs(s)) };
        let backoff = Some(Duration::from_secs(1));
        assert_eq!(policy.wait(&limited(3), backoff), Some(Duration::from_secs(3)));
        assert_eq!(policy.wait(&limited(600), backoff), Some(Duration::from_secs(5)));
        assert_eq!(policy.wait(&limited(0), backoff), Some(Duration::from_secs(1)));
        assert_eq!(policy.wait(&ModelError::Timeout, backoff), Some(Duration::from_secs(1)));
        // Attempts exhausted: Retry-After does not buy another.
        assert_eq!(policy.wait(&limited(3), None), None);
    }
}
