//! Versions: creation as Evergreen's repotracker did (one build per variant, one task per
//! variant task), reads, filters and activation.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use entity::{
    evg_build as bld, evg_project as prj, evg_task as tsk, evg_variant as var, evg_version as ver,
};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionSession, TransactionTrait,
};

use super::model::{
    GITTER_REQUEST, NewVersion, TaskDef, Version, build_id, now, status, task_id, truncate_ms,
    version_id,
};
use super::projects::{check_name, project_tasks, variant_tasks};
use crate::error::{AppError, AppResult};
use crate::service::{
    Direction, KeyCursor, Slice, SortValue, apply_slice, count_star, fetch_all, fetch_count,
    in_list,
};

/// Creates the version of a revision with one build per variant and one task per variant task,
/// as Evergreen's repotracker did, in one transaction.
pub async fn create_version<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    new: NewVersion,
) -> AppResult<Version> {
    check_name("revision", &new.revision)?;
    let _turn = crate::service::write_turn(db).await;
    let txn = db.begin().await?;
    // Bump the per-project order as the first statement: it locks the project row (PostgreSQL) or
    // the database (SQLite) until commit, so concurrent versions of one project get distinct,
    // consecutive orders and build numbers.
    let bumped = prj::Entity::update_many()
        .col_expr(
            prj::Column::LastOrder,
            Expr::col(prj::Column::LastOrder).add(1),
        )
        .filter(prj::Column::Identifier.eq(new.project.clone()))
        .exec(&txn)
        .await?;
    if bumped.rows_affected == 0 {
        return Err(AppError::not_found(format!("no project '{}'", new.project)));
    }
    let project = prj::Entity::find()
        .filter(prj::Column::Identifier.eq(new.project.clone()))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no project '{}'", new.project)))?;
    let vid = version_id(&project.identifier, &new.revision);
    if ver::Entity::find()
        .filter(ver::Column::VersionId.eq(vid.clone()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "version '{vid}' already exists"
        )));
    }
    let created = truncate_ms(new.create_time.unwrap_or_else(now));
    let activated = new.activated.unwrap_or(project.batch_time == 0);
    let order = project.last_order;

    let version = ver::ActiveModel {
        id: NotSet,
        version_id: Set(vid),
        project_id: Set(project.id),
        revision: Set(new.revision.clone()),
        author: Set(new.author),
        author_email: Set(new.author_email),
        message: Set(new.message),
        status: Set(status::CREATED.into()),
        activated: Set(activated),
        create_time: Set(created),
        start_time: Set(None),
        finish_time: Set(None),
        order_num: Set(order),
        requester: Set(new.requester.unwrap_or_else(|| GITTER_REQUEST.into())),
    }
    .insert(&txn)
    .await?;

    let defs: HashMap<String, TaskDef> = project_tasks(&project)
        .into_iter()
        .map(|t| (t.name.clone(), t))
        .collect();
    let variants = var::Entity::find()
        .filter(var::Column::ProjectId.eq(project.id))
        .order_by_asc(var::Column::Position)
        .all(&txn)
        .await?;
    let mut tasks = Vec::new();
    for (pos, v) in variants.into_iter().enumerate() {
        let number = v.last_build_number + 1;
        let mut vam = var::ActiveModel::from(v.clone());
        vam.last_build_number = Set(number);
        vam.update(&txn).await?;
        let bid = build_id(&project.identifier, &v.name, &new.revision, created);
        let build = bld::ActiveModel {
            id: NotSet,
            build_id: Set(bid.clone()),
            version_id: Set(version.id),
            project_id: Set(project.id),
            position: Set(pos as i32),
            variant: Set(v.name.clone()),
            display_name: Set(v.display_name.clone()),
            build_number: Set(number.to_string()),
            status: Set(status::CREATED.into()),
            activated: Set(activated),
            activated_time: Set(activated.then_some(created)),
            create_time: Set(created),
            start_time: Set(None),
            finish_time: Set(None),
            push_time: Set(Some(created)),
            time_taken_ns: Set(0),
        }
        .insert(&txn)
        .await?;
        let names = variant_tasks(&v);
        let ids: HashMap<&str, String> = names
            .iter()
            .map(|n| (n.as_str(), task_id(&bid, n, &v.name)))
            .collect();
        for (tpos, name) in names.iter().enumerate() {
            let depends: Vec<&String> = defs
                .get(name)
                .map(|d| {
                    d.depends_on
                        .iter()
                        .filter_map(|dep| ids.get(dep.as_str()))
                        .collect()
                })
                .unwrap_or_default();
            tasks.push(tsk::ActiveModel {
                id: NotSet,
                task_id: Set(ids.get(name.as_str()).cloned().unwrap_or_default()),
                build_id: Set(build.id),
                version_id: Set(version.id),
                project_id: Set(project.id),
                position: Set(tpos as i32),
                display_name: Set(name.clone()),
                variant: Set(v.name.clone()),
                distro: Set(String::new()),
                host_id: Set(String::new()),
                priority: Set(0),
                activated: Set(activated),
                status: Set(status::UNDISPATCHED.into()),
                details_type: Set(String::new()),
                details_desc: Set(String::new()),
                timed_out: Set(false),
                aborted: Set(false),
                create_time: Set(created),
                scheduled_time: Set(None),
                dispatch_time: Set(None),
                start_time: Set(None),
                finish_time: Set(None),
                push_time: Set(Some(created)),
                last_heartbeat: Set(None),
                restarts: Set(0),
                execution: Set(0),
                archived: Set(false),
                time_taken_ns: Set(0),
                expected_duration_ns: Set(0),
                min_queue_pos: Set(0),
                depends_on: Set(serde_json::to_string(&depends).unwrap_or_else(|_| "[]".into())),
            });
        }
    }
    let mut tasks = tasks.into_iter().peekable();
    while tasks.peek().is_some() {
        let chunk: Vec<_> = tasks.by_ref().take(500).collect();
        tsk::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(version)
}

pub async fn version_by_id(
    db: &impl ConnectionTrait,
    version_id: &str,
) -> AppResult<Option<Version>> {
    Ok(ver::Entity::find()
        .filter(ver::Column::VersionId.eq(version_id))
        .one(db)
        .await?)
}

/// The commit version of `revision` in a project.
pub async fn version_by_revision(
    db: &impl ConnectionTrait,
    project_id: i64,
    revision: &str,
) -> AppResult<Option<Version>> {
    Ok(ver::Entity::find()
        .filter(ver::Column::ProjectId.eq(project_id))
        .filter(ver::Column::Revision.eq(revision))
        .filter(ver::Column::Requester.eq(GITTER_REQUEST))
        .one(db)
        .await?)
}

/// The newest commit versions of a project, by order descending.
pub async fn recent_versions(
    db: &impl ConnectionTrait,
    project_id: i64,
    limit: u64,
) -> AppResult<Vec<Version>> {
    Ok(ver::Entity::find()
        .filter(ver::Column::ProjectId.eq(project_id))
        .filter(ver::Column::Requester.eq(GITTER_REQUEST))
        .order_by_desc(ver::Column::OrderNum)
        .limit(limit)
        .all(db)
        .await?)
}

pub async fn versions_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, Version>> {
    let rows = ver::Entity::find()
        .filter(in_list(db, (ver::Entity, ver::Column::Id), ids))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|v| (v.id, v)).collect())
}

/// The row id of the project with this identifier, as a subquery for the filters.
pub(super) fn project_id_of(identifier: &str) -> SelectStatement {
    Query::select()
        .column(prj::Column::Id)
        .from(prj::Entity)
        .and_where(Expr::col(prj::Column::Identifier).eq(identifier))
        .to_owned()
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct VersionFilter {
    /// Project identifier.
    pub project: Option<String>,
    pub revision: Option<String>,
    pub status: Option<String>,
    pub requester: Option<String>,
    pub created_from: Option<NaiveDateTime>,
    pub created_to: Option<NaiveDateTime>,
}

fn version_condition(f: &VersionFilter) -> sea_orm::sea_query::Condition {
    use sea_orm::sea_query::Condition;
    let col = |c: ver::Column| Expr::col((ver::Entity, c));
    let mut cond = Condition::all();
    if let Some(p) = &f.project {
        cond = cond.add(col(ver::Column::ProjectId).in_subquery(project_id_of(p)));
    }
    if let Some(r) = &f.revision {
        cond = cond.add(col(ver::Column::Revision).eq(r.clone()));
    }
    if let Some(s) = &f.status {
        cond = cond.add(col(ver::Column::Status).eq(s.clone()));
    }
    if let Some(r) = &f.requester {
        cond = cond.add(col(ver::Column::Requester).eq(r.clone()));
    }
    if let Some(t) = f.created_from {
        cond = cond.add(col(ver::Column::CreateTime).gte(t));
    }
    if let Some(t) = f.created_to {
        cond = cond.add(col(ver::Column::CreateTime).lt(t));
    }
    cond
}

/// Versions by `order` (then id) in `direction`.
pub async fn list_versions(
    db: &impl ConnectionTrait,
    f: &VersionFilter,
    direction: Direction,
    slice: &Slice,
) -> AppResult<Vec<Version>> {
    let mut q = Query::select();
    q.column(Asterisk)
        .from(ver::Entity)
        .cond_where(version_condition(f));
    apply_slice(
        &mut q,
        Some(Expr::col((ver::Entity, ver::Column::OrderNum))),
        Expr::col((ver::Entity, ver::Column::Id)),
        direction,
        slice,
    );
    fetch_all(db, &q).await
}

pub fn version_cursor(v: &Version) -> KeyCursor {
    KeyCursor {
        value: SortValue::Float(v.order_num as f64),
        id: v.id,
    }
}

pub async fn count_versions(db: &impl ConnectionTrait, f: &VersionFilter) -> AppResult<u64> {
    let mut q = Query::select();
    q.expr_as(count_star(), Alias::new("n"))
        .from(ver::Entity)
        .cond_where(version_condition(f));
    fetch_count(db, &q).await
}

/// Sets a version's activation and cascades it: every build of the version, and every task of
/// those builds that has not been dispatched yet (Evergreen's SetVersionActivation).
pub async fn set_version_activated<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    version_id: &str,
    active: bool,
) -> AppResult<Version> {
    let _turn = crate::service::write_turn(db).await;
    let txn = db.begin().await?;
    // Rows are written in the order the task lifecycle locks them (task, build, version) so that
    // an activation and a finishing task never wait on each other in a cycle; the first statement
    // is a write so that SQLite takes its write lock up front.
    let version_pk = {
        let mut sub = Query::select();
        sub.column(ver::Column::Id)
            .from(ver::Entity)
            .and_where(Expr::col(ver::Column::VersionId).eq(version_id));
        sub
    };
    tsk::Entity::update_many()
        .col_expr(tsk::Column::Activated, Expr::val(active))
        .filter(Expr::col(tsk::Column::VersionId).in_subquery(version_pk.clone()))
        .filter(tsk::Column::Status.eq(status::UNDISPATCHED))
        .exec(&txn)
        .await?;
    let mut b = bld::Entity::update_many()
        .col_expr(bld::Column::Activated, Expr::val(active))
        .filter(Expr::col(bld::Column::VersionId).in_subquery(version_pk));
    if active {
        b = b.col_expr(bld::Column::ActivatedTime, Expr::val(now()));
    }
    b.exec(&txn).await?;
    let updated = ver::Entity::update_many()
        .col_expr(ver::Column::Activated, Expr::val(active))
        .filter(ver::Column::VersionId.eq(version_id))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 0 {
        return Err(AppError::not_found(format!(
            "Error finding version '{version_id}'"
        )));
    }
    let v = ver::Entity::find()
        .filter(ver::Column::VersionId.eq(version_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("Error finding version '{version_id}'")))?;
    txn.commit().await?;
    Ok(v)
}
