//! Evergreen's domain: projects and their build variants, versions, builds, tasks, test results and
//! artifacts. Ingestion creates versions the way Evergreen's repotracker did (one build per
//! variant, one task per variant task, Evergreen's id formats and per-project order) and moves
//! tasks through their lifecycle, deriving build and version status and `time_taken` in the same
//! transaction as the change, as Evergreen's `UpdateBuildAndVersionStatusForTask` did.
//!
//! This file is the table of contents: each concern is a module of its own, and everything public
//! is re-exported here, so callers name `service::evergreen::X` whatever file holds it.

mod children;
mod history;
mod lifecycle;
mod model;
mod positional;
mod projects;
mod tasks;
mod versions;

pub use children::{
    ChildFilter, artifacts_page, child_cursor, children_page, count_artifacts, count_children,
};
pub use history::{TaskHistory, task_history};
pub use lifecycle::{
    add_artifacts, add_test_results, dispatch_task, finish_task, heartbeat_task, start_task,
};
pub use model::{
    Artifact, Build, GITTER_REQUEST, MAX_BATCH, MAX_FILES_PER_TASK, MAX_RESULTS_PER_TASK,
    MAX_TASKS, MAX_VARIANTS, NUM_RECENT_VERSIONS, NewArtifact, NewTestResult, NewVersion, Project,
    ProjectInput, Task, TaskDef, TaskEnd, TestResult, Variant, VariantDef, Version, build_id,
    clean_name, status, task_id, version_id,
};
pub use projects::{
    count_projects, list_projects, project_by_identifier, project_tasks, projects_by_ids,
    upsert_project, variant_tasks, variants_for_projects,
};
pub use tasks::{
    Parent, TaskFilter, TaskSummary, artifacts_for_tasks, build_by_id, builds_by_ids,
    builds_for_versions, count_tasks, list_tasks, task_by_id, task_depends_on, tasks_by_task_ids,
    tasks_for_builds, tasks_for_version, test_results_for_tasks,
};
pub use versions::{
    VersionFilter, count_versions, create_version, list_versions, recent_versions,
    set_version_activated, version_by_id, version_by_revision, version_cursor, versions_by_ids,
};
