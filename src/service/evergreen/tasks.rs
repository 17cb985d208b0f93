//! Builds and tasks: reads by id and by parent, task summaries, the task filter, test results
//! and artifacts of tasks.

use std::collections::HashMap;

use entity::{
    evg_artifact as art, evg_build as bld, evg_task as tsk, evg_test_result as res,
    evg_version as ver,
};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Order, Query, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::model::{Artifact, Build, Task, TestResult};
use super::versions::project_id_of;
use crate::error::AppResult;
use crate::service::rows::{
    ColumnSet, Positional, fetch_positional, fetch_some, select_all, select_from,
};
use crate::service::{Direction, Slice, apply_slice, count_star, fetch_all, fetch_count, in_list};

pub async fn build_by_id(db: &impl ConnectionTrait, build_id: &str) -> AppResult<Option<Build>> {
    Ok(bld::Entity::find()
        .filter(bld::Column::BuildId.eq(build_id))
        .one(db)
        .await?)
}

pub async fn builds_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, Build>> {
    let rows = bld::Entity::find()
        .filter(in_list(db, (bld::Entity, bld::Column::Id), ids))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|b| (b.id, b)).collect())
}

/// A task by its Evergreen id: the point lookup behind `evergreenTask(id:)` and every REST task
/// route, decoded by position (`service::rows`).
pub async fn task_by_id(db: &impl ConnectionTrait, task_id: &str) -> AppResult<Option<Task>> {
    let mut q = select_all::<Task>();
    q.and_where(Expr::col((tsk::Entity, tsk::Column::TaskId)).eq(task_id))
        .limit(1);
    Ok(fetch_positional(db, &q).await?.into_iter().next())
}

/// Every build of each version, in variant order (one statement). A version has one build per
/// variant, so the lists are bounded by the project's variant count.
pub async fn builds_for_versions(
    db: &impl ConnectionTrait,
    version_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<Build>>> {
    let mut q = select_all::<Build>();
    q.and_where(in_list(
        db,
        (bld::Entity, bld::Column::VersionId),
        version_ids,
    ))
    .order_by((bld::Entity, bld::Column::VersionId), Order::Asc)
    .order_by((bld::Entity, bld::Column::Position), Order::Asc);
    let rows: Vec<Build> = fetch_positional(db, &q).await?;
    let mut out: HashMap<i64, Vec<Build>> = HashMap::new();
    for b in rows {
        out.entry(b.version_id).or_default().push(b);
    }
    Ok(out)
}

/// What the legacy status maps show of a task: `{task_id, status, time_taken}` keyed by its
/// display name and variant. The build, build status, version status and recent versions routes
/// read up to thousands of tasks for these six of a task's thirty-one columns.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSummary {
    pub build_id: i64,
    pub task_id: String,
    pub display_name: String,
    pub variant: String,
    pub status: String,
    pub time_taken_ns: i64,
}

impl TaskSummary {
    fn columns() -> ColumnSet {
        static COLS: std::sync::LazyLock<ColumnSet> = std::sync::LazyLock::new(|| {
            ColumnSet::of::<tsk::Entity>(&[
                "task_id",
                "build_id",
                "display_name",
                "variant",
                "status",
                "time_taken_ns",
            ])
        });
        *COLS
    }
}

impl From<Task> for TaskSummary {
    fn from(t: Task) -> Self {
        TaskSummary {
            build_id: t.build_id,
            task_id: t.task_id,
            display_name: t.display_name,
            variant: t.variant,
            status: t.status,
            time_taken_ns: t.time_taken_ns,
        }
    }
}

impl Positional for TaskSummary {
    type Entity = tsk::Entity;

    fn decode(row: &sea_orm::QueryResult, cols: ColumnSet) -> Result<Self, sea_orm::DbErr> {
        Task::decode(row, cols).map(TaskSummary::from)
    }
}

/// The summaries of the tasks matching `cond`, in build then task order (one statement).
async fn task_summaries(
    db: &impl ConnectionTrait,
    cond: SimpleExpr,
) -> AppResult<Vec<TaskSummary>> {
    let mut q = select_from::<TaskSummary>(TaskSummary::columns());
    q.and_where(cond)
        .order_by((tsk::Entity, tsk::Column::BuildId), Order::Asc)
        .order_by((tsk::Entity, tsk::Column::Position), Order::Asc);
    fetch_some(db, &q, TaskSummary::columns()).await
}

/// The summary of every task of each build, in variant task order (one statement).
pub async fn tasks_for_builds(
    db: &impl ConnectionTrait,
    build_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<TaskSummary>>> {
    let cond = in_list(db, (tsk::Entity, tsk::Column::BuildId), build_ids);
    let mut out: HashMap<i64, Vec<TaskSummary>> = HashMap::new();
    for t in task_summaries(db, cond).await? {
        out.entry(t.build_id).or_default().push(t);
    }
    Ok(out)
}

/// The summary of every task of a version, in build then task order.
pub async fn tasks_for_version(
    db: &impl ConnectionTrait,
    version_id: i64,
) -> AppResult<Vec<TaskSummary>> {
    let cond = Expr::col((tsk::Entity, tsk::Column::VersionId)).eq(version_id);
    task_summaries(db, cond).await
}

/// The results of each task's current execution, in insertion order; with `status`, only the
/// results of that status (the task history's failed tests). Earlier executions' results and
/// the other statuses stay in the database: a task can hold thousands of results.
pub async fn test_results_for_tasks(
    db: &impl ConnectionTrait,
    tasks: &[(i64, i32)],
    status: Option<&str>,
) -> AppResult<HashMap<i64, Vec<TestResult>>> {
    if tasks.is_empty() {
        return Ok(HashMap::new());
    }
    let col = |c: res::Column| Expr::col((res::Entity, c));
    let mut current = Condition::any();
    for &(task, execution) in tasks {
        current = current.add(
            col(res::Column::TaskId)
                .eq(task)
                .and(col(res::Column::Execution).eq(execution)),
        );
    }
    let mut q = select_all::<TestResult>();
    q.cond_where(current);
    if let Some(status) = status {
        q.and_where(col(res::Column::Status).eq(status));
    }
    q.order_by((res::Entity, res::Column::TaskId), Order::Asc)
        .order_by((res::Entity, res::Column::Id), Order::Asc);
    let mut out: HashMap<i64, Vec<TestResult>> = HashMap::new();
    for r in fetch_positional::<TestResult>(db, &q).await? {
        out.entry(r.task_id).or_default().push(r);
    }
    Ok(out)
}

pub async fn artifacts_for_tasks(
    db: &impl ConnectionTrait,
    task_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<Artifact>>> {
    let rows = art::Entity::find()
        .filter(in_list(db, (art::Entity, art::Column::TaskId), task_ids))
        .order_by_asc(art::Column::TaskId)
        .order_by_asc(art::Column::Id)
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<Artifact>> = HashMap::new();
    for a in rows {
        out.entry(a.task_id).or_default().push(a);
    }
    Ok(out)
}

/// Which kind of parent a per-parent child page belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Parent {
    VersionOfBuild,
    BuildOfTask,
    TaskOfResult,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TaskFilter {
    pub project: Option<String>,
    pub variant: Option<String>,
    pub display_name: Option<String>,
    pub status: Option<String>,
    pub revision: Option<String>,
}

fn task_condition(f: &TaskFilter) -> sea_orm::sea_query::Condition {
    use sea_orm::sea_query::Condition;
    let col = |c: tsk::Column| Expr::col((tsk::Entity, c));
    let mut cond = Condition::all();
    if let Some(p) = &f.project {
        cond = cond.add(col(tsk::Column::ProjectId).in_subquery(project_id_of(p)));
    }
    if let Some(v) = &f.variant {
        cond = cond.add(col(tsk::Column::Variant).eq(v.clone()));
    }
    if let Some(n) = &f.display_name {
        cond = cond.add(col(tsk::Column::DisplayName).eq(n.clone()));
    }
    if let Some(s) = &f.status {
        cond = cond.add(col(tsk::Column::Status).eq(s.clone()));
    }
    if let Some(r) = &f.revision {
        let mut sub = Query::select();
        sub.column(ver::Column::Id)
            .from(ver::Entity)
            .and_where(Expr::col(ver::Column::Revision).eq(r.clone()));
        cond = cond.add(col(tsk::Column::VersionId).in_subquery(sub));
    }
    cond
}

pub async fn list_tasks(
    db: &impl ConnectionTrait,
    f: &TaskFilter,
    slice: &Slice,
) -> AppResult<Vec<Task>> {
    let mut q = Query::select();
    q.column(Asterisk)
        .from(tsk::Entity)
        .cond_where(task_condition(f));
    apply_slice(
        &mut q,
        None,
        Expr::col((tsk::Entity, tsk::Column::Id)),
        Direction::Asc,
        slice,
    );
    fetch_all(db, &q).await
}

pub async fn count_tasks(db: &impl ConnectionTrait, f: &TaskFilter) -> AppResult<u64> {
    let mut q = Query::select();
    q.expr_as(count_star(), Alias::new("n"))
        .from(tsk::Entity)
        .cond_where(task_condition(f));
    fetch_count(db, &q).await
}

/// Tasks by their Evergreen ids (`depends_on` holds those), one statement.
pub async fn tasks_by_task_ids(
    db: &impl ConnectionTrait,
    task_ids: &[String],
) -> AppResult<HashMap<String, Task>> {
    if task_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = tsk::Entity::find()
        .filter(in_list(db, (tsk::Entity, tsk::Column::TaskId), task_ids))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|t| (t.task_id.clone(), t)).collect())
}

/// The Evergreen ids of the tasks a task depends on.
pub fn task_depends_on(t: &Task) -> Vec<String> {
    serde_json::from_str(&t.depends_on).unwrap_or_default()
}
