//! The server's metrics: the Prometheus recorder (installed once per
//! process; `/metrics` renders from its handle, no listener of its own),
//! the layer that counts requests and times them per route *template*
//! (`/api/v1/tasks/{id}`, never a path with an id in it) and status class,
//! the queue gauges read from the engine at scrape time, and the model
//! wrapper that counts tokens.
//!
//! Series: `steward_http_requests_total{method,route,status}`,
//! `steward_http_request_duration_seconds{method,route}` (histogram),
//! `steward_queue_jobs{class,state}`, `steward_queue_oldest_ready_seconds{class}`,
//! `steward_queue_sla_breaches{class}`, `steward_jobs_finished_total{outcome}`
//! (counted by the worker pool) and `steward_model_tokens_total{direction}`.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde::Serialize;
use steward::QueueStats;
use steward::core::agent::{Backend, LanguageModel, ModelChoice, ModelError, ModelReply, ModelRequest, TextSink};

use super::routes;

const REQUESTS: &str = "steward_http_requests_total";
const DURATION: &str = "steward_http_request_duration_seconds";
const QUEUE_JOBS: &str = "steward_queue_jobs";
const QUEUE_OLDEST: &str = "steward_queue_oldest_ready_seconds";
const QUEUE_BREACHES: &str = "steward_queue_sla_breaches";
const MODEL_TOKENS: &str = "steward_model_tokens_total";
/// The queue's series are read for the system at scrape time; the JSON
/// view gives core's statistics instead, to those core shows them to.
const QUEUE_PREFIX: &str = "steward_queue_";

/// Latency buckets, in seconds: 1 ms to 30 s.
const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The process's recorder, installed on first use. `None` when another
/// recorder was installed first (an embedding program's): then the
/// metrics go there and `/metrics` has nothing to render.
pub(crate) fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(DURATION.into()), BUCKETS)
                .and_then(PrometheusBuilder::install_recorder);
            match installed {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the metrics recorder could not be installed; /metrics stays empty");
                    None
                }
            }
        })
        .as_ref()
}

fn describe() {
    metrics::describe_counter!(REQUESTS, "HTTP requests answered, by method, route template and status class");
    metrics::describe_counter!(
        super::page_cache::PAGE_CACHE,
        "List pages answered from the page cache (hit) or read from a store that has a change stamp (miss)"
    );
    metrics::describe_histogram!(DURATION, metrics::Unit::Seconds, "HTTP request latency by method and route template");
    metrics::describe_gauge!(QUEUE_JOBS, "Jobs per priority class and state (ready, scheduled, running, dead)");
    metrics::describe_gauge!(QUEUE_OLDEST, metrics::Unit::Seconds, "How long the oldest ready job has waited");
    metrics::describe_gauge!(QUEUE_BREACHES, "Pending jobs past their SLA deadline");
    metrics::describe_counter!(steward::worker::JOBS_FINISHED, "Job attempts recorded by this process's workers");
    metrics::describe_counter!(MODEL_TOKENS, "Language model tokens used by this process, input and output");
}

/// Keeps histogram memory bounded between scrapes.
pub(crate) fn spawn_upkeep(handle: &'static PrometheusHandle) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            handle.run_upkeep();
        }
    });
}

/// The layer: one count and one latency sample per request.
pub(crate) async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| template(p.as_str()));
    let response = next.run(request).await;
    let status = match response.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    metrics::counter!(REQUESTS, "method" => method, "route" => route, "status" => status).increment(1);
    metrics::histogram!(DURATION, "method" => method, "route" => route).record(started.elapsed().as_secs_f64());
    response
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The route table's template for a matched path, as a `'static` label
/// (made once per process from the table, so no label is built per request).
fn template(matched: &str) -> &'static str {
    static TEMPLATES: OnceLock<HashSet<&'static str>> = OnceLock::new();
    let templates = TEMPLATES.get_or_init(|| {
        let public = routes::public_routes().into_iter().map(|r| r.path.to_string());
        let api = routes::api_routes().into_iter().map(|r| format!("/api/v1{}", r.path));
        public.chain(api).map(|path| &*Box::leak(path.into_boxed_str())).collect()
    });
    templates.get(matched).copied().unwrap_or("other")
}

/// Sets the queue gauges from `stats` (read for the system at scrape time).
pub(crate) fn record_queue(stats: &QueueStats) {
    for c in &stats.classes {
        let class = c.class.as_str();
        for (state, n) in [("ready", c.ready), ("scheduled", c.scheduled), ("running", c.running), ("dead", c.dead)] {
            metrics::gauge!(QUEUE_JOBS, "class" => class, "state" => state).set(n as f64);
        }
        metrics::gauge!(QUEUE_OLDEST, "class" => class).set(c.oldest_ready_secs.unwrap_or(0.0));
        metrics::gauge!(QUEUE_BREACHES, "class" => class).set(c.breached as f64);
    }
}

/// The rendered exposition as JSON: `{metric: [{labels, value}]}`, the
/// queue's series left out, histograms as their `_sum` and `_count`.
pub(crate) fn as_json(exposition: &str) -> Series {
    let mut metrics = Series::new();
    for line in exposition.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else { continue };
        let Ok(value) = value.parse::<f64>() else { continue };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, labels_of(rest.trim_end_matches('}'))),
            None => (series, BTreeMap::new()),
        };
        if name.starts_with(QUEUE_PREFIX) || name.ends_with("_bucket") {
            continue;
        }
        metrics.entry(name.to_string()).or_default().push(Sample { labels, value });
    }
    metrics
}

/// Every metric by name, each with its samples.
pub(crate) type Series = BTreeMap<String, Vec<Sample>>;

/// One sample of a metric: its labels and value.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub(crate) struct Sample {
    labels: BTreeMap<String, String>,
    value: f64,
}

/// `a="x",b="y"` (label values here are route templates and words: no
/// quotes or commas inside them).
fn labels_of(text: &str) -> BTreeMap<String, String> {
    text.split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect()
}

/// The engine's model, counting the tokens each answer used.
#[derive(Debug)]
pub(crate) struct Metered(pub(crate) Arc<dyn LanguageModel>);

impl Metered {
    fn count(reply: &ModelReply) {
        metrics::counter!(MODEL_TOKENS, "direction" => "input").increment(reply.usage.input_tokens);
        metrics::counter!(MODEL_TOKENS, "direction" => "output").increment(reply.usage.output_tokens);
    }
}

#[async_trait::async_trait]
impl LanguageModel for Metered {
    fn name(&self) -> &str {
        self.0.name()
    }

    async fn complete(&self, request: &ModelRequest) -> Result<ModelReply, ModelError> {
        let reply = self.0.complete(request).await?;
        Metered::count(&reply);
        Ok(reply)
    }

    async fn stream(&self, request: &ModelRequest, on_text: TextSink<'_>) -> Result<ModelReply, ModelError> {
        let reply = self.0.stream(request, on_text).await?;
        Metered::count(&reply);
        Ok(reply)
    }
}

/// Every model a person's settings choose, counted as [`Metered`].
#[derive(Debug)]
pub(crate) struct MeteredChoice(pub(crate) Arc<dyn ModelChoice>);

impl ModelChoice for MeteredChoice {
    fn model_for(&self, primary: Option<Backend>, secondary: Option<Backend>) -> Arc<dyn LanguageModel> {
        Arc::new(Metered(self.0.model_for(primary, secondary)))
    }

    fn offered(&self) -> Vec<Backend> {
        self.0.offered()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_reads_as_json_without_queue_series_or_buckets() {
        let text = "# HELP steward_http_requests_total x\n\
            steward_http_requests_total{method=\"GET\",route=\"/api/v1/tasks/{id}\",status=\"2xx\"} 3\n\
            steward_http_request_duration_seconds_bucket{method=\"GET\",route=\"/health\",le=\"0.1\"} 1\n\
            steward_http_request_duration_seconds_sum{method=\"GET\",route=\"/health\"} 0.002\n\
            steward_queue_jobs{class=\"high\",state=\"ready\"} 4\n\
            steward_model_tokens_total{direction=\"input\"} 12\n";
        let json = serde_json::to_value(as_json(text)).unwrap();
        assert_eq!(json["steward_http_requests_total"][0]["labels"]["route"], "/api/v1/tasks/{id}");
        assert_eq!(json["steward_http_requests_total"][0]["value"], 3.0);
        assert_eq!(json["steward_model_tokens_total"][0]["value"], 12.0);
        assert!(json.get("steward_queue_jobs").is_none());
        assert!(json.get("steward_http_request_duration_seconds_bucket").is_none());
        assert!(json.get("steward_http_request_duration_seconds_sum").is_some());
    }

    #[test]
    fn paths_are_labelled_by_their_template_only() {
        assert_eq!(template("/api/v1/tasks/{id}"), "/api/v1/tasks/{id}");
        assert_eq!(template("/health"), "/health");
        assert_eq!(template("/api/v1/tasks/0b7e…"), "other");
    }
}
