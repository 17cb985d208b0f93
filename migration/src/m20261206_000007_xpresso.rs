//! XPRESSO's data: the catalog (testbeds, topologies, profiles, bundles), requests with their
//! items, and the items' results down to sections (`xpr_` tables); and the user a token acts for.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    UserName,
}

/// The catalog tables share their shape's head: id, uuid, group, name, created, updated.
#[derive(DeriveIden)]
enum Catalog {
    Id,
    Uuid,
    GroupName,
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum XprTestbeds {
    Table,
    Definition,
}

#[derive(DeriveIden)]
enum XprTopologies {
    Table,
    Definition,
}

#[derive(DeriveIden)]
enum XprProfiles {
    Table,
    Job,
    Harness,
    Engine,
    Testbeds,
    Topology,
    Options,
    Env,
    InterestList,
    MaxRuntimeSeconds,
    MaxCleanRuntimeSeconds,
    MaxRequestRuntimeSeconds,
    Priority,
}

#[derive(DeriveIden)]
enum XprBundles {
    Table,
    Entries,
}

#[derive(DeriveIden)]
enum XprRequests {
    Table,
    Id,
    Uuid,
    GroupName,
    Name,
    Source,
    Submitter,
    Username,
    Description,
    Tags,
    Branch,
    State,
    Verdict,
    InterestList,
    CompareBaseline,
    IsBaseline,
    Clean,
    MaxRequestRuntimeSeconds,
    Meta,
    ProfileUuid,
    BundleUuid,
    StopRequested,
    DateCreated,
    DateCompleted,
    PostbackToken,
}

#[derive(DeriveIden)]
enum XprItems {
    Table,
    Id,
    RequestId,
    Position,
    State,
    Priority,
    Spec,
    SelectedTestbed,
    MaxRuntimeSeconds,
    MaxCleanRuntimeSeconds,
    StartTime,
    CompletionTime,
    StopRequested,
    ErrorDetail,
}

#[derive(DeriveIden)]
enum XprResults {
    Table,
    Id,
    ItemId,
    Phase,
    State,
    StartTime,
    CompletionTime,
    ApplicableTasks,
    TotalTasks,
    Unknown,
    Abort,
    Fail,
    Pass,
    Block,
    Passx,
    Skip,
    Error,
    ResultsMeta,
}

#[derive(DeriveIden)]
enum XprScripts {
    Table,
    Id,
    ResultId,
    Position,
    TaskId,
    Name,
    Path,
    Summary,
}

#[derive(DeriveIden)]
enum XprSections {
    Table,
    Id,
    ScriptId,
    Position,
    Uuid,
    SectionId,
    ParentId,
    SequenceNumber,
    SectionName,
    SectionType,
    Result,
    SourceFile,
    SourceLine,
    RunTime,
    StartTime,
    StopTime,
    LogFile,
    LogStart,
    LogStartLine,
    LogSize,
    LogSizeLine,
    Description,
}

fn pk(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn text(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).text().not_null().to_owned()
}

fn text_null(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).text().null().to_owned()
}

fn string(c: impl IntoIden, len: u32) -> ColumnDef {
    ColumnDef::new(c).string_len(len).not_null().to_owned()
}

fn string_null(c: impl IntoIden, len: u32) -> ColumnDef {
    ColumnDef::new(c).string_len(len).null().to_owned()
}

fn big(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).big_integer().not_null().to_owned()
}

fn int(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).integer().not_null().to_owned()
}

fn boolean(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).boolean().not_null().to_owned()
}

fn time(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).timestamp().not_null().to_owned()
}

fn time_null(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).timestamp().null().to_owned()
}

fn cascade(from: (DynIden, DynIden), to: (DynIden, DynIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

async fn index(
    m: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: Vec<DynIden>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut i = Index::create();
    i.name(name).table(table);
    if unique {
        i.unique();
    }
    for c in cols {
        i.col(c);
    }
    m.create_index(i.to_owned()).await
}

/// A catalog table: the shared head, then its own columns; names are unique within a group.
async fn catalog(
    m: &SchemaManager<'_>,
    table: DynIden,
    prefix: &str,
    cols: Vec<ColumnDef>,
) -> Result<(), DbErr> {
    let mut t = Table::create();
    t.table(table.clone())
        .col(pk(Catalog::Id))
        .col(string(Catalog::Uuid, 36).unique_key().to_owned())
        .col(string(Catalog::GroupName, 200))
        .col(string(Catalog::Name, 255));
    for mut c in cols {
        t.col(&mut c);
    }
    t.col(time(Catalog::CreatedAt))
        .col(time(Catalog::UpdatedAt));
    m.create_table(t.to_owned()).await?;
    index(
        m,
        &format!("ux_{prefix}_group_name"),
        table,
        vec![Catalog::GroupName.into_iden(), Catalog::Name.into_iden()],
        true,
    )
    .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ApiTokens::Table)
                .add_column(
                    ColumnDef::new(ApiTokens::UserName)
                        .string_len(200)
                        .not_null()
                        .default(""),
                )
                .to_owned(),
        )
        .await?;

        catalog(
            m,
            XprTestbeds::Table.into_iden(),
            "xpr_testbeds",
            vec![text(XprTestbeds::Definition)],
        )
        .await?;
        catalog(
            m,
            XprTopologies::Table.into_iden(),
            "xpr_topologies",
            vec![text(XprTopologies::Definition)],
        )
        .await?;
        catalog(
            m,
            XprProfiles::Table.into_iden(),
            "xpr_profiles",
            vec![
                text(XprProfiles::Job),
                text(XprProfiles::Harness),
                text(XprProfiles::Engine),
                text(XprProfiles::Testbeds),
                string_null(XprProfiles::Topology, 36),
                text(XprProfiles::Options),
                text(XprProfiles::Env),
                text(XprProfiles::InterestList),
                big(XprProfiles::MaxRuntimeSeconds),
                big(XprProfiles::MaxCleanRuntimeSeconds),
                big(XprProfiles::MaxRequestRuntimeSeconds),
                int(XprProfiles::Priority),
            ],
        )
        .await?;
        catalog(
            m,
            XprBundles::Table.into_iden(),
            "xpr_bundles",
            vec![text(XprBundles::Entries)],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(XprRequests::Table)
                .col(pk(XprRequests::Id))
                .col(string(XprRequests::Uuid, 36).unique_key())
                .col(string(XprRequests::GroupName, 200))
                .col(string(XprRequests::Name, 255))
                .col(string(XprRequests::Source, 20))
                .col(string(XprRequests::Submitter, 200))
                .col(string(XprRequests::Username, 200))
                .col(text_null(XprRequests::Description))
                .col(text(XprRequests::Tags))
                .col(string(XprRequests::Branch, 255))
                .col(string(XprRequests::State, 20))
                .col(string_null(XprRequests::Verdict, 20))
                .col(text(XprRequests::InterestList))
                .col(boolean(XprRequests::CompareBaseline))
                .col(boolean(XprRequests::IsBaseline))
                .col(boolean(XprRequests::Clean))
                .col(big(XprRequests::MaxRequestRuntimeSeconds))
                .col(text(XprRequests::Meta))
                .col(string_null(XprRequests::ProfileUuid, 36))
                .col(string_null(XprRequests::BundleUuid, 36))
                .col(text(XprRequests::StopRequested))
                .col(time(XprRequests::DateCreated))
                .col(time_null(XprRequests::DateCompleted))
                .col(string(XprRequests::PostbackToken, 100).unique_key())
                .to_owned(),
        )
        .await?;
        // A group's requests, newest first: the list's one access path.
        index(
            m,
            "ix_xpr_requests_group_id",
            XprRequests::Table,
            vec![
                XprRequests::GroupName.into_iden(),
                XprRequests::Id.into_iden(),
            ],
            false,
        )
        .await?;
        index(
            m,
            "ix_xpr_requests_group_created",
            XprRequests::Table,
            vec![
                XprRequests::GroupName.into_iden(),
                XprRequests::DateCreated.into_iden(),
            ],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(XprItems::Table)
                .col(pk(XprItems::Id))
                .col(big(XprItems::RequestId))
                .col(int(XprItems::Position))
                .col(string(XprItems::State, 20))
                .col(int(XprItems::Priority))
                .col(text(XprItems::Spec))
                .col(text_null(XprItems::SelectedTestbed))
                .col(big(XprItems::MaxRuntimeSeconds))
                .col(big(XprItems::MaxCleanRuntimeSeconds))
                .col(time_null(XprItems::StartTime))
                .col(time_null(XprItems::CompletionTime))
                .col(text(XprItems::StopRequested))
                .col(text_null(XprItems::ErrorDetail))
                .foreign_key(&mut cascade(
                    (XprItems::Table.into_iden(), XprItems::RequestId.into_iden()),
                    (XprRequests::Table.into_iden(), XprRequests::Id.into_iden()),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_xpr_items_request_position",
            XprItems::Table,
            vec![
                XprItems::RequestId.into_iden(),
                XprItems::Position.into_iden(),
            ],
            true,
        )
        .await?;

        let mut results = Table::create();
        results
            .table(XprResults::Table)
            .col(pk(XprResults::Id))
            .col(big(XprResults::ItemId))
            .col(string(XprResults::Phase, 10))
            .col(string_null(XprResults::State, 20))
            .col(time_null(XprResults::StartTime))
            .col(time_null(XprResults::CompletionTime));
        for c in [
            XprResults::ApplicableTasks,
            XprResults::TotalTasks,
            XprResults::Unknown,
            XprResults::Abort,
            XprResults::Fail,
            XprResults::Pass,
            XprResults::Block,
            XprResults::Passx,
            XprResults::Skip,
            XprResults::Error,
        ] {
            results.col(big(c));
        }
        results
            .col(text(XprResults::ResultsMeta))
            .foreign_key(&mut cascade(
                (
                    XprResults::Table.into_iden(),
                    XprResults::ItemId.into_iden(),
                ),
                (XprItems::Table.into_iden(), XprItems::Id.into_iden()),
            ));
        m.create_table(results.to_owned()).await?;
        index(
            m,
            "ux_xpr_results_item_phase",
            XprResults::Table,
            vec![
                XprResults::ItemId.into_iden(),
                XprResults::Phase.into_iden(),
            ],
            true,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(XprScripts::Table)
                .col(pk(XprScripts::Id))
                .col(big(XprScripts::ResultId))
                .col(int(XprScripts::Position))
                .col(string(XprScripts::TaskId, 255))
                .col(string(XprScripts::Name, 255))
                .col(text(XprScripts::Path))
                .col(text(XprScripts::Summary))
                .foreign_key(&mut cascade(
                    (
                        XprScripts::Table.into_iden(),
                        XprScripts::ResultId.into_iden(),
                    ),
                    (XprResults::Table.into_iden(), XprResults::Id.into_iden()),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_xpr_scripts_result",
            XprScripts::Table,
            vec![
                XprScripts::ResultId.into_iden(),
                XprScripts::Position.into_iden(),
            ],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(XprSections::Table)
                .col(pk(XprSections::Id))
                .col(big(XprSections::ScriptId))
                .col(int(XprSections::Position))
                .col(string(XprSections::Uuid, 36))
                .col(string(XprSections::SectionId, 255))
                .col(string_null(XprSections::ParentId, 255))
                .col(big(XprSections::SequenceNumber))
                .col(string(XprSections::SectionName, 255))
                .col(string(XprSections::SectionType, 50))
                .col(string(XprSections::Result, 20))
                .col(text(XprSections::SourceFile))
                .col(big(XprSections::SourceLine))
                .col(string(XprSections::RunTime, 30))
                .col(time_null(XprSections::StartTime))
                .col(time_null(XprSections::StopTime))
                .col(text(XprSections::LogFile))
                .col(big(XprSections::LogStart))
                .col(big(XprSections::LogStartLine))
                .col(big(XprSections::LogSize))
                .col(big(XprSections::LogSizeLine))
                .col(text(XprSections::Description))
                .foreign_key(&mut cascade(
                    (
                        XprSections::Table.into_iden(),
                        XprSections::ScriptId.into_iden(),
                    ),
                    (XprScripts::Table.into_iden(), XprScripts::Id.into_iden()),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_xpr_sections_script",
            XprSections::Table,
            vec![
                XprSections::ScriptId.into_iden(),
                XprSections::Position.into_iden(),
            ],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            XprSections::Table.into_iden(),
            XprScripts::Table.into_iden(),
            XprResults::Table.into_iden(),
            XprItems::Table.into_iden(),
            XprRequests::Table.into_iden(),
            XprBundles::Table.into_iden(),
            XprProfiles::Table.into_iden(),
            XprTopologies::Table.into_iden(),
            XprTestbeds::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        m.alter_table(
            Table::alter()
                .table(ApiTokens::Table)
                .drop_column(ApiTokens::UserName)
                .to_owned(),
        )
        .await
    }
}
