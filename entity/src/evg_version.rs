//! An Evergreen version: one revision of a project.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "evg_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Evergreen's id: `<identifier>_<revision>`, non-alphanumerics as `_`.
    #[sea_orm(unique)]
    pub version_id: String,
    pub project_id: i64,
    pub revision: String,
    pub author: String,
    pub author_email: String,
    pub message: String,
    pub status: String,
    pub activated: bool,
    pub create_time: DateTime,
    pub start_time: Option<DateTime>,
    pub finish_time: Option<DateTime>,
    pub order_num: i64,
    pub requester: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
