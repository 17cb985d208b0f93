//! Events: ingestion (a batch in one transaction, a message id seen before skipped), the
//! filtered lists and counts, one event, a stream's events, and the streams of events.

use std::collections::{BTreeMap, HashMap, HashSet};

use entity::stt_event as evt;
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, OnConflict, Order, Query};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use super::filters::{apply_mark, order_by_mark, string_trait};
use super::model::{Event, EventFilter, MAX_LIMIT, MAX_TRAITS, NewEvent, TraitValue, traits_json};
use super::strings::{Owner, write_event_strings};
use crate::error::{AppError, AppResult};
use crate::service::{count_star, fetch_all, fetch_count, in_list};

const TABLE: &str = "stt_events";

fn filtered(db: &impl ConnectionTrait, f: &EventFilter) -> sea_orm::sea_query::SelectStatement {
    let mut q = Query::select();
    q.from(Alias::new(TABLE));
    let col = |c: &str| Expr::col((Alias::new(TABLE), Alias::new(c)));
    if let Some(from) = f.from {
        q.and_where(col("generated").gt(from));
    }
    if let Some(to) = f.to {
        q.and_where(col("generated").lte(to));
    }
    if let Some(t) = &f.event_type {
        q.and_where(col("event_type").eq(t.clone()));
    }
    for (name, value) in &f.traits {
        q.cond_where(string_trait(db, Owner::Events, name, value));
    }
    apply_mark(&mut q, TABLE, &f.mark);
    q
}

/// Events matching `f` in the mark's order, at most `limit` (cut to `MAX_LIMIT`).
pub async fn list_events(
    db: &impl ConnectionTrait,
    f: &EventFilter,
    limit: u64,
) -> AppResult<Vec<Event>> {
    let mut q = filtered(db, f);
    q.column(Asterisk);
    order_by_mark(&mut q, TABLE, &f.mark);
    q.limit(std::cmp::min(limit, MAX_LIMIT));
    fetch_all(db, &q).await
}

/// How many events match `f` (the mark applies, a limit does not).
pub async fn count_events(db: &impl ConnectionTrait, f: &EventFilter) -> AppResult<u64> {
    let mut q = filtered(db, f);
    q.expr_as(count_star(), Alias::new("n"));
    fetch_count(db, &q).await
}

/// The event whose message id is `message_id` (compared in lower case).
pub async fn event_by_message_id(
    db: &impl ConnectionTrait,
    message_id: &str,
) -> AppResult<Option<Event>> {
    Ok(evt::Entity::find()
        .filter(evt::Column::MessageId.eq(message_id.trim().to_lowercase()))
        .one(db)
        .await?)
}

/// The events of each stream in `stream_ids`, oldest generated first, with their stream's id;
/// at most `per_stream` each, cut in SQL (a window numbering each stream's events), so a stream
/// of millions of events costs only the rows returned.
pub async fn events_of_streams(
    db: &impl ConnectionTrait,
    stream_ids: &[i64],
    per_stream: u64,
) -> AppResult<Vec<(i64, Event)>> {
    if stream_ids.is_empty() || per_stream == 0 {
        return Ok(Vec::new());
    }
    #[derive(sea_orm::FromQueryResult)]
    struct Row {
        stream_id: i64,
        id: i64,
        message_id: String,
        event_type: String,
        generated: chrono::NaiveDateTime,
        traits: String,
    }
    let se = Alias::new("stt_stream_events");
    let e = Alias::new(TABLE);
    let numbered = Alias::new("numbered");
    let mut inner = Query::select();
    inner
        .column((se.clone(), Alias::new("stream_id")))
        .column((e.clone(), Asterisk))
        .expr_as(
            Expr::cust(
                "ROW_NUMBER() OVER (PARTITION BY \"stt_stream_events\".\"stream_id\" \
                 ORDER BY \"stt_events\".\"generated\", \"stt_events\".\"id\")",
            ),
            Alias::new("n"),
        )
        .from(se.clone())
        .inner_join(
            e.clone(),
            Expr::col((e.clone(), Alias::new("id"))).equals((se.clone(), Alias::new("event_id"))),
        )
        .and_where(in_list(db, (se, Alias::new("stream_id")), stream_ids));
    let col = |c: &str| (numbered.clone(), Alias::new(c));
    let mut q = Query::select();
    q.columns([
        col("stream_id"),
        col("id"),
        col("message_id"),
        col("event_type"),
        col("generated"),
        col("traits"),
    ])
    .from_subquery(inner, numbered.clone())
    .and_where(Expr::col(col("n")).lte(per_stream as i64))
    .order_by(col("stream_id"), Order::Asc)
    .order_by(col("n"), Order::Asc);
    let rows: Vec<Row> = fetch_all(db, &q).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.stream_id,
                Event {
                    id: r.id,
                    message_id: r.message_id,
                    event_type: r.event_type,
                    generated: r.generated,
                    traits: r.traits,
                },
            )
        })
        .collect())
}

/// Checks a batch before anything is written: every event valid, message ids unique within it.
pub(super) fn check_batch(events: &[NewEvent], max: usize) -> AppResult<()> {
    if events.len() > max {
        return Err(AppError::invalid_field(
            "events",
            format!("at most {max} events in one batch"),
        ));
    }
    let mut seen = HashSet::new();
    for (i, e) in events.iter().enumerate() {
        let at = |f: &str| format!("events[{i}].{f}");
        let id = e.message_id.trim();
        if id.is_empty() || id.len() > 100 {
            return Err(AppError::invalid_field(
                at("message_id"),
                "a message id is 1 to 100 characters",
            ));
        }
        if e.event_type.trim().is_empty() || e.event_type.len() > 255 {
            return Err(AppError::invalid_field(
                at("event_type"),
                "an event type is 1 to 255 characters",
            ));
        }
        if e.traits.len() > MAX_TRAITS {
            return Err(AppError::invalid_field(
                at("traits"),
                format!("at most {MAX_TRAITS} traits"),
            ));
        }
        if !seen.insert(id.to_lowercase()) {
            return Err(AppError::invalid_field(
                at("message_id"),
                format!("'{id}' appears twice in the batch"),
            ));
        }
    }
    Ok(())
}

/// Inserts the events that are new (a message id already stored is skipped) and returns the ids
/// of those inserted, by position in `events` (`None` for a duplicate). One statement per chunk,
/// and on SQLite the new events' string traits (see `strings`).
pub(super) async fn insert_new(
    txn: &impl ConnectionTrait,
    events: &[NewEvent],
) -> AppResult<Vec<Option<i64>>> {
    let mut ids = vec![None; events.len()];
    // Bound parameters per statement stay well under SQLite's and PostgreSQL's limits.
    for (chunk_no, chunk) in events.chunks(1_000).enumerate() {
        let rows = chunk.iter().map(|e| evt::ActiveModel {
            id: NotSet,
            message_id: Set(e.message_id.trim().to_lowercase()),
            event_type: Set(e.event_type.clone()),
            generated: Set(e.generated),
            traits: Set(traits_json(&e.traits)),
        });
        let inserted = evt::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::column(evt::Column::MessageId)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_with_returning_keys(txn)
            .await;
        let mut keys: Vec<i64> = match inserted {
            Ok(k) => k,
            Err(sea_orm::DbErr::RecordNotInserted) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        // The keys come back for the rows inserted only. When all were, they follow the rows'
        // order (each row takes the next id as it is inserted); otherwise find which by message id.
        keys.sort_unstable();
        if keys.len() == chunk.len() {
            for (i, k) in keys.into_iter().enumerate() {
                ids[chunk_no * 1_000 + i] = Some(k);
            }
            continue;
        }
        let wanted: Vec<String> = chunk
            .iter()
            .map(|e| e.message_id.trim().to_lowercase())
            .collect();
        let found = evt::Entity::find()
            .filter(evt::Column::Id.is_in(keys))
            .all(txn)
            .await?;
        let by_message: HashMap<String, i64> =
            found.into_iter().map(|e| (e.message_id, e.id)).collect();
        for (i, m) in wanted.iter().enumerate() {
            ids[chunk_no * 1_000 + i] = by_message.get(m).copied();
        }
    }
    let stored: Vec<(i64, &BTreeMap<String, TraitValue>)> = ids
        .iter()
        .zip(events)
        .filter_map(|(id, e)| id.map(|id| (id, &e.traits)))
        .collect();
    write_event_strings(txn, &stored).await?;
    Ok(ids)
}
