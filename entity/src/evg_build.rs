//! An Evergreen build: one variant of one version.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "evg_builds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub build_id: String,
    pub version_id: i64,
    pub project_id: i64,
    pub position: i32,
    pub variant: String,
    pub display_name: String,
    pub build_number: String,
    pub status: String,
    pub activated: bool,
    pub activated_time: Option<DateTime>,
    pub create_time: DateTime,
    pub start_time: Option<DateTime>,
    pub finish_time: Option<DateTime>,
    pub push_time: Option<DateTime>,
    pub time_taken_ns: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
