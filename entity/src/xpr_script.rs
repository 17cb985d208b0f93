//! One script (a pyATS task) of an XPRESSO item's phase results.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "xpr_scripts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The phase result's `id` (replacing a phase's results deletes its scripts).
    pub result_id: i64,
    /// 0-based order within the phase.
    pub position: i32,
    pub task_id: String,
    pub name: String,
    pub path: String,
    /// The script's counters, a JSON object in the API's `summary` form.
    pub summary: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
