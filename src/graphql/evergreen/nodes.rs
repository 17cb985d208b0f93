//! The Evergreen object types (projects, variants, versions, builds, tasks, test results,
//! artifacts), their connections and the relations read through the request's loader.

use async_graphql::connection::Connection;
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::inputs::EvergreenStatusFilter;
use super::loaders::{
    ArtifactCountOf, ArtifactsOfTask, BuildsOfVersion, ChildCountOf, EvergreenLoader,
    EvergreenLoaders, EvgBuildId, EvgPage, EvgProjectId, EvgTaskKey, EvgVersionId, ResultsOfTask,
    TasksOfBuild, VariantsOfProject,
};
use crate::error::AppError;
use crate::graphql::connection::{Cursor, Total, list_complexity, nested};
use crate::graphql::context::{GqlResultExt, state};
use crate::graphql::onepass;
use crate::graphql::time::{epoch, seconds, utc, utc_opt};
use crate::service::KeyCursor;
use crate::service::evergreen::{
    self as svc, Artifact, Build, ChildFilter, Parent, Project, Task, TestResult, Variant, Version,
};

pub(super) fn loader<'a>(ctx: &Context<'a>) -> Result<&'a DataLoader<EvergreenLoader>> {
    Ok(ctx.data::<EvergreenLoaders>()?.as_ref())
}

// The connections of the Evergreen types, each with the lazy `totalCount` (`Total`).
pub type ProjectConnection = Connection<Cursor, ProjectNode, Total>;
pub type VersionConnection = Connection<Cursor, VersionNode, Total>;
pub type BuildConnection = Connection<Cursor, BuildNode, Total>;
pub type TaskConnection = Connection<Cursor, TaskNode, Total>;
pub type TestResultConnection = Connection<Cursor, TestResultNode, Total>;
pub type ArtifactConnection = Connection<Cursor, ArtifactNode, Total>;

/// The total of one parent's builds, tasks or test results, through the loader: one grouped
/// count for every parent of a level.
pub(super) fn child_total(ctx: &Context<'_>, key: ChildCountOf) -> Result<Total> {
    let loaders = ctx.data::<EvergreenLoaders>()?.clone();
    Ok(Total::new(async move {
        Ok(loaders.load_one(key).await.gql()?.unwrap_or(0))
    }))
}

/// The total of one task's artifacts, through the loader.
pub(super) fn artifact_total(ctx: &Context<'_>, id: i64) -> Result<Total> {
    let loaders = ctx.data::<EvergreenLoaders>()?.clone();
    Ok(Total::new(async move {
        Ok(loaders
            .load_one(ArtifactCountOf(id))
            .await
            .gql()?
            .unwrap_or(0))
    }))
}

/// One parent's page of children (`key` names the level), through `graphql::connection::nested`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn child_connection<K, T, N>(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    filter: ChildFilter,
    key: impl FnOnce(EvgPage) -> K,
    cursor: impl Fn(&T) -> KeyCursor,
    node: impl Fn(T) -> N,
    total: Total,
) -> Result<Connection<Cursor, N, Total>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    T: Send + Sync + Clone + 'static,
    EvergreenLoader: Loader<K, Value = Vec<T>, Error = std::sync::Arc<AppError>>,
    N: async_graphql::OutputType,
{
    let page = |limit, after| {
        key(EvgPage {
            limit,
            after,
            filter,
        })
    };
    nested(ctx, loader(ctx)?, first, after, page, cursor, node, total).await
}

/// A task a project defines, and the tasks it waits for.
#[derive(SimpleObject)]
#[graphql(name = "EvergreenTaskDefinition")]
pub struct TaskDefinition {
    pub name: String,
    pub depends_on: Vec<String>,
}

pub struct ProjectNode(pub Project);

/// An Evergreen project: a repository branch and the variants and tasks it builds.
#[Object(name = "EvergreenProject")]
impl ProjectNode {
    /// The project's identifier (what Evergreen's REST API calls the project id).
    async fn identifier(&self) -> &str {
        &self.0.identifier
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    async fn owner_name(&self) -> &str {
        &self.0.owner_name
    }
    async fn repo_name(&self) -> &str {
        &self.0.repo_name
    }
    async fn branch_name(&self) -> &str {
        &self.0.branch_name
    }
    async fn repo_kind(&self) -> &str {
        &self.0.repo_kind
    }
    /// Minutes between activations of new versions (0: versions are activated at once).
    async fn batch_time(&self) -> i64 {
        self.0.batch_time
    }
    async fn remote(&self) -> bool {
        self.0.remote
    }
    async fn remote_path(&self) -> &str {
        &self.0.remote_path
    }
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    async fn private(&self) -> bool {
        self.0.private
    }
    /// The `order` of the newest version.
    async fn last_order(&self) -> i64 {
        self.0.last_order
    }
    /// The task definitions.
    async fn tasks(&self) -> Vec<TaskDefinition> {
        svc::project_tasks(&self.0)
            .into_iter()
            .map(|t| TaskDefinition {
                name: t.name,
                depends_on: t.depends_on,
            })
            .collect()
    }
    /// The build variants, in the project's order (at most 500).
    async fn variants(&self, ctx: &Context<'_>) -> Result<Vec<VariantNode>> {
        let found = loader(ctx)?
            .load_one(VariantsOfProject(self.0.id))
            .await
            .gql()?;
        Ok(found
            .unwrap_or_default()
            .into_iter()
            .map(VariantNode)
            .collect())
    }
}

pub struct VariantNode(pub Variant);

/// A build variant: a platform or configuration every version is built for.
#[Object(name = "EvergreenBuildVariant")]
impl VariantNode {
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    /// The tasks this variant runs, in order.
    async fn tasks(&self) -> Vec<String> {
        svc::variant_tasks(&self.0)
    }
    /// The number of the variant's latest build.
    async fn last_build_number(&self) -> i64 {
        self.0.last_build_number
    }
}

pub struct VersionNode(pub Version);

/// One revision of a project.
#[Object(name = "EvergreenVersion")]
impl VersionNode {
    /// Evergreen's id: `<identifier>_<revision>`, non-alphanumerics as `_`.
    async fn id(&self) -> &str {
        &self.0.version_id
    }
    async fn project(&self, ctx: &Context<'_>) -> Result<ProjectNode> {
        project_of(ctx, self.0.project_id, "version", &self.0.version_id).await
    }
    async fn revision(&self) -> &str {
        &self.0.revision
    }
    async fn author(&self) -> &str {
        &self.0.author
    }
    async fn author_email(&self) -> &str {
        &self.0.author_email
    }
    async fn message(&self) -> &str {
        &self.0.message
    }
    /// created, started, success or failed.
    async fn status(&self) -> &str {
        &self.0.status
    }
    async fn activated(&self) -> bool {
        self.0.activated
    }
    async fn create_time(&self) -> DateTime<Utc> {
        utc(self.0.create_time)
    }
    async fn start_time(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.0.start_time)
    }
    async fn finish_time(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.0.finish_time)
    }
    /// The per-project revision order number (1, 2, 3...).
    async fn order(&self) -> i64 {
        self.0.order_num
    }
    /// `gitter_request` for versions made from commits.
    async fn requester(&self) -> &str {
        &self.0.requester
    }
    /// The version's builds, one per variant, in variant order.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn builds(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<EvergreenStatusFilter>,
    ) -> Result<BuildConnection> {
        let filter = filter.unwrap_or_default().into_filter();
        let id = self.0.id;
        child_connection(
            ctx,
            first,
            after,
            filter.clone(),
            |page| BuildsOfVersion { id, page },
            |b: &Build| svc::child_cursor(Some(i64::from(b.position)), b.id),
            BuildNode,
            child_total(
                ctx,
                ChildCountOf {
                    parent: Parent::VersionOfBuild,
                    id,
                    filter,
                },
            )?,
        )
        .await
    }
}

pub struct BuildNode(pub Build);

/// One variant of one version.
#[Object(name = "EvergreenBuild")]
impl BuildNode {
    /// Evergreen's id: `<project>_<variant>_<revision>_<yy_mm_dd_HH_MM_SS of the version's
    /// creation>`, non-alphanumerics as `_`.
    async fn id(&self) -> &str {
        &self.0.build_id
    }
    async fn version(&self, ctx: &Context<'_>) -> Result<VersionNode> {
        version_of(ctx, self.0.version_id, "build", &self.0.build_id).await
    }
    async fn project(&self, ctx: &Context<'_>) -> Result<ProjectNode> {
        project_of(ctx, self.0.project_id, "build", &self.0.build_id).await
    }
    /// The build variant's name.
    async fn variant(&self) -> &str {
        &self.0.variant
    }
    /// The build variant's display name.
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    /// The variant's build counter at creation, as a string as in Evergreen.
    async fn build_number(&self) -> &str {
        &self.0.build_number
    }
    /// created, started, success or failed.
    async fn status(&self) -> &str {
        &self.0.status
    }
    async fn activated(&self) -> bool {
        self.0.activated
    }
    async fn activated_time(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.0.activated_time)
    }
    async fn create_time(&self) -> DateTime<Utc> {
        utc(self.0.create_time)
    }
    async fn start_time(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.0.start_time)
    }
    async fn finish_time(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.0.finish_time)
    }
    async fn push_time(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.0.push_time)
    }
    /// Finish minus start in nanoseconds (0 until the build finishes).
    async fn time_taken_ns(&self) -> i64 {
        self.0.time_taken_ns
    }
    async fn time_taken_seconds(&self) -> f64 {
        seconds(self.0.time_taken_ns)
    }
    /// The build's tasks, in the variant's task order.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<EvergreenStatusFilter>,
    ) -> Result<TaskConnection> {
        let filter = filter.unwrap_or_default().into_filter();
        let id = self.0.id;
        child_connection(
            ctx,
            first,
            after,
            filter.clone(),
            |page| TasksOfBuild { id, page },
            |t: &Task| svc::child_cursor(Some(i64::from(t.position)), t.id),
            TaskNode,
            child_total(
                ctx,
                ChildCountOf {
                    parent: Parent::BuildOfTask,
                    id,
                    filter,
                },
            )?,
        )
        .await
    }
}

pub struct TaskNode(pub Task);

/// One task of one build.
#[Object(name = "EvergreenTask")]
impl TaskNode {
    /// Evergreen's id: `<build id>_<task>_<variant>`, non-alphanumerics as `_`.
    async fn id(&self) -> &str {
        &self.0.task_id
    }
    /// The task's name in the project.
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    /// The build variant's name.
    async fn variant(&self) -> &str {
        &self.0.variant
    }
    async fn build(&self, ctx: &Context<'_>) -> Result<BuildNode> {
        let b = loader(ctx)?
            .load_one(EvgBuildId(self.0.build_id))
            .await
            .gql()?;
        b.map(BuildNode)
            .ok_or_else(|| AppError::Internal(format!("task {} has no build", self.0.task_id)))
            .gql()
    }
    async fn version(&self, ctx: &Context<'_>) -> Result<VersionNode> {
        version_of(ctx, self.0.version_id, "task", &self.0.task_id).await
    }
    async fn project(&self, ctx: &Context<'_>) -> Result<ProjectNode> {
        project_of(ctx, self.0.project_id, "task", &self.0.task_id).await
    }
    /// undispatched, dispatched, started, success or failed.
    async fn status(&self) -> &str {
        &self.0.status
    }
    async fn activated(&self) -> bool {
        self.0.activated
    }
    async fn priority(&self) -> i64 {
        self.0.priority
    }
    async fn distro(&self) -> &str {
        &self.0.distro
    }
    async fn host_id(&self) -> &str {
        &self.0.host_id
    }
    /// The failing command's type (e.g. "test", "setup"), empty on success.
    async fn details_type(&self) -> &str {
        &self.0.details_type
    }
    /// The failing stage's description (`status_details.timeout_stage` over REST).
    async fn details_desc(&self) -> &str {
        &self.0.details_desc
    }
    async fn timed_out(&self) -> bool {
        self.0.timed_out
    }
    async fn aborted(&self) -> bool {
        self.0.aborted
    }
    async fn create_time(&self) -> DateTime<Utc> {
        utc(self.0.create_time)
    }
    async fn scheduled_time(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.0.scheduled_time)
    }
    async fn dispatch_time(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.0.dispatch_time)
    }
    async fn start_time(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.0.start_time)
    }
    async fn finish_time(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.0.finish_time)
    }
    async fn push_time(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.0.push_time)
    }
    async fn last_heartbeat(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.0.last_heartbeat)
    }
    async fn restarts(&self) -> i32 {
        self.0.restarts
    }
    async fn execution(&self) -> i32 {
        self.0.execution
    }
    async fn archived(&self) -> bool {
        self.0.archived
    }
    /// Finish minus start in nanoseconds (0 until the task finishes).
    async fn time_taken_ns(&self) -> i64 {
        self.0.time_taken_ns
    }
    async fn time_taken_seconds(&self) -> f64 {
        seconds(self.0.time_taken_ns)
    }
    async fn expected_duration_ns(&self) -> i64 {
        self.0.expected_duration_ns
    }
    async fn min_queue_pos(&self) -> i32 {
        self.0.min_queue_pos
    }
    /// The ids of the tasks (of the same build) this task waits for.
    async fn depends_on(&self) -> Vec<String> {
        svc::task_depends_on(&self.0)
    }
    /// The tasks this task waits for.
    async fn depends_on_tasks(&self, ctx: &Context<'_>) -> Result<Vec<TaskNode>> {
        let keys = svc::task_depends_on(&self.0).into_iter().map(EvgTaskKey);
        let mut found = loader(ctx)?.load_many(keys.clone()).await.gql()?;
        Ok(keys
            .filter_map(|k| found.remove(&k))
            .map(TaskNode)
            .collect())
    }
    /// The results of the task's current execution, in the order they were reported.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn test_results(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<EvergreenStatusFilter>,
    ) -> Result<TestResultConnection> {
        let filter = filter.unwrap_or_default().into_filter();
        let id = self.0.id;
        child_connection(
            ctx,
            first,
            after,
            filter.clone(),
            |page| ResultsOfTask { id, page },
            |r: &TestResult| svc::child_cursor(None, r.id),
            TestResultNode,
            child_total(
                ctx,
                ChildCountOf {
                    parent: Parent::TaskOfResult,
                    id,
                    filter,
                },
            )?,
        )
        .await
    }
    /// The files the task published.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn artifacts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ArtifactConnection> {
        let id = self.0.id;
        child_connection(
            ctx,
            first,
            after,
            ChildFilter::default(),
            |page| ArtifactsOfTask { id, page },
            |a: &Artifact| svc::child_cursor(None, a.id),
            ArtifactNode,
            artifact_total(ctx, id)?,
        )
        .await
    }
}

pub struct TestResultNode(pub TestResult);

/// One test file's result in one execution of a task.
#[Object(name = "EvergreenTestResult")]
impl TestResultNode {
    async fn test_file(&self) -> &str {
        &self.0.test_file
    }
    /// pass, fail or skip.
    async fn status(&self) -> &str {
        &self.0.status
    }
    /// The log's URL.
    async fn url(&self) -> &str {
        &self.0.url
    }
    async fn log_id(&self) -> &str {
        &self.0.log_id
    }
    async fn line_num(&self) -> i32 {
        self.0.line_num
    }
    async fn exit_code(&self) -> i32 {
        self.0.exit_code
    }
    /// The task execution the result belongs to.
    async fn execution(&self) -> i32 {
        self.0.execution
    }
    /// Start in seconds since the epoch, as the agent reported it.
    async fn start(&self) -> f64 {
        self.0.start_s
    }
    /// End in seconds since the epoch.
    async fn end(&self) -> f64 {
        self.0.end_s
    }
    async fn start_time(&self) -> Option<DateTime<Utc>> {
        epoch(self.0.start_s)
    }
    async fn end_time(&self) -> Option<DateTime<Utc>> {
        epoch(self.0.end_s)
    }
    /// (end - start) in nanoseconds, as Evergreen's REST API reports it.
    async fn time_taken_ns(&self) -> i64 {
        ((self.0.end_s - self.0.start_s) * 1e9) as i64
    }
    async fn time_taken_seconds(&self) -> f64 {
        self.0.end_s - self.0.start_s
    }
}

pub struct ArtifactNode(pub Artifact);

/// A file a task published.
#[Object(name = "EvergreenArtifact")]
impl ArtifactNode {
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn url(&self) -> &str {
        &self.0.url
    }
}

/// The answer of a by-id lookup of the tree: written in one pass (`onepass`) when the selection
/// allows, through the resolvers otherwise; `null` when there is no such row.
pub(super) async fn one_of_tree<T: onepass::TreeRow, N>(
    ctx: &Context<'_>,
    found: Option<T>,
    node: impl FnOnce(T) -> N,
) -> Result<onepass::Resolved<Option<N>>> {
    let Some(row) = found else {
        return Ok(onepass::Resolved::Typed(None));
    };
    let st = state(ctx)?;
    if let Some(plan) = onepass::plan_one::<T>(ctx, &st.config.limits).filter(|p| p.has_children())
    {
        let json = onepass::write_one(&st.db, &plan, &row).await.gql()?;
        st.one_pass_answers
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Ok(onepass::Resolved::json(json));
    }
    Ok(onepass::Resolved::Typed(Some(node(row))))
}

pub(super) async fn project_of(
    ctx: &Context<'_>,
    id: i64,
    what: &str,
    of: &str,
) -> Result<ProjectNode> {
    let p = loader(ctx)?.load_one(EvgProjectId(id)).await.gql()?;
    p.map(ProjectNode)
        .ok_or_else(|| AppError::Internal(format!("{what} {of} has no project")))
        .gql()
}

pub(super) async fn version_of(
    ctx: &Context<'_>,
    id: i64,
    what: &str,
    of: &str,
) -> Result<VersionNode> {
    let v = loader(ctx)?.load_one(EvgVersionId(id)).await.gql()?;
    v.map(VersionNode)
        .ok_or_else(|| AppError::Internal(format!("{what} {of} has no version")))
        .gql()
}
