//! Ingestion and the trigger engine: a batch of events is stored in one transaction (a message
//! id already stored is skipped, so a batch sent twice stores nothing new), and each new event
//! joins, or opens, the active stream of every trigger it matches, as winchester's trigger
//! manager did: the stream's first and last event, its expiry (the trigger's `expiration`) and,
//! once its events meet the fire criteria, its fire time (`now + fire_delay`).
//!
//! Each stream keeps per fire criterion the number of its events that met it (`fire_hits`), so an
//! event decides whether its stream fires without reading the stream's other events.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use entity::{stt_stream as stm, stt_stream_event as lnk};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement,
    TransactionSession, TransactionTrait,
};

use super::definitions::TriggerDefinition;
use super::events::{check_batch, insert_new};
use super::model::{EventView, MAX_BATCH, NewEvent, Stream, StreamState, dist_json, truncate_us};
use crate::error::AppResult;
use crate::service::{fetch_all, in_list};

/// What a batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Events stored.
    pub stored: u64,
    /// Events skipped because their message id was stored before.
    pub duplicates: u64,
    /// Streams the batch opened.
    pub streams_opened: u64,
    /// Events added to streams (one event can join the streams of several triggers).
    pub stream_events: u64,
}

/// The events of one batch that join one stream: trigger, distinguishing traits, events.
struct Group {
    trigger: usize,
    key: String,
    events: Vec<(i64, usize)>,
}

/// Stores `events` and runs `triggers` over the new ones, in one transaction. `now` is the time
/// a fire delay counts from.
pub async fn ingest<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    events: &[NewEvent],
    triggers: &[TriggerDefinition],
    now: NaiveDateTime,
) -> AppResult<IngestReport> {
    check_batch(events, MAX_BATCH)?;
    let now = truncate_us(now);
    let events: Vec<NewEvent> = events
        .iter()
        .map(|e| NewEvent {
            generated: truncate_us(e.generated),
            ..e.clone()
        })
        .collect();
    let events = &events[..];
    let _turn = crate::service::write_turn(db).await;
    let txn = db.begin().await?;
    let ids = insert_new(&txn, events).await?;
    let mut report = IngestReport {
        stored: ids.iter().filter(|i| i.is_some()).count() as u64,
        duplicates: ids.iter().filter(|i| i.is_none()).count() as u64,
        ..IngestReport::default()
    };

    // Which stream each new event joins, grouped.
    let mut groups: BTreeMap<(usize, String), Vec<(i64, usize)>> = BTreeMap::new();
    for (i, (e, id)) in events.iter().zip(&ids).enumerate() {
        let Some(id) = id else { continue };
        let view = EventView {
            event_type: &e.event_type,
            generated: e.generated,
            traits: &e.traits,
        };
        for (t, trigger) in triggers.iter().enumerate() {
            let Some(criterion) = trigger.matching_criterion(&view) else {
                continue;
            };
            let Some(values) = trigger.distinguishing_values_for(&view, criterion) else {
                continue;
            };
            groups
                .entry((t, dist_json(&values)))
                .or_default()
                .push((*id, i));
        }
    }
    let groups: Vec<Group> = groups
        .into_iter()
        .map(|((trigger, key), events)| Group {
            trigger,
            key,
            events,
        })
        .collect();
    if groups.is_empty() {
        txn.commit().await?;
        return Ok(report);
    }
    lock_keys(&txn, triggers, &groups).await?;
    let mut found = active_streams(&txn, triggers, &groups, now).await?;

    let mut links = Vec::new();
    for g in &groups {
        let trigger = &triggers[g.trigger];
        let criteria = trigger.fire_criteria.len();
        let stream = match found.remove(&(trigger.name.clone(), g.key.clone())) {
            Some(s) => s,
            None => {
                report.streams_opened += 1;
                open_stream(
                    &txn,
                    trigger,
                    &g.key,
                    events[g.events[0].1].generated,
                    criteria,
                )
                .await?
            }
        };
        let mut hits: Vec<u64> = serde_json::from_str(&stream.fire_hits).unwrap_or_default();
        hits.resize(criteria, 0);
        let (mut first, mut last) = (stream.first_event, stream.last_event);
        for (id, i) in &g.events {
            let e = &events[*i];
            let view = EventView {
                event_type: &e.event_type,
                generated: e.generated,
                traits: &e.traits,
            };
            for c in trigger.fire_criterion_hits(&view) {
                if let Some(h) = hits.get_mut(c) {
                    *h += 1;
                }
            }
            first = std::cmp::min(first, e.generated);
            last = std::cmp::max(last, e.generated);
            links.push(lnk::ActiveModel {
                stream_id: Set(stream.id),
                event_id: Set(*id),
            });
        }
        let fires = stream.fire_timestamp.is_none() && trigger.fire_criteria_met(&hits);
        let fire_at = if fires {
            Some(trigger.fire_time(now))
        } else {
            stream.fire_timestamp
        };
        // An expiration that cannot be computed (a month past the 31st) expires on the next pass.
        let expire = trigger.try_expire_time(first, last, now).unwrap_or(last);
        stm::Entity::update_many()
            .col_expr(stm::Column::FirstEvent, Expr::val(first))
            .col_expr(stm::Column::LastEvent, Expr::val(last))
            .col_expr(stm::Column::ExpireTimestamp, Expr::val(Some(expire)))
            .col_expr(stm::Column::FireTimestamp, Expr::val(fire_at))
            .col_expr(
                stm::Column::EventCount,
                Expr::col(stm::Column::EventCount).add(g.events.len() as i32),
            )
            .col_expr(
                stm::Column::FireHits,
                Expr::val(serde_json::to_string(&hits).unwrap_or_default()),
            )
            .filter(stm::Column::Id.eq(stream.id))
            .exec(&txn)
            .await?;
        report.stream_events += g.events.len() as u64;
    }
    for chunk in links.chunks(5_000) {
        lnk::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(report)
}

/// On PostgreSQL, locks each (trigger, traits) key for the transaction, in one order for every
/// writer, so that two batches carrying events of the same new stream open it once. SQLite's
/// writers already take turns.
async fn lock_keys(
    txn: &impl ConnectionTrait,
    triggers: &[TriggerDefinition],
    groups: &[Group],
) -> AppResult<()> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let mut keys: Vec<String> = groups
        .iter()
        .map(|g| format!("{}\u{1f}{}", triggers[g.trigger].name, g.key))
        .collect();
    keys.sort();
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT count(pg_advisory_xact_lock(hashtextextended(k, 7))) \
         FROM (SELECT unnest($1::text[]) AS k ORDER BY 1) s",
        [keys.into()],
    ))
    .await?;
    Ok(())
}

/// The active, unexpired stream of each group's trigger and traits, by (trigger name, traits).
async fn active_streams(
    txn: &impl ConnectionTrait,
    triggers: &[TriggerDefinition],
    groups: &[Group],
    now: NaiveDateTime,
) -> AppResult<HashMap<(String, String), Stream>> {
    let mut by_trigger: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for g in groups {
        by_trigger.entry(g.trigger).or_default().push(g.key.clone());
    }
    let mut found = HashMap::new();
    for (t, keys) in by_trigger {
        let table = Alias::new("stt_streams");
        let col = |c: &str| Expr::col((table.clone(), Alias::new(c)));
        let mut q = Query::select();
        q.column(Asterisk)
            .from(table.clone())
            .and_where(col("name").eq(triggers[t].name.clone()))
            .and_where(col("state").eq(StreamState::Active.code()))
            .and_where(in_list(
                txn,
                (table.clone(), Alias::new("dist_traits")),
                &keys,
            ))
            .cond_where(
                sea_orm::Condition::any()
                    .add(col("expire_timestamp").is_null())
                    .add(col("expire_timestamp").gt(now)),
            );
        let rows: Vec<Stream> = fetch_all(txn, &q).await?;
        for s in rows {
            // Two active streams of one key can exist only if one expired meanwhile: the
            // newest is the one events join.
            let key = (s.name.clone(), s.dist_traits.clone());
            match found.get(&key) {
                Some(Stream { id, .. }) if *id > s.id => {}
                _ => {
                    found.insert(key, s);
                }
            }
        }
    }
    Ok(found)
}

async fn open_stream(
    txn: &impl ConnectionTrait,
    trigger: &TriggerDefinition,
    key: &str,
    at: NaiveDateTime,
    criteria: usize,
) -> AppResult<Stream> {
    let am = stm::ActiveModel {
        id: NotSet,
        name: Set(trigger.name.clone()),
        state: Set(StreamState::Active.code()),
        state_serial_no: Set(0),
        first_event: Set(at),
        last_event: Set(at),
        expire_timestamp: Set(None),
        fire_timestamp: Set(None),
        dist_traits: Set(key.to_owned()),
        event_count: Set(0),
        fire_hits: Set(serde_json::to_string(&vec![0u64; criteria]).unwrap_or_default()),
    };
    Ok(stm::Entity::insert(am).exec_with_returning(txn).await?)
}
