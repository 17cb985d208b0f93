//! Metrics carry their session's and context's hash, as the legacy server's `TEST_METRICS` rows
//! did. A page of metrics is then read from one table: joining the two parent tables row by row
//! was more than half of PostgreSQL's time for a page of 100, and more the deeper the page. Hashes
//! never change once stored (sessions and contexts are create-only), so the copies cannot go stale.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MonitorMetrics {
    Table,
    SessionH,
    ContextH,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER TABLE: SQLite adds no more at a time. The default only serves the
        // rows already stored, which the UPDATE below fills in.
        for col in [MonitorMetrics::SessionH, MonitorMetrics::ContextH] {
            manager
                .alter_table(
                    Table::alter()
                        .table(MonitorMetrics::Table)
                        .add_column(ColumnDef::new(col).string_len(64).not_null().default(""))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE monitor_metrics SET \
                 session_h = (SELECT h FROM monitor_sessions s WHERE s.id = monitor_metrics.session_id), \
                 context_h = (SELECT h FROM monitor_contexts c WHERE c.id = monitor_metrics.context_id)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [MonitorMetrics::SessionH, MonitorMetrics::ContextH] {
            manager
                .alter_table(
                    Table::alter()
                        .table(MonitorMetrics::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
