//! A KernelCI build: one configuration (architecture, defconfig, build environment) of a job's
//! kernel, as a build lab reports it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "kci_builds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub oid: String,
    /// The job's `id` (deleting the job deletes its builds).
    pub job_id: i64,
    pub job: String,
    pub kernel: String,
    pub git_branch: String,
    pub arch: String,
    pub defconfig: String,
    /// The defconfig with its fragments (`defconfig+CONFIG_X=y`); the defconfig when none.
    pub defconfig_full: String,
    /// The toolchain the lab built with (`gcc-10`); empty when not reported.
    pub build_environment: String,
    /// PASS, FAIL or UNKNOWN.
    pub status: String,
    /// Seconds.
    pub build_time: Option<f64>,
    pub errors: i32,
    pub warnings: i32,
    pub created_on: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
