//! StackTach's trait filters on PostgreSQL: a GIN index (`jsonb_path_ops`) on the events' traits
//! and on the streams' distinguishing traits, as jsonb, which answers the filters' containment
//! test (`traits @> {"name": "value"}`) instead of reading every row. SQLite has no index on
//! the values of arbitrary JSON keys: nothing is made there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str, &str); 2] = [
    ("ix_stt_events_traits_gin", "stt_events", "traits"),
    (
        "ix_stt_streams_dist_traits_gin",
        "stt_streams",
        "dist_traits",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        for (name, table, column) in INDEXES {
            db.execute_unprepared(&format!(
                "CREATE INDEX {name} ON {table} USING gin ((CAST({column} AS jsonb)) jsonb_path_ops)"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        for (name, _, _) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
        }
        Ok(())
    }
}
