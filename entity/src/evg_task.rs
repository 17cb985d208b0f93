//! An Evergreen task: one task of one build.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "evg_tasks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub task_id: String,
    pub build_id: i64,
    pub version_id: i64,
    pub project_id: i64,
    pub position: i32,
    pub display_name: String,
    pub variant: String,
    pub distro: String,
    pub host_id: String,
    pub priority: i64,
    pub activated: bool,
    pub status: String,
    pub details_type: String,
    pub details_desc: String,
    pub timed_out: bool,
    pub aborted: bool,
    pub create_time: DateTime,
    pub scheduled_time: Option<DateTime>,
    pub dispatch_time: Option<DateTime>,
    pub start_time: Option<DateTime>,
    pub finish_time: Option<DateTime>,
    pub push_time: Option<DateTime>,
    pub last_heartbeat: Option<DateTime>,
    pub restarts: i32,
    pub execution: i32,
    pub archived: bool,
    pub time_taken_ns: i64,
    pub expected_duration_ns: i64,
    pub min_queue_pos: i32,
    /// JSON array of task ids.
    pub depends_on: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
