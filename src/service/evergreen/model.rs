//! Evergreen's vocabulary: the limits, the status words, the row types, what callers send
//! (inputs), Evergreen's id formats and its millisecond times.

use chrono::{NaiveDateTime, Utc};
use entity::{
    evg_artifact as art, evg_build as bld, evg_project as prj, evg_task as tsk,
    evg_test_result as res, evg_variant as var, evg_version as ver,
};

/// The requester of versions made from commits (patches use another and never show here).
pub const GITTER_REQUEST: &str = "gitter_request";
/// How many versions `recent_versions` and the task history look at.
pub const NUM_RECENT_VERSIONS: u64 = 10;
/// Most variants per project and tasks per variant accepted.
pub const MAX_VARIANTS: usize = 500;
pub const MAX_TASKS: usize = 1_000;
/// Most test results or artifacts in one call.
pub const MAX_BATCH: usize = 50_000;
/// Most test results one task holds. `GET /rest/v1/tasks/<id>` lists them all, as Evergreen did,
/// so this bounds that answer (about 200 bytes a result); Evergreen's largest suites report tens
/// of thousands.
pub const MAX_RESULTS_PER_TASK: u64 = 100_000;
/// Most artifact files one task holds (the same answer lists them all).
pub const MAX_FILES_PER_TASK: u64 = 10_000;

pub mod status {
    pub const CREATED: &str = "created";
    pub const STARTED: &str = "started";
    pub const SUCCESS: &str = "success";
    pub const FAILED: &str = "failed";
    pub const UNDISPATCHED: &str = "undispatched";
    pub const DISPATCHED: &str = "dispatched";
}

pub type Project = prj::Model;
pub type Variant = var::Model;
pub type Version = ver::Model;
pub type Build = bld::Model;
pub type Task = tsk::Model;
pub type TestResult = res::Model;
pub type Artifact = art::Model;

// ----------------------------------------------------------------------------------------------
// Inputs
// ----------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TaskDef {
    pub name: String,
    #[serde(default)]
    pub depends_on: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VariantDef {
    pub name: String,
    pub display_name: String,
    pub tasks: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProjectInput {
    pub identifier: String,
    pub display_name: String,
    pub owner_name: String,
    pub repo_name: String,
    pub branch_name: String,
    pub repo_kind: String,
    pub batch_time: i64,
    pub remote: bool,
    pub remote_path: String,
    pub enabled: bool,
    pub private: bool,
    pub tasks: Vec<TaskDef>,
    pub variants: Vec<VariantDef>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewVersion {
    pub project: String,
    pub revision: String,
    pub author: String,
    pub author_email: String,
    pub message: String,
    /// Defaults to now.
    pub create_time: Option<NaiveDateTime>,
    /// Defaults to activated when the project's batch time is 0.
    pub activated: Option<bool>,
    /// Defaults to `gitter_request`.
    pub requester: Option<String>,
}

/// How a task ended, as Evergreen's agent reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskEnd {
    /// `success` or `failed`.
    pub status: String,
    /// The failing command's type (e.g. "test", "setup").
    pub kind: String,
    /// The failing stage's description (`timeout_stage` in the REST shape).
    pub desc: String,
    pub timed_out: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewTestResult {
    pub test_file: String,
    /// pass, fail or skip.
    pub status: String,
    pub url: String,
    pub log_id: String,
    pub line_num: i32,
    pub exit_code: i32,
    pub start_s: f64,
    pub end_s: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewArtifact {
    pub name: String,
    pub url: String,
}

// ----------------------------------------------------------------------------------------------
// Ids
// ----------------------------------------------------------------------------------------------

/// Evergreen's `util.CleanName`: every character that is not an ASCII letter or digit becomes `_`.
pub fn clean_name(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

pub fn version_id(identifier: &str, revision: &str) -> String {
    clean_name(&format!("{identifier}_{revision}"))
}

pub fn build_id(identifier: &str, variant: &str, revision: &str, created: NaiveDateTime) -> String {
    clean_name(&format!(
        "{identifier}_{variant}_{revision}_{}",
        created.format("%y_%m_%d_%H_%M_%S")
    ))
}

/// As in seed 001's examples: the build id, the task name and the variant.
pub fn task_id(build_id: &str, task: &str, variant: &str) -> String {
    clean_name(&format!("{build_id}_{task}_{variant}"))
}

pub(super) fn now() -> NaiveDateTime {
    // Evergreen stores times at millisecond precision.
    let t = Utc::now().naive_utc();
    truncate_ms(t)
}

pub(super) fn truncate_ms(t: NaiveDateTime) -> NaiveDateTime {
    use chrono::Timelike;
    t.with_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(t)
}

pub(super) fn nanos_between(start: Option<NaiveDateTime>, end: NaiveDateTime) -> i64 {
    start
        .map(|s| std::cmp::max((end - s).num_nanoseconds().unwrap_or(i64::MAX), 0))
        .unwrap_or(0)
}
