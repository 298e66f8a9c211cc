//! The router and the layers every request goes through, outermost first:
//! trace (method, route template, status, latency; never the query string
//! or a body), metrics (a count and a latency sample per route template and
//! status class, [`telemetry::track`]), request id (an incoming `X-Request-Id` is reused, else a
//! UUID; echoed on the response), CORS (only the configured origins),
//! compression, the envelope ([`envelope::render`]) and the body limit;
//! under `/api/v1` also the rate limit ([`rate_limit`]). The interactive
//! docs ([`docs`]) sit beside the health endpoints.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, header};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use super::docs;
use super::envelope;
use super::rate_limit;
use super::routes;
use super::state::AppState;
use super::telemetry;

/// What the layers are configured with.
#[derive(Debug, Clone)]
pub(crate) struct Layers {
    pub(crate) cors_origins: Vec<String>,
    pub(crate) max_body_bytes: u64,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub(crate) fn router(state: AppState, layers: &Layers) -> Result<Router, steward::Error> {
    let limit = usize::try_from(layers.max_body_bytes).unwrap_or(usize::MAX);
    let trace = TraceLayer::new_for_http().make_span_with(|request: &Request| {
        let route = request.extensions().get::<MatchedPath>().map(MatchedPath::as_str).unwrap_or("unmatched");
        let id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default();
        tracing::info_span!("request", method = %request.method(), route, request_id = id)
    });
    // Always layered: `PUT /api/v1/config` may set a limit at run time
    // (without one the layer passes the request straight on).
    let api = routes::router(routes::api_routes())
        .layer(axum::middleware::from_fn_with_state(state.clone(), rate_limit::limit));
    let app = routes::router(routes::public_routes())
        .merge(docs::router())
        .nest("/api/v1", api)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(trace)
                .layer(axum::middleware::from_fn(telemetry::track))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .option_layer(cors(&layers.cors_origins)?)
                .layer(CompressionLayer::new())
                .layer(axum::middleware::from_fn(envelope::render))
                .layer(RequestBodyLimitLayer::new(limit)),
        );
    Ok(app)
}

/// CORS for the configured origins only; none configured, no CORS headers.
fn cors(origins: &[String]) -> Result<Option<CorsLayer>, steward::Error> {
    let origins: Vec<&str> = origins.iter().map(|o| o.trim()).filter(|o| !o.is_empty()).collect();
    if origins.is_empty() {
        return Ok(None);
    }
    let allow = if origins.contains(&"*") {
        AllowOrigin::any()
    } else {
        let parsed = origins
            .iter()
            .map(|o| {
                HeaderValue::from_str(o)
                    .map_err(|_| steward::Error::invalid("cors_origin", format!("'{o}' is not an origin")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        AllowOrigin::list(parsed)
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::IF_MATCH, REQUEST_ID])
            .expose_headers([REQUEST_ID])
            .max_age(Duration::from_secs(3600)),
    ))
}
