//! The KernelCI query root: jobs (filtered with the legacy query language's power, ordered),
//! one job, the distinct values of a job field, and build-log summaries.

use async_graphql::{Context, Object, Result};
use chrono::Utc;

use super::inputs::{DistinctField, JobFilterInput, JobOrderInput, LogSummaryFilterInput};
use super::nodes::{JobConnection, JobNode, LogSummaryNode};
use crate::error::AppError;
use crate::graphql::connection::{
    Total, after_slice, connect, list_complexity, page_rows, page_size,
};
use crate::graphql::context::{GqlResultExt, state};
use crate::service::kernelci::{self as svc, JOB_FIELDS, JobOrder, Sort, field};

#[derive(Default)]
pub struct KernelciQuery;

#[Object]
impl KernelciQuery {
    /// Jobs, filtered, newest first unless `orderBy` says otherwise.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn kernelci_jobs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<JobFilterInput>,
        order_by: Option<JobOrderInput>,
    ) -> Result<JobConnection> {
        let st = state(ctx)?;
        let limit = page_size(first, &st.config.limits).gql()?;
        let criteria = filter.unwrap_or_default().criteria(Utc::now()).gql()?;
        let order = order_by.unwrap_or_default();
        let by: JobOrder = order.field.into();
        let direction = order.direction.into();
        let slice = after_slice(after.as_deref(), limit)?;
        let rows = page_rows(
            ctx,
            svc::page_jobs(&st.db, &criteria, by, direction, &slice),
        )
        .await?;
        Ok(connect(
            rows,
            limit,
            after.is_some(),
            move |j| by.cursor(j),
            JobNode,
            Total::counted(&st.db, move |db| async move {
                svc::count_jobs(&db, &criteria).await
            }),
        ))
    }

    /// One job by its 24-hex id (either case); null when there is none.
    async fn kernelci_job(&self, ctx: &Context<'_>, id: String) -> Result<Option<JobNode>> {
        let found = svc::job_by_oid(&state(ctx)?.db, &id).await.gql()?;
        Ok(found.map(JobNode))
    }

    /// The distinct values of a job field among the jobs matching `filter`: null first (jobs
    /// without the field), then ascending; at most 10,000.
    async fn kernelci_job_distinct(
        &self,
        ctx: &Context<'_>,
        field: DistinctField,
        filter: Option<JobFilterInput>,
    ) -> Result<Vec<Option<String>>> {
        let f = field_of(field).gql()?;
        let criteria = filter.unwrap_or_default().criteria(Utc::now()).gql()?;
        svc::distinct_jobs(&state(ctx)?.db, f, &criteria)
            .await
            .gql()
    }

    /// Build-log summaries, filtered, in the order they were first recorded: a plain list (the
    /// legacy API's offset paging), `first` of them (the page default when absent, at most the
    /// page maximum) after skipping `skip`.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn kernelci_log_summaries(
        &self,
        ctx: &Context<'_>,
        filter: Option<LogSummaryFilterInput>,
        first: Option<i32>,
        #[graphql(default)] skip: i32,
    ) -> Result<Vec<LogSummaryNode>> {
        let st = state(ctx)?;
        let limit = page_size(first, &st.config.limits).gql()?;
        let skip = u64::try_from(skip)
            .map_err(|_| AppError::invalid_field("skip", "'skip' must not be negative"))
            .gql()?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let criteria = filter.unwrap_or_default().criteria().gql()?;
        let rows = svc::list_summaries(&st.db, &criteria, &Sort::default(), skip, limit)
            .await
            .gql()?;
        Ok(rows.into_iter().map(LogSummaryNode).collect())
    }
}

/// The service's field of a distinct field, which must be one it lists distinct values of.
fn field_of(f: DistinctField) -> Result<&'static svc::Field, AppError> {
    field(JOB_FIELDS, f.wire())
        .filter(|f| f.distinct)
        .ok_or_else(|| AppError::Internal(format!("'{}' is not a distinct job field", f.wire())))
}
