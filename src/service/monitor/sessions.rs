//! Sessions and their description tags: creation, the session filter and reads.

use std::collections::HashMap;

use entity::{monitor_metric as met, monitor_session as ses, monitor_session_tag as tag};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Func, OnConflict, Query, SimpleExpr};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait,
};

use crate::error::{AppError, AppResult};
use crate::service::rows::{fetch_positional, select_all};
use crate::service::{Slice, apply_slice, count_star, fetch_count, in_list, starts_with};

use super::description::tags_to_json;
use super::iso8601::normalize_iso8601;
use super::model::{
    NewSession, Session, SessionFilter, SessionOrder, SessionOrderField, TagCondition, WRITES,
    check_hash,
};

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
    let _turn = crate::service::write_turn(db).await;
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
    WRITES.bump();
    Ok(Session::from_model(stored))
}

pub(super) fn tag_exists(session_id: SimpleExpr, cond: &TagCondition) -> SimpleExpr {
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

pub(super) fn session_condition(f: &SessionFilter) -> Condition {
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
