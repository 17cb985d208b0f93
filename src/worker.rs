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

/// The longest the worker waits between passes while they fail.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How long to wait after `failures` failed passes in a row: the interval, doubled per failure up
/// to `MAX_BACKOFF` (never below the interval).
pub fn backoff(interval: Duration, failures: u32) -> Duration {
    if failures == 0 {
        return interval;
    }
    let doubled = interval.saturating_mul(1u32 << failures.min(16));
    doubled.min(MAX_BACKOFF.max(interval))
}

/// Runs passes until `stop` turns true. A pass that fails (the database is down, a statement
/// failed) is logged and tried again after a growing wait (`backoff`); the worker never ends on
/// an error, and resumes its normal interval once a pass succeeds. A stream a failed pass had
/// already claimed (the database went away between the claim and its end) stays `firing` or
/// `expiring` in the database until its lease runs out; a later pass, here or in another
/// process, hands it back and ends it.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let cfg = state.config.stacktach.clone();
    tracing::info!(
        interval_ms = cfg.worker_interval.as_millis() as u64,
        "StackTach worker started"
    );
    let mut failures: u32 = 0;
    loop {
        // A panic inside a pass must not end the worker either: the pass runs as its own task.
        let pass = tokio::spawn({
            let state = state.clone();
            async move { pass_all(&state).await }
        });
        match pass.await {
            Ok(Ok(_)) => {
                if failures > 0 {
                    tracing::info!(failures, "StackTach worker recovered");
                }
                failures = 0;
                crate::error::note_reachable();
            }
            Ok(Err(e)) => {
                failures = failures.saturating_add(1);
                let wait = backoff(cfg.worker_interval, failures);
                tracing::warn!(
                    error = %e.public_message(),
                    failures,
                    retry_in_ms = wait.as_millis() as u64,
                    "StackTach worker pass failed; trying again"
                );
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::error!(error = %e, failures, "StackTach worker pass panicked; trying again");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff(cfg.worker_interval, failures)) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
    tracing::info!("StackTach worker stopped");
}

/// Hands back claims older than the lease, then both passes at the current time, each until
/// nothing more is due (`service::stacktach::run_due`). Answers how many streams ended.
pub async fn pass_all(state: &AppState) -> AppResult<u64> {
    let now = Utc::now().naive_utc();
    svc::release_stale_claims(&state.db, now, state.config.stacktach.claim_lease).await?;
    svc::run_due(
        &state.db,
        &state.triggers,
        &state.pipelines,
        now,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_per_failure_up_to_the_cap() {
        let i = Duration::from_millis(200);
        assert_eq!(backoff(i, 0), i);
        assert_eq!(backoff(i, 1), Duration::from_millis(400));
        assert_eq!(backoff(i, 3), Duration::from_millis(1_600));
        assert_eq!(backoff(i, 5), MAX_BACKOFF);
        assert_eq!(backoff(i, 1_000), MAX_BACKOFF);
        // An interval above the cap is never shortened.
        let long = Duration::from_secs(60);
        assert_eq!(backoff(long, 4), long);
    }
}
