//! Rows decoded by position, for the statements that return thousands of rows per request (the
//! per-parent child pages behind nested GraphQL lists).
//!
//! sea-orm's derived `FromQueryResult` reads every column by name: it formats `"{prefix}{name}"`
//! and the driver looks the name up, for every column of every row. On a nested query that
//! returns 7,000 rows of up to 30 columns that was the largest single cost in the server
//! (about a third of its CPU). These statements select the entity's columns explicitly, in the
//! entity's declared order, and `decode` reads them back by index.

use sea_orm::sea_query::{Alias, IntoIden, Query, SelectStatement};
use sea_orm::sqlx::{Decode, Postgres, Row, Sqlite, Type};
use sea_orm::{ConnectionTrait, DbErr, EntityName, EntityTrait, Iterable, QueryResult};

use entity::{
    evg_artifact as art, evg_build as bld, evg_task as tsk, evg_test_result as res,
    monitor_session as ses,
};

use crate::error::AppResult;

/// A model read by column position.
pub trait Positional: Sized + Send {
    /// The entity whose columns are selected, in `Column::iter()` (declaration) order.
    type Entity: EntityTrait;

    /// Reads one row whose first columns are those of `cols`, in declaration order; the fields
    /// of the other columns get their type's default.
    fn decode(row: &QueryResult, cols: ColumnSet) -> Result<Self, DbErr>;
}

/// Which of an entity's columns a statement reads: bit `i` is the `i`-th column in declaration
/// order. A nested GraphQL page reads only the columns of the fields asked for; the wide text
/// columns it leaves out were most of the bytes PostgreSQL sent and the server decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ColumnSet(u64);

impl ColumnSet {
    pub const ALL: ColumnSet = ColumnSet(u64::MAX);
    pub const NONE: ColumnSet = ColumnSet(0);

    /// The named columns of `E`. A name `E` does not have selects every column, so that a
    /// mistake costs speed, never data.
    pub fn of<E: EntityTrait>(names: &[&str]) -> ColumnSet {
        let mut bits = 0;
        for name in names {
            match E::Column::iter().position(|c| c.into_iden().to_string() == *name) {
                Some(i) => bits |= 1 << i,
                None => {
                    debug_assert!(false, "no column {name}");
                    return ColumnSet::ALL;
                }
            }
        }
        ColumnSet(bits)
    }

    pub fn union(self, other: ColumnSet) -> ColumnSet {
        ColumnSet(self.0 | other.0)
    }

    fn has(self, i: usize) -> bool {
        i >= 64 || self.0 & (1 << i) != 0
    }
}

/// Adds every column of `T`'s entity, qualified by `table`, in declaration order.
pub fn select_columns<T: Positional>(q: &mut SelectStatement, table: &Alias) {
    select_some::<T>(q, table, ColumnSet::ALL);
}

/// Adds the columns `cols` of `T`'s entity, qualified by `table`, in declaration order.
pub fn select_some<T: Positional>(q: &mut SelectStatement, table: &Alias, cols: ColumnSet) {
    for (i, c) in <T::Entity as EntityTrait>::Column::iter().enumerate() {
        if cols.has(i) {
            q.column((table.clone(), c.into_iden()));
        }
    }
}

/// `SELECT` every column of `T`'s entity `FROM` its table, ready for conditions and an order.
pub fn select_all<T: Positional>() -> SelectStatement {
    select_from::<T>(ColumnSet::ALL)
}

/// `SELECT` the columns `cols` of `T`'s entity `FROM` its table (read back with `fetch_some`).
pub fn select_from<T: Positional>(cols: ColumnSet) -> SelectStatement {
    let table = Alias::new(T::Entity::default().table_name());
    let mut q = Query::select();
    select_some::<T>(&mut q, &table, cols);
    q.from(table);
    q
}

/// Runs a select built with `select_columns` (possibly followed by more columns) and decodes
/// every row.
pub async fn fetch_positional<T: Positional>(
    db: &impl ConnectionTrait,
    stmt: &SelectStatement,
) -> AppResult<Vec<T>> {
    fetch_some(db, stmt, ColumnSet::ALL).await
}

/// Runs a select built with `select_some(cols)` and decodes every row.
pub async fn fetch_some<T: Positional>(
    db: &impl ConnectionTrait,
    stmt: &SelectStatement,
    cols: ColumnSet,
) -> AppResult<Vec<T>> {
    fetch_decoded(db, stmt, |r| T::decode(r, cols)).await
}

/// Runs a select and decodes every row with `decode`, which reads the columns by position.
pub async fn fetch_decoded<T>(
    db: &impl ConnectionTrait,
    stmt: &SelectStatement,
    decode: impl Fn(&QueryResult) -> Result<T, DbErr>,
) -> AppResult<Vec<T>> {
    let rows = db.query_all(stmt).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(decode(r)?);
    }
    Ok(out)
}

/// Reads the entity's columns in declaration order: each `read` is the next column, taken from
/// the row's next index when the statement selected it, its type's default when not.
pub struct Cols<'a> {
    row: &'a QueryResult,
    cols: ColumnSet,
    /// The entity column `read` comes to next.
    column: usize,
    /// The row index of the next selected column.
    at: usize,
}

impl<'a> Cols<'a> {
    pub fn new(row: &'a QueryResult, cols: ColumnSet) -> Self {
        Cols {
            row,
            cols,
            column: 0,
            at: 0,
        }
    }

    pub fn read<V: Value>(&mut self) -> Result<V, DbErr> {
        let selected = self.cols.has(self.column);
        self.column += 1;
        if !selected {
            return Ok(V::default());
        }
        let at = self.at;
        self.at += 1;
        // The driver's checked `try_get` compares the column's type with the Rust type for every
        // value it decodes: a tenth of a list page's CPU. These statements select their entity's
        // own columns, so the value is decoded unchecked. Debug builds (the test suite, which
        // reads every column of every positional statement on both backends) also decode it
        // checked, fail on the checked error, and assert that both decodings agree.
        let checked = cfg!(debug_assertions).then(|| self.row.try_get_by_index::<V>(at));
        let unchecked = if let Some(row) = self.row.try_as_pg_row() {
            row.try_get_unchecked::<V, _>(at)
        } else if let Some(row) = self.row.try_as_sqlite_row() {
            row.try_get_unchecked::<V, _>(at)
        } else {
            return self.row.try_get_by_index(at);
        };
        if let Some(checked) = checked {
            let checked = checked?;
            debug_assert_eq!(
                format!("{:?}", Some(&checked)),
                format!("{:?}", unchecked.as_ref().ok()),
                "column {at} decoded unchecked"
            );
        }
        unchecked.map_err(|e| DbErr::Type(format!("column {at}: {e}")))
    }
}

/// A column type `Cols` reads: decodable by both drivers, and by sea-orm for anything else.
pub trait Value:
    sea_orm::TryGetable
    + Default
    + std::fmt::Debug
    + for<'r> Decode<'r, Postgres>
    + Type<Postgres>
    + for<'r> Decode<'r, Sqlite>
    + Type<Sqlite>
{
}

impl<V> Value for V where
    V: sea_orm::TryGetable
        + Default
        + std::fmt::Debug
        + for<'r> Decode<'r, Postgres>
        + Type<Postgres>
        + for<'r> Decode<'r, Sqlite>
        + Type<Sqlite>
{
}

impl Positional for res::Model {
    type Entity = res::Entity;

    fn decode(row: &QueryResult, cols: ColumnSet) -> Result<Self, DbErr> {
        let mut c = Cols::new(row, cols);
        Ok(Self {
            id: c.read()?,
            task_id: c.read()?,
            execution: c.read()?,
            test_file: c.read()?,
            status: c.read()?,
            url: c.read()?,
            log_id: c.read()?,
            line_num: c.read()?,
            exit_code: c.read()?,
            start_s: c.read()?,
            end_s: c.read()?,
        })
    }
}

impl Positional for tsk::Model {
    type Entity = tsk::Entity;

    fn decode(row: &QueryResult, cols: ColumnSet) -> Result<Self, DbErr> {
        let mut c = Cols::new(row, cols);
        Ok(Self {
            id: c.read()?,
            task_id: c.read()?,
            build_id: c.read()?,
            version_id: c.read()?,
            project_id: c.read()?,
            position: c.read()?,
            display_name: c.read()?,
            variant: c.read()?,
            distro: c.read()?,
            host_id: c.read()?,
            priority: c.read()?,
            activated: c.read()?,
            status: c.read()?,
            details_type: c.read()?,
            details_desc: c.read()?,
            timed_out: c.read()?,
            aborted: c.read()?,
            create_time: c.read()?,
            scheduled_time: c.read()?,
            dispatch_time: c.read()?,
            start_time: c.read()?,
            finish_time: c.read()?,
            push_time: c.read()?,
            last_heartbeat: c.read()?,
            restarts: c.read()?,
            execution: c.read()?,
            archived: c.read()?,
            time_taken_ns: c.read()?,
            expected_duration_ns: c.read()?,
            min_queue_pos: c.read()?,
            depends_on: c.read()?,
        })
    }
}

impl Positional for bld::Model {
    type Entity = bld::Entity;

    fn decode(row: &QueryResult, cols: ColumnSet) -> Result<Self, DbErr> {
        let mut c = Cols::new(row, cols);
        Ok(Self {
            id: c.read()?,
            build_id: c.read()?,
            version_id: c.read()?,
            project_id: c.read()?,
            position: c.read()?,
            variant: c.read()?,
            display_name: c.read()?,
            build_number: c.read()?,
            status: c.read()?,
            activated: c.read()?,
            activated_time: c.read()?,
            create_time: c.read()?,
            start_time: c.read()?,
            finish_time: c.read()?,
            push_time: c.read()?,
            time_taken_ns: c.read()?,
        })
    }
}

impl Positional for art::Model {
    type Entity = art::Entity;

    fn decode(row: &QueryResult, cols: ColumnSet) -> Result<Self, DbErr> {
        let mut c = Cols::new(row, cols);
        Ok(Self {
            id: c.read()?,
            task_id: c.read()?,
            name: c.read()?,
            url: c.read()?,
        })
    }
}

impl Positional for ses::Model {
    type Entity = ses::Entity;

    fn decode(row: &QueryResult, cols: ColumnSet) -> Result<Self, DbErr> {
        let mut c = Cols::new(row, cols);
        Ok(Self {
            id: c.read()?,
            h: c.read()?,
            run_date: c.read()?,
            run_at: c.read()?,
            scm_ref: c.read()?,
            description: c.read()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sea_query::Iden;

    fn names<E: EntityTrait>() -> Vec<String> {
        E::Column::iter().map(|c| c.to_string()).collect()
    }

    /// `decode` reads the fields in this order; the entity must declare its columns in it too.
    #[test]
    fn declared_column_order_is_the_decoding_order() {
        assert_eq!(
            names::<res::Entity>(),
            [
                "id",
                "task_id",
                "execution",
                "test_file",
                "status",
                "url",
                "log_id",
                "line_num",
                "exit_code",
                "start_s",
                "end_s"
            ]
        );
        assert_eq!(names::<art::Entity>(), ["id", "task_id", "name", "url"]);
        // `service::monitor::Metric` reads these, all but `item_start_at`.
        assert_eq!(
            names::<entity::monitor_metric::Entity>(),
            [
                "id",
                "session_id",
                "context_id",
                "session_h",
                "context_h",
                "item_start_time",
                "item_start_at",
                "item_path",
                "item",
                "item_variant",
                "item_fs_loc",
                "kind",
                "component",
                "total_time",
                "user_time",
                "kernel_time",
                "cpu_usage",
                "mem_usage"
            ]
        );
        assert_eq!(
            names::<ses::Entity>(),
            ["id", "h", "run_date", "run_at", "scm_ref", "description"]
        );
        assert_eq!(
            names::<bld::Entity>(),
            [
                "id",
                "build_id",
                "version_id",
                "project_id",
                "position",
                "variant",
                "display_name",
                "build_number",
                "status",
                "activated",
                "activated_time",
                "create_time",
                "start_time",
                "finish_time",
                "push_time",
                "time_taken_ns"
            ]
        );
        assert_eq!(
            names::<tsk::Entity>(),
            [
                "id",
                "task_id",
                "build_id",
                "version_id",
                "project_id",
                "position",
                "display_name",
                "variant",
                "distro",
                "host_id",
                "priority",
                "activated",
                "status",
                "details_type",
                "details_desc",
                "timed_out",
                "aborted",
                "create_time",
                "scheduled_time",
                "dispatch_time",
                "start_time",
                "finish_time",
                "push_time",
                "last_heartbeat",
                "restarts",
                "execution",
                "archived",
                "time_taken_ns",
                "expected_duration_ns",
                "min_queue_pos",
                "depends_on"
            ]
        );
    }
}
