//! Metrics: one and in batches (one transaction), the metric filter, lists, per-parent pages
//! and the legacy resource orderings.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use entity::{monitor_context as ctx, monitor_metric as met, monitor_session as ses};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ConnectionTrait, EntityTrait, FromQueryResult, TransactionSession, TransactionTrait,
};

use crate::error::{AppError, AppResult};
use crate::service::per_parent::{self, ChildLevel};
use crate::service::rows::{Cols, ColumnSet, Positional, fetch_decoded, select_from};
use crate::service::{
    Direction, KeyCursor, Slice, apply_slice, count_star, fetch_all, fetch_count, in_list,
    like_pattern, starts_with,
};

use super::iso8601::iso8601_instant;
use super::model::{
    INSERT_CHUNK, MAX_METRICS_PER_BATCH, Metric, MetricFilter, MetricOrder, MetricOrderField,
    NewMetric, TagCondition, WRITES,
};
use super::sessions::tag_exists;

/// The resource figures must be numbers a database and JSON can hold (no NaN or infinity).
fn check_finite(m: &NewMetric) -> AppResult<()> {
    for (name, v) in [
        ("total_time", m.total_time),
        ("user_time", m.user_time),
        ("kernel_time", m.kernel_time),
        ("cpu_usage", m.cpu_usage),
        ("mem_usage", m.mem_usage),
    ] {
        if !v.is_finite() {
            return Err(AppError::invalid_field(
                name,
                format!("'{name}' must be a finite number"),
            ));
        }
    }
    Ok(())
}

/// Writes one metric in a single statement (`INSERT ... SELECT` joining the two hashes), the
/// pytest-monitor plugin's one-POST-per-test path. An unknown session or context inserts nothing
/// and is reported by name.
pub async fn add_metric(db: &impl ConnectionTrait, m: NewMetric) -> AppResult<()> {
    check_finite(&m)?;
    let start_at = iso8601_instant(&m.item_start_time);
    let mut select = Query::select();
    select
        .expr(Expr::col((ses::Entity, ses::Column::Id)))
        .expr(Expr::col((ctx::Entity, ctx::Column::Id)))
        .expr(Expr::col((ses::Entity, ses::Column::H)))
        .expr(Expr::col((ctx::Entity, ctx::Column::H)))
        .expr(Expr::val(m.item_start_time.clone()))
        .expr(Expr::val(start_at))
        .expr(Expr::val(m.item_path.clone()))
        .expr(Expr::val(m.item.clone()))
        .expr(Expr::val(m.item_variant.clone()))
        .expr(Expr::val(m.item_fs_loc.clone()))
        .expr(Expr::val(m.kind.clone()))
        .expr(Expr::val(m.component.clone()))
        .expr(Expr::val(m.total_time))
        .expr(Expr::val(m.user_time))
        .expr(Expr::val(m.kernel_time))
        .expr(Expr::val(m.cpu_usage))
        .expr(Expr::val(m.mem_usage))
        .from(ses::Entity)
        .inner_join(
            ctx::Entity,
            Expr::col((ctx::Entity, ctx::Column::H)).eq(m.context_h.clone()),
        )
        .and_where(Expr::col((ses::Entity, ses::Column::H)).eq(m.session_h.clone()));
    let mut insert = Query::insert();
    insert
        .into_table(met::Entity)
        .columns([
            met::Column::SessionId,
            met::Column::ContextId,
            met::Column::SessionH,
            met::Column::ContextH,
            met::Column::ItemStartTime,
            met::Column::ItemStartAt,
            met::Column::ItemPath,
            met::Column::Item,
            met::Column::ItemVariant,
            met::Column::ItemFsLoc,
            met::Column::Kind,
            met::Column::Component,
            met::Column::TotalTime,
            met::Column::UserTime,
            met::Column::KernelTime,
            met::Column::CpuUsage,
            met::Column::MemUsage,
        ])
        .select_from(select)
        .map_err(|e| AppError::Internal(format!("metric insert: {e}")))?;
    let inserted = {
        let _turn = crate::service::write_turn(db).await;
        db.execute(&insert).await?.rows_affected()
    };
    if inserted == 1 {
        WRITES.bump();
        return Ok(());
    }
    // Nothing inserted: say which hash is unknown (only on this error path).
    let known = ids_by_hash(
        db,
        ses::Entity,
        ses::Column::H,
        std::iter::once(m.session_h.as_str()),
    )
    .await?;
    if known.is_empty() {
        return Err(AppError::invalid_field(
            "session_h",
            format!("unknown session '{}'", m.session_h),
        ));
    }
    Err(AppError::invalid_field(
        "context_h",
        format!("unknown context '{}'", m.context_h),
    ))
}

/// Writes a batch of metrics in one transaction: every session and context hash must be known, or
/// nothing is written. Returns how many rows were stored.
pub async fn add_metrics<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    batch: Vec<NewMetric>,
) -> AppResult<u64> {
    if batch.is_empty() {
        return Ok(0);
    }
    if batch.len() > MAX_METRICS_PER_BATCH {
        return Err(AppError::bad_request(format!(
            "at most {MAX_METRICS_PER_BATCH} metrics per batch"
        )));
    }
    // Hashes are resolved before the transaction: sessions and contexts are never changed once
    // stored, and on SQLite a transaction that starts with a read cannot wait for the write lock
    // (a concurrent writer would make it fail instead of queueing).
    let session_ids = ids_by_hash(
        db,
        ses::Entity,
        ses::Column::H,
        batch.iter().map(|m| m.session_h.as_str()),
    )
    .await?;
    let context_ids = ids_by_hash(
        db,
        ctx::Entity,
        ctx::Column::H,
        batch.iter().map(|m| m.context_h.as_str()),
    )
    .await?;
    let mut rows = Vec::with_capacity(batch.len());
    for m in &batch {
        let session_id = *session_ids.get(&m.session_h).ok_or_else(|| {
            AppError::invalid_field("session_h", format!("unknown session '{}'", m.session_h))
        })?;
        let context_id = *context_ids.get(&m.context_h).ok_or_else(|| {
            AppError::invalid_field("context_h", format!("unknown context '{}'", m.context_h))
        })?;
        check_finite(m)?;
        rows.push(MetricRow {
            session_id,
            context_id,
            item_start_at: iso8601_instant(&m.item_start_time),
            m,
        });
    }
    let total = rows.len() as u64;
    let _turn = crate::service::write_turn(db).await;
    let txn = db.begin().await?;
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        insert_metrics_pg(&txn, &rows).await?;
    } else {
        for chunk in rows.chunks(INSERT_CHUNK) {
            met::Entity::insert_many(chunk.iter().map(MetricRow::active_model))
                .exec_without_returning(&txn)
                .await?;
        }
    }
    txn.commit().await?;
    WRITES.bump();
    Ok(total)
}

/// A metric of a batch, checked and with its hashes resolved to row ids.
struct MetricRow<'a> {
    session_id: i64,
    context_id: i64,
    item_start_at: Option<NaiveDateTime>,
    m: &'a NewMetric,
}

impl MetricRow<'_> {
    fn active_model(&self) -> met::ActiveModel {
        let m = self.m;
        met::ActiveModel {
            id: NotSet,
            session_id: Set(self.session_id),
            context_id: Set(self.context_id),
            session_h: Set(m.session_h.clone()),
            context_h: Set(m.context_h.clone()),
            item_start_time: Set(m.item_start_time.clone()),
            item_start_at: Set(self.item_start_at),
            item_path: Set(m.item_path.clone()),
            item: Set(m.item.clone()),
            item_variant: Set(m.item_variant.clone()),
            item_fs_loc: Set(m.item_fs_loc.clone()),
            kind: Set(m.kind.clone()),
            component: Set(m.component.clone()),
            total_time: Set(m.total_time),
            user_time: Set(m.user_time),
            kernel_time: Set(m.kernel_time),
            cpu_usage: Set(m.cpu_usage),
            mem_usage: Set(m.mem_usage),
        }
    }
}

/// PostgreSQL: the whole batch as one statement whose rows come from one JSON parameter, as
/// `evergreen::add_test_results` does (see there for why). Ids follow the batch's order.
async fn insert_metrics_pg(txn: &impl ConnectionTrait, rows: &[MetricRow<'_>]) -> AppResult<()> {
    #[derive(serde::Serialize)]
    struct Json<'a> {
        s: i64,
        c: i64,
        sh: &'a str,
        ch: &'a str,
        start: &'a str,
        /// Whole microseconds, truncated as sqlx binds a timestamp on the other write paths
        /// (PostgreSQL would round the extra digits of a nanosecond time instead).
        at: Option<String>,
        path: &'a str,
        item: &'a str,
        variant: &'a str,
        loc: &'a str,
        kind: &'a str,
        component: Option<&'a str>,
        total: f64,
        usr: f64,
        kernel: f64,
        cpu: f64,
        mem: f64,
    }
    let json: Vec<Json<'_>> = rows
        .iter()
        .map(|r| Json {
            s: r.session_id,
            c: r.context_id,
            sh: &r.m.session_h,
            ch: &r.m.context_h,
            start: &r.m.item_start_time,
            at: r.item_start_at.map(super::iso8601::micros_text),
            path: &r.m.item_path,
            item: &r.m.item,
            variant: &r.m.item_variant,
            loc: &r.m.item_fs_loc,
            kind: &r.m.kind,
            component: r.m.component.as_deref(),
            total: r.m.total_time,
            usr: r.m.user_time,
            kernel: r.m.kernel_time,
            cpu: r.m.cpu_usage,
            mem: r.m.mem_usage,
        })
        .collect();
    let json = serde_json::to_string(&json)
        .map_err(|e| AppError::Internal(format!("writing metrics: {e}")))?;
    const SQL: &str = "INSERT INTO monitor_metrics (session_id, context_id, session_h, context_h, \
        item_start_time, item_start_at, item_path, item, item_variant, item_fs_loc, kind, \
        component, total_time, user_time, kernel_time, cpu_usage, mem_usage) \
        SELECT r.s, r.c, r.sh, r.ch, r.start, r.at, r.path, r.item, r.variant, r.loc, r.kind, \
        r.component, r.total, r.usr, r.kernel, r.cpu, r.mem \
        FROM ROWS FROM (json_to_recordset($1::json) AS (s int8, c int8, sh text, ch text, \
        start text, at timestamp, path text, item text, variant text, loc text, kind text, \
        component text, total float8, usr float8, kernel float8, cpu float8, mem float8)) \
        WITH ORDINALITY AS r(s, c, sh, ch, start, at, path, item, variant, loc, kind, component, \
        total, usr, kernel, cpu, mem, ord) \
        ORDER BY r.ord";
    txn.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        SQL,
        [json.into()],
    ))
    .await?;
    Ok(())
}

/// Maps the distinct hashes of a batch to row ids, one statement per table.
async fn ids_by_hash<'a, E>(
    db: &impl ConnectionTrait,
    entity: E,
    col: E::Column,
    hashes: impl Iterator<Item = &'a str>,
) -> AppResult<HashMap<String, i64>>
where
    E: EntityTrait,
{
    #[derive(FromQueryResult)]
    struct Row {
        id: i64,
        h: String,
    }
    let mut distinct: Vec<String> = hashes.map(str::to_owned).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let mut out = HashMap::with_capacity(distinct.len());
    for chunk in distinct.chunks(INSERT_CHUNK) {
        let mut q = Query::select();
        q.expr_as(Expr::col(Alias::new("id")), Alias::new("id"))
            .expr_as(Expr::col(col), Alias::new("h"))
            .from(entity)
            .and_where(in_list(db, col, chunk));
        let rows: Vec<Row> = fetch_all(db, &q).await?;
        out.extend(rows.into_iter().map(|r| (r.h, r.id)));
    }
    Ok(out)
}

/// The columns a `Metric` is read from: all of the table's but `item_start_at`, which serves
/// time-window filters only (both edges show the client's own `item_start_time`).
fn metric_columns() -> ColumnSet {
    use sea_orm::Iterable;
    use sea_orm::sea_query::IntoIden;
    static COLS: std::sync::LazyLock<ColumnSet> = std::sync::LazyLock::new(|| {
        let skip = met::Column::ItemStartAt.into_iden().to_string();
        let names: Vec<String> = met::Column::iter()
            .map(|c| c.into_iden().to_string())
            .filter(|name| *name != skip)
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        ColumnSet::of::<met::Entity>(&names)
    });
    *COLS
}

/// `SELECT` the `metric_columns` of `monitor_metrics`, ready for conditions and an order.
fn metric_select() -> SelectStatement {
    select_from::<Metric>(metric_columns())
}

/// A row of `metric_select` (lists return up to thousands of metrics; by-name decoding cost more
/// than the query, see `service::rows`).
fn decode_metric(row: &sea_orm::QueryResult) -> Result<Metric, sea_orm::DbErr> {
    Metric::decode(row, metric_columns())
}

impl Positional for Metric {
    type Entity = met::Entity;

    fn decode(row: &sea_orm::QueryResult, cols: ColumnSet) -> Result<Self, sea_orm::DbErr> {
        let mut c = Cols::new(row, cols);
        Ok(Metric {
            id: c.read()?,
            session_id: c.read()?,
            context_id: c.read()?,
            session_h: c.read()?,
            context_h: c.read()?,
            item_start_time: c.read()?,
            item_path: {
                // `item_start_at` comes between: read past it (it is not selected by
                // `metric_select`, so this costs nothing there).
                c.read::<Option<NaiveDateTime>>()?;
                c.read()?
            },
            item: c.read()?,
            item_variant: c.read()?,
            item_fs_loc: c.read()?,
            kind: c.read()?,
            component: c.read()?,
            total_time: c.read()?,
            user_time: c.read()?,
            kernel_time: c.read()?,
            cpu_usage: c.read()?,
            mem_usage: c.read()?,
        })
    }
}

fn metric_condition(f: &MetricFilter) -> Condition {
    let m = |c: met::Column| Expr::col((met::Entity, c));
    let mut cond = Condition::all();
    // Parents are matched through their id, so that the (parent, id) indexes serve the filter and
    // its order: `= (SELECT id ...)` is one index probe, then an ordered range of the index.
    if let Some(h) = &f.session_h {
        cond = cond.add(m(met::Column::SessionId).eq(id_of(ses::Entity, ses::Column::H, h)));
    }
    if let Some(h) = &f.context_h {
        cond = cond.add(m(met::Column::ContextId).eq(id_of(ctx::Entity, ctx::Column::H, h)));
    }
    if let Some(v) = &f.item {
        cond = cond.add(m(met::Column::Item).eq(v.clone()));
    }
    if let Some(p) = &f.item_like {
        cond = cond.add(like_pattern(m(met::Column::Item), p));
    }
    if let Some(v) = &f.variant {
        cond = cond.add(m(met::Column::ItemVariant).eq(v.clone()));
    }
    if let Some(p) = &f.variant_like {
        cond = cond.add(like_pattern(m(met::Column::ItemVariant), p));
    }
    if let Some(v) = &f.kind {
        cond = cond.add(m(met::Column::Kind).eq(v.clone()));
    }
    if let Some(v) = &f.component {
        cond = cond.add(m(met::Column::Component).eq(v.clone()));
    }
    if let Some(p) = &f.component_like {
        cond = cond.add(like_pattern(m(met::Column::Component), p));
    }
    if let Some(p) = &f.scm_ref_prefix {
        let mut sessions = Query::select();
        sessions
            .column((ses::Entity, ses::Column::Id))
            .from(ses::Entity)
            .and_where(starts_with(
                Expr::col((ses::Entity, ses::Column::ScmRef)),
                p,
            ));
        cond = cond.add(m(met::Column::SessionId).in_subquery(sessions));
    }
    let session_id: SimpleExpr = m(met::Column::SessionId);
    if let Some(p) = &f.pipeline {
        cond = cond.add(tag_exists(
            session_id.clone(),
            &TagCondition {
                name: "pipeline_branch".into(),
                value: Some(p.clone()),
            },
        ));
    }
    if let Some(b) = &f.build {
        cond = cond.add(tag_exists(
            session_id.clone(),
            &TagCondition {
                name: "pipeline_build_no".into(),
                value: Some(b.clone()),
            },
        ));
    }
    for t in &f.session_tags {
        cond = cond.add(tag_exists(session_id.clone(), t));
    }
    if let Some(t) = f.start_from {
        cond = cond.add(m(met::Column::ItemStartAt).gte(t));
    }
    if let Some(t) = f.start_to {
        cond = cond.add(m(met::Column::ItemStartAt).lt(t));
    }
    cond
}

/// `(SELECT id FROM <entity> WHERE <h_col> = h)`: the id of the session or context with hash `h`
/// (hashes are unique), or NULL when there is none, which matches nothing.
fn id_of<E: EntityTrait>(entity: E, h_col: E::Column, h: &str) -> SimpleExpr {
    let mut q = Query::select();
    q.expr(Expr::col(Alias::new("id")))
        .from(entity)
        .and_where(Expr::col(h_col).eq(h.to_owned()));
    SimpleExpr::SubQuery(None, Box::new(q.into()))
}

fn metric_sort(order: MetricOrder) -> Option<SimpleExpr> {
    order.field.column().map(|c| Expr::col((met::Entity, c)))
}

pub async fn list_metrics(
    db: &impl ConnectionTrait,
    filter: &MetricFilter,
    order: MetricOrder,
    slice: &Slice,
) -> AppResult<Vec<Metric>> {
    let mut q = metric_select();
    q.cond_where(metric_condition(filter));
    apply_slice(
        &mut q,
        metric_sort(order),
        Expr::col((met::Entity, met::Column::Id)),
        order.direction,
        slice,
    );
    fetch_decoded(db, &q, decode_metric).await
}

pub async fn count_metrics(db: &impl ConnectionTrait, filter: &MetricFilter) -> AppResult<u64> {
    let mut q = Query::select();
    q.expr_as(count_star(), Alias::new("n")).from(met::Entity);
    q.cond_where(metric_condition(filter));
    fetch_count(db, &q).await
}

/// The level of metrics below sessions or contexts, in `order`.
fn metric_level(parent: MetricParent, order: MetricOrder) -> ChildLevel {
    let (parent_col, parent_table) = match parent {
        MetricParent::Session => ("session_id", "monitor_sessions"),
        MetricParent::Context => ("context_id", "monitor_contexts"),
    };
    ChildLevel {
        table: "monitor_metrics",
        parent_col,
        parent_table,
        sort_col: order
            .field
            .column()
            .map(|c| sea_orm::IdenStatic::as_str(&c)),
        direction: order.direction,
        same_as_parent: None,
    }
}

/// The metrics of many parents in one statement (`service::per_parent`): for each parent, its
/// first `limit` metrics matching `filter` (after `after`, when given) in `order`.
pub async fn metrics_for_parents(
    db: &impl ConnectionTrait,
    parent: MetricParent,
    parent_ids: &[i64],
    filter: &MetricFilter,
    order: MetricOrder,
    after: Option<&KeyCursor>,
    limit: u64,
) -> AppResult<Vec<Metric>> {
    let level = metric_level(parent, order);
    let cond = metric_condition(filter);
    per_parent::page(db, &level, parent_ids, cond, after, limit, metric_columns()).await
}

/// How many metrics matching `filter` each parent has, in one statement.
pub async fn count_metrics_for_parents(
    db: &impl ConnectionTrait,
    parent: MetricParent,
    parent_ids: &[i64],
    filter: &MetricFilter,
) -> AppResult<HashMap<i64, u64>> {
    let level = metric_level(parent, MetricOrder::default());
    per_parent::counts(db, &level, parent_ids, metric_condition(filter)).await
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricParent {
    Session,
    Context,
}

/// Metrics using the most (`Direction::Desc`) or least of a resource, for the legacy
/// `/resources/...` routes.
pub async fn metrics_by_resource(
    db: &impl ConnectionTrait,
    filter: &MetricFilter,
    field: MetricOrderField,
    direction: Direction,
    limit: u64,
) -> AppResult<Vec<Metric>> {
    list_metrics(
        db,
        filter,
        MetricOrder { field, direction },
        &Slice::Offset { offset: 0, limit },
    )
    .await
}
