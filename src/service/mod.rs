//! The service layer: the only code that queries the database. Plain async functions over a
//! connection, shared by the GraphQL resolvers, the dataloaders and every legacy REST handler.

pub mod counts;
pub mod evergreen;
pub mod kernelci;
pub mod locks;
pub mod monitor;
pub mod per_parent;
pub mod rows;
pub mod stacktach;
pub mod tokens;
pub mod xpresso;

use sea_orm::sea_query::extension::postgres::PgFunc;
use sea_orm::sea_query::value::postgres_array::NotU8;
use sea_orm::sea_query::{
    Condition, Expr, ExprTrait, Func, IntoColumnRef, LikeExpr, SelectStatement, SimpleExpr, Value,
    ValueType,
};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement};

use crate::error::AppResult;

/// Which rows of an ordered result to return.
#[derive(Clone, Debug, PartialEq)]
pub enum Slice {
    /// Legacy page-number paging: skip `offset`, return at most `limit`.
    Offset { offset: u64, limit: u64 },
    /// Keyset paging for GraphQL connections: rows strictly after `after` in the sort order.
    After {
        after: Option<KeyCursor>,
        limit: u64,
    },
}

/// A position in a keyset-ordered list: the sort value of the last row seen and its id (the
/// tie-breaker that makes every order total).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KeyCursor {
    pub value: SortValue,
    pub id: i64,
}

impl KeyCursor {
    /// The cursor of a row in a list ordered by id alone.
    pub fn by_id(id: i64) -> Self {
        KeyCursor {
            value: SortValue::Id,
            id,
        }
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum SortValue {
    /// The order is by id alone.
    Id,
    Float(f64),
    Text(String),
    /// Bound as a timestamp: both backends store timestamps in their own text or binary form, so
    /// comparing with a formatted string would be wrong.
    Time(chrono::NaiveDateTime),
}

/// Sort direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    #[default]
    Asc,
    Desc,
}

impl Direction {
    pub fn order(self) -> sea_orm::sea_query::Order {
        match self {
            Direction::Asc => sea_orm::sea_query::Order::Asc,
            Direction::Desc => sea_orm::sea_query::Order::Desc,
        }
    }
}

/// `col IN (values)`, written for the backend. On PostgreSQL it is `col = ANY($1)` with the values
/// as one array parameter: the text is the same for any number of values, so each connection
/// prepares it once, and after a few runs PostgreSQL keeps a generic plan. An `IN` list of n
/// parameters is a statement of its own for every n, planned again on every run: 0.7 ms of
/// PostgreSQL's 4.5 ms for the nested tree's 1,000-task test-result level, where `ANY` plans in
/// 0.05 ms. SQLite has no array parameters and keeps the list.
pub fn in_list<T>(db: &impl ConnectionTrait, col: impl IntoColumnRef, values: &[T]) -> SimpleExpr
where
    T: Clone + Into<Value> + NotU8 + ValueType,
{
    match db.get_database_backend() {
        DbBackend::Postgres => Expr::col(col).eq(PgFunc::any(Expr::val(values.to_vec()))),
        _ => Expr::col(col).is_in(values.iter().cloned()),
    }
}

/// `col LIKE 'prefix%'` with the input's own `%`, `_` and `\` taken literally. ASCII case is
/// ignored on both backends, as SQLite's LIKE (the original servers' database) ignores it.
pub fn starts_with(col: SimpleExpr, prefix: &str) -> SimpleExpr {
    let pattern = format!("{}%", escape_like(&prefix.to_ascii_lowercase()));
    SimpleExpr::from(Func::lower(col)).like(LikeExpr::new(pattern).escape('\\'))
}

/// `col LIKE pattern` where the pattern's wildcards are meant (the legacy `like` routes), ASCII
/// case ignored on both backends.
pub fn like_pattern(col: SimpleExpr, pattern: &str) -> SimpleExpr {
    SimpleExpr::from(Func::lower(col)).like(LikeExpr::new(pattern.to_ascii_lowercase()))
}

pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Keyset condition "(sort, id) comes after the cursor" for the given direction.
pub fn after_condition(
    sort: Option<SimpleExpr>,
    id: SimpleExpr,
    cursor: &KeyCursor,
    dir: Direction,
) -> Condition {
    let value: Option<sea_orm::Value> = match &cursor.value {
        SortValue::Id => None,
        SortValue::Float(f) => Some((*f).into()),
        SortValue::Text(t) => Some(t.clone().into()),
        SortValue::Time(t) => Some((*t).into()),
    };
    match (sort, value) {
        (Some(sort), Some(v)) => {
            let (beyond, id_beyond) = match dir {
                Direction::Asc => (sort.clone().gt(v.clone()), id.clone().gt(cursor.id)),
                Direction::Desc => (sort.clone().lt(v.clone()), id.clone().lt(cursor.id)),
            };
            Condition::any()
                .add(beyond)
                .add(Condition::all().add(sort.eq(v)).add(id_beyond))
        }
        _ => Condition::all().add(match dir {
            Direction::Asc => id.gt(cursor.id),
            Direction::Desc => id.lt(cursor.id),
        }),
    }
}

pub(crate) fn build(db: &impl ConnectionTrait, stmt: &SelectStatement) -> Statement {
    db.get_database_backend().build(stmt)
}

/// Runs a select and maps every row.
pub(crate) async fn fetch_all<T: FromQueryResult>(
    db: &impl ConnectionTrait,
    stmt: &SelectStatement,
) -> AppResult<Vec<T>> {
    Ok(T::find_by_statement(build(db, stmt)).all(db).await?)
}

/// Runs a `SELECT COUNT(...) AS n` and returns n.
pub(crate) async fn fetch_count(
    db: &impl ConnectionTrait,
    stmt: &SelectStatement,
) -> AppResult<u64> {
    #[derive(FromQueryResult)]
    struct N {
        n: i64,
    }
    let row = N::find_by_statement(build(db, stmt)).one(db).await?;
    Ok(row.map(|r| std::cmp::max(r.n, 0) as u64).unwrap_or(0))
}

/// The SQL `COUNT(*) AS n` expression every count uses.
pub(crate) fn count_star() -> SimpleExpr {
    Expr::cust("COUNT(*)")
}

/// Orders and bounds a select for a `Slice`: by `sort` (when given) then `id` in `dir`, after the
/// cursor for keyset slices.
pub(crate) fn apply_slice(
    q: &mut SelectStatement,
    sort: Option<SimpleExpr>,
    id: SimpleExpr,
    dir: Direction,
    slice: &Slice,
) {
    match slice {
        Slice::Offset { offset, limit } => {
            if let Some(s) = sort.clone() {
                q.order_by_expr(s, dir.order());
            }
            q.order_by_expr(id, dir.order())
                .limit(*limit)
                .offset(*offset);
        }
        Slice::After { after, limit } => {
            if let Some(cursor) = after {
                q.cond_where(after_condition(sort.clone(), id.clone(), cursor, dir));
            }
            if let Some(s) = sort {
                q.order_by_expr(s, dir.order());
            }
            q.order_by_expr(id, dir.order()).limit(*limit);
        }
    }
}

/// One SQLite writer at a time in this process, queued in arrival order.
///
/// SQLite lets one connection write at a time. Without this, concurrent writers wait in SQLite's
/// busy handler, which sleeps in steps of up to 100 ms and so leaves the database idle between
/// writers and gives p99 latencies of seconds. Worse, with writers always waiting, the
/// write-ahead log is never reset: the next writer has begun before the checkpoint that would
/// let it start the log over, so under a sustained concurrent import the log grew by 1.4-1.8 GB in
/// ten seconds. Queued here, each writer finds the log checkpointed and starts it over.
///
/// Every write of the Evergreen and pytest-monitor services takes a turn before its `begin` (or
/// its one statement) and holds it until the transaction ends: the guard is dropped after the
/// commit or rollback. A function that holds a turn must not call another service function that
/// takes one, since the turn is not re-entrant. Writers in other processes (the CLI's token
/// commands, a second server on the same file) still meet SQLite's busy timeout. PostgreSQL
/// takes no turn; its row locks order its writers.
pub(crate) async fn write_turn(
    db: &impl ConnectionTrait,
) -> Option<tokio::sync::MutexGuard<'static, ()>> {
    static SQLITE_WRITER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        Some(SQLITE_WRITER.lock().await)
    } else {
        None
    }
}
