//! The Evergreen mutation root: projects, versions and the task lifecycle (the work of
//! Evergreen's repotracker and agents).

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::inputs::{
    EvergreenProjectInput, EvergreenTestResultInput, NewEvergreenVersionInput, TaskArtifactInput,
};
use super::nodes::{ProjectNode, TaskNode, VersionNode};
use crate::graphql::context::{GqlResultExt, require, state};
use crate::graphql::time::naive;
use crate::service::evergreen::{
    self as svc, NewArtifact, NewTestResult, NewVersion, ProjectInput, TaskDef, TaskEnd, VariantDef,
};
use crate::service::tokens::Scope;

#[derive(SimpleObject)]
pub struct EvergreenInsertPayload {
    /// Number of rows stored (all of the batch, or none on error).
    pub inserted: u64,
}

#[derive(Default)]
pub struct EvergreenMutation;

#[Object]
impl EvergreenMutation {
    /// Registers a project or replaces its settings, task definitions and variants. Variants keep
    /// their build counters; variants no longer listed are removed (their builds stay).
    async fn upsert_evergreen_project(
        &self,
        ctx: &Context<'_>,
        input: EvergreenProjectInput,
    ) -> Result<ProjectNode> {
        require(ctx, Scope::Write)?;
        let new = ProjectInput {
            display_name: input
                .display_name
                .unwrap_or_else(|| input.identifier.clone()),
            identifier: input.identifier,
            owner_name: input.owner_name,
            repo_name: input.repo_name,
            branch_name: input.branch_name,
            repo_kind: input.repo_kind,
            batch_time: input.batch_time,
            remote: input.remote,
            remote_path: input.remote_path,
            enabled: input.enabled,
            private: input.private,
            tasks: input
                .tasks
                .into_iter()
                .map(|t| TaskDef {
                    name: t.name,
                    depends_on: t.depends_on,
                })
                .collect(),
            variants: input
                .variants
                .into_iter()
                .map(|v| VariantDef {
                    display_name: v.display_name.unwrap_or_else(|| v.name.clone()),
                    name: v.name,
                    tasks: v.tasks,
                })
                .collect(),
        };
        svc::upsert_project(&state(ctx)?.db, new)
            .await
            .map(ProjectNode)
            .gql()
    }

    /// Creates the version of a revision with one build per variant and one task per variant
    /// task, as Evergreen's repotracker did. CONFLICT when the revision already has a version.
    async fn create_evergreen_version(
        &self,
        ctx: &Context<'_>,
        input: NewEvergreenVersionInput,
    ) -> Result<VersionNode> {
        require(ctx, Scope::Write)?;
        let new = NewVersion {
            project: input.project,
            revision: input.revision,
            author: input.author,
            author_email: input.author_email,
            message: input.message,
            create_time: naive(input.create_time),
            activated: input.activated,
            requester: input.requester,
        };
        svc::create_version(&state(ctx)?.db, new)
            .await
            .map(VersionNode::new)
            .gql()
    }

    /// Activates or deactivates a version, its builds, and those of its tasks not yet dispatched.
    async fn set_evergreen_version_activated(
        &self,
        ctx: &Context<'_>,
        id: String,
        activated: bool,
    ) -> Result<VersionNode> {
        require(ctx, Scope::Write)?;
        svc::set_version_activated(&state(ctx)?.db, &id, activated)
            .await
            .map(VersionNode::new)
            .gql()
    }

    /// Hands an activated, undispatched task to a host. `at` defaults to now.
    async fn dispatch_evergreen_task(
        &self,
        ctx: &Context<'_>,
        id: String,
        host_id: String,
        #[graphql(default)] distro: String,
        at: Option<DateTime<Utc>>,
    ) -> Result<TaskNode> {
        require(ctx, Scope::Write)?;
        svc::dispatch_task(&state(ctx)?.db, &id, &host_id, &distro, naive(at))
            .await
            .map(TaskNode::new)
            .gql()
    }

    /// Marks a dispatched task started, and its build and version if they were not.
    async fn start_evergreen_task(
        &self,
        ctx: &Context<'_>,
        id: String,
        at: Option<DateTime<Utc>>,
    ) -> Result<TaskNode> {
        require(ctx, Scope::Write)?;
        svc::start_task(&state(ctx)?.db, &id, naive(at))
            .await
            .map(TaskNode::new)
            .gql()
    }

    /// Records a heartbeat from a started task.
    async fn heartbeat_evergreen_task(
        &self,
        ctx: &Context<'_>,
        id: String,
        at: Option<DateTime<Utc>>,
    ) -> Result<TaskNode> {
        require(ctx, Scope::Write)?;
        svc::heartbeat_task(&state(ctx)?.db, &id, naive(at))
            .await
            .map(TaskNode::new)
            .gql()
    }

    /// Finishes a started task with `success` or `failed`, and derives its build's and version's
    /// status and times: a failed task fails its build at once; a build finishes when all its
    /// tasks have, a version when all its builds have.
    #[allow(clippy::too_many_arguments)]
    async fn finish_evergreen_task(
        &self,
        ctx: &Context<'_>,
        id: String,
        status: String,
        #[graphql(default)] details_type: String,
        #[graphql(default)] details_desc: String,
        #[graphql(default)] timed_out: bool,
        at: Option<DateTime<Utc>>,
    ) -> Result<TaskNode> {
        require(ctx, Scope::Write)?;
        let end = TaskEnd {
            status,
            kind: details_type,
            desc: details_desc,
            timed_out,
        };
        svc::finish_task(&state(ctx)?.db, &id, end, naive(at))
            .await
            .map(TaskNode::new)
            .gql()
    }

    /// Attaches test results to a task's current execution, all or none: at most 50,000 a call,
    /// and a task holds at most 100,000.
    async fn add_evergreen_test_results(
        &self,
        ctx: &Context<'_>,
        task_id: String,
        results: Vec<EvergreenTestResultInput>,
    ) -> Result<EvergreenInsertPayload> {
        require(ctx, Scope::Write)?;
        let batch = results.into_iter().map(NewTestResult::from).collect();
        let inserted = svc::add_test_results(&state(ctx)?.db, &task_id, batch)
            .await
            .gql()?;
        Ok(EvergreenInsertPayload { inserted })
    }

    /// Attaches artifact files to a task, all or none; a task holds at most 10,000.
    async fn add_evergreen_artifacts(
        &self,
        ctx: &Context<'_>,
        task_id: String,
        files: Vec<TaskArtifactInput>,
    ) -> Result<EvergreenInsertPayload> {
        require(ctx, Scope::Write)?;
        let batch = files
            .into_iter()
            .map(|f| NewArtifact {
                name: f.name,
                url: f.url,
            })
            .collect();
        let inserted = svc::add_artifacts(&state(ctx)?.db, &task_id, batch)
            .await
            .gql()?;
        Ok(EvergreenInsertPayload { inserted })
    }
}
