//! The optional HTTP listener of `isnad serve` (`ISNAD_HTTP_ADDR`, off by default) for the
//! machine's operator, not for Discord: `GET /healthz` and `GET /metrics`. A small axum server
//! on the bot's runtime; it answers from state it is handed (the engine, the shard manager, the
//! [`Metrics`]) and never runs a search.
//!
//! `/healthz` is 200 once every shard of this process has its gateway session (READY or
//! RESUMED) and an index generation is loaded, 503 otherwise; the body says which, as JSON:
//! `{"status": "ok" | "unavailable", "gateway": {"shards": n, "connected": k},
//! "index": {"generation": "gen-…", "documents": d}}`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use poise::serenity_prelude as serenity;
use serde_json::json;
use tracing::{info, warn};

use super::metrics::{self, Metrics, ShardState};
use crate::engine::Engine;

/// What the handlers read.
#[derive(Clone)]
pub(super) struct Ops {
    pub engine: Arc<Engine>,
    pub metrics: Arc<Metrics>,
    pub shards: Arc<serenity::ShardManager>,
}

impl Ops {
    async fn shards(&self) -> Vec<ShardState> {
        let runners = self.shards.runners.lock().await;
        let mut shards: Vec<ShardState> = runners
            .iter()
            .map(|(id, info)| ShardState { id: id.0, connected: info.stage == serenity::ConnectionStage::Connected, latency: info.latency })
            .collect();
        shards.sort_by_key(|s| s.id);
        shards
    }
}

/// Binds `addr` and serves until the runtime stops; the bound address (a port 0 becomes a real
/// one) is logged and returned.
pub(super) async fn listen(addr: SocketAddr, ops: Ops) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics)).with_state(ops);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            warn!(error = %e, "the HTTP listener stopped");
        }
    });
    info!("HTTP listener on http://{bound}/ (/healthz, /metrics)");
    Ok(bound)
}

async fn healthz(State(ops): State<Ops>) -> impl IntoResponse {
    let shards = ops.shards().await;
    let connected = shards.iter().filter(|s| s.connected).count();
    let handle = ops.engine.handle();
    let generation = handle.generation();
    let ready = !shards.is_empty() && connected == shards.len() && !generation.is_empty();
    let body = json!({
        "status": if ready { "ok" } else { "unavailable" },
        "gateway": {"shards": shards.len(), "connected": connected},
        "index": {"generation": generation, "documents": handle.manifest().documents.len()},
    });
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string())
}

async fn metrics(State(ops): State<Ops>) -> impl IntoResponse {
    let shards = ops.shards().await;
    let text = ops.metrics.render(&ops.engine, &shards);
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text)
}
