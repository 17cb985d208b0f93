//! GraphQL for the Evergreen domain: projects and their build variants, versions, builds, tasks,
//! test results and artifacts as cursor connections, every relation through the request's
//! dataloader, the task history report, and the mutations that ingest projects and versions and
//! drive tasks through their lifecycle (the work Evergreen's repotracker and agents did).

use async_graphql::connection::Connection;
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use crate::error::AppError;
use crate::graphql::connection::SortDirection;
use crate::graphql::connection::{
    Cursor, after_slice, decode, list_complexity, page_rows, page_size, wants_rows,
};
use crate::graphql::context::{GqlResultExt, require, state};
use crate::graphql::time::{epoch, naive, seconds, utc, utc_opt};
use crate::service::KeyCursor;
use crate::service::evergreen::{
    self as svc, Artifact, Build, ChildFilter, NewArtifact, NewTestResult, NewVersion, Parent,
    Project, ProjectInput, Task, TaskDef, TaskEnd, TaskFilter, TestResult, Variant, VariantDef,
    Version, VersionFilter,
};
use crate::service::tokens::Scope;
use loaders::{
    ArtifactCountOf, ArtifactsOfTask, BuildsOfVersion, ChildCountOf, EvergreenLoader,
    EvergreenLoaders, EvgBuildId, EvgPage, EvgProjectId, EvgTaskKey, EvgVersionId, ResultsOfTask,
    TasksOfBuild, VariantsOfProject,
};

use crate::graphql::onepass;

pub mod loaders;
mod tree;

/// The object types the one-pass writer covers, with their scalar fields (for the test that
/// keeps them equal to the schema's).
pub fn one_pass_fields() -> Vec<(&'static str, Vec<&'static str>)> {
    use onepass::TreeRow;
    vec![
        (Version::NODE, Version::field_names()),
        (Build::NODE, Build::field_names()),
        (Task::NODE, Task::field_names()),
        (TestResult::NODE, TestResult::field_names()),
    ]
}

fn loader<'a>(ctx: &Context<'a>) -> Result<&'a DataLoader<EvergreenLoader>> {
    Ok(ctx.data::<EvergreenLoaders>()?.as_ref())
}

// ----------------------------------------------------------------------------------------------
// Connections
// ----------------------------------------------------------------------------------------------

enum TotalOf {
    Projects,
    Versions(VersionFilter),
    Tasks(TaskFilter),
    Children(ChildCountOf),
    Artifacts(i64),
}

/// `totalCount` of an Evergreen connection, counted only when a client asks for it. Nested
/// connections count through the dataloader: one grouped COUNT for all parents of a level.
pub struct EvergreenTotal(TotalOf);

#[Object]
impl EvergreenTotal {
    /// Number of items matching the filter (one extra COUNT query).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        match &self.0 {
            TotalOf::Projects => svc::count_projects(&state(ctx)?.db).await.gql(),
            TotalOf::Versions(f) => svc::count_versions(&state(ctx)?.db, f).await.gql(),
            TotalOf::Tasks(f) => svc::count_tasks(&state(ctx)?.db, f).await.gql(),
            TotalOf::Children(k) => Ok(loader(ctx)?.load_one(k.clone()).await.gql()?.unwrap_or(0)),
            TotalOf::Artifacts(id) => Ok(loader(ctx)?
                .load_one(ArtifactCountOf(*id))
                .await
                .gql()?
                .unwrap_or(0)),
        }
    }
}

pub type ProjectConnection = Connection<Cursor, ProjectNode, EvergreenTotal>;
pub type VersionConnection = Connection<Cursor, VersionNode, EvergreenTotal>;
pub type BuildConnection = Connection<Cursor, BuildNode, EvergreenTotal>;
pub type TaskConnection = Connection<Cursor, TaskNode, EvergreenTotal>;
pub type TestResultConnection = Connection<Cursor, TestResultNode, EvergreenTotal>;
pub type ArtifactConnection = Connection<Cursor, ArtifactNode, EvergreenTotal>;

/// Builds a connection from `limit + 1` fetched rows, with Evergreen's lazy `totalCount`.
fn connect<T, N>(
    rows: Vec<T>,
    limit: u64,
    has_previous: bool,
    cursor: impl Fn(&T) -> KeyCursor,
    node: impl Fn(T) -> N,
    total: TotalOf,
) -> Connection<Cursor, N, EvergreenTotal>
where
    N: async_graphql::OutputType,
{
    crate::graphql::connection::connect(
        rows,
        limit,
        has_previous,
        cursor,
        node,
        EvergreenTotal(total),
    )
}

/// A page of one parent's children through the dataloader: every parent of a level that asks for
/// the same page shares one statement.
#[allow(clippy::too_many_arguments)]
async fn child_connection<K, T, N>(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    filter: ChildFilter,
    key: impl FnOnce(EvgPage) -> K,
    cursor: impl Fn(&T) -> KeyCursor,
    node: impl Fn(T) -> N,
    total: TotalOf,
) -> Result<Connection<Cursor, N, EvergreenTotal>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    T: Send + Sync + Clone + 'static,
    EvergreenLoader: Loader<K, Value = Vec<T>, Error = std::sync::Arc<AppError>>,
    N: async_graphql::OutputType,
{
    let limit = page_size(first, &state(ctx)?.config.limits).gql()?;
    if let Some(a) = &after {
        decode(a).gql()?;
    }
    let has_previous = after.is_some();
    let page = EvgPage {
        limit: limit + 1,
        after,
        filter,
    };
    let rows = if wants_rows(ctx) {
        loader(ctx)?
            .load_one(key(page))
            .await
            .gql()?
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(connect(rows, limit, has_previous, cursor, node, total))
}

// ----------------------------------------------------------------------------------------------
// Inputs
// ----------------------------------------------------------------------------------------------

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

// ----------------------------------------------------------------------------------------------
// Nodes
// ----------------------------------------------------------------------------------------------

/// A task a project defines, and the tasks it waits for.
#[derive(SimpleObject)]
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
#[Object(name = "BuildVariant")]
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
            TotalOf::Children(ChildCountOf {
                parent: Parent::VersionOfBuild,
                id,
                filter,
            }),
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
            TotalOf::Children(ChildCountOf {
                parent: Parent::BuildOfTask,
                id,
                filter,
            }),
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
            TotalOf::Children(ChildCountOf {
                parent: Parent::TaskOfResult,
                id,
                filter,
            }),
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
            TotalOf::Artifacts(id),
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
#[Object(name = "TaskArtifact")]
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
async fn one_of_tree<T: onepass::TreeRow, N>(
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

async fn project_of(ctx: &Context<'_>, id: i64, what: &str, of: &str) -> Result<ProjectNode> {
    let p = loader(ctx)?.load_one(EvgProjectId(id)).await.gql()?;
    p.map(ProjectNode)
        .ok_or_else(|| AppError::Internal(format!("{what} {of} has no project")))
        .gql()
}

async fn version_of(ctx: &Context<'_>, id: i64, what: &str, of: &str) -> Result<VersionNode> {
    let v = loader(ctx)?.load_one(EvgVersionId(id)).await.gql()?;
    v.map(VersionNode)
        .ok_or_else(|| AppError::Internal(format!("{what} {of} has no version")))
        .gql()
}

// ----------------------------------------------------------------------------------------------
// Task history
// ----------------------------------------------------------------------------------------------

/// The tasks of one revision in a task history.
#[derive(SimpleObject)]
pub struct TaskHistoryRevision {
    pub revision: String,
    /// The version's per-project order.
    pub order: i64,
    /// The task in each variant that runs it, by variant name.
    pub tasks: Vec<TaskNode>,
}

/// A failed task of a history and its failed tests.
#[derive(SimpleObject)]
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
                groups[i].tasks.push(TaskNode(t));
            }
        }
        groups.retain(|g| !g.tasks.is_empty());
        TaskHistoryNode {
            versions: h.versions.into_iter().map(VersionNode).collect(),
            tasks: groups,
            failed_tests: h
                .failed
                .into_iter()
                .map(|(t, tests)| TaskHistoryFailure {
                    task: TaskNode(t),
                    tests: tests.into_iter().map(TestResultNode).collect(),
                })
                .collect(),
            exhausted_before: h.exhausted_before,
            exhausted_after: true,
        }
    }
}

// ----------------------------------------------------------------------------------------------
// Query root
// ----------------------------------------------------------------------------------------------

#[derive(Default)]
pub struct EvergreenQuery;

#[Object]
impl EvergreenQuery {
    /// Evergreen projects, in registration order.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn evergreen_projects(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ProjectConnection> {
        let st = state(ctx)?;
        let limit = page_size(first, &st.config.limits).gql()?;
        let slice = after_slice(after.as_deref(), limit)?;
        let rows = page_rows(ctx, svc::list_projects(&st.db, &slice)).await?;
        Ok(connect(
            rows,
            limit,
            after.is_some(),
            |p| KeyCursor::by_id(p.id),
            ProjectNode,
            TotalOf::Projects,
        ))
    }

    /// One project by its identifier.
    async fn evergreen_project(
        &self,
        ctx: &Context<'_>,
        identifier: String,
    ) -> Result<Option<ProjectNode>> {
        let found = svc::project_by_identifier(&state(ctx)?.db, &identifier)
            .await
            .gql()?;
        Ok(found.map(ProjectNode))
    }

    /// Versions, filtered, by their per-project `order` (newest first by default).
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn evergreen_versions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<EvergreenVersionFilter>,
        order_by: Option<EvergreenVersionOrder>,
    ) -> Result<onepass::Resolved<VersionConnection>> {
        let st = state(ctx)?;
        let limit = page_size(first, &st.config.limits).gql()?;
        let f = filter.unwrap_or_default();
        let filter = VersionFilter {
            project: f.project,
            revision: f.revision,
            status: f.status,
            requester: f.requester,
            created_from: naive(f.created_from),
            created_to: naive(f.created_to),
        };
        let direction = order_by.unwrap_or_default().direction.into();
        let slice = after_slice(after.as_deref(), limit)?;
        let rows = page_rows(ctx, svc::list_versions(&st.db, &filter, direction, &slice)).await?;
        if let Some(plan) = onepass::plan_list::<Version>(ctx, &st.config.limits) {
            let count = svc::count_versions(&st.db, &filter);
            let page = (rows, limit, after.is_some());
            return onepass::answer_list(st, &plan, page, &svc::version_cursor, count).await;
        }
        Ok(onepass::Resolved::Typed(connect(
            rows,
            limit,
            after.is_some(),
            svc::version_cursor,
            VersionNode,
            TotalOf::Versions(filter),
        )))
    }

    /// One version by its Evergreen id.
    async fn evergreen_version(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> Result<onepass::Resolved<Option<VersionNode>>> {
        let found = svc::version_by_id(&state(ctx)?.db, &id).await.gql()?;
        one_of_tree(ctx, found, VersionNode).await
    }

    /// One build by its Evergreen id.
    async fn evergreen_build(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> Result<onepass::Resolved<Option<BuildNode>>> {
        let found = svc::build_by_id(&state(ctx)?.db, &id).await.gql()?;
        one_of_tree(ctx, found, BuildNode).await
    }

    /// One task by its Evergreen id.
    async fn evergreen_task(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> Result<onepass::Resolved<Option<TaskNode>>> {
        let found = svc::task_by_id(&state(ctx)?.db, &id).await.gql()?;
        one_of_tree(ctx, found, TaskNode).await
    }

    /// Tasks across builds, filtered, in creation order.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn evergreen_tasks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<EvergreenTaskFilter>,
    ) -> Result<onepass::Resolved<TaskConnection>> {
        let st = state(ctx)?;
        let limit = page_size(first, &st.config.limits).gql()?;
        let f = filter.unwrap_or_default();
        let filter = TaskFilter {
            project: f.project,
            variant: f.variant,
            display_name: f.name,
            status: f.status,
            revision: f.revision,
        };
        let slice = after_slice(after.as_deref(), limit)?;
        let rows = page_rows(ctx, svc::list_tasks(&st.db, &filter, &slice)).await?;
        if let Some(plan) = onepass::plan_list::<Task>(ctx, &st.config.limits) {
            let count = svc::count_tasks(&st.db, &filter);
            let page = (rows, limit, after.is_some());
            return onepass::answer_list(
                st,
                &plan,
                page,
                &|t: &Task| KeyCursor::by_id(t.id),
                count,
            )
            .await;
        }
        Ok(onepass::Resolved::Typed(connect(
            rows,
            limit,
            after.is_some(),
            |t| KeyCursor::by_id(t.id),
            TaskNode,
            TotalOf::Tasks(filter),
        )))
    }

    /// How a task fared over the project's 10 newest commit versions. NOT_FOUND for an unknown
    /// project.
    async fn task_history(
        &self,
        ctx: &Context<'_>,
        project: String,
        task_name: String,
    ) -> Result<TaskHistoryNode> {
        let db = &state(ctx)?.db;
        let p = svc::project_by_identifier(db, &project)
            .await
            .gql()?
            .ok_or_else(|| AppError::not_found(format!("Error finding project '{project}'")))
            .gql()?;
        let h = svc::task_history(db, &p, &task_name).await.gql()?;
        Ok(h.into())
    }
}

// ----------------------------------------------------------------------------------------------
// Mutations
// ----------------------------------------------------------------------------------------------

#[derive(InputObject)]
pub struct TaskDefinitionInput {
    pub name: String,
    /// Names of tasks this one waits for (in the same build).
    #[graphql(default)]
    pub depends_on: Vec<String>,
}

#[derive(InputObject)]
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
pub struct TaskArtifactInput {
    pub name: String,
    pub url: String,
}

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
            .map(VersionNode)
            .gql()
    }

    /// Activates or deactivates a version, its builds, and those of its tasks not yet dispatched.
    async fn set_version_activated(
        &self,
        ctx: &Context<'_>,
        id: String,
        activated: bool,
    ) -> Result<VersionNode> {
        require(ctx, Scope::Write)?;
        svc::set_version_activated(&state(ctx)?.db, &id, activated)
            .await
            .map(VersionNode)
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
            .map(TaskNode)
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
            .map(TaskNode)
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
            .map(TaskNode)
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
            .map(TaskNode)
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
