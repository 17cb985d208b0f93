//! Builds: reported by labs, one at a time or in batches (one transaction), each finding or
//! creating its job as KernelCI's importer did (`_get_or_create_job`: a new job in status
//! `BUILD`, its git and compiler fields from its first build); and read per job, one statement
//! for every job of a level.

use std::collections::HashMap;

use entity::{kci_build as bld, kci_job as job};
use sea_orm::sea_query::{Condition, OnConflict};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryResult, TransactionSession,
    TransactionTrait,
};

use super::model::{
    BUILD_STATUSES, Build, BuildsReport, Job, MAX_BATCH, NewBuild, SCHEMA_VERSION, check_len,
    check_name, new_oid, now, truncate_ms,
};
use crate::error::{AppError, AppResult};
use crate::service::per_parent::{self, ChildLevel};
use crate::service::rows::{Cols, ColumnSet, Positional};
use crate::service::{Direction, KeyCursor, SortValue};

impl Positional for bld::Model {
    type Entity = bld::Entity;

    fn decode(row: &QueryResult, cols: ColumnSet) -> Result<Self, DbErr> {
        let mut c = Cols::new(row, cols);
        Ok(Self {
            id: c.read()?,
            oid: c.read()?,
            job_id: c.read()?,
            job: c.read()?,
            kernel: c.read()?,
            git_branch: c.read()?,
            arch: c.read()?,
            defconfig: c.read()?,
            defconfig_full: c.read()?,
            build_environment: c.read()?,
            status: c.read()?,
            build_time: c.read()?,
            errors: c.read()?,
            warnings: c.read()?,
            created_on: c.read()?,
        })
    }
}

/// A job's builds, in the order they were first reported.
const BUILDS: ChildLevel = ChildLevel {
    table: "kci_builds",
    parent_col: "job_id",
    parent_table: "kci_jobs",
    sort_col: None,
    direction: Direction::Asc,
    same_as_parent: None,
};

/// The cursor of a build in its job's list.
pub fn build_cursor(b: &Build) -> KeyCursor {
    KeyCursor {
        value: SortValue::Id,
        id: b.id,
    }
}

fn check(i: usize, b: &NewBuild) -> AppResult<()> {
    let at = |f: &str| format!("builds[{i}].{f}");
    check_name(&at("job"), &b.job)?;
    check_name(&at("kernel"), &b.kernel)?;
    check_name(&at("git_branch"), &b.git_branch)?;
    check_name(&at("arch"), &b.arch)?;
    check_name(&at("defconfig"), &b.defconfig)?;
    for (name, v) in [
        ("defconfig_full", &b.defconfig_full),
        ("build_environment", &b.build_environment),
        ("git_commit", &b.git_commit),
        ("git_url", &b.git_url),
        ("git_describe", &b.git_describe),
        ("git_describe_v", &b.git_describe_v),
        ("kernel_version", &b.kernel_version),
        ("compiler", &b.compiler),
        ("compiler_version", &b.compiler_version),
        ("compiler_version_ext", &b.compiler_version_ext),
        ("compiler_version_full", &b.compiler_version_full),
        ("cross_compile", &b.cross_compile),
    ] {
        if let Some(v) = v {
            check_len(&at(name), v)?;
        }
    }
    if !BUILD_STATUSES.contains(&b.status.as_str()) {
        return Err(AppError::invalid_field(
            at("status"),
            format!("'{}' is not one of {}", b.status, BUILD_STATUSES.join(", ")),
        ));
    }
    if b.errors.is_some_and(|n| n < 0) || b.warnings.is_some_and(|n| n < 0) {
        return Err(AppError::invalid_field(
            at("errors"),
            "error and warning counts must not be negative",
        ));
    }
    if b.build_time.is_some_and(|t| !t.is_finite() || t < 0.0) {
        return Err(AppError::invalid_field(
            at("build_time"),
            "a build time is a non-negative number of seconds",
        ));
    }
    Ok(())
}

/// The job of `b`, created from `b` when it does not exist. True when it was created.
async fn job_of(txn: &impl ConnectionTrait, b: &NewBuild) -> AppResult<(Job, bool)> {
    let key = || {
        Condition::all()
            .add(job::Column::Job.eq(b.job.as_str()))
            .add(job::Column::Kernel.eq(b.kernel.as_str()))
            .add(job::Column::GitBranch.eq(b.git_branch.as_str()))
    };
    if let Some(found) = job::Entity::find().filter(key()).one(txn).await? {
        return Ok((found, false));
    }
    let am = job::ActiveModel {
        id: NotSet,
        oid: Set(new_oid()),
        job: Set(b.job.clone()),
        kernel: Set(b.kernel.clone()),
        git_branch: Set(b.git_branch.clone()),
        git_commit: Set(b.git_commit.clone()),
        git_describe: Set(b.git_describe.clone().or_else(|| Some(b.kernel.clone()))),
        git_describe_v: Set(b.git_describe_v.clone()),
        git_url: Set(b.git_url.clone()),
        kernel_version: Set(b.kernel_version.clone()),
        compiler: Set(b.compiler.clone()),
        compiler_version: Set(b.compiler_version.clone()),
        compiler_version_ext: Set(b.compiler_version_ext.clone()),
        compiler_version_full: Set(b.compiler_version_full.clone()),
        cross_compile: Set(b.cross_compile.clone()),
        private: Set(false),
        status: Set("BUILD".into()),
        created_on: Set(b.created_on.map(truncate_ms).unwrap_or_else(now)),
        version: Set(SCHEMA_VERSION.into()),
    };
    // Another writer may create the same job between the look-up and here (PostgreSQL): the
    // unique key keeps one, and both then read it.
    let inserted = job::Entity::insert(am)
        .on_conflict(
            OnConflict::columns([
                job::Column::Job,
                job::Column::Kernel,
                job::Column::GitBranch,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    let stored = job::Entity::find()
        .filter(key())
        .one(txn)
        .await?
        .ok_or_else(|| AppError::Internal("job vanished after insert".into()))?;
    Ok((stored, inserted > 0))
}

/// Stores `b` under `job`: a configuration reported again replaces its status, time and counts.
async fn store_build(txn: &impl ConnectionTrait, job: &Job, b: &NewBuild) -> AppResult<()> {
    let am = bld::ActiveModel {
        id: NotSet,
        oid: Set(new_oid()),
        job_id: Set(job.id),
        job: Set(b.job.clone()),
        kernel: Set(b.kernel.clone()),
        git_branch: Set(b.git_branch.clone()),
        arch: Set(b.arch.clone()),
        defconfig: Set(b.defconfig.clone()),
        defconfig_full: Set(b
            .defconfig_full
            .clone()
            .unwrap_or_else(|| b.defconfig.clone())),
        build_environment: Set(b.build_environment.clone().unwrap_or_default()),
        status: Set(b.status.clone()),
        build_time: Set(b.build_time),
        errors: Set(b.errors.unwrap_or(0)),
        warnings: Set(b.warnings.unwrap_or(0)),
        created_on: Set(b.created_on.map(truncate_ms).unwrap_or_else(now)),
    };
    bld::Entity::insert(am)
        .on_conflict(
            OnConflict::columns([
                bld::Column::JobId,
                bld::Column::Arch,
                bld::Column::DefconfigFull,
                bld::Column::BuildEnvironment,
            ])
            .update_columns([
                bld::Column::Status,
                bld::Column::BuildTime,
                bld::Column::Errors,
                bld::Column::Warnings,
            ])
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Reports `builds` in one transaction: all are stored, or none.
pub async fn report_builds<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    builds: &[NewBuild],
) -> AppResult<BuildsReport> {
    if builds.len() > MAX_BATCH {
        return Err(AppError::invalid_field(
            "builds",
            format!("at most {MAX_BATCH} builds in one report"),
        ));
    }
    for (i, b) in builds.iter().enumerate() {
        check(i, b)?;
    }
    let _turn = crate::service::write_turn(db).await;
    let txn = db.begin().await?;
    let mut report = BuildsReport::default();
    // Consecutive builds of one job (a lab's usual batch) look the job up once.
    let mut jobs: HashMap<(String, String, String), Job> = HashMap::new();
    for b in builds {
        let key = (b.job.clone(), b.kernel.clone(), b.git_branch.clone());
        let job = match jobs.get(&key) {
            Some(j) => j.clone(),
            None => {
                let (j, created) = job_of(&txn, b).await?;
                report.jobs_created += u64::from(created);
                jobs.insert(key, j.clone());
                j
            }
        };
        store_build(&txn, &job, b).await?;
        report.builds += 1;
    }
    txn.commit().await?;
    Ok(report)
}

/// Reports one build; answers it with its job.
pub async fn report_build<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    build: &NewBuild,
) -> AppResult<(Build, Job)> {
    report_builds(db, std::slice::from_ref(build)).await?;
    let job = job::Entity::find()
        .filter(job::Column::Job.eq(build.job.as_str()))
        .filter(job::Column::Kernel.eq(build.kernel.as_str()))
        .filter(job::Column::GitBranch.eq(build.git_branch.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("the job was deleted meanwhile"))?;
    let stored = bld::Entity::find()
        .filter(bld::Column::JobId.eq(job.id))
        .filter(bld::Column::Arch.eq(build.arch.as_str()))
        .filter(
            bld::Column::DefconfigFull.eq(build
                .defconfig_full
                .clone()
                .unwrap_or_else(|| build.defconfig.clone())),
        )
        .filter(
            bld::Column::BuildEnvironment.eq(build.build_environment.clone().unwrap_or_default()),
        )
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("the build was deleted meanwhile"))?;
    Ok((stored, job))
}

/// The first `limit` builds of each job after `after`, in report order, in one statement.
pub async fn builds_for_jobs(
    db: &impl ConnectionTrait,
    job_ids: &[i64],
    after: Option<&KeyCursor>,
    limit: u64,
) -> AppResult<Vec<Build>> {
    per_parent::page(
        db,
        &BUILDS,
        job_ids,
        Condition::all(),
        after,
        limit,
        ColumnSet::ALL,
    )
    .await
}

/// How many builds each job has (one statement; jobs without any are absent).
pub async fn count_builds_for_jobs(
    db: &impl ConnectionTrait,
    job_ids: &[i64],
) -> AppResult<HashMap<i64, u64>> {
    per_parent::counts(db, &BUILDS, job_ids, Condition::all()).await
}
