//! An Evergreen project: its repository, settings and task definitions.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "evg_projects")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub identifier: String,
    pub display_name: String,
    pub owner_name: String,
    pub repo_name: String,
    pub branch_name: String,
    pub repo_kind: String,
    /// Minutes between activations of new versions (0: activate at once).
    pub batch_time: i64,
    pub remote: bool,
    pub remote_path: String,
    pub enabled: bool,
    pub private: bool,
    /// JSON array of task definitions `{"name", "depends_on": [task names]}`.
    pub tasks: String,
    /// Last `order` handed to a version of this project.
    pub last_order: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
