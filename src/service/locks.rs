//! Row locks taken as a transaction's first statement, the same way on both backends (Evergreen's
//! task lifecycle, XPRESSO's requests).

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};

use crate::error::AppResult;

/// Takes a row lock with a no-op update as a transaction's first statement: on PostgreSQL it
/// holds the row until commit (like `SELECT ... FOR UPDATE`), on SQLite it takes the database's
/// write lock before anything is read, so a concurrent writer waits (busy timeout) instead of
/// failing on a stale snapshot. Returns how many rows matched.
pub(crate) async fn lock(
    txn: &impl ConnectionTrait,
    table: &str,
    column: &str,
    value: &str,
) -> AppResult<u64> {
    let mut q = Query::update();
    q.table(Alias::new(table))
        .value(Alias::new(column), Expr::col(Alias::new(column)))
        .and_where(Expr::col(Alias::new(column)).eq(value));
    Ok(txn.execute(&q).await?.rows_affected())
}

/// Locks a row by its primary key, the same way.
pub(crate) async fn lock_pk(txn: &impl ConnectionTrait, table: &str, id: i64) -> AppResult<()> {
    let mut q = Query::update();
    q.table(Alias::new(table))
        .value(Alias::new("id"), Expr::col(Alias::new("id")))
        .and_where(Expr::col(Alias::new("id")).eq(id));
    txn.execute(&q).await?;
    Ok(())
}
