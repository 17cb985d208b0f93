//! StackTach's `?trigger_name=` list: the newest streams of one trigger. The index on
//! `(name, dist_traits)` finds a trigger's streams but not in id order, so a list read all of a
//! trigger's streams and sorted them for the newest 200; on `(name, id)` it reads the 200.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SttStreams {
    Table,
    Id,
    Name,
}

const NAME: &str = "ix_stt_streams_name_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name(NAME)
                .table(SttStreams::Table)
                .col(SttStreams::Name)
                .col(SttStreams::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(NAME).table(SttStreams::Table).to_owned())
            .await
    }
}
