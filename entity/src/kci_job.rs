//! A KernelCI job: one kernel (a `git describe`) of one tree (`job`) on one branch, made when
//! its first build is reported, as KernelCI's importer made it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "kci_jobs")]
pub struct Model {
    /// Insertion order: MongoDB's natural order, and the tie-breaker of every sort.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The 24-hex ObjectId-like `_id` the legacy API shows.
    #[sea_orm(unique)]
    pub oid: String,
    /// The tree's name.
    pub job: String,
    /// The kernel's `git describe`.
    pub kernel: String,
    pub git_branch: String,
    pub git_commit: Option<String>,
    pub git_describe: Option<String>,
    pub git_describe_v: Option<String>,
    pub git_url: Option<String>,
    pub kernel_version: Option<String>,
    pub compiler: Option<String>,
    pub compiler_version: Option<String>,
    pub compiler_version_ext: Option<String>,
    pub compiler_version_full: Option<String>,
    pub cross_compile: Option<String>,
    pub private: bool,
    /// BUILD, FAIL, PASS or UNKNOWN.
    pub status: String,
    /// Millisecond precision, as MongoDB stored it.
    pub created_on: DateTime,
    /// The schema version of the document ("1.1").
    pub version: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
