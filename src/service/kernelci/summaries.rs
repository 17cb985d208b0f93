//! Build-log summaries (KernelCI's `errors_summary`): one per job, recorded or replaced through
//! the native API, read by job, per level of jobs, and as a filtered list.

use entity::kci_log_summary as sum;
use sea_orm::sea_query::{Alias, Asterisk, OnConflict, Query};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use super::criteria::{condition, order};
use super::model::{
    Criteria, LogSummary, MAX_RESULTS, NewLogSummary, SCHEMA_VERSION, Sort, is_oid, new_oid, now,
    stored_lines,
};
use crate::error::{AppError, AppResult};
use crate::service::{count_star, fetch_all, fetch_count, in_list};

const TABLE: &str = "kci_log_summaries";

/// Records the build-log summary of a job, replacing the one it had.
pub async fn record_log_summary(
    db: &impl ConnectionTrait,
    new: &NewLogSummary,
) -> AppResult<LogSummary> {
    let errors = stored_lines("errors", &new.errors)?;
    let warnings = stored_lines("warnings", &new.warnings)?;
    let mismatches = stored_lines("mismatches", &new.mismatches)?;
    let Some(job) = super::jobs::job_by_oid(db, &new.job_id).await? else {
        return Err(AppError::not_found(format!("no job '{}'", new.job_id)));
    };
    let _turn = crate::service::write_turn(db).await;
    let am = sum::ActiveModel {
        id: NotSet,
        oid: Set(new_oid()),
        job_id: Set(job.id),
        job_oid: Set(job.oid.clone()),
        job: Set(job.job.clone()),
        kernel: Set(job.kernel.clone()),
        git_branch: Set(job.git_branch.clone()),
        created_on: Set(now()),
        errors: Set(errors),
        warnings: Set(warnings),
        mismatches: Set(mismatches),
        version: Set(SCHEMA_VERSION.into()),
    };
    sum::Entity::insert(am)
        .on_conflict(
            OnConflict::column(sum::Column::JobId)
                .update_columns([
                    sum::Column::Errors,
                    sum::Column::Warnings,
                    sum::Column::Mismatches,
                    sum::Column::CreatedOn,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    sum::Entity::find()
        .filter(sum::Column::JobId.eq(job.id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no job '{}'", new.job_id)))
}

/// The summary of the job whose 24-hex id is `job_oid`.
pub async fn summary_for_job(
    db: &impl ConnectionTrait,
    job_oid: &str,
) -> AppResult<Option<LogSummary>> {
    if !is_oid(job_oid) {
        return Ok(None);
    }
    Ok(sum::Entity::find()
        .filter(sum::Column::JobOid.eq(job_oid.to_ascii_lowercase()))
        .one(db)
        .await?)
}

/// The summaries of the jobs with these row ids (for the loaders).
pub async fn summaries_for_jobs(
    db: &impl ConnectionTrait,
    job_ids: &[i64],
) -> AppResult<Vec<LogSummary>> {
    if job_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Query::select();
    q.column(Asterisk)
        .from(Alias::new(TABLE))
        .and_where(in_list(db, Alias::new("job_id"), job_ids));
    fetch_all(db, &q).await
}

/// Summaries matching `criteria` in `sort`'s order, as `list_jobs` pages jobs.
pub async fn list_summaries(
    db: &impl ConnectionTrait,
    criteria: &Criteria,
    sort: &Sort,
    skip: u64,
    limit: u64,
) -> AppResult<Vec<LogSummary>> {
    let mut q = Query::select();
    q.column(Asterisk)
        .from(Alias::new(TABLE))
        .cond_where(condition(db, TABLE, criteria));
    order(&mut q, TABLE, sort);
    let limit = if limit == 0 {
        MAX_RESULTS
    } else {
        std::cmp::min(limit, MAX_RESULTS)
    };
    q.limit(limit).offset(skip);
    fetch_all(db, &q).await
}

/// How many summaries match `criteria`.
pub async fn count_summaries(db: &impl ConnectionTrait, criteria: &Criteria) -> AppResult<u64> {
    let mut q = Query::select();
    q.expr_as(count_star(), Alias::new("n"))
        .from(Alias::new(TABLE))
        .cond_where(condition(db, TABLE, criteria));
    fetch_count(db, &q).await
}
