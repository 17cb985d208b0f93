//! Streams: the filtered lists and counts, one stream, deletion (its events are kept), and the
//! reset of a stream that failed (`error` to `retry_fire`, `expire_error` to `retry_expire`).

use entity::stt_stream as stm;
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter};

use super::filters::{apply_mark, order_by_mark, string_trait};
use super::model::{MAX_LIMIT, Stream, StreamFilter, StreamState};
use super::strings::Owner;
use crate::error::{AppError, AppResult};
use crate::service::{count_star, fetch_all, fetch_count, in_list};

const TABLE: &str = "stt_streams";

fn filtered(db: &impl ConnectionTrait, f: &StreamFilter) -> sea_orm::sea_query::SelectStatement {
    let mut q = Query::select();
    q.from(Alias::new(TABLE));
    let col = |c: &str| Expr::col((Alias::new(TABLE), Alias::new(c)));
    if let Some(t) = f.older_than {
        q.and_where(col("first_event").lt(t));
    }
    if let Some(t) = f.younger_than {
        q.and_where(col("last_event").gt(t));
    }
    if let Some(s) = f.state {
        q.and_where(col("state").eq(s.code()));
    }
    if let Some(n) = &f.name {
        q.and_where(col("name").eq(n.clone()));
    }
    for (name, value) in &f.dist_traits {
        q.cond_where(string_trait(db, Owner::Streams, name, value));
    }
    apply_mark(&mut q, TABLE, &f.mark);
    q
}

/// Streams matching `f` in the mark's order, at most `limit` (cut to `MAX_LIMIT`).
pub async fn list_streams(
    db: &impl ConnectionTrait,
    f: &StreamFilter,
    limit: u64,
) -> AppResult<Vec<Stream>> {
    let mut q = filtered(db, f);
    q.column(Asterisk);
    order_by_mark(&mut q, TABLE, &f.mark);
    q.limit(std::cmp::min(limit, MAX_LIMIT));
    fetch_all(db, &q).await
}

/// How many streams match `f` (the mark applies, a limit does not).
pub async fn count_streams(db: &impl ConnectionTrait, f: &StreamFilter) -> AppResult<u64> {
    let mut q = filtered(db, f);
    q.expr_as(count_star(), Alias::new("n"));
    fetch_count(db, &q).await
}

pub async fn stream_by_id(db: &impl ConnectionTrait, id: i64) -> AppResult<Option<Stream>> {
    Ok(stm::Entity::find_by_id(id).one(db).await?)
}

/// Streams by id (for the loaders), in no particular order.
pub async fn streams_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> AppResult<Vec<Stream>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Query::select();
    q.column(Asterisk)
        .from(Alias::new(TABLE))
        .and_where(in_list(db, Alias::new("id"), ids));
    fetch_all(db, &q).await
}

fn no_stream(id: i64) -> AppError {
    AppError::not_found(format!("no stream {id}"))
}

/// Deletes a stream, its distinguishing traits and its links to events; the events stay.
pub async fn delete_stream(db: &impl ConnectionTrait, id: i64) -> AppResult<()> {
    let _turn = crate::service::write_turn(db).await;
    let done = stm::Entity::delete_by_id(id).exec(db).await?;
    if done.rows_affected == 0 {
        return Err(no_stream(id));
    }
    Ok(())
}

/// Resets a stream that failed so the worker tries again: `error` becomes `retry_fire`,
/// `expire_error` becomes `retry_expire`; any other state is left as it is (winchester's
/// `reset_stream`). The change is conditional on the state read, so a concurrent change wins
/// cleanly. Answers the stream as it is afterwards.
pub async fn reset_stream(db: &impl ConnectionTrait, id: i64) -> AppResult<Stream> {
    let stream = stream_by_id(db, id).await?.ok_or_else(|| no_stream(id))?;
    let to = match StreamState::from_code(stream.state) {
        Some(StreamState::Error) => StreamState::RetryFire,
        Some(StreamState::ExpireError) => StreamState::RetryExpire,
        _ => return Ok(stream),
    };
    let _turn = crate::service::write_turn(db).await;
    let changed = stm::Entity::update_many()
        .col_expr(stm::Column::State, Expr::val(to.code()))
        .col_expr(
            stm::Column::StateSerialNo,
            Expr::col(stm::Column::StateSerialNo).add(1),
        )
        .filter(stm::Column::Id.eq(id))
        .filter(stm::Column::StateSerialNo.eq(stream.state_serial_no))
        .exec(db)
        .await?;
    if changed.rows_affected == 0 {
        return Err(AppError::Conflict(format!(
            "stream {id} changed meanwhile; read it again"
        )));
    }
    stream_by_id(db, id).await?.ok_or_else(|| no_stream(id))
}

/// The streams each event in `event_ids` belongs to, with the event's id, streams in id order.
pub async fn streams_of_events(
    db: &impl ConnectionTrait,
    event_ids: &[i64],
) -> AppResult<Vec<(i64, Stream)>> {
    if event_ids.is_empty() {
        return Ok(Vec::new());
    }
    let se = Alias::new("stt_stream_events");
    let s = Alias::new(TABLE);
    let mut q = Query::select();
    q.column((se.clone(), Alias::new("event_id")))
        .column((s.clone(), Asterisk))
        .from(se.clone())
        .inner_join(
            s.clone(),
            Expr::col((s.clone(), Alias::new("id"))).equals((se.clone(), Alias::new("stream_id"))),
        )
        .and_where(in_list(db, (se.clone(), Alias::new("event_id")), event_ids))
        .order_by((se, Alias::new("event_id")), sea_orm::sea_query::Order::Asc)
        .order_by((s, Alias::new("id")), sea_orm::sea_query::Order::Asc);
    let mut out = Vec::new();
    for row in db.query_all(&q).await? {
        let event_id: i64 = row.try_get("", "event_id")?;
        out.push((event_id, Stream::from_query_result(&row, "")?));
    }
    Ok(out)
}
