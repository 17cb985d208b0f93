//! The task history report: a task's results across a project's most recent versions.

use async_graphql::SimpleObject;

use super::nodes::{TaskNode, TestResultNode, VersionNode};
use crate::service::evergreen::{self as svc};

/// The tasks of one revision in a task history.
#[derive(SimpleObject)]
#[graphql(name = "EvergreenTaskHistoryRevision")]
pub struct TaskHistoryRevision {
    pub revision: String,
    /// The version's per-project order.
    pub order: i64,
    /// The task in each variant that runs it, by variant name.
    pub tasks: Vec<TaskNode>,
}

/// A failed task of a history and its failed tests.
#[derive(SimpleObject)]
#[graphql(name = "EvergreenTaskHistoryFailure")]
pub struct TaskHistoryFailure {
    pub task: TaskNode,
    pub tests: Vec<TestResultNode>,
}

/// How one task fared over a project's newest commit versions (Evergreen's task history).
#[derive(SimpleObject)]
#[graphql(name = "EvergreenTaskHistory")]
pub struct TaskHistoryNode {
    /// The newest commit versions (at most 10), newest first.
    pub versions: Vec<VersionNode>,
    /// The task's runs grouped by revision, newest first. Empty when no variant runs the task.
    pub tasks: Vec<TaskHistoryRevision>,
    /// The failed runs among them and their failed tests.
    pub failed_tests: Vec<TaskHistoryFailure>,
    /// True when the project has no versions older than those listed.
    pub exhausted_before: bool,
    /// Always true: the history starts at the newest version.
    pub exhausted_after: bool,
}

impl From<svc::TaskHistory> for TaskHistoryNode {
    fn from(h: svc::TaskHistory) -> Self {
        let mut groups: Vec<TaskHistoryRevision> = h
            .versions
            .iter()
            .map(|v| TaskHistoryRevision {
                revision: v.revision.clone(),
                order: v.order_num,
                tasks: Vec::new(),
            })
            .collect();
        let slot: std::collections::HashMap<i64, usize> = h
            .versions
            .iter()
            .enumerate()
            .map(|(i, v)| (v.id, i))
            .collect();
        for t in h.tasks {
            if let Some(&i) = slot.get(&t.version_id) {
                groups[i].tasks.push(TaskNode::new(t));
            }
        }
        groups.retain(|g| !g.tasks.is_empty());
        TaskHistoryNode {
            versions: h.versions.into_iter().map(VersionNode::new).collect(),
            tasks: groups,
            failed_tests: h
                .failed
                .into_iter()
                .map(|(t, tests)| TaskHistoryFailure {
                    task: TaskNode::new(t),
                    tests: tests.into_iter().map(TestResultNode::new).collect(),
                })
                .collect(),
            exhausted_before: h.exhausted_before,
            exhausted_after: true,
        }
    }
}
