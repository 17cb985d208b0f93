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

/// The entity's column names in declaration order, for the tests that pin the decoding order.
#[cfg(test)]
pub fn column_names<E: EntityTrait>() -> Vec<String> {
    use sea_orm::sea_query::Iden;
    E::Column::iter().map(|c| c.to_string()).collect()
}
