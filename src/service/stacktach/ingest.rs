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
    ConnectionTrait, DbBackend, EntityTrait, Statement, TransactionSession, TransactionTrait,
};

use super::definitions::TriggerDefinition;
use super::events::{check_batch, insert_new};
use super::model::{EventView, MAX_BATCH, NewEvent, Stream, StreamState, dist_json, truncate_us};
use super::strings::write_stream_strings;
use crate::error::{AppError, AppResult};
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

    // Each group's stream after the batch: an active stream's new values, or a new stream
    // written with its final values at once.
    let mut changed: Vec<Change> = Vec::new();
    let mut opened: Vec<(usize, stm::ActiveModel)> = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        let trigger = &triggers[g.trigger];
        let criteria = trigger.fire_criteria.len();
        let existing = found.remove(&(trigger.name.clone(), g.key.clone()));
        let start = events[g.events[0].1].generated;
        let (mut hits, mut first, mut last, fire_ts) = match &existing {
            Some(s) => (
                serde_json::from_str::<Vec<u64>>(&s.fire_hits).unwrap_or_default(),
                s.first_event,
                s.last_event,
                s.fire_timestamp,
            ),
            None => (Vec::new(), start, start, None),
        };
        hits.resize(criteria, 0);
        for (_, i) in &g.events {
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
        }
        let fires = fire_ts.is_none() && trigger.fire_criteria_met(&hits);
        let fire_at = if fires {
            Some(trigger.fire_time(now))
        } else {
            fire_ts
        };
        // An expiration that cannot be computed (a month past the 31st) expires on the next pass.
        let expire = trigger.try_expire_time(first, last, now).unwrap_or(last);
        let hits = serde_json::to_string(&hits).unwrap_or_default();
        let added = g.events.len() as i32;
        report.stream_events += g.events.len() as u64;
        match existing {
            Some(s) => changed.push(Change {
                group: gi,
                id: s.id,
                first,
                last,
                expire,
                fire_at,
                added,
                hits,
            }),
            None => opened.push((
                gi,
                stm::ActiveModel {
                    id: NotSet,
                    name: Set(trigger.name.clone()),
                    state: Set(StreamState::Active.code()),
                    state_serial_no: Set(0),
                    first_event: Set(first),
                    last_event: Set(last),
                    expire_timestamp: Set(Some(expire)),
                    fire_timestamp: Set(fire_at),
                    dist_traits: Set(g.key.clone()),
                    event_count: Set(added),
                    fire_hits: Set(hits),
                    claimed_at: Set(None),
                },
            )),
        }
    }
    report.streams_opened = opened.len() as u64;

    // The stream of each group: the changed ones' ids, then the new ones', written a statement
    // per chunk and told apart by their (trigger, traits) key, unique among a batch's groups.
    let mut stream_of = vec![0i64; groups.len()];
    for c in &changed {
        stream_of[c.group] = c.id;
    }
    for chunk in opened.chunks(STREAM_CHUNK) {
        let rows = stm::Entity::insert_many(chunk.iter().map(|(_, m)| m.clone()))
            .exec_with_returning(&txn)
            .await?;
        let ids: HashMap<(&str, &str), i64> = rows
            .iter()
            .map(|r| ((r.name.as_str(), r.dist_traits.as_str()), r.id))
            .collect();
        for (gi, _) in chunk {
            let g = &groups[*gi];
            let key = (triggers[g.trigger].name.as_str(), g.key.as_str());
            stream_of[*gi] = *ids.get(&key).ok_or_else(|| {
                AppError::Internal(format!("a stream opened for {key:?} was not returned"))
            })?;
        }
        let strings: Vec<(i64, &str)> = rows
            .iter()
            .map(|r| (r.id, r.dist_traits.as_str()))
            .collect();
        write_stream_strings(&txn, &strings).await?;
    }
    for chunk in changed.chunks(STREAM_CHUNK) {
        update_streams(&txn, chunk).await?;
    }

    let mut links = Vec::with_capacity(report.stream_events as usize);
    for (gi, g) in groups.iter().enumerate() {
        for (id, _) in &g.events {
            links.push(lnk::ActiveModel {
                stream_id: Set(stream_of[gi]),
                event_id: Set(*id),
            });
        }
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
    // SQLite, without statistics, would rather read the `(state, expire_timestamp)` index (every
    // active stream) than look the keys up in `(name, dist_traits)`: the state test written as
    // `+state` (SQLite's documented way to keep a term off an index) leaves it only the latter.
    let state = StreamState::Active.code();
    let active = if txn.get_database_backend() == DbBackend::Sqlite {
        Expr::cust_with_values("+\"stt_streams\".\"state\" = ?", [state])
    } else {
        Expr::col((Alias::new("stt_streams"), Alias::new("state"))).eq(state)
    };
    let mut found = HashMap::new();
    for (t, keys) in by_trigger {
        let table = Alias::new("stt_streams");
        let col = |c: &str| Expr::col((table.clone(), Alias::new(c)));
        let mut q = Query::select();
        q.column(Asterisk)
            .from(table.clone())
            .and_where(col("name").eq(triggers[t].name.clone()))
            .and_where(active.clone())
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

/// Streams written or updated a statement per this many (at most 11 parameters each).
const STREAM_CHUNK: usize = 500;

/// An active stream's new values after a batch.
struct Change {
    /// The index of its group.
    group: usize,
    id: i64,
    first: NaiveDateTime,
    last: NaiveDateTime,
    expire: NaiveDateTime,
    fire_at: Option<NaiveDateTime>,
    /// Events the batch added.
    added: i32,
    hits: String,
}

/// Updates the streams of `changes` in one statement: an `UPDATE ... FROM (VALUES ...)`, on
/// PostgreSQL with the first row's types spelled out, on SQLite through a `WITH` (3.33's
/// `UPDATE FROM`). One statement instead of one per stream: a batch of 1,000 events touches
/// hundreds of streams.
async fn update_streams(txn: &impl ConnectionTrait, changes: &[Change]) -> AppResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let backend = txn.get_database_backend();
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(changes.len() * 7);
    let mut rows = Vec::with_capacity(changes.len());
    for (n, c) in changes.iter().enumerate() {
        let row = if backend == DbBackend::Postgres {
            let p = |k: usize| format!("${}", n * 7 + k);
            if n == 0 {
                format!(
                    "({}::bigint, {}::timestamp, {}::timestamp, {}::timestamp, {}::timestamp, {}::integer, {}::text)",
                    p(1),
                    p(2),
                    p(3),
                    p(4),
                    p(5),
                    p(6),
                    p(7)
                )
            } else {
                format!(
                    "({}, {}, {}, {}, {}, {}, {})",
                    p(1),
                    p(2),
                    p(3),
                    p(4),
                    p(5),
                    p(6),
                    p(7)
                )
            }
        } else {
            "(?, ?, ?, ?, ?, ?, ?)".to_owned()
        };
        rows.push(row);
        values.extend([
            c.id.into(),
            c.first.into(),
            c.last.into(),
            c.expire.into(),
            c.fire_at.into(),
            c.added.into(),
            c.hits.clone().into(),
        ]);
    }
    let set = "first_event = v.f, last_event = v.l, expire_timestamp = v.e, \
               fire_timestamp = v.fi, fire_hits = v.h";
    let sql = if backend == DbBackend::Postgres {
        format!(
            "UPDATE stt_streams AS s SET {set}, event_count = s.event_count + v.n \
             FROM (VALUES {}) AS v(id, f, l, e, fi, n, h) WHERE s.id = v.id",
            rows.join(", ")
        )
    } else {
        format!(
            "WITH v(id, f, l, e, fi, n, h) AS (VALUES {}) \
             UPDATE stt_streams SET {set}, event_count = stt_streams.event_count + v.n \
             FROM v WHERE stt_streams.id = v.id",
            rows.join(", ")
        )
    };
    txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}
