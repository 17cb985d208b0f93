//! Jobs: the filtered lists (offset pages for the legacy API, keyset pages for GraphQL), their
//! totals, distinct values, one job, the status update of `POST /job`, and deletion.

use entity::kci_job as job;
use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::criteria::{condition, order};
use super::model::{Criteria, Field, JOB_STATUSES, Job, MAX_RESULTS, Sort, check_name, is_oid};
use crate::error::{AppError, AppResult};
use crate::service::{
    Direction, KeyCursor, Slice, SortValue, apply_slice, count_star, fetch_all, fetch_count,
};

const TABLE: &str = "kci_jobs";

fn select(criteria: &Criteria, db: &impl ConnectionTrait) -> SelectStatement {
    let mut q = Query::select();
    q.column(sea_orm::sea_query::Asterisk)
        .from(Alias::new(TABLE))
        .cond_where(condition(db, TABLE, criteria));
    q
}

/// Jobs matching `criteria`, in `sort`'s order, skipping `skip` and returning at most `limit`
/// (at most `MAX_RESULTS`; zero means `MAX_RESULTS`, the legacy "all").
pub async fn list_jobs(
    db: &impl ConnectionTrait,
    criteria: &Criteria,
    sort: &Sort,
    skip: u64,
    limit: u64,
) -> AppResult<Vec<Job>> {
    let mut q = select(criteria, db);
    order(&mut q, TABLE, sort);
    let limit = if limit == 0 {
        MAX_RESULTS
    } else {
        std::cmp::min(limit, MAX_RESULTS)
    };
    q.limit(limit).offset(skip);
    fetch_all(db, &q).await
}

/// The orders a keyset page (GraphQL) can follow: one field that is never null, then the id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum JobOrder {
    #[default]
    CreatedOn,
    Job,
    Kernel,
    Status,
    GitBranch,
}

impl JobOrder {
    fn column(self) -> &'static str {
        match self {
            JobOrder::CreatedOn => "created_on",
            JobOrder::Job => "job",
            JobOrder::Kernel => "kernel",
            JobOrder::Status => "status",
            JobOrder::GitBranch => "git_branch",
        }
    }

    /// The cursor of `j` in this order.
    pub fn cursor(self, j: &Job) -> KeyCursor {
        let value = match self {
            JobOrder::CreatedOn => SortValue::Time(j.created_on),
            JobOrder::Job => SortValue::Text(j.job.clone()),
            JobOrder::Kernel => SortValue::Text(j.kernel.clone()),
            JobOrder::Status => SortValue::Text(j.status.clone()),
            JobOrder::GitBranch => SortValue::Text(j.git_branch.clone()),
        };
        KeyCursor { value, id: j.id }
    }
}

/// A keyset page of jobs matching `criteria` in `order` (GraphQL's connections).
pub async fn page_jobs(
    db: &impl ConnectionTrait,
    criteria: &Criteria,
    by: JobOrder,
    direction: Direction,
    slice: &Slice,
) -> AppResult<Vec<Job>> {
    // A cursor made in another order holds a value of another type: compared with this order's
    // column it would be a database error, so it is the caller's.
    if let Slice::After {
        after: Some(cursor),
        ..
    } = slice
    {
        let fits = match by {
            JobOrder::CreatedOn => matches!(cursor.value, SortValue::Time(_)),
            _ => matches!(cursor.value, SortValue::Text(_)),
        };
        if !fits {
            return Err(AppError::invalid_field(
                "after",
                "the cursor comes from a list in another order",
            ));
        }
    }
    let mut q = select(criteria, db);
    let sort = Expr::col((Alias::new(TABLE), Alias::new(by.column())));
    let id = Expr::col((Alias::new(TABLE), Alias::new("id")));
    apply_slice(&mut q, Some(sort), id, direction, slice);
    fetch_all(db, &q).await
}

/// How many jobs match `criteria` (the legacy `count`: skip and limit aside).
pub async fn count_jobs(db: &impl ConnectionTrait, criteria: &Criteria) -> AppResult<u64> {
    let mut q = Query::select();
    q.expr_as(count_star(), Alias::new("n"))
        .from(Alias::new(TABLE))
        .cond_where(condition(db, TABLE, criteria));
    fetch_count(db, &q).await
}

/// The distinct values of `field` among the jobs matching `criteria`, null first then
/// ascending, at most `MAX_RESULTS`.
pub async fn distinct_jobs(
    db: &impl ConnectionTrait,
    field: &Field,
    criteria: &Criteria,
) -> AppResult<Vec<Option<String>>> {
    if !field.distinct {
        return Err(AppError::invalid_field(
            "field",
            format!("'{}' has no distinct values to list", field.wire),
        ));
    }
    #[derive(sea_orm::FromQueryResult)]
    struct V {
        v: Option<String>,
    }
    let c = Expr::col((Alias::new(TABLE), Alias::new(field.column)));
    let mut q = Query::select();
    q.distinct()
        .expr_as(c.clone(), Alias::new("v"))
        .from(Alias::new(TABLE))
        .cond_where(condition(db, TABLE, criteria))
        .order_by_expr_with_nulls(
            c,
            sea_orm::sea_query::Order::Asc,
            sea_orm::sea_query::NullOrdering::First,
        )
        .limit(MAX_RESULTS);
    let rows: Vec<V> = fetch_all(db, &q).await?;
    Ok(rows.into_iter().map(|r| r.v).collect())
}

/// The job whose 24-hex id is `oid` (either case).
pub async fn job_by_oid(db: &impl ConnectionTrait, oid: &str) -> AppResult<Option<Job>> {
    if !is_oid(oid) {
        return Ok(None);
    }
    Ok(job::Entity::find()
        .filter(job::Column::Oid.eq(oid.to_ascii_lowercase()))
        .one(db)
        .await?)
}

/// Jobs by their row ids (for the loaders), in no particular order.
pub async fn jobs_by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> AppResult<Vec<Job>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Query::select();
    q.column(sea_orm::sea_query::Asterisk)
        .from(Alias::new(TABLE))
        .and_where(crate::service::in_list(db, Alias::new("id"), ids));
    fetch_all(db, &q).await
}

/// Sets the status of the job `name`-`kernel` on `branch` (`POST /job` once a job's builds
/// are in). `None` when there is no such job.
pub async fn set_job_status(
    db: &impl ConnectionTrait,
    name: &str,
    kernel: &str,
    branch: &str,
    status: &str,
) -> AppResult<Option<Job>> {
    if !JOB_STATUSES.contains(&status) {
        return Err(AppError::invalid_field(
            "status",
            format!("'{status}' is not one of {}", JOB_STATUSES.join(", ")),
        ));
    }
    check_name("job", name)?;
    check_name("kernel", kernel)?;
    check_name("git_branch", branch)?;
    let _turn = crate::service::write_turn(db).await;
    let key = || {
        sea_orm::Condition::all()
            .add(job::Column::Job.eq(name))
            .add(job::Column::Kernel.eq(kernel))
            .add(job::Column::GitBranch.eq(branch))
    };
    let updated = job::Entity::update_many()
        .col_expr(job::Column::Status, Expr::val(status))
        .filter(key())
        .exec(db)
        .await?;
    if updated.rows_affected == 0 {
        return Ok(None);
    }
    Ok(job::Entity::find().filter(key()).one(db).await?)
}

/// Deletes the job `oid` with its builds and its log summary (the foreign keys cascade), in one
/// statement. False when there is no such job.
pub async fn delete_job(db: &impl ConnectionTrait, oid: &str) -> AppResult<bool> {
    if !is_oid(oid) {
        return Ok(false);
    }
    let _turn = crate::service::write_turn(db).await;
    let deleted = job::Entity::delete_many()
        .filter(job::Column::Oid.eq(oid.to_ascii_lowercase()))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}
