//! The HTTP plumbing both providers share: building a client (rustls, the
//! configured timeouts), sending one JSON request,
//! mapping HTTP statuses and transport failures to [`ModelError`], and
//! reading a streamed answer as server-sent events.
//!
//! Error messages carry at most the provider's own `error.message` and the
//! status: never the request, its headers (the key), or the raw body.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Client, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use steward_core::agent::model::ModelError;

use crate::config::HttpTimeouts;
use crate::sse::{SseDecoder, SseEvent};

/// The longest provider error message kept in a [`ModelError`].
const MAX_MESSAGE_CHARS: usize = 300;

/// A client for one provider. The request timeout bounds a whole answer;
/// while streaming it bounds each wait for the next bytes instead, so a long
/// answer that keeps arriving is not cut off.
pub(crate) fn client(timeouts: &HttpTimeouts) -> Result<Client, ModelError> {
    Client::builder()
        .connect_timeout(timeouts.connect)
        .read_timeout(timeouts.request)
        .build()
        .map_err(|e| ModelError::NotConfigured(format!("could not build the HTTP client: {e}")))
}

/// Joins a base URL and a path, whatever slashes either has.
pub(crate) fn join(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

/// One POST of a JSON body. A success status returns the response, ready to
/// be read; anything else is mapped to a [`ModelError`] (reading the body
/// for the provider's message).
pub(crate) async fn post_json<B: Serialize + ?Sized>(
    client: &Client,
    url: &str,
    headers: HeaderMap,
    body: &B,
    total_timeout: Option<Duration>,
) -> Result<Response, ModelError> {
    let body =
        serde_json::to_vec(body).map_err(|e| ModelError::Rejected(format!("the request could not be encoded: {e}")))?;
    let mut request =
        client.post(url).headers(headers).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
    if let Some(timeout) = total_timeout {
        request = request.timeout(timeout);
    }
    let response = request.send().await.map_err(transport_error)?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = retry_after(response.headers());
    // The message is a courtesy: a body that cannot be read still leaves the status.
    let body = response.bytes().await.unwrap_or_default();
    Err(status_error(status, retry_after, provider_message(&body)))
}

/// Reads a whole JSON answer.
pub(crate) async fn read_json<T: DeserializeOwned>(response: Response) -> Result<T, ModelError> {
    let bytes = response.bytes().await.map_err(transport_error)?;
    serde_json::from_slice(&bytes).map_err(|e| ModelError::Malformed(format!("unexpected answer: {e}")))
}

/// Whether to keep reading a stream.
pub(crate) enum Flow {
    Continue,
    Done,
}

/// Reads a streamed answer event by event until `on_event` says it is
/// done. The stream ending first is reported as [`ModelError::Unavailable`]
/// (the connection dropped), unless `on_end` accepts it.
pub(crate) async fn read_events(
    mut response: Response,
    mut on_event: impl FnMut(SseEvent) -> Result<Flow, ModelError>,
) -> Result<(), ModelError> {
    let mut decoder = SseDecoder::default();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        for event in decoder.push(&chunk)? {
            if let Flow::Done = on_event(event)? {
                return Ok(());
            }
        }
    }
    if let Some(event) = decoder.finish()?
        && let Flow::Done = on_event(event)?
    {
        return Ok(());
    }
    Err(ModelError::Unavailable("the answer stream ended before it was complete".into()))
}

/// Maps a failed HTTP status to the error a caller can act on.
pub(crate) fn status_error(status: StatusCode, retry_after: Option<Duration>, message: Option<String>) -> ModelError {
    let code = status.as_u16();
    if (500..=599).contains(&code) {
        return ModelError::Unavailable(match message {
            Some(message) => format!("HTTP {code}: {message}"),
            None => format!("HTTP {code}"),
        });
    }
    let message = message.unwrap_or_else(|| format!("HTTP {code}"));
    match code {
        429 => ModelError::RateLimited { retry_after },
        401 | 403 => ModelError::Unauthorized(message),
        408 => ModelError::Timeout,
        400..=499 => ModelError::Rejected(message),
        _ => ModelError::Malformed(format!("unexpected HTTP status {}", status.as_u16())),
    }
}

/// How long the provider asked to wait: `retry-after-ms` (OpenAI's, more
/// precise) or `Retry-After` in seconds, fractions allowed. The HTTP-date
/// form is not used by model providers and is ignored.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name| -> Option<f64> {
        let value: f64 = headers.get(name)?.to_str().ok()?.trim().parse().ok()?;
        (value.is_finite() && value >= 0.0).then_some(value.min(86_400_000.0))
    };
    if let Some(ms) = number(RETRY_AFTER_MS) {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    number(RETRY_AFTER.as_str()).map(|secs| Duration::from_secs_f64(secs.min(86_400.0)))
}

const RETRY_AFTER_MS: &str = "retry-after-ms";

/// The `error.message` both providers put in an error body (OpenAI-compatible
/// servers sometimes send `error` as a bare string), shortened.
pub(crate) fn provider_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let error = value.get("error")?;
    let message = match error {
        serde_json::Value::String(s) => s.as_str(),
        other => other.get("message")?.as_str()?,
    };
    Some(shorten(message))
}

pub(crate) fn shorten(message: &str) -> String {
    if message.chars().count() <= MAX_MESSAGE_CHARS {
        return message.to_owned();
    }
    let mut short: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
    short.push('…');
    short
}

/// A failure below HTTP: no connection, no answer in time, a dropped stream.
pub(crate) fn transport_error(e: reqwest::Error) -> ModelError {
    if e.is_timeout() {
        ModelError::Timeout
    } else if e.is_connect() {
        ModelError::Unavailable("could not connect to the model provider".into())
    } else {
        ModelError::Unavailable(format!("the connection failed: {}", e.without_url()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_what_a_caller_can_act_on() {
        let s = |code| StatusCode::from_u16(code).unwrap();
        assert_eq!(
            status_error(s(429), Some(Duration::from_secs(2)), None),
            ModelError::RateLimited { retry_after: Some(Duration::from_secs(2)) }
        );
        assert!(matches!(status_error(s(401), None, None), ModelError::Unauthorized(_)));
        assert!(matches!(status_error(s(403), None, None), ModelError::Unauthorized(_)));
        assert!(matches!(status_error(s(529), None, None), ModelError::Unavailable(_)));
        assert!(matches!(status_error(s(503), None, None), ModelError::Unavailable(_)));
        assert_eq!(status_error(s(400), None, Some("bad".into())), ModelError::Rejected("bad".into()));
        assert_eq!(status_error(s(404), None, None), ModelError::Rejected("HTTP 404".into()));
    }

    #[test]
    fn retry_after_reads_seconds_or_milliseconds_and_ignores_dates() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(RETRY_AFTER, "0.5".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(500)));
        h.insert(RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER_MS, "1500".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn provider_messages_are_read_and_shortened() {
        assert_eq!(
            provider_message(
                br#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: too big"}}"#
            ),
            Some("max_tokens: too big".into())
        );
        assert_eq!(provider_message(br#"{"error":"model not found"}"#), Some("model not found".into()));
        assert_eq!(provider_message(b"<html>502</html>"), None);
        let long = format!(r#"{{"error":{{"message":"{}"}}}}"#, "x".repeat(1000));
        assert_eq!(provider_message(long.as_bytes()).map(|m| m.chars().count()), Some(MAX_MESSAGE_CHARS + 1));
    }
}
