//! Per-parent pages and counts, for nested GraphQL lists of any domain: one statement reads a
//! page of children for every parent of a level at once, with the per-parent limit and order
//! done in SQL, and one grouped statement counts them.
//!
//! Each parent row runs a per-parent `ORDER BY ... LIMIT n` that walks the (parent, order) index,
//! and a condition tying a child to its parent row (a task's current execution) compares with
//! that row once: on PostgreSQL as a `LATERAL` subquery, on SQLite (which has no `LATERAL`) as a
//! correlated `IN` list of child ids that drives rowid look-ups. So the database reads only the
//! rows it returns. A window (`ROW_NUMBER() OVER (PARTITION BY parent)`) read every child of every
//! parent and then dropped the surplus: 3 times slower on both for Evergreen's tree, and on
//! PostgreSQL its estimated cost grew with the table until it was JIT-compiled on every request.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Asterisk, Condition, Expr, ExprTrait, JoinType, Order, Query};
use sea_orm::{ConnectionTrait, DbBackend};

use super::rows::{ColumnSet, Positional, fetch_some, select_some};
use super::{Direction, KeyCursor, after_condition, count_star, fetch_all, in_list};
use crate::error::AppResult;

/// Where one level of children lives and how each parent's list of them is ordered.
#[derive(Clone, Copy, Debug)]
pub struct ChildLevel {
    /// The children's table.
    pub table: &'static str,
    /// The children's column naming their parent's id.
    pub parent_col: &'static str,
    /// The parents' table, joined once per parent by the page query.
    pub parent_table: &'static str,
    /// The column a parent's list is sorted by before the id; `None` sorts by id alone.
    pub sort_col: Option<&'static str>,
    pub direction: Direction,
    /// A column that must equal the parent row's column of the same name (test results of a
    /// task's current `execution`).
    pub same_as_parent: Option<&'static str>,
}

impl ChildLevel {
    /// The conditions a page and its count share: the parents, the filter on the children, and
    /// `same_as_parent` through a subquery on the parent's row.
    fn condition(
        &self,
        db: &impl ConnectionTrait,
        parent_ids: &[i64],
        filter: Condition,
    ) -> Condition {
        let t = Alias::new(self.table);
        let mut cond = filter.add(in_list(
            db,
            (t.clone(), Alias::new(self.parent_col)),
            parent_ids,
        ));
        if let Some(col) = self.same_as_parent {
            let p = Alias::new("parent_row");
            let mut current = Query::select();
            current
                .column((p.clone(), Alias::new(col)))
                .from_as(Alias::new(self.parent_table), p.clone())
                .and_where(
                    Expr::col((p, Alias::new("id")))
                        .equals((t.clone(), Alias::new(self.parent_col))),
                );
            cond = cond.add(Expr::col((t, Alias::new(col))).in_subquery(current));
        }
        cond
    }
}

/// One statement for a page of every parent's children: the first `limit` rows of each parent
/// after `after` (the same cursor for every parent) that match `filter` (conditions on the
/// children's table, named by its table name), in the level's order, parents in id order. Only
/// the columns `cols` (and the id, parent and sort columns) are read.
#[allow(clippy::too_many_arguments)]
pub async fn page<T: Positional>(
    db: &impl ConnectionTrait,
    level: &ChildLevel,
    parent_ids: &[i64],
    filter: Condition,
    after: Option<&KeyCursor>,
    limit: u64,
    cols: ColumnSet,
) -> AppResult<Vec<T>> {
    if parent_ids.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    // The id, the parent and the sort column group the rows and make their cursors.
    let mut key = vec!["id", level.parent_col];
    key.extend(level.sort_col);
    let cols = cols.union(ColumnSet::of::<T::Entity>(&key));
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    let order = level.direction.order();
    let t = Alias::new(level.table);
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
            Expr::col((t.clone(), Alias::new(level.parent_col)))
                .equals((p.clone(), Alias::new("id"))),
        )
        .cond_where(filter);
    if let Some(col) = level.same_as_parent {
        per_parent.and_where(
            Expr::col((t.clone(), Alias::new(col))).equals((p.clone(), Alias::new(col))),
        );
    }
    if let Some(cur) = after {
        let id = Expr::col((t.clone(), Alias::new("id")));
        let sort = level
            .sort_col
            .map(|s| Expr::col((t.clone(), Alias::new(s))));
        per_parent.cond_where(after_condition(sort, id, cur, level.direction));
    }
    if let Some(s) = level.sort_col {
        per_parent.order_by((t.clone(), Alias::new(s)), order.clone());
    }
    per_parent
        .order_by((t.clone(), Alias::new("id")), order.clone())
        .limit(limit);

    let mut q = Query::select();
    q.from_as(Alias::new(level.parent_table), p.clone());
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
    if let Some(s) = level.sort_col {
        q.order_by((c.clone(), Alias::new(s)), order.clone());
    }
    q.order_by((c, Alias::new("id")), order);
    fetch_some(db, &q, cols).await
}

/// How many children matching `filter` each parent has, in one grouped statement; parents
/// without any are absent from the map.
pub async fn counts(
    db: &impl ConnectionTrait,
    level: &ChildLevel,
    parent_ids: &[i64],
    filter: Condition,
) -> AppResult<HashMap<i64, u64>> {
    if parent_ids.is_empty() {
        return Ok(HashMap::new());
    }
    #[derive(sea_orm::FromQueryResult)]
    struct ParentCount {
        parent: i64,
        n: i64,
    }
    let t = Alias::new(level.table);
    let parent = (t.clone(), Alias::new(level.parent_col));
    let mut q = Query::select();
    q.expr_as(Expr::col(parent.clone()), Alias::new("parent"))
        .expr_as(count_star(), Alias::new("n"))
        .from(t)
        .cond_where(level.condition(db, parent_ids, filter))
        .group_by_col(parent);
    let rows: Vec<ParentCount> = fetch_all(db, &q).await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.parent, std::cmp::max(r.n, 0) as u64))
        .collect())
}
