//! Evergreen's data: projects with their build variants, versions, builds, tasks, test results and
//! task artifact files.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EvgProjects {
    Table,
    Id,
    Identifier,
    DisplayName,
    OwnerName,
    RepoName,
    BranchName,
    RepoKind,
    BatchTime,
    Remote,
    RemotePath,
    Enabled,
    Private,
    /// Task definitions: JSON array of {"name", "depends_on": [names]}.
    Tasks,
    /// Last `order` handed to a version of this project.
    LastOrder,
}

#[derive(DeriveIden)]
enum EvgVariants {
    Table,
    Id,
    ProjectId,
    Position,
    Name,
    DisplayName,
    /// JSON array of the task names this variant runs, in order.
    Tasks,
    /// Last build number handed to a build of this variant.
    LastBuildNumber,
}

#[derive(DeriveIden)]
enum EvgVersions {
    Table,
    Id,
    VersionId,
    ProjectId,
    Revision,
    Author,
    AuthorEmail,
    Message,
    Status,
    Activated,
    CreateTime,
    StartTime,
    FinishTime,
    OrderNum,
    Requester,
}

#[derive(DeriveIden)]
enum EvgBuilds {
    Table,
    Id,
    BuildId,
    VersionId,
    ProjectId,
    Position,
    Variant,
    DisplayName,
    BuildNumber,
    Status,
    Activated,
    ActivatedTime,
    CreateTime,
    StartTime,
    FinishTime,
    PushTime,
    TimeTakenNs,
}

#[derive(DeriveIden)]
enum EvgTasks {
    Table,
    Id,
    TaskId,
    BuildId,
    VersionId,
    ProjectId,
    Position,
    DisplayName,
    Variant,
    Distro,
    HostId,
    Priority,
    Activated,
    Status,
    DetailsType,
    DetailsDesc,
    TimedOut,
    Aborted,
    CreateTime,
    ScheduledTime,
    DispatchTime,
    StartTime,
    FinishTime,
    PushTime,
    LastHeartbeat,
    Restarts,
    Execution,
    Archived,
    TimeTakenNs,
    ExpectedDurationNs,
    MinQueuePos,
    /// JSON array of task ids.
    DependsOn,
}

#[derive(DeriveIden)]
enum EvgTestResults {
    Table,
    Id,
    TaskId,
    Execution,
    TestFile,
    Status,
    Url,
    LogId,
    LineNum,
    ExitCode,
    StartS,
    EndS,
}

#[derive(DeriveIden)]
enum EvgArtifacts {
    Table,
    Id,
    TaskId,
    Name,
    Url,
}

fn pk(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn fk(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).big_integer().not_null().to_owned()
}

fn text(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).text().not_null().to_owned()
}

fn flag(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).boolean().not_null().to_owned()
}

fn time_null(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).timestamp().null().to_owned()
}

fn cascade(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
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
    for c in cols {
        i.col(c);
    }
    if unique {
        i.unique();
    }
    m.create_index(i.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(EvgProjects::Table)
                .col(pk(EvgProjects::Id))
                .col(
                    ColumnDef::new(EvgProjects::Identifier)
                        .string_len(200)
                        .not_null()
                        .unique_key(),
                )
                .col(text(EvgProjects::DisplayName))
                .col(text(EvgProjects::OwnerName))
                .col(text(EvgProjects::RepoName))
                .col(text(EvgProjects::BranchName))
                .col(text(EvgProjects::RepoKind))
                .col(
                    ColumnDef::new(EvgProjects::BatchTime)
                        .big_integer()
                        .not_null(),
                )
                .col(flag(EvgProjects::Remote))
                .col(text(EvgProjects::RemotePath))
                .col(flag(EvgProjects::Enabled))
                .col(flag(EvgProjects::Private))
                .col(text(EvgProjects::Tasks))
                .col(
                    ColumnDef::new(EvgProjects::LastOrder)
                        .big_integer()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(EvgVariants::Table)
                .col(pk(EvgVariants::Id))
                .col(fk(EvgVariants::ProjectId))
                .col(ColumnDef::new(EvgVariants::Position).integer().not_null())
                .col(ColumnDef::new(EvgVariants::Name).string_len(200).not_null())
                .col(text(EvgVariants::DisplayName))
                .col(text(EvgVariants::Tasks))
                .col(
                    ColumnDef::new(EvgVariants::LastBuildNumber)
                        .big_integer()
                        .not_null(),
                )
                .foreign_key(&mut cascade(
                    (EvgVariants::Table, EvgVariants::ProjectId),
                    (EvgProjects::Table, EvgProjects::Id),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_evg_variants_project_name",
            EvgVariants::Table,
            vec![
                EvgVariants::ProjectId.into_iden(),
                EvgVariants::Name.into_iden(),
            ],
            true,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(EvgVersions::Table)
                .col(pk(EvgVersions::Id))
                .col(
                    ColumnDef::new(EvgVersions::VersionId)
                        .string_len(400)
                        .not_null()
                        .unique_key(),
                )
                .col(fk(EvgVersions::ProjectId))
                .col(
                    ColumnDef::new(EvgVersions::Revision)
                        .string_len(200)
                        .not_null(),
                )
                .col(text(EvgVersions::Author))
                .col(text(EvgVersions::AuthorEmail))
                .col(text(EvgVersions::Message))
                .col(
                    ColumnDef::new(EvgVersions::Status)
                        .string_len(32)
                        .not_null(),
                )
                .col(flag(EvgVersions::Activated))
                .col(
                    ColumnDef::new(EvgVersions::CreateTime)
                        .timestamp()
                        .not_null(),
                )
                .col(time_null(EvgVersions::StartTime))
                .col(time_null(EvgVersions::FinishTime))
                .col(
                    ColumnDef::new(EvgVersions::OrderNum)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(EvgVersions::Requester)
                        .string_len(64)
                        .not_null(),
                )
                .foreign_key(&mut cascade(
                    (EvgVersions::Table, EvgVersions::ProjectId),
                    (EvgProjects::Table, EvgProjects::Id),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_evg_versions_project_revision",
            EvgVersions::Table,
            vec![
                EvgVersions::ProjectId.into_iden(),
                EvgVersions::Revision.into_iden(),
            ],
            true,
        )
        .await?;
        index(
            m,
            "ix_evg_versions_project_order",
            EvgVersions::Table,
            vec![
                EvgVersions::ProjectId.into_iden(),
                EvgVersions::OrderNum.into_iden(),
            ],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(EvgBuilds::Table)
                .col(pk(EvgBuilds::Id))
                .col(
                    ColumnDef::new(EvgBuilds::BuildId)
                        .string_len(400)
                        .not_null()
                        .unique_key(),
                )
                .col(fk(EvgBuilds::VersionId))
                .col(fk(EvgBuilds::ProjectId))
                .col(ColumnDef::new(EvgBuilds::Position).integer().not_null())
                .col(
                    ColumnDef::new(EvgBuilds::Variant)
                        .string_len(200)
                        .not_null(),
                )
                .col(text(EvgBuilds::DisplayName))
                .col(text(EvgBuilds::BuildNumber))
                .col(ColumnDef::new(EvgBuilds::Status).string_len(32).not_null())
                .col(flag(EvgBuilds::Activated))
                .col(time_null(EvgBuilds::ActivatedTime))
                .col(ColumnDef::new(EvgBuilds::CreateTime).timestamp().not_null())
                .col(time_null(EvgBuilds::StartTime))
                .col(time_null(EvgBuilds::FinishTime))
                .col(time_null(EvgBuilds::PushTime))
                .col(
                    ColumnDef::new(EvgBuilds::TimeTakenNs)
                        .big_integer()
                        .not_null(),
                )
                .foreign_key(&mut cascade(
                    (EvgBuilds::Table, EvgBuilds::VersionId),
                    (EvgVersions::Table, EvgVersions::Id),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_evg_builds_version",
            EvgBuilds::Table,
            vec![
                EvgBuilds::VersionId.into_iden(),
                EvgBuilds::Position.into_iden(),
            ],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(EvgTasks::Table)
                .col(pk(EvgTasks::Id))
                .col(
                    ColumnDef::new(EvgTasks::TaskId)
                        .string_len(400)
                        .not_null()
                        .unique_key(),
                )
                .col(fk(EvgTasks::BuildId))
                .col(fk(EvgTasks::VersionId))
                .col(fk(EvgTasks::ProjectId))
                .col(ColumnDef::new(EvgTasks::Position).integer().not_null())
                .col(
                    ColumnDef::new(EvgTasks::DisplayName)
                        .string_len(200)
                        .not_null(),
                )
                .col(ColumnDef::new(EvgTasks::Variant).string_len(200).not_null())
                .col(text(EvgTasks::Distro))
                .col(text(EvgTasks::HostId))
                .col(ColumnDef::new(EvgTasks::Priority).big_integer().not_null())
                .col(flag(EvgTasks::Activated))
                .col(ColumnDef::new(EvgTasks::Status).string_len(32).not_null())
                .col(text(EvgTasks::DetailsType))
                .col(text(EvgTasks::DetailsDesc))
                .col(flag(EvgTasks::TimedOut))
                .col(flag(EvgTasks::Aborted))
                .col(ColumnDef::new(EvgTasks::CreateTime).timestamp().not_null())
                .col(time_null(EvgTasks::ScheduledTime))
                .col(time_null(EvgTasks::DispatchTime))
                .col(time_null(EvgTasks::StartTime))
                .col(time_null(EvgTasks::FinishTime))
                .col(time_null(EvgTasks::PushTime))
                .col(time_null(EvgTasks::LastHeartbeat))
                .col(ColumnDef::new(EvgTasks::Restarts).integer().not_null())
                .col(ColumnDef::new(EvgTasks::Execution).integer().not_null())
                .col(flag(EvgTasks::Archived))
                .col(
                    ColumnDef::new(EvgTasks::TimeTakenNs)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(EvgTasks::ExpectedDurationNs)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(EvgTasks::MinQueuePos).integer().not_null())
                .col(text(EvgTasks::DependsOn))
                .foreign_key(&mut cascade(
                    (EvgTasks::Table, EvgTasks::BuildId),
                    (EvgBuilds::Table, EvgBuilds::Id),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_evg_tasks_build",
            EvgTasks::Table,
            vec![
                EvgTasks::BuildId.into_iden(),
                EvgTasks::Position.into_iden(),
            ],
            false,
        )
        .await?;
        index(
            m,
            "ix_evg_tasks_version",
            EvgTasks::Table,
            vec![EvgTasks::VersionId.into_iden()],
            false,
        )
        .await?;
        index(
            m,
            "ix_evg_tasks_project_name",
            EvgTasks::Table,
            vec![
                EvgTasks::ProjectId.into_iden(),
                EvgTasks::DisplayName.into_iden(),
            ],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(EvgTestResults::Table)
                .col(pk(EvgTestResults::Id))
                .col(fk(EvgTestResults::TaskId))
                .col(
                    ColumnDef::new(EvgTestResults::Execution)
                        .integer()
                        .not_null(),
                )
                .col(text(EvgTestResults::TestFile))
                .col(
                    ColumnDef::new(EvgTestResults::Status)
                        .string_len(16)
                        .not_null(),
                )
                .col(text(EvgTestResults::Url))
                .col(text(EvgTestResults::LogId))
                .col(ColumnDef::new(EvgTestResults::LineNum).integer().not_null())
                .col(
                    ColumnDef::new(EvgTestResults::ExitCode)
                        .integer()
                        .not_null(),
                )
                .col(ColumnDef::new(EvgTestResults::StartS).double().not_null())
                .col(ColumnDef::new(EvgTestResults::EndS).double().not_null())
                .foreign_key(&mut cascade(
                    (EvgTestResults::Table, EvgTestResults::TaskId),
                    (EvgTasks::Table, EvgTasks::Id),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_evg_test_results_task",
            EvgTestResults::Table,
            vec![
                EvgTestResults::TaskId.into_iden(),
                EvgTestResults::Id.into_iden(),
            ],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(EvgArtifacts::Table)
                .col(pk(EvgArtifacts::Id))
                .col(fk(EvgArtifacts::TaskId))
                .col(text(EvgArtifacts::Name))
                .col(text(EvgArtifacts::Url))
                .foreign_key(&mut cascade(
                    (EvgArtifacts::Table, EvgArtifacts::TaskId),
                    (EvgTasks::Table, EvgTasks::Id),
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_evg_artifacts_task",
            EvgArtifacts::Table,
            vec![EvgArtifacts::TaskId.into_iden()],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            EvgArtifacts::Table.into_iden(),
            EvgTestResults::Table.into_iden(),
            EvgTasks::Table.into_iden(),
            EvgBuilds::Table.into_iden(),
            EvgVersions::Table.into_iden(),
            EvgVariants::Table.into_iden(),
            EvgProjects::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
