//! The KernelCI object types (jobs, builds, build-log summaries and their lines), their
//! connections and the relations read through the request's loader.

use async_graphql::connection::Connection;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::inputs::{BuildStatus, JobStatus};
use super::loaders::{
    BuildCountOf, BuildsOfJob, KciJobId, KciPage, KernelciLoader, KernelciLoaders, SummaryOfJob,
};
use crate::error::AppError;
use crate::graphql::connection::{Cursor, Total, list_complexity, nested};
use crate::graphql::context::GqlResultExt;
use crate::graphql::time::utc;
use crate::service::kernelci::{self as svc, Build, Job, LogSummary};

pub(super) fn loader<'a>(ctx: &Context<'a>) -> Result<&'a DataLoader<KernelciLoader>> {
    Ok(ctx.data::<KernelciLoaders>()?.as_ref())
}

// The connections of the KernelCI types, each with the lazy `totalCount` (`Total`).
pub type JobConnection = Connection<Cursor, JobNode, Total>;
pub type BuildConnection = Connection<Cursor, BuildNode, Total>;

/// The total of one job's builds, through the loader: one grouped count for every job of a
/// level.
fn build_total(ctx: &Context<'_>, id: i64) -> Result<Total> {
    let loaders = ctx.data::<KernelciLoaders>()?.clone();
    Ok(Total::new(async move {
        Ok(loaders.load_one(BuildCountOf(id)).await.gql()?.unwrap_or(0))
    }))
}

/// The job with row id `id`, which `what` belongs to.
async fn job_of(ctx: &Context<'_>, id: i64, what: &str) -> Result<JobNode> {
    let j = loader(ctx)?.load_one(KciJobId(id)).await.gql()?;
    j.map(JobNode)
        .ok_or_else(|| AppError::Internal(format!("{what} has no job")))
        .gql()
}

/// One line of a build-log summary and how often it occurs.
#[derive(SimpleObject)]
#[graphql(name = "KernelciLogLine")]
pub struct LogLineNode {
    pub count: i64,
    pub line: String,
}

fn lines(stored: &str) -> Vec<LogLineNode> {
    svc::log_lines(stored)
        .into_iter()
        .map(|l| LogLineNode {
            count: l.count,
            line: l.line,
        })
        .collect()
}

pub struct JobNode(pub Job);

/// A KernelCI job: one kernel (`git describe`) of one tree on one branch, made when its first
/// build was reported, its git and compiler fields taken from that build.
#[Object(name = "KernelciJob")]
impl JobNode {
    /// The 24-hex id (the legacy API's `_id`).
    async fn id(&self) -> &str {
        &self.0.oid
    }
    /// The tree's name.
    async fn job(&self) -> &str {
        &self.0.job
    }
    /// The kernel's `git describe`.
    async fn kernel(&self) -> &str {
        &self.0.kernel
    }
    async fn git_branch(&self) -> &str {
        &self.0.git_branch
    }
    async fn git_commit(&self) -> Option<&str> {
        self.0.git_commit.as_deref()
    }
    async fn git_describe(&self) -> Option<&str> {
        self.0.git_describe.as_deref()
    }
    async fn git_describe_v(&self) -> Option<&str> {
        self.0.git_describe_v.as_deref()
    }
    async fn git_url(&self) -> Option<&str> {
        self.0.git_url.as_deref()
    }
    async fn kernel_version(&self) -> Option<&str> {
        self.0.kernel_version.as_deref()
    }
    async fn compiler(&self) -> Option<&str> {
        self.0.compiler.as_deref()
    }
    async fn compiler_version(&self) -> Option<&str> {
        self.0.compiler_version.as_deref()
    }
    async fn compiler_version_ext(&self) -> Option<&str> {
        self.0.compiler_version_ext.as_deref()
    }
    async fn compiler_version_full(&self) -> Option<&str> {
        self.0.compiler_version_full.as_deref()
    }
    async fn cross_compile(&self) -> Option<&str> {
        self.0.cross_compile.as_deref()
    }
    async fn private(&self) -> bool {
        self.0.private
    }
    /// `BUILD` while its builds come in, then what `setKernelciJobStatus` set.
    async fn status(&self) -> Result<JobStatus> {
        JobStatus::from_stored(&self.0.status).gql()
    }
    /// When the job was created (its first build's `createdOn`), to the millisecond.
    async fn created_on(&self) -> DateTime<Utc> {
        utc(self.0.created_on)
    }
    /// The document schema version ("1.1").
    async fn version(&self) -> &str {
        &self.0.version
    }
    /// The job's builds, in the order they were first reported.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn builds(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<BuildConnection> {
        let id = self.0.id;
        nested(
            ctx,
            loader(ctx)?,
            first,
            after,
            |limit, after| BuildsOfJob {
                id,
                page: KciPage { limit, after },
            },
            svc::build_cursor,
            BuildNode,
            build_total(ctx, id)?,
        )
        .await
    }
    /// The job's build-log summary, if one was recorded.
    async fn log_summary(&self, ctx: &Context<'_>) -> Result<Option<LogSummaryNode>> {
        let found = loader(ctx)?.load_one(SummaryOfJob(self.0.id)).await.gql()?;
        Ok(found.map(LogSummaryNode))
    }
}

pub struct BuildNode(pub Build);

/// One configuration (architecture, defconfig, build environment) of a job's kernel, as a build
/// lab reported it.
#[Object(name = "KernelciBuild")]
impl BuildNode {
    /// The 24-hex id.
    async fn id(&self) -> &str {
        &self.0.oid
    }
    /// The tree's name (the job's `job`).
    async fn job(&self) -> &str {
        &self.0.job
    }
    async fn kernel(&self) -> &str {
        &self.0.kernel
    }
    async fn git_branch(&self) -> &str {
        &self.0.git_branch
    }
    async fn arch(&self) -> &str {
        &self.0.arch
    }
    async fn defconfig(&self) -> &str {
        &self.0.defconfig
    }
    /// The defconfig with its fragments (`defconfig+CONFIG_X=y`); the defconfig when none.
    async fn defconfig_full(&self) -> &str {
        &self.0.defconfig_full
    }
    /// The toolchain the lab built with (`gcc-10`); empty when not reported.
    async fn build_environment(&self) -> &str {
        &self.0.build_environment
    }
    async fn status(&self) -> Result<BuildStatus> {
        BuildStatus::from_stored(&self.0.status).gql()
    }
    /// Seconds.
    async fn build_time(&self) -> Option<f64> {
        self.0.build_time
    }
    async fn errors(&self) -> i32 {
        self.0.errors
    }
    async fn warnings(&self) -> i32 {
        self.0.warnings
    }
    /// When the build was first reported (or the time it was reported with), to the millisecond.
    async fn created_on(&self) -> DateTime<Utc> {
        utc(self.0.created_on)
    }
    /// The job the build belongs to (KernelCI's `job_id`).
    async fn parent_job(&self, ctx: &Context<'_>) -> Result<JobNode> {
        job_of(ctx, self.0.job_id, &format!("build {}", self.0.oid)).await
    }
}

pub struct LogSummaryNode(pub LogSummary);

/// A job's build-log summary (KernelCI's `errors_summary`): the error, warning and mismatch
/// lines of its build logs with how often each occurs.
#[Object(name = "KernelciLogSummary")]
impl LogSummaryNode {
    /// The 24-hex id.
    async fn id(&self) -> &str {
        &self.0.oid
    }
    /// The job's 24-hex id.
    async fn job_id(&self) -> &str {
        &self.0.job_oid
    }
    /// The tree's name.
    async fn job(&self) -> &str {
        &self.0.job
    }
    async fn kernel(&self) -> &str {
        &self.0.kernel
    }
    async fn git_branch(&self) -> &str {
        &self.0.git_branch
    }
    /// When the summary was (last) recorded, to the millisecond.
    async fn created_on(&self) -> DateTime<Utc> {
        utc(self.0.created_on)
    }
    async fn errors(&self) -> Vec<LogLineNode> {
        lines(&self.0.errors)
    }
    async fn warnings(&self) -> Vec<LogLineNode> {
        lines(&self.0.warnings)
    }
    async fn mismatches(&self) -> Vec<LogLineNode> {
        lines(&self.0.mismatches)
    }
    /// The document schema version ("1.1").
    async fn version(&self) -> &str {
        &self.0.version
    }
    /// The job the summary belongs to.
    async fn parent_job(&self, ctx: &Context<'_>) -> Result<JobNode> {
        job_of(ctx, self.0.job_id, &format!("log summary {}", self.0.oid)).await
    }
}
