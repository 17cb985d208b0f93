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
use crate::graphql::onepass::{self, tree_object};
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

tree_object! {
    /// One revision of a project.
    VersionNode(Version) = VersionScalars + VersionRelations as v, "EvergreenVersion";
    /// Evergreen's id: `<identifier>_<revision>`, non-alphanumerics as `_`.
    id -> &str ["id"; version_id] = &v.version_id;
    revision -> &str ["revision"; revision] = &v.revision;
    author -> &str ["author"; author] = &v.author;
    author_email -> &str ["authorEmail"; author_email] = &v.author_email;
    message -> &str ["message"; message] = &v.message;
    /// created, started, success or failed.
    status -> &str ["status"; status] = &v.status;
    activated -> bool ["activated"; activated] = v.activated;
    create_time -> DateTime<Utc> ["createTime"; create_time] = utc(v.create_time);
    start_time -> Option<DateTime<Utc>> ["startTime"; start_time] = utc_opt(v.start_time);
    finish_time -> Option<DateTime<Utc>> ["finishTime"; finish_time] = utc_opt(v.finish_time);
    /// The per-project revision order number (1, 2, 3...).
    order -> i64 ["order"; order_num] = v.order_num;
    /// `gitter_request` for versions made from commits.
    requester -> &str ["requester"; requester] = &v.requester;
}

/// The relations of `EvergreenVersion` (its scalar fields are `VersionScalars`).
pub struct VersionRelations(std::sync::Arc<Version>);

#[Object]
impl VersionRelations {
    async fn project(&self, ctx: &Context<'_>) -> Result<ProjectNode> {
        project_of(ctx, self.0.project_id, "version", &self.0.version_id).await
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
            BuildNode::new,
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

tree_object! {
    /// One variant of one version.
    BuildNode(Build) = BuildScalars + BuildRelations as b, "EvergreenBuild";
    /// Evergreen's id: `<project>_<variant>_<revision>_<yy_mm_dd_HH_MM_SS of the version's
    /// creation>`, non-alphanumerics as `_`.
    id -> &str ["id"; build_id] = &b.build_id;
    /// The build variant's name.
    variant -> &str ["variant"; variant] = &b.variant;
    /// The build variant's display name.
    display_name -> &str ["displayName"; display_name] = &b.display_name;
    /// The variant's build counter at creation, as a string as in Evergreen.
    build_number -> &str ["buildNumber"; build_number] = &b.build_number;
    /// created, started, success or failed.
    status -> &str ["status"; status] = &b.status;
    activated -> bool ["activated"; activated] = b.activated;
    activated_time -> Option<DateTime<Utc>> ["activatedTime"; activated_time] = utc_opt(b.activated_time);
    create_time -> DateTime<Utc> ["createTime"; create_time] = utc(b.create_time);
    start_time -> Option<DateTime<Utc>> ["startTime"; start_time] = utc_opt(b.start_time);
    finish_time -> Option<DateTime<Utc>> ["finishTime"; finish_time] = utc_opt(b.finish_time);
    push_time -> Option<DateTime<Utc>> ["pushTime"; push_time] = utc_opt(b.push_time);
    /// Finish minus start in nanoseconds (0 until the build finishes).
    time_taken_ns -> i64 ["timeTakenNs"; time_taken_ns] = b.time_taken_ns;
    time_taken_seconds -> f64 ["timeTakenSeconds"; time_taken_ns] = seconds(b.time_taken_ns);
}

/// The relations of `EvergreenBuild` (its scalar fields are `BuildScalars`).
pub struct BuildRelations(std::sync::Arc<Build>);

#[Object]
impl BuildRelations {
    async fn version(&self, ctx: &Context<'_>) -> Result<VersionNode> {
        version_of(ctx, self.0.version_id, "build", &self.0.build_id).await
    }
    async fn project(&self, ctx: &Context<'_>) -> Result<ProjectNode> {
        project_of(ctx, self.0.project_id, "build", &self.0.build_id).await
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
            TaskNode::new,
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

tree_object! {
    /// One task of one build.
    TaskNode(Task) = TaskScalars + TaskRelations as t, "EvergreenTask";
    /// Evergreen's id: `<build id>_<task>_<variant>`, non-alphanumerics as `_`.
    id -> &str ["id"; task_id] = &t.task_id;
    /// The task's name in the project.
    display_name -> &str ["displayName"; display_name] = &t.display_name;
    /// The build variant's name.
    variant -> &str ["variant"; variant] = &t.variant;
    /// undispatched, dispatched, started, success or failed.
    status -> &str ["status"; status] = &t.status;
    activated -> bool ["activated"; activated] = t.activated;
    priority -> i64 ["priority"; priority] = t.priority;
    distro -> &str ["distro"; distro] = &t.distro;
    host_id -> &str ["hostId"; host_id] = &t.host_id;
    /// The failing command's type (e.g. "test", "setup"), empty on success.
    details_type -> &str ["detailsType"; details_type] = &t.details_type;
    /// The failing stage's description (`status_details.timeout_stage` over REST).
    details_desc -> &str ["detailsDesc"; details_desc] = &t.details_desc;
    timed_out -> bool ["timedOut"; timed_out] = t.timed_out;
    aborted -> bool ["aborted"; aborted] = t.aborted;
    create_time -> DateTime<Utc> ["createTime"; create_time] = utc(t.create_time);
    scheduled_time -> Option<DateTime<Utc>> ["scheduledTime"; scheduled_time] = utc_opt(t.scheduled_time);
    dispatch_time -> Option<DateTime<Utc>> ["dispatchTime"; dispatch_time] = utc_opt(t.dispatch_time);
    start_time -> Option<DateTime<Utc>> ["startTime"; start_time] = utc_opt(t.start_time);
    finish_time -> Option<DateTime<Utc>> ["finishTime"; finish_time] = utc_opt(t.finish_time);
    push_time -> Option<DateTime<Utc>> ["pushTime"; push_time] = utc_opt(t.push_time);
    last_heartbeat -> Option<DateTime<Utc>> ["lastHeartbeat"; last_heartbeat] = utc_opt(t.last_heartbeat);
    restarts -> i32 ["restarts"; restarts] = t.restarts;
    execution -> i32 ["execution"; execution] = t.execution;
    archived -> bool ["archived"; archived] = t.archived;
    /// Finish minus start in nanoseconds (0 until the task finishes).
    time_taken_ns -> i64 ["timeTakenNs"; time_taken_ns] = t.time_taken_ns;
    time_taken_seconds -> f64 ["timeTakenSeconds"; time_taken_ns] = seconds(t.time_taken_ns);
    expected_duration_ns -> i64 ["expectedDurationNs"; expected_duration_ns] = t.expected_duration_ns;
    min_queue_pos -> i32 ["minQueuePos"; min_queue_pos] = t.min_queue_pos;
    /// The ids of the tasks (of the same build) this task waits for.
    depends_on -> Vec<String> ["dependsOn"; depends_on] = svc::task_depends_on(t);
}

/// The relations of `EvergreenTask` (its scalar fields are `TaskScalars`).
pub struct TaskRelations(std::sync::Arc<Task>);

#[Object]
impl TaskRelations {
    async fn build(&self, ctx: &Context<'_>) -> Result<BuildNode> {
        let b = loader(ctx)?
            .load_one(EvgBuildId(self.0.build_id))
            .await
            .gql()?;
        b.map(BuildNode::new)
            .ok_or_else(|| AppError::Internal(format!("task {} has no build", self.0.task_id)))
            .gql()
    }
    async fn version(&self, ctx: &Context<'_>) -> Result<VersionNode> {
        version_of(ctx, self.0.version_id, "task", &self.0.task_id).await
    }
    async fn project(&self, ctx: &Context<'_>) -> Result<ProjectNode> {
        project_of(ctx, self.0.project_id, "task", &self.0.task_id).await
    }
    /// The tasks this task waits for.
    async fn depends_on_tasks(&self, ctx: &Context<'_>) -> Result<Vec<TaskNode>> {
        let keys = svc::task_depends_on(&self.0).into_iter().map(EvgTaskKey);
        let mut found = loader(ctx)?.load_many(keys.clone()).await.gql()?;
        Ok(keys
            .filter_map(|k| found.remove(&k))
            .map(TaskNode::new)
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
            TestResultNode::new,
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

tree_object! {
    /// One test file's result in one execution of a task.
    TestResultNode(TestResult) as r, "EvergreenTestResult";
    test_file -> &str ["testFile"; test_file] = &r.test_file;
    /// pass, fail or skip.
    status -> &str ["status"; status] = &r.status;
    /// The log's URL.
    url -> &str ["url"; url] = &r.url;
    log_id -> &str ["logId"; log_id] = &r.log_id;
    line_num -> i32 ["lineNum"; line_num] = r.line_num;
    exit_code -> i32 ["exitCode"; exit_code] = r.exit_code;
    /// The task execution the result belongs to.
    execution -> i32 ["execution"; execution] = r.execution;
    /// Start in seconds since the epoch, as the agent reported it.
    start -> f64 ["start"; start_s] = r.start_s;
    /// End in seconds since the epoch.
    end -> f64 ["end"; end_s] = r.end_s;
    start_time -> Option<DateTime<Utc>> ["startTime"; start_s] = epoch(r.start_s);
    end_time -> Option<DateTime<Utc>> ["endTime"; end_s] = epoch(r.end_s);
    /// (end - start) in nanoseconds, as Evergreen's REST API reports it.
    time_taken_ns -> i64 ["timeTakenNs"; start_s, end_s] = ((r.end_s - r.start_s) * 1e9) as i64;
    time_taken_seconds -> f64 ["timeTakenSeconds"; start_s, end_s] = r.end_s - r.start_s;
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
    v.map(VersionNode::new)
        .ok_or_else(|| AppError::Internal(format!("{what} {of} has no version")))
        .gql()
}
