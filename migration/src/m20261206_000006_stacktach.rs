//! StackTach.v3's data: events with their traits, streams, and the links between them (`stt_`
//! tables).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SttEvents {
    Table,
    Id,
    MessageId,
    EventType,
    Generated,
    /// JSON object of the traits, in the API's form.
    Traits,
}

#[derive(DeriveIden)]
enum SttStreams {
    Table,
    Id,
    Name,
    State,
    StateSerialNo,
    FirstEvent,
    LastEvent,
    ExpireTimestamp,
    FireTimestamp,
    /// JSON object of the distinguishing traits, keys sorted.
    DistTraits,
    EventCount,
    /// JSON array: per fire criterion, how many of the stream's events met it.
    FireHits,
}

#[derive(DeriveIden)]
enum SttStreamEvents {
    Table,
    StreamId,
    EventId,
}

fn pk(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn time(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).timestamp().not_null().to_owned()
}

fn time_null(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).timestamp().null().to_owned()
}

async fn index(
    m: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: Vec<DynIden>,
) -> Result<(), DbErr> {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(c);
    }
    m.create_index(i.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SttEvents::Table)
                .col(pk(SttEvents::Id))
                .col(
                    ColumnDef::new(SttEvents::MessageId)
                        .string_len(100)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(SttEvents::EventType)
                        .string_len(255)
                        .not_null(),
                )
                .col(time(SttEvents::Generated))
                .col(ColumnDef::new(SttEvents::Traits).text().not_null())
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_stt_events_type",
            SttEvents::Table,
            vec![SttEvents::EventType.into_iden()],
        )
        .await?;
        index(
            m,
            "ix_stt_events_generated",
            SttEvents::Table,
            vec![SttEvents::Generated.into_iden()],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SttStreams::Table)
                .col(pk(SttStreams::Id))
                .col(ColumnDef::new(SttStreams::Name).string_len(255).not_null())
                .col(ColumnDef::new(SttStreams::State).small_integer().not_null())
                .col(
                    ColumnDef::new(SttStreams::StateSerialNo)
                        .integer()
                        .not_null(),
                )
                .col(time(SttStreams::FirstEvent))
                .col(time(SttStreams::LastEvent))
                .col(time_null(SttStreams::ExpireTimestamp))
                .col(time_null(SttStreams::FireTimestamp))
                .col(ColumnDef::new(SttStreams::DistTraits).text().not_null())
                .col(ColumnDef::new(SttStreams::EventCount).integer().not_null())
                .col(ColumnDef::new(SttStreams::FireHits).text().not_null())
                .to_owned(),
        )
        .await?;
        // A new event's stream is found by trigger and distinguishing traits among active ones.
        index(
            m,
            "ix_stt_streams_name_traits",
            SttStreams::Table,
            vec![
                SttStreams::Name.into_iden(),
                SttStreams::DistTraits.into_iden(),
            ],
        )
        .await?;
        // The worker's two passes.
        index(
            m,
            "ix_stt_streams_state_fire",
            SttStreams::Table,
            vec![
                SttStreams::State.into_iden(),
                SttStreams::FireTimestamp.into_iden(),
            ],
        )
        .await?;
        index(
            m,
            "ix_stt_streams_state_expire",
            SttStreams::Table,
            vec![
                SttStreams::State.into_iden(),
                SttStreams::ExpireTimestamp.into_iden(),
            ],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SttStreamEvents::Table)
                .col(
                    ColumnDef::new(SttStreamEvents::StreamId)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(SttStreamEvents::EventId)
                        .big_integer()
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(SttStreamEvents::StreamId)
                        .col(SttStreamEvents::EventId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(SttStreamEvents::Table, SttStreamEvents::StreamId)
                        .to(SttStreams::Table, SttStreams::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(SttStreamEvents::Table, SttStreamEvents::EventId)
                        .to(SttEvents::Table, SttEvents::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_stt_stream_events_event",
            SttStreamEvents::Table,
            vec![SttStreamEvents::EventId.into_iden()],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            SttStreamEvents::Table.into_iden(),
            SttStreams::Table.into_iden(),
            SttEvents::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
