//! Execution contexts: creation (idempotent on the hash) and reads.

use std::collections::HashMap;

use entity::{monitor_context as ctx, monitor_metric as met};
use sea_orm::sea_query::{Alias, Asterisk, Condition, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
};

use crate::error::{AppError, AppResult};
use crate::service::{
    Direction, Slice, apply_slice, count_star, fetch_all, fetch_count, in_list, starts_with,
};

use super::model::{Context, ContextFilter, NewContext, WRITES, check_hash};

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
        let _turn = crate::service::write_turn(db).await;
        ctx::Entity::insert(am)
            .on_conflict(OnConflict::column(ctx::Column::H).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?
    };
    if inserted > 0 {
        WRITES.bump();
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
