//! On SQLite, the string traits of events and the string distinguishing traits of streams are
//! also kept as rows `(name, value, owner id)` (migration 000010), written in the transaction
//! that writes their event or stream, so that the trait filters are index ranges: SQLite cannot
//! index the values of arbitrary JSON keys. PostgreSQL answers the same filters from GIN indexes
//! on the JSON itself (migration 000008) and keeps no rows here. Strings only: numbers, times and
//! ranges never match a trait filter.

use std::collections::BTreeMap;

use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, DbBackend};

use super::model::TraitValue;
use crate::error::{AppError, AppResult};

/// Whose strings: events' traits or streams' distinguishing traits.
#[derive(Clone, Copy, Debug)]
pub(super) enum Owner {
    Events,
    Streams,
}

impl Owner {
    /// The owner's table and its JSON column.
    pub(super) fn table(self) -> (&'static str, &'static str) {
        match self {
            Owner::Events => ("stt_events", "traits"),
            Owner::Streams => ("stt_streams", "dist_traits"),
        }
    }

    /// The strings' table and its column naming the owner.
    pub(super) fn strings(self) -> (&'static str, &'static str) {
        match self {
            Owner::Events => ("stt_event_strings", "event_id"),
            Owner::Streams => ("stt_stream_strings", "stream_id"),
        }
    }
}

/// Whether this database keeps the rows (SQLite only).
pub(super) fn kept(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::Sqlite
}

/// Rows a statement: three parameters each, under SQLite's 32,766.
const CHUNK: usize = 10_000;

/// Writes the string traits of new events (id, traits).
pub(super) async fn write_event_strings(
    txn: &impl ConnectionTrait,
    events: &[(i64, &BTreeMap<String, TraitValue>)],
) -> AppResult<()> {
    if !kept(txn) {
        return Ok(());
    }
    let rows = events.iter().flat_map(|(id, traits)| {
        traits.iter().filter_map(move |(k, v)| match v {
            TraitValue::Text(s) => Some((k.clone(), s.clone(), *id)),
            _ => None,
        })
    });
    write(txn, Owner::Events, rows.collect()).await
}

/// Writes the string distinguishing traits of new streams (id, stored `dist_traits` JSON).
pub(super) async fn write_stream_strings(
    txn: &impl ConnectionTrait,
    streams: &[(i64, &str)],
) -> AppResult<()> {
    if !kept(txn) {
        return Ok(());
    }
    let mut rows = Vec::new();
    for (id, stored) in streams {
        let Ok(serde_json::Value::Object(map)) = serde_json::from_str(stored) else {
            continue;
        };
        for (k, v) in map {
            if let serde_json::Value::String(s) = v {
                rows.push((k, s, *id));
            }
        }
    }
    write(txn, Owner::Streams, rows).await
}

async fn write(
    txn: &impl ConnectionTrait,
    owner: Owner,
    rows: Vec<(String, String, i64)>,
) -> AppResult<()> {
    let (table, column) = owner.strings();
    for chunk in rows.chunks(CHUNK) {
        let mut q = Query::insert();
        q.into_table(Alias::new(table)).columns([
            Alias::new("name"),
            Alias::new("value"),
            Alias::new(column),
        ]);
        for (name, value, id) in chunk {
            q.values([name.clone().into(), value.clone().into(), (*id).into()])
                .map_err(|e| AppError::Internal(format!("trait strings: {e}")))?;
        }
        txn.execute(&q).await?;
    }
    Ok(())
}
