//! An XPRESSO profile: a saved, runnable job definition (job file, harness, engine, default
//! testbeds or topology, options, environment, limits, priority). A request names one, and its
//! item is made from it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "xpr_profiles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub uuid: String,
    pub group_name: String,
    pub name: String,
    /// The job file: `{"name", "path", "uuid"}` as a JSON object.
    pub job: String,
    /// The harness instance that runs it, a JSON object in the API's `harness_instances` form.
    pub harness: String,
    /// The execution engine, `{"name", "type", "uuid"}`.
    pub engine: String,
    /// The default testbeds, a JSON array of testbed UUIDs (candidates for the run).
    pub testbeds: String,
    /// The default topology's UUID, when the profile runs on a topology instead.
    pub topology: Option<String>,
    /// Harness and job options, a JSON object.
    pub options: String,
    /// Environment variables, a JSON object of strings.
    pub env: String,
    /// Who hears about the results, a JSON array of addresses.
    pub interest_list: String,
    pub max_runtime_seconds: i64,
    pub max_clean_runtime_seconds: i64,
    pub max_request_runtime_seconds: i64,
    pub priority: i32,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
