//! The Evergreen inputs: filters and orders of the lists, and what the mutations take.

use async_graphql::InputObject;
use chrono::{DateTime, Utc};

use crate::graphql::connection::SortDirection;
use crate::service::evergreen::{ChildFilter, NewTestResult};

/// Conditions on the items of a nested list.
#[derive(InputObject, Default, Clone)]
pub struct EvergreenStatusFilter {
    /// Builds and tasks: created, undispatched, dispatched, started, success, failed.
    /// Test results: pass, fail, skip.
    pub status: Option<String>,
}

impl EvergreenStatusFilter {
    pub(super) fn into_filter(self) -> ChildFilter {
        ChildFilter {
            status: self.status,
        }
    }
}

#[derive(InputObject, Default)]
pub struct EvergreenVersionFilter {
    /// Project identifier.
    pub project: Option<String>,
    /// Full revision hash.
    pub revision: Option<String>,
    /// created, started, success or failed.
    pub status: Option<String>,
    /// `gitter_request` for commits.
    pub requester: Option<String>,
    /// Versions created at or after this instant.
    pub created_from: Option<DateTime<Utc>>,
    /// Versions created before this instant.
    pub created_to: Option<DateTime<Utc>>,
}

/// Versions are ordered by their per-project `order` (then insertion).
#[derive(InputObject, Clone, Copy)]
pub struct EvergreenVersionOrder {
    /// Newest first unless told otherwise.
    #[graphql(default_with = "SortDirection::Desc")]
    pub direction: SortDirection,
}

impl Default for EvergreenVersionOrder {
    fn default() -> Self {
        EvergreenVersionOrder {
            direction: SortDirection::Desc,
        }
    }
}

#[derive(InputObject, Default)]
pub struct EvergreenTaskFilter {
    /// Project identifier.
    pub project: Option<String>,
    /// Build variant name.
    pub variant: Option<String>,
    /// Task display name.
    pub name: Option<String>,
    pub status: Option<String>,
    /// Full revision hash of the task's version.
    pub revision: Option<String>,
}

#[derive(InputObject)]
#[graphql(name = "EvergreenTaskDefinitionInput")]
pub struct TaskDefinitionInput {
    pub name: String,
    /// Names of tasks this one waits for (in the same build).
    #[graphql(default)]
    pub depends_on: Vec<String>,
}

#[derive(InputObject)]
#[graphql(name = "EvergreenBuildVariantInput")]
pub struct BuildVariantInput {
    pub name: String,
    /// Defaults to the name.
    pub display_name: Option<String>,
    /// Names of defined tasks the variant runs, in order.
    pub tasks: Vec<String>,
}

#[derive(InputObject)]
pub struct EvergreenProjectInput {
    pub identifier: String,
    /// Defaults to the identifier.
    pub display_name: Option<String>,
    #[graphql(default)]
    pub owner_name: String,
    #[graphql(default)]
    pub repo_name: String,
    #[graphql(default)]
    pub branch_name: String,
    #[graphql(default_with = "\"github\".to_owned()")]
    pub repo_kind: String,
    /// Minutes between activations of new versions; 0 activates them at once.
    #[graphql(default)]
    pub batch_time: i64,
    #[graphql(default)]
    pub remote: bool,
    #[graphql(default)]
    pub remote_path: String,
    #[graphql(default = true)]
    pub enabled: bool,
    #[graphql(default)]
    pub private: bool,
    #[graphql(default)]
    pub tasks: Vec<TaskDefinitionInput>,
    #[graphql(default)]
    pub variants: Vec<BuildVariantInput>,
}

#[derive(InputObject)]
#[graphql(name = "EvergreenVersionInput")]
pub struct NewEvergreenVersionInput {
    /// Project identifier.
    pub project: String,
    /// Full revision hash.
    pub revision: String,
    #[graphql(default)]
    pub author: String,
    #[graphql(default)]
    pub author_email: String,
    #[graphql(default)]
    pub message: String,
    /// Defaults to now. Build and task ids embed it (to the second).
    pub create_time: Option<DateTime<Utc>>,
    /// Defaults to activated when the project's batch time is 0.
    pub activated: Option<bool>,
    /// Defaults to `gitter_request`.
    pub requester: Option<String>,
}

// Also the row of `POST /bulk/v1/evergreen/test_results` (`rest::bulk`): serde reads it with the
// same names and defaults, so both doors take the same fields.
/// One test result; also a row of `POST /bulk/v1/evergreen/test_results`.
#[derive(InputObject, serde::Deserialize)]
#[serde(
    rename_all = "camelCase",
    deny_unknown_fields,
    expecting = "an EvergreenTestResultInput object"
)]
pub struct EvergreenTestResultInput {
    pub test_file: String,
    /// pass, fail or skip.
    pub status: String,
    /// The log's URL.
    #[graphql(default)]
    #[serde(default)]
    pub url: String,
    #[graphql(default)]
    #[serde(default)]
    pub log_id: String,
    #[graphql(default)]
    #[serde(default)]
    pub line_num: i32,
    #[graphql(default)]
    #[serde(default)]
    pub exit_code: i32,
    /// Start in seconds since the epoch.
    pub start: f64,
    /// End in seconds since the epoch, not before the start.
    pub end: f64,
}

impl From<EvergreenTestResultInput> for NewTestResult {
    fn from(r: EvergreenTestResultInput) -> Self {
        NewTestResult {
            test_file: r.test_file,
            status: r.status,
            url: r.url,
            log_id: r.log_id,
            line_num: r.line_num,
            exit_code: r.exit_code,
            start_s: r.start,
            end_s: r.end,
        }
    }
}

#[derive(InputObject)]
#[graphql(name = "EvergreenArtifactInput")]
pub struct TaskArtifactInput {
    pub name: String,
    pub url: String,
}
