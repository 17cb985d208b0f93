//! The KernelCI mutation root: builds reported by labs (one, or a batch in one transaction),
//! build-log summaries, a job's status, and deleting a job.

use async_graphql::{Context, Object, Result, SimpleObject};

use super::inputs::{BuildInput, JobStatus, LogSummaryInput};
use super::nodes::{BuildNode, JobNode, LogSummaryNode};
use crate::error::AppError;
use crate::graphql::context::{GqlResultExt, require, state};
use crate::service::kernelci::{self as svc, NewBuild, NewLogSummary};
use crate::service::tokens::Scope;

/// A reported build and its job.
#[derive(SimpleObject)]
#[graphql(name = "KernelciReportPayload")]
pub struct ReportPayload {
    pub build: BuildNode,
    pub job: JobNode,
}

/// What reporting a batch of builds did; also the answer of `POST /bulk/v1/kernelci/builds`.
#[derive(SimpleObject)]
#[graphql(name = "KernelciBuildsPayload")]
pub struct BuildsPayload {
    /// Builds stored, new or replacing a configuration reported before (all of the batch, or
    /// none on error).
    pub builds: u64,
    /// Jobs created for them.
    pub jobs_created: u64,
}

impl From<svc::BuildsReport> for BuildsPayload {
    fn from(r: svc::BuildsReport) -> Self {
        BuildsPayload {
            builds: r.builds,
            jobs_created: r.jobs_created,
        }
    }
}

#[derive(Default)]
pub struct KernelciMutation;

#[Object]
impl KernelciMutation {
    /// Reports one build, creating its job on first sight (status `BUILD`, its git and compiler
    /// fields from this build). Answers the stored build and its job.
    async fn report_kernelci_build(
        &self,
        ctx: &Context<'_>,
        input: BuildInput,
    ) -> Result<ReportPayload> {
        require(ctx, Scope::Write)?;
        let (build, job) = svc::report_build(&state(ctx)?.db, &NewBuild::from(input))
            .await
            .gql()?;
        Ok(ReportPayload {
            build: BuildNode(build),
            job: JobNode(job),
        })
    }

    /// Reports a batch of builds (at most 10,000) in one transaction: all are stored, or none if
    /// any is invalid.
    async fn report_kernelci_builds(
        &self,
        ctx: &Context<'_>,
        input: Vec<BuildInput>,
    ) -> Result<BuildsPayload> {
        require(ctx, Scope::Write)?;
        let batch: Vec<NewBuild> = input.into_iter().map(NewBuild::from).collect();
        svc::report_builds(&state(ctx)?.db, &batch)
            .await
            .map(BuildsPayload::from)
            .gql()
    }

    /// Records a job's build-log summary, replacing the one it had. NOT_FOUND for an unknown job.
    async fn record_kernelci_log_summary(
        &self,
        ctx: &Context<'_>,
        input: LogSummaryInput,
    ) -> Result<LogSummaryNode> {
        require(ctx, Scope::Write)?;
        svc::record_log_summary(&state(ctx)?.db, &NewLogSummary::from(input))
            .await
            .map(LogSummaryNode)
            .gql()
    }

    /// Sets the status of the job `job`-`kernel` on `gitBranch` once its builds are in (the
    /// legacy `POST /job`). NOT_FOUND when there is no such job.
    async fn set_kernelci_job_status(
        &self,
        ctx: &Context<'_>,
        job: String,
        kernel: String,
        git_branch: String,
        status: JobStatus,
    ) -> Result<JobNode> {
        require(ctx, Scope::Write)?;
        let found =
            svc::set_job_status(&state(ctx)?.db, &job, &kernel, &git_branch, status.as_str())
                .await
                .gql()?;
        found
            .map(JobNode)
            .ok_or_else(|| {
                AppError::not_found(format!(
                    "no job '{job}' of kernel '{kernel}' on branch '{git_branch}'"
                ))
            })
            .gql()
    }

    /// Deletes a job, by its 24-hex id, with its builds and its build-log summary. Needs a
    /// `delete` (or `admin`) token. False when there was no such job.
    async fn delete_kernelci_job(&self, ctx: &Context<'_>, id: String) -> Result<bool> {
        require(ctx, Scope::Delete)?;
        svc::delete_job(&state(ctx)?.db, &id).await.gql()
    }
}
