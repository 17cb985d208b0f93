//! The pipeline worker's two passes, as winchester's pipeline manager ran them: streams whose
//! fire time has come (active or `retry_fire`) are claimed as `firing`, their trigger's fire
//! pipeline runs, and they end `completed` (or `error` when the pipeline fails); streams whose
//! expiry has come (active or `retry_expire`) likewise through `expiring` to `completed` (or
//! `expire_error`).
//!
//! Claiming is one statement that moves a stream out of its waiting state and bumps its serial
//! number; on PostgreSQL the candidates are read `FOR UPDATE SKIP LOCKED`, so several processes
//! sharing one database each take different streams, and a stream is fired or expired exactly once.
//! Nothing is remembered in the process: a worker that stops (killed, or cut off from the
//! database between a claim and its end) leaves its claimed streams in `firing`/`expiring`, with
//! the time of the claim; `release_stale_claims` hands a claim older than the lease back as
//! `retry_fire`/`retry_expire`, which the next pass claims again.

use chrono::NaiveDateTime;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, LockBehavior, LockType, Order, Query};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult};

use std::collections::HashMap;

use super::definitions::TriggerDefinition;
use super::events::events_of_streams;
use super::model::{Event, Stream, StreamState};
use super::pipelines::Pipelines;
use crate::error::AppResult;

/// Which pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    Fire,
    Expire,
}

impl Pass {
    fn waiting(self) -> [StreamState; 2] {
        match self {
            Pass::Fire => [StreamState::Active, StreamState::RetryFire],
            Pass::Expire => [StreamState::Active, StreamState::RetryExpire],
        }
    }

    fn running(self) -> StreamState {
        match self {
            Pass::Fire => StreamState::Firing,
            Pass::Expire => StreamState::Expiring,
        }
    }

    fn failed(self) -> StreamState {
        match self {
            Pass::Fire => StreamState::Error,
            Pass::Expire => StreamState::ExpireError,
        }
    }

    fn due_column(self) -> &'static str {
        match self {
            Pass::Fire => "fire_timestamp",
            Pass::Expire => "expire_timestamp",
        }
    }
}

/// Claims up to `limit` streams due for `pass` at `now`, moving them to `firing` or `expiring`;
/// answers them. A stream due for both is fired first: the expire pass leaves streams whose
/// fire time has come.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    pass: Pass,
    now: NaiveDateTime,
    limit: u64,
) -> AppResult<Vec<Stream>> {
    let table = Alias::new("stt_streams");
    let col = |c: &str| Expr::col((table.clone(), Alias::new(c)));
    let waiting = pass.waiting().map(StreamState::code);
    let mut due = Query::select();
    due.column((table.clone(), Alias::new("id")))
        .from(table.clone())
        .and_where(col("state").is_in(waiting))
        .and_where(col(pass.due_column()).lte(now))
        .order_by((table.clone(), Alias::new(pass.due_column())), Order::Asc)
        .order_by((table.clone(), Alias::new("id")), Order::Asc)
        .limit(limit);
    if pass == Pass::Expire {
        // Expiring a stream whose fire time has come would skip its firing.
        due.cond_where(
            Condition::any()
                .add(col("fire_timestamp").is_null())
                .add(col("fire_timestamp").gt(now)),
        );
    }
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut claim = Query::update();
    claim
        .table(table.clone())
        .value(Alias::new("state"), pass.running().code())
        .value(
            Alias::new("state_serial_no"),
            Expr::col(Alias::new("state_serial_no")).add(1),
        )
        .value(Alias::new("claimed_at"), now)
        .and_where(col("id").in_subquery(due))
        // Checked again: on PostgreSQL a row another worker changed meanwhile is re-read here.
        .and_where(col("state").is_in(waiting))
        .returning_all();
    let _turn = crate::service::write_turn(db).await;
    Ok(Stream::find_by_statement(backend.build(&claim))
        .all(db)
        .await?)
}

/// Hands back the claims made before `now - lease` (their worker stopped before ending them):
/// `firing` becomes `retry_fire`, `expiring` `retry_expire`, with a new serial number, so the
/// stopped worker could not end them any more should it come back. A claim without a time
/// (made before claims had one) counts as old. Answers how many were handed back.
pub async fn release_stale_claims(
    db: &impl ConnectionTrait,
    now: NaiveDateTime,
    lease: std::time::Duration,
) -> AppResult<u64> {
    use entity::stt_stream as stm;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    let before = now.checked_sub_signed(lease).unwrap_or(NaiveDateTime::MIN);
    let stale = Condition::any()
        .add(stm::Column::ClaimedAt.is_null())
        .add(stm::Column::ClaimedAt.lt(before));
    let mut released = 0;
    let _turn = crate::service::write_turn(db).await;
    for pass in [Pass::Fire, Pass::Expire] {
        let retry = match pass {
            Pass::Fire => StreamState::RetryFire,
            Pass::Expire => StreamState::RetryExpire,
        };
        let done = stm::Entity::update_many()
            .col_expr(stm::Column::State, Expr::val(retry.code()))
            .col_expr(
                stm::Column::StateSerialNo,
                Expr::col(stm::Column::StateSerialNo).add(1),
            )
            .col_expr(stm::Column::ClaimedAt, Expr::val(None::<NaiveDateTime>))
            .filter(stm::Column::State.eq(pass.running().code()))
            .filter(stale.clone())
            .exec(db)
            .await?;
        if done.rows_affected > 0 {
            tracing::warn!(
                streams = done.rows_affected,
                state = retry.name(),
                "StackTach claims older than the lease handed back"
            );
        }
        released += done.rows_affected;
    }
    Ok(released)
}

/// Ends a claimed stream: `completed`, or the pass's failure state. Only a stream still in the
/// state the claim gave it, with the serial number the claim left, changes.
pub async fn finish(
    db: &impl ConnectionTrait,
    pass: Pass,
    stream: &Stream,
    ok: bool,
) -> AppResult<bool> {
    let to = if ok {
        StreamState::Completed
    } else {
        pass.failed()
    };
    use entity::stt_stream as stm;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let _turn = crate::service::write_turn(db).await;
    let done = stm::Entity::update_many()
        .col_expr(stm::Column::State, Expr::val(to.code()))
        .col_expr(
            stm::Column::StateSerialNo,
            Expr::col(stm::Column::StateSerialNo).add(1),
        )
        .filter(stm::Column::Id.eq(stream.id))
        .filter(stm::Column::State.eq(pass.running().code()))
        .filter(stm::Column::StateSerialNo.eq(stream.state_serial_no))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Most events of one stream a pipeline is given.
pub const MAX_PIPELINE_EVENTS: u64 = 100_000;

/// Both passes at `now`, each until nothing more is due, `batch` streams a claim: each claimed
/// stream's pipeline runs over its events, and the stream ends `completed`, or in the pass's
/// failure state when its trigger is not loaded, its pipeline is not configured, or a handler
/// fails (winchester's `fire_stream`/`expire_stream`). Answers how many streams ended here.
pub async fn run_due(
    db: &impl ConnectionTrait,
    triggers: &[TriggerDefinition],
    pipelines: &Pipelines,
    now: NaiveDateTime,
    batch: u64,
) -> AppResult<u64> {
    let mut ended = 0;
    for pass in [Pass::Fire, Pass::Expire] {
        loop {
            let claimed = claim_due(db, pass, now, batch).await?;
            if claimed.is_empty() {
                break;
            }
            let ids: Vec<i64> = claimed.iter().map(|s| s.id).collect();
            let mut events: HashMap<i64, Vec<Event>> = HashMap::new();
            for (stream, e) in events_of_streams(db, &ids, MAX_PIPELINE_EVENTS).await? {
                events.entry(stream).or_default().push(e);
            }
            for stream in &claimed {
                let outcome = match triggers.iter().find(|t| t.name == stream.name) {
                    None => Err(format!("unknown trigger definition '{}'", stream.name)),
                    Some(t) => {
                        let name = match pass {
                            Pass::Fire => t.fire_pipeline.as_deref(),
                            Pass::Expire => t.expire_pipeline.as_deref(),
                        };
                        let mine = events.get(&stream.id).map(Vec::as_slice).unwrap_or(&[]);
                        pipelines.run(name, stream, mine)
                    }
                };
                if let Err(why) = &outcome {
                    tracing::error!(stream = stream.id, trigger = %stream.name, pass = ?pass, "{why}");
                }
                if finish(db, pass, stream, outcome.is_ok()).await? {
                    ended += 1;
                }
            }
        }
    }
    Ok(ended)
}
