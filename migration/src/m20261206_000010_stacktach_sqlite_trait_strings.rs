//! StackTach's trait filters on SQLite. SQLite has no index on the values of arbitrary JSON keys
//! (PostgreSQL answers the filters from the GIN indexes of migration 000008), so a filter read
//! and parsed every event's traits or every stream's distinguishing traits. On SQLite the string
//! traits are also written, at ingestion, as rows `(name, value, event_id)` and
//! `(name, value, stream_id)` keyed in that order (winchester's `trait` and `dist_trait` tables
//! index `t_string` / `dt_string` the same way): a filter is then an index range. Numbers, times
//! and ranges never match a trait filter, so only strings are kept. The rows already stored are
//! copied in. Nothing is made on PostgreSQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, owner column, owner table, JSON column of the owner).
const TABLES: [(&str, &str, &str, &str); 2] = [
    ("stt_event_strings", "event_id", "stt_events", "traits"),
    (
        "stt_stream_strings",
        "stream_id",
        "stt_streams",
        "dist_traits",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        for (table, owner, owner_table, json) in TABLES {
            // WITHOUT ROWID: the key is the row, so each string is stored once, in key order.
            db.execute_unprepared(&format!(
                "CREATE TABLE {table} (\
                   name TEXT NOT NULL, \
                   value TEXT NOT NULL, \
                   {owner} INTEGER NOT NULL REFERENCES {owner_table} (id) ON DELETE CASCADE, \
                   PRIMARY KEY (name, value, {owner})\
                 ) WITHOUT ROWID"
            ))
            .await?;
            // Deleting a stream (or an event) finds its strings through this index.
            db.execute_unprepared(&format!(
                "CREATE INDEX ix_{table}_{owner} ON {table} ({owner})"
            ))
            .await?;
            db.execute_unprepared(&format!(
                "INSERT OR IGNORE INTO {table} (name, value, {owner}) \
                 SELECT j.key, j.value, o.id FROM {owner_table} AS o, json_each(o.{json}) AS j \
                 WHERE j.type = 'text'"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        for (table, _, _, _) in TABLES {
            db.execute_unprepared(&format!("DROP TABLE IF EXISTS {table}"))
                .await?;
        }
        Ok(())
    }
}
