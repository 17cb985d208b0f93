//! StackTach's pipeline worker: a background task of `serve` that, every interval, fires the
//! streams whose fire time has come and expires those whose expiry has come
//! (`service::stacktach::{claim_due, finish}`), until the server shuts down. Several processes
//! sharing one PostgreSQL share the work: each stream is claimed by one of them. `serve
//! --no-stacktach-worker` leaves it off in a process.
//!
//! A trigger's fire and expire pipelines are named in its definition and configured with
//! `--stacktach-pipelines` (`service::stacktach::Pipelines`).

use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use crate::error::AppResult;
use crate::service::stacktach as svc;
use crate::state::AppState;

/// Runs passes until `stop` turns true.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let cfg = state.config.stacktach.clone();
    tracing::info!(
        interval_ms = cfg.worker_interval.as_millis() as u64,
        "StackTach worker started"
    );
    loop {
        if let Err(e) = pass_all(&state).await {
            tracing::warn!(error = %e.public_message(), "StackTach worker pass failed; trying again");
        }
        tokio::select! {
            _ = tokio::time::sleep(cfg.worker_interval) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
    tracing::info!("StackTach worker stopped");
}

/// Both passes at the current time, each until nothing more is due (`service::stacktach::
/// run_due`). Answers how many streams ended.
pub async fn pass_all(state: &AppState) -> AppResult<u64> {
    svc::run_due(
        &state.db,
        &state.triggers,
        &state.pipelines,
        Utc::now().naive_utc(),
        state.config.stacktach.worker_batch,
    )
    .await
}

/// A stop signal for `run`, and the sender that gives it.
pub fn stop_signal() -> (watch::Sender<bool>, watch::Receiver<bool>) {
    watch::channel(false)
}

/// How long `serve` waits for the worker to finish its pass at shutdown.
pub const STOP_GRACE: Duration = Duration::from_secs(10);
