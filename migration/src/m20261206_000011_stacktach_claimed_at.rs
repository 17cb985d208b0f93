//! When the pipeline worker claimed a stream (`firing` or `expiring`): a claim older than the
//! lease belongs to a worker that stopped (killed, or cut off from the database) before ending
//! the stream, and is handed back as `retry_fire` / `retry_expire`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SttStreams {
    Table,
    ClaimedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(SttStreams::Table)
                .add_column(ColumnDef::new(SttStreams::ClaimedAt).timestamp().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(SttStreams::Table)
                .drop_column(SttStreams::ClaimedAt)
                .to_owned(),
        )
        .await
    }
}
