//! StackTach's pipeline worker: a background task of `serve` that, every interval, fires the
//! streams whose fire time has come and expires those whose expiry has come
//! (`service::stacktach::{claim_due, finish}`), until the server shuts down. Several processes
//! sharing one PostgreSQL share the work: each stream is claimed by one of them. `serve
//! --no-stacktach-worker` leaves it off in a process.
//!
//! A trigger's fire and expire pipelines are named in its definition; winchester ran Python
//! handlers there. Here a pipeline's run is recorded in the log with the stream's trigger, id
//! and event count, and the stream then completes.

use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use crate::error::AppResult;
use crate::service::stacktach::{self as svc, Pass, Stream};
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

/// Both passes, each until nothing more is due. Answers how many streams ended.
pub async fn pass_all(state: &AppState) -> AppResult<u64> {
    let mut ended = 0;
    for pass in [Pass::Fire, Pass::Expire] {
        loop {
            let now = Utc::now().naive_utc();
            let claimed =
                svc::claim_due(&state.db, pass, now, state.config.stacktach.worker_batch).await?;
            if claimed.is_empty() {
                break;
            }
            for stream in &claimed {
                let ok = run_pipeline(state, pass, stream);
                if svc::finish(&state.db, pass, stream, ok).await? {
                    ended += 1;
                }
            }
        }
    }
    Ok(ended)
}

/// The trigger's pipeline for `pass`, on `stream`.
fn run_pipeline(state: &AppState, pass: Pass, stream: &Stream) -> bool {
    let trigger = state.triggers.iter().find(|t| t.name == stream.name);
    let pipeline = trigger.and_then(|t| match pass {
        Pass::Fire => t.fire_pipeline.as_deref(),
        Pass::Expire => t.expire_pipeline.as_deref(),
    });
    tracing::info!(
        trigger = %stream.name,
        stream = stream.id,
        events = stream.event_count,
        pipeline = pipeline.unwrap_or("-"),
        pass = ?pass,
        "StackTach stream done"
    );
    true
}

/// A stop signal for `run`, and the sender that gives it.
pub fn stop_signal() -> (watch::Sender<bool>, watch::Receiver<bool>) {
    watch::channel(false)
}

/// How long `serve` waits for the worker to finish its pass at shutdown.
pub const STOP_GRACE: Duration = Duration::from_secs(10);
