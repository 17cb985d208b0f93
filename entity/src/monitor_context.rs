//! A pytest-monitor execution context: the machine a session ran on, keyed by the client's hash.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "monitor_contexts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub h: String,
    pub cpu_count: i64,
    pub cpu_frequency: i64,
    pub cpu_type: String,
    pub cpu_vendor: String,
    pub ram_total: i64,
    pub machine_node: String,
    pub machine_type: String,
    pub machine_arch: String,
    pub system_info: String,
    pub python_info: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
