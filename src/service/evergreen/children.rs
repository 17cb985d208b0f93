//! Per-parent pages for GraphQL connections: one statement reads a page of children for every
//! parent of a level at once, with the per-parent limit and order done in SQL.

use std::collections::HashMap;

use entity::{evg_artifact as art, evg_task as tsk};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, JoinType, Order, Query};
use sea_orm::{ConnectionTrait, DbBackend};

use super::model::Artifact;
use super::tasks::Parent;
use crate::error::AppResult;
use crate::service::rows::{ColumnSet, Positional, fetch_some, select_some};
use crate::service::{
    Direction, KeyCursor, SortValue, after_condition, count_star, fetch_all, in_list,
};

/// Conditions on the children a per-parent page reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ChildFilter {
    /// Build or task status, or test result status (pass, fail, skip).
    pub status: Option<String>,
}

/// Where the children of one kind of parent live.
#[derive(Clone, Copy, Debug)]
struct ChildTable {
    table: &'static str,
    parent_col: &'static str,
    /// The sort column before the id; `None` means the order is by id alone.
    sort_col: Option<&'static str>,
    /// The parents' table, joined once per parent by the PostgreSQL page query.
    parent_table: &'static str,
    /// Only rows of the parent's current execution count (test results of a task).
    current_execution: bool,
}

fn child_table(parent: Parent) -> ChildTable {
    match parent {
        Parent::VersionOfBuild => ChildTable {
            table: "evg_builds",
            parent_col: "version_id",
            sort_col: Some("position"),
            parent_table: "evg_versions",
            current_execution: false,
        },
        Parent::BuildOfTask => ChildTable {
            table: "evg_tasks",
            parent_col: "build_id",
            sort_col: Some("position"),
            parent_table: "evg_builds",
            current_execution: false,
        },
        Parent::TaskOfResult => ChildTable {
            table: "evg_test_results",
            parent_col: "task_id",
            sort_col: None,
            parent_table: "evg_tasks",
            current_execution: true,
        },
    }
}

const ARTIFACTS: ChildTable = ChildTable {
    table: "evg_artifacts",
    parent_col: "task_id",
    sort_col: None,
    parent_table: "evg_tasks",
    current_execution: false,
};

/// The filter's conditions on the child rows themselves.
fn filter_condition(spec: &ChildTable, filter: &ChildFilter) -> sea_orm::sea_query::Condition {
    let mut cond = sea_orm::sea_query::Condition::all();
    if let Some(s) = &filter.status {
        cond = cond.add(Expr::col((Alias::new(spec.table), Alias::new("status"))).eq(s.clone()));
    }
    cond
}

/// The conditions shared by a page and its count, as one `WHERE`: the parents, the filter, and
/// for test results the task's current execution (as `test_results_for_tasks` does).
fn child_condition(
    db: &impl ConnectionTrait,
    spec: &ChildTable,
    parent_ids: &[i64],
    filter: &ChildFilter,
) -> sea_orm::sea_query::Condition {
    let t = Alias::new(spec.table);
    let mut cond = filter_condition(spec, filter).add(in_list(
        db,
        (t.clone(), Alias::new(spec.parent_col)),
        parent_ids,
    ));
    if spec.current_execution {
        let mut current = Query::select();
        current
            .column((tsk::Entity, tsk::Column::Execution))
            .from(tsk::Entity)
            .and_where(
                Expr::col((tsk::Entity, tsk::Column::Id))
                    .equals((t.clone(), Alias::new(spec.parent_col))),
            );
        cond = cond.add(Expr::col((t, Alias::new("execution"))).in_subquery(current));
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

/// One statement for a page of every parent's children: the first `limit` rows of each parent
/// after `after` (the same cursor for every parent) that match `filter`, in the children's
/// natural order, grouped by parent id.
///
/// Each parent row runs a per-parent `ORDER BY ... LIMIT n` that walks the (parent, order) index,
/// and the current-execution check compares with that parent row once: on PostgreSQL as a
/// `LATERAL` subquery, on SQLite (which has no `LATERAL`) as a correlated `IN` list of child ids
/// that drives rowid look-ups. So the database reads only the rows it returns. A window
/// (`ROW_NUMBER() OVER (PARTITION BY parent)`) read every child of every parent and then dropped
/// the surplus: 3 times slower on both, and on PostgreSQL its estimated cost grew with the table
/// until it was JIT-compiled on every request.
#[allow(clippy::too_many_arguments)]
async fn child_page<T: Positional>(
    db: &impl ConnectionTrait,
    spec: ChildTable,
    parent_ids: &[i64],
    filter: &ChildFilter,
    after: Option<&KeyCursor>,
    limit: u64,
    cols: ColumnSet,
) -> AppResult<Vec<T>> {
    if parent_ids.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    // The id, the parent and the sort column group the rows and make their cursors.
    let mut key = vec!["id", spec.parent_col];
    key.extend(spec.sort_col);
    let cols = cols.union(ColumnSet::of::<T::Entity>(&key));
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    let t = Alias::new(spec.table);
    let p = Alias::new("p");
    let c = Alias::new("c");
    // One parent's page, correlated with the parent row `p`.
    let mut per_parent = Query::select();
    if postgres {
        select_some::<T>(&mut per_parent, &t, cols);
    } else {
        per_parent.column((t.clone(), Alias::new("id")));
    }
    per_parent
        .from(t.clone())
        .and_where(
            Expr::col((t.clone(), Alias::new(spec.parent_col)))
                .equals((p.clone(), Alias::new("id"))),
        )
        .cond_where(filter_condition(&spec, filter));
    if spec.current_execution {
        per_parent.and_where(
            Expr::col((t.clone(), Alias::new("execution")))
                .equals((p.clone(), Alias::new("execution"))),
        );
    }
    if let Some(cur) = after {
        let id = Expr::col((t.clone(), Alias::new("id")));
        let sort = spec.sort_col.map(|s| Expr::col((t.clone(), Alias::new(s))));
        per_parent.cond_where(after_condition(sort, id, cur, Direction::Asc));
    }
    if let Some(s) = spec.sort_col {
        per_parent.order_by((t.clone(), Alias::new(s)), Order::Asc);
    }
    per_parent
        .order_by((t.clone(), Alias::new("id")), Order::Asc)
        .limit(limit);

    let mut q = Query::select();
    q.from_as(Alias::new(spec.parent_table), p.clone());
    if postgres {
        q.column((c.clone(), Asterisk)).join_lateral(
            JoinType::InnerJoin,
            per_parent,
            c.clone(),
            Expr::cust("TRUE"),
        );
    } else {
        select_some::<T>(&mut q, &c, cols);
        q.join_as(
            JoinType::InnerJoin,
            t,
            c.clone(),
            Expr::col((c.clone(), Alias::new("id"))).in_subquery(per_parent),
        );
    }
    q.and_where(in_list(db, (p.clone(), Alias::new("id")), parent_ids))
        .order_by((p, Alias::new("id")), Order::Asc);
    if let Some(s) = spec.sort_col {
        q.order_by((c.clone(), Alias::new(s)), Order::Asc);
    }
    q.order_by((c, Alias::new("id")), Order::Asc);
    fetch_some(db, &q, cols).await
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
    child_page(
        db,
        child_table(parent),
        parent_ids,
        filter,
        after,
        limit,
        cols,
    )
    .await
}

#[derive(sea_orm::FromQueryResult)]
struct ParentCount {
    parent: i64,
    n: i64,
}

async fn grouped_counts(
    db: &impl ConnectionTrait,
    table: &str,
    parent_col: &str,
    cond: sea_orm::sea_query::Condition,
) -> AppResult<HashMap<i64, u64>> {
    let t = Alias::new(table);
    let mut q = Query::select();
    q.expr_as(
        Expr::col((t.clone(), Alias::new(parent_col))),
        Alias::new("parent"),
    )
    .expr_as(count_star(), Alias::new("n"))
    .from(t.clone())
    .cond_where(cond)
    .group_by_col((t, Alias::new(parent_col)));
    let rows: Vec<ParentCount> = fetch_all(db, &q).await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.parent, std::cmp::max(r.n, 0) as u64))
        .collect())
}

/// How many children matching `filter` each parent has (one statement; parents without any are
/// absent from the map).
pub async fn count_children(
    db: &impl ConnectionTrait,
    parent: Parent,
    parent_ids: &[i64],
    filter: &ChildFilter,
) -> AppResult<HashMap<i64, u64>> {
    if parent_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let spec = child_table(parent);
    grouped_counts(
        db,
        spec.table,
        spec.parent_col,
        child_condition(db, &spec, parent_ids, filter),
    )
    .await
}

/// The first `limit` artifacts of each task after `after`, in insertion order, in one statement.
pub async fn artifacts_page(
    db: &impl ConnectionTrait,
    task_ids: &[i64],
    after: Option<&KeyCursor>,
    limit: u64,
) -> AppResult<Vec<Artifact>> {
    child_page(
        db,
        ARTIFACTS,
        task_ids,
        &ChildFilter::default(),
        after,
        limit,
        ColumnSet::ALL,
    )
    .await
}

/// How many artifacts each task has (one statement).
pub async fn count_artifacts(
    db: &impl ConnectionTrait,
    task_ids: &[i64],
) -> AppResult<HashMap<i64, u64>> {
    if task_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let cond = sea_orm::sea_query::Condition::all().add(in_list(
        db,
        (art::Entity, art::Column::TaskId),
        task_ids,
    ));
    grouped_counts(db, "evg_artifacts", "task_id", cond).await
}
