//! One pytest-monitor measurement of one test item in one session.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "monitor_metrics")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub session_id: i64,
    pub context_id: i64,
    /// The session's hash, copied from it (hashes never change): pages read one table.
    pub session_h: String,
    /// The context's hash, copied likewise.
    pub context_h: String,
    /// Kept verbatim: the legacy API echoes the client's string.
    pub item_start_time: String,
    /// Parsed from `item_start_time` when it is ISO 8601, for time-window filters.
    pub item_start_at: Option<DateTime>,
    pub item_path: String,
    pub item: String,
    pub item_variant: String,
    pub item_fs_loc: String,
    pub kind: String,
    pub component: Option<String>,
    pub total_time: f64,
    pub user_time: f64,
    pub kernel_time: f64,
    pub cpu_usage: f64,
    pub mem_usage: f64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
