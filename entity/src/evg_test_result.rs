//! One test file's result in one execution of an Evergreen task.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "evg_test_results")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub task_id: i64,
    pub execution: i32,
    pub test_file: String,
    /// pass, fail or skip.
    pub status: String,
    pub url: String,
    pub log_id: String,
    pub line_num: i32,
    pub exit_code: i32,
    /// Seconds since the epoch.
    pub start_s: f64,
    pub end_s: f64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
