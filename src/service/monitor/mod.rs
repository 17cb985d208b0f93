//! pytest-monitor's domain: execution contexts, sessions (with their description tags) and
//! metrics. Every read and write of these tables goes through here, for the legacy REST routes and
//! for GraphQL alike.

mod description;
mod iso8601;

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::NaiveDateTime;
use entity::{
    monitor_context as ctx, monitor_metric as met, monitor_session as ses,
    monitor_session_tag as tag,
};
use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait, Func, OnConflict, Order, Query, SelectStatement,
    SimpleExpr, WindowStatement,
};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, TransactionSession,
    TransactionTrait,
};

use super::rows::{
    Cols, ColumnSet, Positional, fetch_decoded, fetch_positional, select_all, select_from,
};
use super::{
    Direction, KeyCursor, Slice, SortValue, after_condition, apply_slice, count_star, fetch_all,
    fetch_count, in_list, like_pattern, starts_with,
};
use crate::error::{AppError, AppResult};
pub use description::parse_description;
use description::{tags_from_json, tags_to_json};
pub use iso8601::{iso8601_instant, normalize_iso8601};

/// Longest hash accepted for contexts and sessions (the legacy column is 64 characters).
pub const MAX_HASH_LEN: usize = 64;
/// Most metrics written by one `add_metrics` call.
pub const MAX_METRICS_PER_BATCH: usize = 100_000;
/// Rows per multi-row INSERT: 16 columns each stays far below both backends' bind-parameter limits.
const INSERT_CHUNK: usize = 1_000;

// ----------------------------------------------------------------------------------------------
// Values in and out
// ----------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
pub struct NewContext {
    pub h: String,
    pub cpu_count: i64,
    pub cpu_frequency: i64,
    pub cpu_type: String,
    pub cpu_vendor: String,
    pub ram_total: i64,
    pub machine_node: String,
    pub machine_type: String,
    pub machine_arch: String,
    pub system_info: String,
    pub python_info: String,
}

pub type Context = ctx::Model;

#[derive(Clone, Debug, PartialEq)]
pub struct NewSession {
    pub h: String,
    /// ISO 8601 as the client sent it; normalised on write.
    pub run_date: String,
    pub scm_ref: Option<String>,
    /// The description's keys and values, in the client's order.
    pub tags: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub id: i64,
    pub h: String,
    pub run_date: String,
    pub run_at: NaiveDateTime,
    pub scm_ref: Option<String>,
    /// The description as stored (a JSON object of strings, see `tags_to_json`); read it with
    /// `tags`.
    description: String,
}

impl Session {
    fn from_model(m: ses::Model) -> Self {
        Session {
            id: m.id,
            h: m.h,
            run_date: m.run_date,
            run_at: m.run_at,
            scm_ref: m.scm_ref,
            description: m.description,
        }
    }

    /// The description's keys and values, in the client's order. Parsed when asked for, and
    /// borrowed from the stored text wherever it needs no unescaping: a listed page shows each
    /// session's tags once, and owning them had cost two allocations a tag.
    pub fn tags(&self) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
        tags_from_json(&self.description)
    }
}

impl Positional for Session {
    type Entity = ses::Entity;

    fn decode(row: &sea_orm::QueryResult, cols: ColumnSet) -> Result<Self, sea_orm::DbErr> {
        ses::Model::decode(row, cols).map(Session::from_model)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewMetric {
    pub session_h: String,
    pub context_h: String,
    pub item_start_time: String,
    pub item_path: String,
    pub item: String,
    pub item_variant: String,
    pub item_fs_loc: String,
    pub kind: String,
    pub component: Option<String>,
    pub total_time: f64,
    pub user_time: f64,
    pub kernel_time: f64,
    pub cpu_usage: f64,
    pub mem_usage: f64,
}

/// A metric with the hashes of its session and context, as both edges present it.
/// Read by position (`Positional`), not derived from names.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    pub id: i64,
    pub session_id: i64,
    pub context_id: i64,
    pub session_h: String,
    pub context_h: String,
    pub item_start_time: String,
    pub item_path: String,
    pub item: String,
    pub item_variant: String,
    pub item_fs_loc: String,
    pub kind: String,
    pub component: Option<String>,
    pub total_time: f64,
    pub user_time: f64,
    pub kernel_time: f64,
    pub cpu_usage: f64,
    pub mem_usage: f64,
}

/// A page of rows and, for page-number paging, the total that matched.
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}

// ----------------------------------------------------------------------------------------------
// Filters and orders
// ----------------------------------------------------------------------------------------------

/// One condition on a session's description: the key is present and equals `value`, or, when
/// `value` is `None`, is present and not empty (the legacy `with_flags` semantics).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TagCondition {
    pub name: String,
    pub value: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ContextFilter {
    pub h_prefix: Option<String>,
    pub h: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SessionFilter {
    pub h_prefix: Option<String>,
    pub h: Option<String>,
    pub scm_ref: Option<String>,
    pub scm_ref_prefix: Option<String>,
    pub tags: Vec<TagCondition>,
    /// All tag conditions must hold (otherwise any one is enough, the legacy default).
    pub tags_match_all: bool,
    pub run_from: Option<NaiveDateTime>,
    pub run_to: Option<NaiveDateTime>,
    /// Sessions that produced metrics for this component (exact).
    pub component: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MetricFilter {
    pub session_h: Option<String>,
    pub context_h: Option<String>,
    pub item: Option<String>,
    /// SQL LIKE pattern on the item, wildcards honoured.
    pub item_like: Option<String>,
    pub variant: Option<String>,
    pub variant_like: Option<String>,
    pub kind: Option<String>,
    pub component: Option<String>,
    pub component_like: Option<String>,
    pub scm_ref_prefix: Option<String>,
    /// Description tag `pipeline_branch` of the session.
    pub pipeline: Option<String>,
    /// Description tag `pipeline_build_no` of the session.
    pub build: Option<String>,
    pub session_tags: Vec<TagCondition>,
    pub start_from: Option<NaiveDateTime>,
    pub start_to: Option<NaiveDateTime>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SessionOrderField {
    /// Insertion order, what the legacy server returns.
    #[default]
    Id,
    RunDate,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SessionOrder {
    pub field: SessionOrderField,
    pub direction: Direction,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MetricOrderField {
    #[default]
    Id,
    TotalTime,
    UserTime,
    KernelTime,
    CpuUsage,
    MemUsage,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MetricOrder {
    pub field: MetricOrderField,
    pub direction: Direction,
}

impl MetricOrderField {
    fn column(self) -> Option<met::Column> {
        match self {
            MetricOrderField::Id => None,
            MetricOrderField::TotalTime => Some(met::Column::TotalTime),
            MetricOrderField::UserTime => Some(met::Column::UserTime),
            MetricOrderField::KernelTime => Some(met::Column::KernelTime),
            MetricOrderField::CpuUsage => Some(met::Column::CpuUsage),
            MetricOrderField::MemUsage => Some(met::Column::MemUsage),
        }
    }

    /// The cursor value of a row under this order.
    pub fn sort_value(self, m: &Metric) -> SortValue {
        match self {
            MetricOrderField::Id => SortValue::Id,
            MetricOrderField::TotalTime => SortValue::Float(m.total_time),
            MetricOrderField::UserTime => SortValue::Float(m.user_time),
            MetricOrderField::KernelTime => SortValue::Float(m.kernel_time),
            MetricOrderField::CpuUsage => SortValue::Float(m.cpu_usage),
            MetricOrderField::MemUsage => SortValue::Float(m.mem_usage),
        }
    }
}

impl SessionOrderField {
    pub fn sort_value(self, s: &Session) -> SortValue {
        match self {
            SessionOrderField::Id => SortValue::Id,
            SessionOrderField::RunDate => SortValue::Time(s.run_at),
        }
    }
}

/// A context's or session's hash as the legacy column holds it: present and at most 64 characters.
fn check_hash(field: &str, h: &str) -> AppResult<()> {
    if h.is_empty() {
        return Err(AppError::invalid_field(
            field,
            format!("'{field}' must not be empty"),
        ));
    }
    if h.chars().count() > MAX_HASH_LEN {
        return Err(AppError::invalid_field(
            field,
            format!("'{field}' is longer than {MAX_HASH_LEN} characters"),
        ));
    }
    Ok(())
}

// ----------------------------------------------------------------------------------------------
// Contexts
// ----------------------------------------------------------------------------------------------

/// Stores a context. Posting the same context again is accepted and returns the stored one
/// (the plugin may race itself across parallel runs); a different context under a stored hash is a
/// conflict.
pub async fn create_context(db: &impl ConnectionTrait, new: NewContext) -> AppResult<Context> {
    check_hash("h", &new.h)?;
    let am = ctx::ActiveModel {
        id: NotSet,
        h: Set(new.h.clone()),
        cpu_count: Set(new.cpu_count),
        cpu_frequency: Set(new.cpu_frequency),
        cpu_type: Set(new.cpu_type.clone()),
        cpu_vendor: Set(new.cpu_vendor.clone()),
        ram_total: Set(new.ram_total),
        machine_node: Set(new.machine_node.clone()),
        machine_type: Set(new.machine_type.clone()),
        machine_arch: Set(new.machine_arch.clone()),
        system_info: Set(new.system_info.clone()),
        python_info: Set(new.python_info.clone()),
    };
    let inserted = {
        let _turn = super::write_turn(db).await;
        ctx::Entity::insert(am)
            .on_conflict(OnConflict::column(ctx::Column::H).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?
    };
    if inserted > 0 {
        super::counts::note_monitor_write();
    }
    let stored = ctx::Entity::find()
        .filter(ctx::Column::H.eq(new.h.clone()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::Internal("context vanished after insert".into()))?;
    if inserted == 0 && !same_context(&stored, &new) {
        return Err(AppError::Conflict(format!(
            "context '{}' already exists with other values",
            new.h
        )));
    }
    Ok(stored)
}

fn same_context(m: &Context, n: &NewContext) -> bool {
    m.cpu_count == n.cpu_count
        && m.cpu_frequency == n.cpu_frequency
        && m.cpu_type == n.cpu_type
        && m.cpu_vendor == n.cpu_vendor
        && m.ram_total == n.ram_total
        && m.machine_node == n.machine_node
        && m.machine_type == n.machine_type
        && m.machine_arch == n.machine_arch
        && m.system_info == n.system_info
        && m.python_info == n.python_info
}

fn context_condition(f: &ContextFilter) -> Condition {
    let mut c = Condition::all();
    if let Some(p) = &f.h_prefix {
        c = c.add(starts_with(Expr::col((ctx::Entity, ctx::Column::H)), p));
    }
    if let Some(h) = &f.h {
        c = c.add(Expr::col((ctx::Entity, ctx::Column::H)).eq(h.clone()));
    }
    c
}

pub async fn list_contexts(
    db: &impl ConnectionTrait,
    filter: &ContextFilter,
    slice: &Slice,
) -> AppResult<Vec<Context>> {
    let mut q = Query::select();
    q.column(Asterisk)
        .from(ctx::Entity)
        .cond_where(context_condition(filter));
    apply_slice(
        &mut q,
        None,
        Expr::col((ctx::Entity, ctx::Column::Id)),
        Direction::Asc,
        slice,
    );
    fetch_all(db, &q).await
}

pub async fn count_contexts(db: &impl ConnectionTrait, filter: &ContextFilter) -> AppResult<u64> {
    let mut q = Query::select();
    q.expr_as(count_star(), Alias::new("n"))
        .from(ctx::Entity)
        .cond_where(context_condition(filter));
    fetch_count(db, &q).await
}

pub async fn contexts_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, Context>> {
    let rows = ctx::Entity::find()
        .filter(in_list(db, (ctx::Entity, ctx::Column::Id), ids))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|c| (c.id, c)).collect())
}

/// The distinct contexts each session's metrics ran on, one statement for all sessions.
pub async fn contexts_for_sessions(
    db: &impl ConnectionTrait,
    session_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<Context>>> {
    #[derive(FromQueryResult)]
    struct Row {
        session_id: i64,
        id: i64,
        h: String,
        cpu_count: i64,
        cpu_frequency: i64,
        cpu_type: String,
        cpu_vendor: String,
        ram_total: i64,
        machine_node: String,
        machine_type: String,
        machine_arch: String,
        system_info: String,
        python_info: String,
    }
    let mut out: HashMap<i64, Vec<Context>> = HashMap::new();
    if session_ids.is_empty() {
        return Ok(out);
    }
    let mut q = Query::select();
    q.distinct()
        .expr_as(
            Expr::col((met::Entity, met::Column::SessionId)),
            Alias::new("session_id"),
        )
        .column((ctx::Entity, Asterisk))
        .from(met::Entity)
        .inner_join(
            ctx::Entity,
            Expr::col((ctx::Entity, ctx::Column::Id)).equals((met::Entity, met::Column::ContextId)),
        )
        .and_where(in_list(
            db,
            (met::Entity, met::Column::SessionId),
            session_ids,
        ));
    let rows: Vec<Row> = fetch_all(db, &q).await?;
    for r in rows {
        out.entry(r.session_id).or_default().push(Context {
            id: r.id,
            h: r.h,
            cpu_count: r.cpu_count,
            cpu_frequency: r.cpu_frequency,
            cpu_type: r.cpu_type,
            cpu_vendor: r.cpu_vendor,
            ram_total: r.ram_total,
            machine_node: r.machine_node,
            machine_type: r.machine_type,
            machine_arch: r.machine_arch,
            system_info: r.system_info,
            python_info: r.python_info,
        });
    }
    for list in out.values_mut() {
        list.sort_by_key(|c| c.id);
    }
    Ok(out)
}

// ----------------------------------------------------------------------------------------------
// Sessions
// ----------------------------------------------------------------------------------------------

/// Stores a session and its tags in one transaction. Re-posting an identical session returns the
/// stored one; the same hash with other content is a conflict.
pub async fn create_session<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    new: NewSession,
) -> AppResult<Session> {
    check_hash("session_h", &new.h)?;
    let (run_date, run_at) = normalize_iso8601(&new.run_date).ok_or_else(|| {
        AppError::invalid_field(
            "run_date",
            format!("'{}' is not an ISO 8601 date-time", new.run_date),
        )
    })?;
    let description = tags_to_json(&new.tags);
    let _turn = super::write_turn(db).await;
    let txn = db.begin().await?;
    let am = ses::ActiveModel {
        id: NotSet,
        h: Set(new.h.clone()),
        run_date: Set(run_date.clone()),
        run_at: Set(run_at),
        scm_ref: Set(new.scm_ref.clone()),
        description: Set(description.clone()),
    };
    let inserted = ses::Entity::insert(am)
        .on_conflict(OnConflict::column(ses::Column::H).do_nothing().to_owned())
        .exec_without_returning(&txn)
        .await?;
    let stored = ses::Entity::find()
        .filter(ses::Column::H.eq(new.h.clone()))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::Internal("session vanished after insert".into()))?;
    if inserted == 0 {
        txn.rollback().await?;
        if stored.run_date == run_date
            && stored.scm_ref == new.scm_ref
            && stored.description == description
        {
            return Ok(Session::from_model(stored));
        }
        return Err(AppError::Conflict(format!(
            "session '{}' already exists with other values",
            new.h
        )));
    }
    if !new.tags.is_empty() {
        let rows = new
            .tags
            .iter()
            .enumerate()
            .map(|(i, (k, v))| tag::ActiveModel {
                session_id: Set(stored.id),
                position: Set(i as i32),
                name: Set(k.clone()),
                value: Set(v.clone()),
            });
        tag::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    super::counts::note_monitor_write();
    Ok(Session::from_model(stored))
}

fn tag_exists(session_id: SimpleExpr, cond: &TagCondition) -> SimpleExpr {
    let mut sub = Query::select();
    sub.expr(Expr::val(1))
        .from(tag::Entity)
        .and_where(Expr::col((tag::Entity, tag::Column::SessionId)).eq(session_id))
        .and_where(Expr::col((tag::Entity, tag::Column::Name)).eq(cond.name.clone()));
    match &cond.value {
        Some(v) => sub.and_where(Expr::col((tag::Entity, tag::Column::Value)).eq(v.clone())),
        None => sub.and_where(Expr::col((tag::Entity, tag::Column::Value)).ne("")),
    };
    Expr::exists(sub)
}

fn session_condition(f: &SessionFilter) -> Condition {
    let col = |c: ses::Column| Expr::col((ses::Entity, c));
    let mut cond = Condition::all();
    if let Some(p) = &f.h_prefix {
        cond = cond.add(starts_with(col(ses::Column::H), p));
    }
    if let Some(h) = &f.h {
        cond = cond.add(col(ses::Column::H).eq(h.clone()));
    }
    if let Some(s) = &f.scm_ref {
        cond = cond.add(col(ses::Column::ScmRef).eq(s.clone()));
    }
    if let Some(p) = &f.scm_ref_prefix {
        cond = cond.add(starts_with(col(ses::Column::ScmRef), p));
    }
    if let Some(t) = f.run_from {
        cond = cond.add(col(ses::Column::RunAt).gte(t));
    }
    if let Some(t) = f.run_to {
        cond = cond.add(col(ses::Column::RunAt).lt(t));
    }
    if !f.tags.is_empty() {
        let mut tags = if f.tags_match_all {
            Condition::all()
        } else {
            Condition::any()
        };
        for t in &f.tags {
            tags = tags.add(tag_exists(col(ses::Column::Id), t));
        }
        cond = cond.add(tags);
    }
    if let Some(c) = &f.component {
        let mut sub = Query::select();
        sub.expr(Expr::val(1))
            .from(met::Entity)
            .and_where(
                Expr::col((met::Entity, met::Column::SessionId))
                    .equals((ses::Entity, ses::Column::Id)),
            )
            .and_where(Expr::col((met::Entity, met::Column::Component)).eq(c.clone()));
        cond = cond.add(Expr::exists(sub));
    }
    cond
}

pub async fn list_sessions(
    db: &impl ConnectionTrait,
    filter: &SessionFilter,
    order: SessionOrder,
    slice: &Slice,
) -> AppResult<Vec<Session>> {
    let mut q = select_all::<ses::Model>();
    q.cond_where(session_condition(filter));
    let sort: Option<SimpleExpr> = match order.field {
        SessionOrderField::Id => None,
        SessionOrderField::RunDate => Some(Expr::col((ses::Entity, ses::Column::RunAt))),
    };
    apply_slice(
        &mut q,
        sort,
        Expr::col((ses::Entity, ses::Column::Id)),
        order.direction,
        slice,
    );
    let rows: Vec<ses::Model> = fetch_positional(db, &q).await?;
    Ok(rows.into_iter().map(Session::from_model).collect())
}

pub async fn count_sessions(db: &impl ConnectionTrait, filter: &SessionFilter) -> AppResult<u64> {
    let mut q = Query::select();
    q.expr_as(count_star(), Alias::new("n"))
        .from(ses::Entity)
        .cond_where(session_condition(filter));
    fetch_count(db, &q).await
}

/// Sessions with a non-null `scm_ref`: the legacy `/sessions/count` counts `COUNT(scm_ref)`.
pub async fn count_sessions_with_scm(db: &impl ConnectionTrait) -> AppResult<u64> {
    let mut q = Query::select();
    q.expr_as(Func::count(Expr::col(ses::Column::ScmRef)), Alias::new("n"))
        .from(ses::Entity);
    fetch_count(db, &q).await
}

pub async fn sessions_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, Session>> {
    let rows = ses::Entity::find()
        .filter(in_list(db, (ses::Entity, ses::Column::Id), ids))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|s| (s.id, Session::from_model(s)))
        .collect())
}

// ----------------------------------------------------------------------------------------------
// Metrics
// ----------------------------------------------------------------------------------------------

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
        let _turn = super::write_turn(db).await;
        db.execute(&insert).await?.rows_affected()
    };
    if inserted == 1 {
        super::counts::note_monitor_write();
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
    let _turn = super::write_turn(db).await;
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
    super::counts::note_monitor_write();
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
            at: r.item_start_at.map(iso8601::micros_text),
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

/// The children of many parents in one statement: for each parent, its first `limit` metrics
/// (after `after`, when given) in `order`, with the per-parent limit applied by the database
/// through `ROW_NUMBER() OVER (PARTITION BY parent ...)`. Returns at most `limit` rows per parent.
pub async fn metrics_for_parents(
    db: &impl ConnectionTrait,
    parent: MetricParent,
    parent_ids: &[i64],
    filter: &MetricFilter,
    order: MetricOrder,
    after: Option<&KeyCursor>,
    limit: u64,
) -> AppResult<HashMap<i64, Vec<Metric>>> {
    let mut out: HashMap<i64, Vec<Metric>> = HashMap::new();
    if parent_ids.is_empty() || limit == 0 {
        return Ok(out);
    }
    let parent_col = match parent {
        MetricParent::Session => met::Column::SessionId,
        MetricParent::Context => met::Column::ContextId,
    };
    let id = Expr::col((met::Entity, met::Column::Id));
    let sort = metric_sort(order);
    let mut window = WindowStatement::partition_by((met::Entity, parent_col));
    if let Some(c) = order.field.column() {
        window.order_by((met::Entity, c), order.direction.order());
    }
    window.order_by((met::Entity, met::Column::Id), order.direction.order());

    let mut inner = metric_select();
    inner
        .expr_window_as(Func::cust("ROW_NUMBER"), window, Alias::new("rn"))
        .cond_where(metric_condition(filter))
        .and_where(in_list(db, (met::Entity, parent_col), parent_ids));
    if let Some(cursor) = after {
        inner.cond_where(after_condition(sort, id, cursor, order.direction));
    }
    let mut outer = Query::select();
    outer
        .column(Asterisk)
        .from_subquery(inner, Alias::new("w"))
        .and_where(Expr::col(Alias::new("rn")).lte(limit as i64))
        .order_by(Alias::new(parent_col_name(parent)), Order::Asc)
        .order_by(Alias::new("rn"), Order::Asc);
    let rows: Vec<Metric> = fetch_decoded(db, &outer, decode_metric).await?;
    for m in rows {
        let key = match parent {
            MetricParent::Session => m.session_id,
            MetricParent::Context => m.context_id,
        };
        out.entry(key).or_default().push(m);
    }
    Ok(out)
}

fn parent_col_name(parent: MetricParent) -> &'static str {
    match parent {
        MetricParent::Session => "session_id",
        MetricParent::Context => "context_id",
    }
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

// ----------------------------------------------------------------------------------------------
// Components, pipelines and builds (derived lists)
// ----------------------------------------------------------------------------------------------

/// Distinct component names (null excluded), in first-seen order, optionally by prefix.
pub async fn list_components(
    db: &impl ConnectionTrait,
    prefix: Option<&str>,
    offset: u64,
    limit: u64,
) -> AppResult<Page<String>> {
    let mut base = Query::select();
    base.expr_as(Expr::col(met::Column::Component), Alias::new("v"))
        .expr_as(
            Func::min(Expr::col(met::Column::Id)),
            Alias::new("first_id"),
        )
        .from(met::Entity)
        .and_where(Expr::col(met::Column::Component).is_not_null())
        .group_by_col(met::Column::Component);
    if let Some(p) = prefix {
        base.and_where(starts_with(Expr::col(met::Column::Component), p));
    }
    let page = distinct_page(db, base, offset, limit).await?;
    Ok(Page {
        items: page.items.into_iter().flatten().collect(),
        total: page.total,
    })
}

pub async fn count_components(db: &impl ConnectionTrait) -> AppResult<u64> {
    let mut q = Query::select();
    q.expr_as(
        Func::count_distinct(Expr::col(met::Column::Component)),
        Alias::new("n"),
    )
    .from(met::Entity);
    fetch_count(db, &q).await
}

/// Which values of a description tag a derived list shows. The legacy routes differ: most
/// filter `json_extract(description, '$.tag') != ''`, which SQL's three-valued logic makes drop
/// sessions without the tag as well as empty values; `/components/<c>/pipelines` has no such
/// filter and lists both, a missing tag as `null`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagValues {
    /// Present and not empty.
    NonEmpty,
    /// Every value, `None` for the sessions without the tag.
    All,
}

/// Distinct values of one description tag over the sessions matching `sessions`, in first-seen
/// (session insertion) order.
pub async fn list_tag_values(
    db: &impl ConnectionTrait,
    tag_name: &str,
    which: TagValues,
    sessions: &SessionFilter,
    offset: u64,
    limit: u64,
) -> AppResult<Page<Option<String>>> {
    let mut base = Query::select();
    base.expr_as(
        Expr::col((tag::Entity, tag::Column::Value)),
        Alias::new("v"),
    )
    .expr_as(
        Func::min(Expr::col((ses::Entity, ses::Column::Id))),
        Alias::new("first_id"),
    )
    .from(ses::Entity);
    let on_session = Expr::col((tag::Entity, tag::Column::SessionId))
        .equals((ses::Entity, ses::Column::Id))
        .and(Expr::col((tag::Entity, tag::Column::Name)).eq(tag_name));
    match which {
        TagValues::NonEmpty => {
            base.inner_join(tag::Entity, on_session)
                .and_where(Expr::col((tag::Entity, tag::Column::Value)).ne(""));
        }
        TagValues::All => {
            base.left_join(tag::Entity, on_session);
        }
    }
    base.cond_where(session_condition(sessions))
        .group_by_col((tag::Entity, tag::Column::Value));
    distinct_page(db, base, offset, limit).await
}

/// Hashes of the sessions matching `filter`, in insertion order.
pub async fn list_session_hashes(
    db: &impl ConnectionTrait,
    filter: &SessionFilter,
    offset: u64,
    limit: u64,
) -> AppResult<Page<String>> {
    let total = count_sessions(db, filter).await?;
    let mut q = Query::select();
    q.column((ses::Entity, ses::Column::H))
        .from(ses::Entity)
        .cond_where(session_condition(filter))
        .order_by((ses::Entity, ses::Column::Id), Order::Asc)
        .limit(limit)
        .offset(offset);
    #[derive(FromQueryResult)]
    struct Row {
        h: String,
    }
    let rows: Vec<Row> = fetch_all(db, &q).await?;
    Ok(Page {
        items: rows.into_iter().map(|r| r.h).collect(),
        total,
    })
}

/// Pages over a grouped `SELECT v, MIN(id) AS first_id ... GROUP BY v`, in first-seen order
/// (`v` is null for the group of rows without a value).
async fn distinct_page(
    db: &impl ConnectionTrait,
    base: SelectStatement,
    offset: u64,
    limit: u64,
) -> AppResult<Page<Option<String>>> {
    let mut count = Query::select();
    count
        .expr_as(count_star(), Alias::new("n"))
        .from_subquery(base.clone(), Alias::new("d"));
    let total = fetch_count(db, &count).await?;
    let mut q = Query::select();
    q.column(Alias::new("v"))
        .from_subquery(base, Alias::new("d"))
        .order_by(Alias::new("first_id"), Order::Asc)
        .limit(limit)
        .offset(offset);
    #[derive(FromQueryResult)]
    struct Row {
        v: Option<String>,
    }
    let rows: Vec<Row> = fetch_all(db, &q).await?;
    Ok(Page {
        items: rows.into_iter().map(|r| r.v).collect(),
        total,
    })
}
