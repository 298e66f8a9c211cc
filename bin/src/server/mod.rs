//! `steward serve`: the REST API of `API.md` over HTTP, with the worker
//! pool and the scheduler in the same process unless `--no-worker`.
//!
//! This module owns the process around the router: binding the listener,
//! announcing the bound address, and the graceful shutdown (on SIGINT or
//! SIGTERM stop accepting, let in-flight requests finish within the grace,
//! then stop the workers). What a request goes through is in [`app`]; the
//! routes are under [`routes`], one file per concept.

mod app;
mod auth;
pub(crate) mod config;
mod docs;
mod envelope;
mod error;
mod extract;
mod lists;
mod openapi;
mod page_cache;
mod rate_limit;
mod routes;
mod secret;
mod state;
mod telemetry;

use std::sync::Arc;
use std::time::Duration;

use steward::Steward;

use crate::cli::{Global, ServeArgs};
use crate::errors::Failure;
use crate::queue::{self, Workers};

/// Runs the server until SIGINT or SIGTERM, then drains and returns.
pub(crate) async fn serve(steward: Steward, global: &Global, args: ServeArgs) -> Result<(), Failure> {
    let secret = secret::jwt_secret(&steward, args.jwt_secret.as_deref()).await?;
    let tokens = auth::Tokens::new(&secret, Duration::from_secs(args.jwt_lifetime))?;
    // Bind before starting anything that must be stopped: a taken port
    // fails here with nothing running.
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|error| Failure::Io { doing: "listen on the address given by --listen", error })?;
    let bound = listener.local_addr().map_err(|error| Failure::Io { doing: "read the bound address", error })?;
    let metrics = if args.no_metrics { None } else { telemetry::recorder() };
    // Model tokens are counted for /metrics, whoever asks the model here.
    let steward = match (metrics, steward.engine().models()) {
        (Some(_), Some(models)) => steward.with_models(Arc::new(telemetry::MeteredChoice(models))),
        _ => steward,
    };
    if let Some(handle) = metrics {
        telemetry::spawn_upkeep(handle);
    }
    // Before the workers start, so a failure leaves nothing running.
    let runtime = Arc::new(config::Runtime::new(args.rate_limit, !args.no_registration));
    runtime.refresh(&steward).await?;
    for (setting, kept, given) in runtime.overriding() {
        tracing::warn!(
            setting,
            kept = %kept,
            started_with = %given,
            "a setting kept by PUT /api/v1/config wins over this server's option; PUT it as null to forget it"
        );
    }
    for kept in runtime.kept().iter().filter(|k| config::CORE_READS.contains(&k.name.as_str())) {
        tracing::warn!(
            setting = %kept.name,
            "a setting kept by PUT /api/v1/config applies here and in every worker on the database; PUT it as null to forget it"
        );
    }
    // Before the workers start: on PostgreSQL this starts the listener.
    let events = steward.event_signal();
    let workers = if args.no_worker { None } else { Some(Workers::start(&steward, &args.worker)?) };
    let database = state::database_kind(&global.database_url);
    let server_config = config::ServerConfig {
        listen: bound.to_string(),
        database,
        database_url: config::redact_url(&global.database_url),
        max_body_bytes: args.max_body_bytes,
        cors_origins: args.cors_origins.clone(),
        token_lifetime_seconds: args.jwt_lifetime,
        log_keep: args.log_keep,
        metrics_public: metrics.is_some(),
        model_providers: config::model_providers(),
        keep_finished_days: steward::scheduler::SchedulerOptions::default().keep_finished.num_days(),
    };
    let refresh = config::spawn_refresh(steward.clone(), runtime.clone());
    let state = state::AppState::new(state::Shared {
        steward,
        pages: page_cache::PageCache::new(usize::try_from(args.page_cache).unwrap_or(usize::MAX)),
        tokens: Arc::new(tokens),
        started: std::time::Instant::now(),
        database,
        runtime,
        config: Arc::new(server_config),
        metrics,
        events,
        events_safety_poll: Duration::from_secs(args.events_safety_poll),
        workers: workers.as_ref().map(|w| state::WorkerInfo {
            name: w.name.clone(),
            concurrency: args.worker.concurrency,
            scheduler: w.scheduling(),
        }),
    });
    let layers = app::Layers { cors_origins: args.cors_origins.clone(), max_body_bytes: args.max_body_bytes };
    let router = match app::router(state, &layers) {
        Ok(router) => router,
        Err(error) => {
            if let Some(workers) = workers {
                workers.stop().await;
            }
            return Err(error.into());
        }
    };
    // Tests and scripts read this line to learn a port chosen with `:0`.
    eprintln!("steward serve: listening on http://{bound}");
    tracing::info!(%bound, workers = workers.is_some(), "serving");

    let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<&'static str>();
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, service).with_graceful_shutdown(async move {
        let signal = queue::wait_for_signal().await;
        let _ = stopped_tx.send(signal);
    });
    let grace = Duration::from_secs(args.worker.grace);
    let mut server = std::pin::pin!(server.into_future());
    let served = tokio::select! {
        served = &mut server => served,
        // After the signal, in-flight requests get the grace to finish.
        Ok(signal) = stopped_rx => {
            eprintln!("steward serve: {signal}, finishing in-flight requests");
            match tokio::time::timeout(grace, &mut server).await {
                Ok(served) => served,
                Err(_) => {
                    eprintln!("steward serve: requests still running after {}s; stopping anyway", grace.as_secs());
                    Ok(())
                }
            }
        }
    };
    refresh.abort();
    if let Some(workers) = workers {
        let report = workers.stop().await;
        eprintln!(
            "steward serve: workers stopped: {} succeeded, {} failed, {} handed back",
            report.succeeded, report.failed, report.released
        );
    }
    served.map_err(|error| Failure::Io { doing: "serve HTTP", error })?;
    eprintln!("steward serve: stopped");
    Ok(())
}
