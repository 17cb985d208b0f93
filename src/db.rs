//! Opening the database (SQLite with WAL, foreign keys and a busy timeout, or PostgreSQL) and
//! applying migrations.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};

/// How many rows an SQLite connection's thread may step ahead of the task that reads them.
/// sqlx's default of 50 makes the thread stop, and both sides switch, every 50 rows: a third of
/// the nested tree's CPU (its last level has 5,000 rows) went to those hand-offs. testgraph reads
/// every answer whole and every statement is bounded by a page size or a `first` argument, so the
/// queue never holds more rows than the answer would anyway.
const SQLITE_ROW_BUFFER: usize = 4096;

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Opens a pool on `url` with no bound on a statement's time: the `migrate` and `token` commands,
/// and the migrations `serve` applies (`app::prepare`), which may rewrite whole tables.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, max_connections, None).await
}

/// Opens a pool on `url`. SQLite files are created when missing and tuned for a server: WAL so
/// readers never block the writer, enforced foreign keys, and a busy timeout instead of instant
/// `SQLITE_BUSY` errors under concurrent writes.
///
/// On PostgreSQL every connection gets `statement_timeout` (as a start-up parameter, no round
/// trip): a statement running longer is cancelled by the server with SQLSTATE 57014
/// (`query_canceled`), which `AppError` maps to a time-out. A pooler that refuses start-up
/// parameters (PgBouncer without `ignore_startup_parameters = options`) refuses the connection;
/// set the bound on the database role there instead. SQLite has no such bound: there, the request
/// time limit answers the client, and the statement runs on to its end on its connection's thread.
pub async fn connect_with(
    url: &str,
    max_connections: u32,
    statement_timeout: Option<Duration>,
) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(10))
        // sqlx pings a pooled connection on every checkout by default: one more round trip to
        // the database per statement (a tenth of a point lookup's CPU, and the database's
        // wake-up). Only a connection idle long enough to have been dropped by the server or a
        // firewall is pinged. The trade: a connection the server closed within that window fails
        // its next statement once, and sqlx then drops it from the pool.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        opts.map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .row_buffer_size(SQLITE_ROW_BUFFER)
        });
    }
    if let Some(limit) = statement_timeout.filter(|_| is_postgres(url)) {
        let ms = format!("{}ms", limit.as_millis().max(1));
        opts.map_sqlx_postgres_opts(move |o| o.options([("statement_timeout", ms.as_str())]));
    }
    Database::connect(opts).await
}

/// Applies every pending migration.
pub async fn migrate_up(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Names of migrations not yet applied.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    Ok(Migrator::get_pending_migrations(db)
        .await?
        .iter()
        .map(|m| m.name().to_owned())
        .collect())
}

/// One cheap round trip, for `/readyz`.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// Rolls back the last `steps` migrations.
///
/// Give it a pool of one connection, as `testgraph migrate` does, when the schema is rolled back
/// and forth in one process: an SQLite connection that sat idle while another changed the schema
/// prepares DDL against its cached schema, so re-creating what was dropped can fail with "already
/// exists".
pub async fn migrate_down(db: &DatabaseConnection, steps: u32) -> Result<(), DbErr> {
    Migrator::down(db, Some(steps)).await
}

/// Every migration with whether it is applied.
pub async fn migration_status(db: &DatabaseConnection) -> Result<Vec<(String, bool)>, DbErr> {
    use migration::MigrationStatus;
    Ok(Migrator::get_migration_with_status(db)
        .await?
        .iter()
        .map(|m| (m.name().to_owned(), m.status() == MigrationStatus::Applied))
        .collect())
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Statement};

    /// `.cargo/config.toml` compiles the bundled SQLite without its two global mutexes (see there);
    /// a build that lost the setting would be correct but slow, so it fails here instead.
    #[tokio::test]
    async fn the_bundled_sqlite_is_built_without_global_allocation_locks() {
        let db = super::connect("sqlite::memory:", 1).await.unwrap();
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "PRAGMA compile_options",
            ))
            .await
            .unwrap();
        let options: Vec<String> = rows
            .iter()
            .map(|r| r.try_get_by_index::<String>(0).unwrap())
            .collect();
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
    }
}
