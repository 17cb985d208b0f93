//! A KernelCI build-log summary (the `errors_summary` collection): the error, warning and
//! mismatch lines of a job's build logs with how often each occurs; one per job.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "kci_log_summaries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub oid: String,
    /// The job's `id`, one summary per job.
    #[sea_orm(unique)]
    pub job_id: i64,
    /// The job's 24-hex id, which the legacy API shows and filters by as `job_id`.
    pub job_oid: String,
    pub job: String,
    pub kernel: String,
    pub git_branch: String,
    pub created_on: DateTime,
    /// JSON `[[count, line], ...]`, as the legacy API shows them.
    pub errors: String,
    pub warnings: String,
    pub mismatches: String,
    pub version: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
