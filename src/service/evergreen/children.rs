//! Per-parent pages for GraphQL connections: the builds of versions, the tasks of builds, the
//! test results and artifacts of tasks, each level read by `service::per_parent`.

use std::collections::HashMap;

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait};

use super::model::Artifact;
use super::tasks::Parent;
use crate::error::AppResult;
use crate::service::per_parent::{self, ChildLevel};
use crate::service::rows::{ColumnSet, Positional};
use crate::service::{Direction, KeyCursor, SortValue};

/// Conditions on the children a per-parent page reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ChildFilter {
    /// Build or task status, or test result status (pass, fail, skip).
    pub status: Option<String>,
}

/// Where the children below one kind of parent live, in their natural order.
fn level(parent: Parent) -> ChildLevel {
    let (table, parent_col, parent_table, sort_col) = match parent {
        Parent::VersionOfBuild => ("evg_builds", "version_id", "evg_versions", Some("position")),
        Parent::BuildOfTask => ("evg_tasks", "build_id", "evg_builds", Some("position")),
        Parent::TaskOfResult => ("evg_test_results", "task_id", "evg_tasks", None),
    };
    ChildLevel {
        table,
        parent_col,
        parent_table,
        sort_col,
        direction: Direction::Asc,
        // Only rows of the task's current execution count, as `test_results_for_tasks` reads.
        same_as_parent: (parent == Parent::TaskOfResult).then_some("execution"),
    }
}

const ARTIFACTS: ChildLevel = ChildLevel {
    table: "evg_artifacts",
    parent_col: "task_id",
    parent_table: "evg_tasks",
    sort_col: None,
    direction: Direction::Asc,
    same_as_parent: None,
};

/// The filter's conditions on the child rows themselves.
fn filter_condition(level: &ChildLevel, filter: &ChildFilter) -> Condition {
    let mut cond = Condition::all();
    if let Some(s) = &filter.status {
        cond = cond.add(Expr::col((Alias::new(level.table), Alias::new("status"))).eq(s.clone()));
    }
    cond
}

/// The keyset position of a child in its parent's list: builds and tasks by position then id,
/// test results and artifacts by id.
pub fn child_cursor(sort: Option<i64>, id: i64) -> KeyCursor {
    KeyCursor {
        value: sort.map_or(SortValue::Id, |s| SortValue::Float(s as f64)),
        id,
    }
}

/// One level's page for each of its parents: the first `limit` children of each parent that
/// match `filter`, after `after`, in their natural order, in one statement. Test results are those of each
/// task's current execution. Only the columns `cols` (and the id, parent and sort columns) are
/// read; the other fields of the rows are their types' defaults.
pub async fn children_page<T: Positional>(
    db: &impl ConnectionTrait,
    parent: Parent,
    parent_ids: &[i64],
    filter: &ChildFilter,
    after: Option<&KeyCursor>,
    limit: u64,
    cols: ColumnSet,
) -> AppResult<Vec<T>> {
    let level = level(parent);
    let filter = filter_condition(&level, filter);
    per_parent::page(db, &level, parent_ids, filter, after, limit, cols).await
}

/// How many children matching `filter` each parent has (one statement; parents without any are
/// absent from the map).
pub async fn count_children(
    db: &impl ConnectionTrait,
    parent: Parent,
    parent_ids: &[i64],
    filter: &ChildFilter,
) -> AppResult<HashMap<i64, u64>> {
    let level = level(parent);
    let filter = filter_condition(&level, filter);
    per_parent::counts(db, &level, parent_ids, filter).await
}

/// The first `limit` artifacts of each task after `after`, in insertion order, in one statement.
pub async fn artifacts_page(
    db: &impl ConnectionTrait,
    task_ids: &[i64],
    after: Option<&KeyCursor>,
    limit: u64,
) -> AppResult<Vec<Artifact>> {
    let all = Condition::all();
    per_parent::page(db, &ARTIFACTS, task_ids, all, after, limit, ColumnSet::ALL).await
}

/// How many artifacts each task has (one statement).
pub async fn count_artifacts(
    db: &impl ConnectionTrait,
    task_ids: &[i64],
) -> AppResult<HashMap<i64, u64>> {
    per_parent::counts(db, &ARTIFACTS, task_ids, Condition::all()).await
}
