//! pytest-monitor's data: execution contexts, sessions (with their description tags) and metrics.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MonitorContexts {
    Table,
    Id,
    H,
    CpuCount,
    CpuFrequency,
    CpuType,
    CpuVendor,
    RamTotal,
    MachineNode,
    MachineType,
    MachineArch,
    SystemInfo,
    PythonInfo,
}

#[derive(DeriveIden)]
enum MonitorSessions {
    Table,
    Id,
    H,
    RunDate,
    RunAt,
    ScmRef,
    Description,
}

#[derive(DeriveIden)]
enum MonitorSessionTags {
    Table,
    SessionId,
    Position,
    Name,
    Value,
}

#[derive(DeriveIden)]
enum MonitorMetrics {
    Table,
    Id,
    SessionId,
    ContextId,
    ItemStartTime,
    ItemStartAt,
    ItemPath,
    Item,
    ItemVariant,
    ItemFsLoc,
    Kind,
    Component,
    TotalTime,
    UserTime,
    KernelTime,
    CpuUsage,
    MemUsage,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MonitorContexts::Table)
                    .col(
                        ColumnDef::new(MonitorContexts::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(MonitorContexts::H)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(MonitorContexts::CpuCount)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MonitorContexts::CpuFrequency)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(MonitorContexts::CpuType).text().not_null())
                    .col(ColumnDef::new(MonitorContexts::CpuVendor).text().not_null())
                    .col(
                        ColumnDef::new(MonitorContexts::RamTotal)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MonitorContexts::MachineNode)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MonitorContexts::MachineType)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MonitorContexts::MachineArch)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MonitorContexts::SystemInfo)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MonitorContexts::PythonInfo)
                            .text()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MonitorSessions::Table)
                    .col(
                        ColumnDef::new(MonitorSessions::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(MonitorSessions::H)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    // The ISO 8601 text as the legacy API returns it, and the same instant as a
                    // timestamp for ordering and time-window filters.
                    .col(
                        ColumnDef::new(MonitorSessions::RunDate)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MonitorSessions::RunAt)
                            .timestamp()
                            .not_null(),
                    )
                    .col(ColumnDef::new(MonitorSessions::ScmRef).text().null())
                    // JSON text, not a json/jsonb column: PostgreSQL's jsonb reorders keys, and the
                    // legacy `tags` list must come back in the order the client sent.
                    .col(
                        ColumnDef::new(MonitorSessions::Description)
                            .text()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_monitor_sessions_run_at")
                    .table(MonitorSessions::Table)
                    .col(MonitorSessions::RunAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_monitor_sessions_scm_ref")
                    .table(MonitorSessions::Table)
                    .col(MonitorSessions::ScmRef)
                    .to_owned(),
            )
            .await?;

        // One row per description key: tag filters, pipelines and builds are plain indexed joins
        // on both backends instead of JSON functions that differ between SQLite and PostgreSQL.
        manager
            .create_table(
                Table::create()
                    .table(MonitorSessionTags::Table)
                    .col(
                        ColumnDef::new(MonitorSessionTags::SessionId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MonitorSessionTags::Position)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(MonitorSessionTags::Name).text().not_null())
                    .col(ColumnDef::new(MonitorSessionTags::Value).text().not_null())
                    .primary_key(
                        Index::create()
                            .col(MonitorSessionTags::SessionId)
                            .col(MonitorSessionTags::Position),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MonitorSessionTags::Table, MonitorSessionTags::SessionId)
                            .to(MonitorSessions::Table, MonitorSessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_monitor_session_tags_name_value")
                    .table(MonitorSessionTags::Table)
                    .col(MonitorSessionTags::Name)
                    .col(MonitorSessionTags::Value)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MonitorMetrics::Table)
                    .col(
                        ColumnDef::new(MonitorMetrics::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(MonitorMetrics::SessionId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MonitorMetrics::ContextId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MonitorMetrics::ItemStartTime)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(MonitorMetrics::ItemStartAt)
                            .timestamp()
                            .null(),
                    )
                    .col(ColumnDef::new(MonitorMetrics::ItemPath).text().not_null())
                    .col(ColumnDef::new(MonitorMetrics::Item).text().not_null())
                    .col(
                        ColumnDef::new(MonitorMetrics::ItemVariant)
                            .text()
                            .not_null(),
                    )
                    .col(ColumnDef::new(MonitorMetrics::ItemFsLoc).text().not_null())
                    .col(ColumnDef::new(MonitorMetrics::Kind).text().not_null())
                    .col(ColumnDef::new(MonitorMetrics::Component).text().null())
                    .col(
                        ColumnDef::new(MonitorMetrics::TotalTime)
                            .double()
                            .not_null(),
                    )
                    .col(ColumnDef::new(MonitorMetrics::UserTime).double().not_null())
                    .col(
                        ColumnDef::new(MonitorMetrics::KernelTime)
                            .double()
                            .not_null(),
                    )
                    .col(ColumnDef::new(MonitorMetrics::CpuUsage).double().not_null())
                    .col(ColumnDef::new(MonitorMetrics::MemUsage).double().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(MonitorMetrics::Table, MonitorMetrics::SessionId)
                            .to(MonitorSessions::Table, MonitorSessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MonitorMetrics::Table, MonitorMetrics::ContextId)
                            .to(MonitorContexts::Table, MonitorContexts::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_monitor_metrics_session", MonitorMetrics::SessionId),
            ("ix_monitor_metrics_context", MonitorMetrics::ContextId),
            ("ix_monitor_metrics_item", MonitorMetrics::Item),
            ("ix_monitor_metrics_variant", MonitorMetrics::ItemVariant),
            ("ix_monitor_metrics_kind", MonitorMetrics::Kind),
            ("ix_monitor_metrics_component", MonitorMetrics::Component),
        ] {
            // (parent, id) so that per-parent windows and keyset pages read the index in order.
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(MonitorMetrics::Table)
                        .col(col)
                        .col(MonitorMetrics::Id)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MonitorMetrics::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(MonitorSessionTags::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(MonitorSessions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(MonitorContexts::Table).to_owned())
            .await?;
        Ok(())
    }
}
