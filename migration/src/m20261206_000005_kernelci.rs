//! KernelCI's data: jobs, their builds and their build-log summaries (`kci_` tables).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum KciJobs {
    Table,
    Id,
    Oid,
    Job,
    Kernel,
    GitBranch,
    GitCommit,
    GitDescribe,
    GitDescribeV,
    GitUrl,
    KernelVersion,
    Compiler,
    CompilerVersion,
    CompilerVersionExt,
    CompilerVersionFull,
    CrossCompile,
    Private,
    Status,
    CreatedOn,
    Version,
}

#[derive(DeriveIden)]
enum KciBuilds {
    Table,
    Id,
    Oid,
    JobId,
    Job,
    Kernel,
    GitBranch,
    Arch,
    Defconfig,
    DefconfigFull,
    BuildEnvironment,
    Status,
    BuildTime,
    Errors,
    Warnings,
    CreatedOn,
}

#[derive(DeriveIden)]
enum KciLogSummaries {
    Table,
    Id,
    Oid,
    JobId,
    JobOid,
    Job,
    Kernel,
    GitBranch,
    CreatedOn,
    /// JSON `[[count, line], ...]`.
    Errors,
    Warnings,
    Mismatches,
    Version,
}

fn pk(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn oid(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c)
        .string_len(24)
        .not_null()
        .unique_key()
        .to_owned()
}

fn name(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).string_len(400).not_null().to_owned()
}

fn name_null(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).text().null().to_owned()
}

fn text(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).text().not_null().to_owned()
}

fn created(c: impl IntoIden) -> ColumnDef {
    ColumnDef::new(c).timestamp().not_null().to_owned()
}

fn cascade_to_job(from: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(KciJobs::Table, KciJobs::Id)
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
                .table(KciJobs::Table)
                .col(pk(KciJobs::Id))
                .col(oid(KciJobs::Oid))
                .col(name(KciJobs::Job))
                .col(name(KciJobs::Kernel))
                .col(name(KciJobs::GitBranch))
                .col(name_null(KciJobs::GitCommit))
                .col(name_null(KciJobs::GitDescribe))
                .col(name_null(KciJobs::GitDescribeV))
                .col(name_null(KciJobs::GitUrl))
                .col(name_null(KciJobs::KernelVersion))
                .col(name_null(KciJobs::Compiler))
                .col(name_null(KciJobs::CompilerVersion))
                .col(name_null(KciJobs::CompilerVersionExt))
                .col(name_null(KciJobs::CompilerVersionFull))
                .col(name_null(KciJobs::CrossCompile))
                .col(ColumnDef::new(KciJobs::Private).boolean().not_null())
                .col(ColumnDef::new(KciJobs::Status).string_len(16).not_null())
                .col(created(KciJobs::CreatedOn))
                .col(ColumnDef::new(KciJobs::Version).string_len(16).not_null())
                .to_owned(),
        )
        .await?;
        // The importer's get-or-create key, and the lists' usual filters and sorts.
        index(
            m,
            "ux_kci_jobs_job_kernel_branch",
            KciJobs::Table,
            vec![
                KciJobs::Job.into_iden(),
                KciJobs::Kernel.into_iden(),
                KciJobs::GitBranch.into_iden(),
            ],
            true,
        )
        .await?;
        index(
            m,
            "ix_kci_jobs_created_on",
            KciJobs::Table,
            vec![KciJobs::CreatedOn.into_iden()],
            false,
        )
        .await?;
        index(
            m,
            "ix_kci_jobs_job_created_on",
            KciJobs::Table,
            vec![KciJobs::Job.into_iden(), KciJobs::CreatedOn.into_iden()],
            false,
        )
        .await?;
        index(
            m,
            "ix_kci_jobs_kernel",
            KciJobs::Table,
            vec![KciJobs::Kernel.into_iden()],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(KciBuilds::Table)
                .col(pk(KciBuilds::Id))
                .col(oid(KciBuilds::Oid))
                .col(ColumnDef::new(KciBuilds::JobId).big_integer().not_null())
                .col(name(KciBuilds::Job))
                .col(name(KciBuilds::Kernel))
                .col(name(KciBuilds::GitBranch))
                .col(name(KciBuilds::Arch))
                .col(name(KciBuilds::Defconfig))
                .col(name(KciBuilds::DefconfigFull))
                .col(name(KciBuilds::BuildEnvironment))
                .col(ColumnDef::new(KciBuilds::Status).string_len(16).not_null())
                .col(ColumnDef::new(KciBuilds::BuildTime).double().null())
                .col(ColumnDef::new(KciBuilds::Errors).integer().not_null())
                .col(ColumnDef::new(KciBuilds::Warnings).integer().not_null())
                .col(created(KciBuilds::CreatedOn))
                .foreign_key(&mut cascade_to_job((KciBuilds::Table, KciBuilds::JobId)))
                .to_owned(),
        )
        .await?;
        // One build per configuration of a job; also the index a job's builds are read by.
        index(
            m,
            "ux_kci_builds_job_config",
            KciBuilds::Table,
            vec![
                KciBuilds::JobId.into_iden(),
                KciBuilds::Arch.into_iden(),
                KciBuilds::DefconfigFull.into_iden(),
                KciBuilds::BuildEnvironment.into_iden(),
            ],
            true,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(KciLogSummaries::Table)
                .col(pk(KciLogSummaries::Id))
                .col(oid(KciLogSummaries::Oid))
                .col(
                    ColumnDef::new(KciLogSummaries::JobId)
                        .big_integer()
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(KciLogSummaries::JobOid)
                        .string_len(24)
                        .not_null(),
                )
                .col(name(KciLogSummaries::Job))
                .col(name(KciLogSummaries::Kernel))
                .col(name(KciLogSummaries::GitBranch))
                .col(created(KciLogSummaries::CreatedOn))
                .col(text(KciLogSummaries::Errors))
                .col(text(KciLogSummaries::Warnings))
                .col(text(KciLogSummaries::Mismatches))
                .col(
                    ColumnDef::new(KciLogSummaries::Version)
                        .string_len(16)
                        .not_null(),
                )
                .foreign_key(&mut cascade_to_job((
                    KciLogSummaries::Table,
                    KciLogSummaries::JobId,
                )))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_kci_log_summaries_created_on",
            KciLogSummaries::Table,
            vec![KciLogSummaries::CreatedOn.into_iden()],
            false,
        )
        .await?;
        index(
            m,
            "ix_kci_log_summaries_job_oid",
            KciLogSummaries::Table,
            vec![KciLogSummaries::JobOid.into_iden()],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            KciLogSummaries::Table.into_iden(),
            KciBuilds::Table.into_iden(),
            KciJobs::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
