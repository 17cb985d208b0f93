//! An XPRESSO request: one submission of a profile or a bundle by a group's member, with its
//! items; its state is derived from theirs.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "xpr_requests")]
pub struct Model {
    /// The request number: `REQ0000426` is 426. The database hands it out, so replicas sharing
    /// one database never make the same.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The request's UUID, also its share key.
    #[sea_orm(unique)]
    pub uuid: String,
    pub group_name: String,
    /// The job's name (a profile request) or the bundle's.
    pub name: String,
    /// How it was submitted: `API`.
    pub source: String,
    /// The authenticated user who submitted it.
    pub submitter: String,
    /// Whom it was submitted for (`submitted_for`), else the submitter.
    pub username: String,
    pub description: Option<String>,
    /// A JSON array of strings.
    pub tags: String,
    pub branch: String,
    /// PREPARING, QUEUED, RUNNING, FINALIZING, FINISHED, FAILED or STOPPED.
    pub state: String,
    pub verdict: Option<String>,
    /// A JSON array of addresses.
    pub interest_list: String,
    pub compare_baseline: bool,
    pub is_baseline: bool,
    pub clean: bool,
    pub max_request_runtime_seconds: i64,
    /// A JSON object (the API shows it as a string).
    pub meta: String,
    /// The profile's UUID (a profile request).
    pub profile_uuid: Option<String>,
    /// The bundle's UUID (a bundle request).
    pub bundle_uuid: Option<String>,
    /// Who stopped it, when and why: a JSON object, `{}` when not stopped.
    pub stop_requested: String,
    pub date_created: DateTime,
    pub date_completed: Option<DateTime>,
    /// The secret its runner reports with (`Jwt <token>` in the API).
    #[sea_orm(unique)]
    pub postback_token: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
