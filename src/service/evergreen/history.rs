//! A task's history across a project's most recent versions.

use entity::evg_task as tsk;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::model::{NUM_RECENT_VERSIONS, Project, Task, TestResult, Version, status};
use super::projects::{variant_tasks, variants_for_projects};
use super::tasks::test_results_for_tasks;
use super::versions::recent_versions;
use crate::error::AppResult;

/// What `GET /tasks/{name}/history?project=P` reports.
pub struct TaskHistory {
    /// The newest commit versions, order descending.
    pub versions: Vec<Version>,
    /// Tasks of that name in those versions, in variants that run the task.
    pub tasks: Vec<Task>,
    /// Failed test results of the failed tasks among them.
    pub failed: Vec<(Task, Vec<TestResult>)>,
    /// True when the project has no older versions than those listed.
    pub exhausted_before: bool,
}

pub async fn task_history(
    db: &impl ConnectionTrait,
    project: &Project,
    task_name: &str,
) -> AppResult<TaskHistory> {
    let versions = recent_versions(db, project.id, NUM_RECENT_VERSIONS + 1).await?;
    let exhausted_before = versions.len() as u64 <= NUM_RECENT_VERSIONS;
    let versions: Vec<Version> = versions
        .into_iter()
        .take(NUM_RECENT_VERSIONS as usize)
        .collect();
    let variants: Vec<String> = variants_for_projects(db, &[project.id])
        .await?
        .remove(&project.id)
        .unwrap_or_default()
        .into_iter()
        .filter(|v| variant_tasks(v).iter().any(|t| t == task_name))
        .map(|v| v.name)
        .collect();
    let version_ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
    let tasks = if variants.is_empty() || version_ids.is_empty() {
        Vec::new()
    } else {
        tsk::Entity::find()
            .filter(tsk::Column::VersionId.is_in(version_ids))
            .filter(tsk::Column::DisplayName.eq(task_name))
            .filter(tsk::Column::Variant.is_in(variants))
            .order_by_asc(tsk::Column::VersionId)
            .order_by_asc(tsk::Column::Variant)
            .all(db)
            .await?
    };
    let failed_tasks: Vec<&Task> = tasks
        .iter()
        .filter(|t| t.status == status::FAILED)
        .collect();
    let mut failed = Vec::new();
    if !failed_tasks.is_empty() {
        let keys: Vec<(i64, i32)> = failed_tasks.iter().map(|t| (t.id, t.execution)).collect();
        let mut results = test_results_for_tasks(db, &keys, Some("fail")).await?;
        for t in failed_tasks {
            let fails = results.remove(&t.id).unwrap_or_default();
            failed.push((t.clone(), fails));
        }
    }
    Ok(TaskHistory {
        versions,
        tasks,
        failed,
        exhausted_before,
    })
}
