//! An XPRESSO request item: one run of one profile (on its testbeds or topology), numbered within
//! its request (`REQ0000426-1`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "xpr_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The request's `id` (deleting the request deletes its items).
    pub request_id: i64,
    /// 1-based, within the request.
    pub position: i32,
    /// PREPARING, QUEUED, RUNNING, FINALIZING, FINISHED, FAILED or STOPPED.
    pub state: String,
    pub priority: i32,
    /// What it runs, copied from the profile at submission, so that later catalog changes leave
    /// history alone: a JSON object (profile, job, engine, harness instances, options, env,
    /// submitted testbeds, topology).
    pub spec: String,
    /// The testbed the runner chose, `{"name", "uuid"}`, once chosen.
    pub selected_testbed: Option<String>,
    pub max_runtime_seconds: i64,
    pub max_clean_runtime_seconds: i64,
    pub start_time: Option<DateTime>,
    pub completion_time: Option<DateTime>,
    /// `{"reason", "user", "time"}` once stopped, `{}` otherwise.
    pub stop_requested: String,
    pub error_detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
