//! Requests per minute per caller under `/api/v1` (health endpoints are
//! exempt): over the quota is 429 `RATE_LIMITED` with `Retry-After`.
//!
//! The caller is told apart without a database read: a valid login token
//! counts for its user, any other credential for itself (a digest of the
//! header, so an API key is one caller), and a request without one for its
//! address. Buckets of callers gone quiet are dropped every minute.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::state::AppState;

#[derive(Debug)]
pub(crate) struct RateLimit {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl RateLimit {
    /// `per_minute` requests a minute per caller; `None` for 0 (no limit).
    pub(crate) fn per_minute(per_minute: u32) -> Option<Arc<RateLimit>> {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute)?);
        let limit = Arc::new(RateLimit { limiter: RateLimiter::keyed(quota), clock: DefaultClock::default() });
        let sweeper = Arc::downgrade(&limit);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            loop {
                every.tick().await;
                let Some(limit) = sweeper.upgrade() else { break };
                limit.limiter.retain_recent();
            }
        });
        Some(limit)
    }

    /// `Ok`, or how long the caller must wait.
    fn check(&self, caller: &str) -> Result<(), Duration> {
        self.limiter.check_key(&caller.to_string()).map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// The layer: counts the request against its caller's quota.
pub(crate) async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(limit) = state.runtime.rate_limit() else { return next.run(request).await };
    match limit.check(&caller(&state, &request)) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut response =
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED", "too many requests; slow down")
                    .into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            response
        }
    }
}

fn caller(state: &AppState, request: &Request) -> String {
    if let Some(value) = request.headers().get(header::AUTHORIZATION) {
        let text = value.to_str().unwrap_or_default();
        if let Some(user) = text.split_once(' ').and_then(|(_, token)| state.tokens.verify(token.trim())) {
            return format!("user:{user}");
        }
        let digest = Sha256::digest(value.as_bytes());
        let mut key = String::from("credential:");
        steward::core::hex::push(&mut key, &digest);
        return key;
    }
    match request.extensions().get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(peer)) => format!("address:{}", peer.ip()),
        None => "address:unknown".into(),
    }
}
