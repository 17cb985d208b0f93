//! The results of one phase (`run` or `clean`) of an XPRESSO item: its state, times, summary
//! counters and the results archive's metadata.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "xpr_results")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub item_id: i64,
    /// `run` or `clean`.
    pub phase: String,
    /// The phase's outcome as the runner reported it (e.g. `FINISHED`, `FAILED`).
    pub state: Option<String>,
    pub start_time: Option<DateTime>,
    pub completion_time: Option<DateTime>,
    pub applicable_tasks: i64,
    pub total_tasks: i64,
    pub unknown: i64,
    pub abort: i64,
    pub fail: i64,
    pub pass: i64,
    pub block: i64,
    pub passx: i64,
    pub skip: i64,
    pub error: i64,
    /// The results archive's metadata, a JSON object (`results_meta`).
    pub results_meta: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
