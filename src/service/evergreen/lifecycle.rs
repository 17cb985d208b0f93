//! A task's lifecycle: dispatch, start, heartbeat and finish, each deriving its build's and
//! version's status and times in the same transaction, as Evergreen's
//! `UpdateBuildAndVersionStatusForTask` did; and the test results and artifacts a task reports.

use chrono::NaiveDateTime;
use entity::{
    evg_artifact as art, evg_build as bld, evg_task as tsk, evg_test_result as res,
    evg_version as ver,
};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, TransactionSession,
    TransactionTrait,
};

use super::children::count_artifacts;
use super::model::{
    MAX_BATCH, MAX_FILES_PER_TASK, MAX_RESULTS_PER_TASK, NewArtifact, NewTestResult, Task, TaskEnd,
    nanos_between, now, status, truncate_ms,
};
use crate::error::{AppError, AppResult};
use crate::service::locks::{lock, lock_pk};
use crate::service::{count_star, fetch_count};

async fn lock_task(txn: &impl ConnectionTrait, task_id: &str) -> AppResult<Task> {
    lock(txn, "evg_tasks", "task_id", task_id).await?;
    tsk::Entity::find()
        .filter(tsk::Column::TaskId.eq(task_id))
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("Error finding task '{task_id}'")))
}

/// Only an activated task may be dispatched or started.
fn require_activated(t: &Task) -> AppResult<()> {
    if t.activated {
        return Ok(());
    }
    Err(AppError::Conflict(format!(
        "task '{}' is not activated",
        t.task_id
    )))
}

fn is_finished(status: &str) -> bool {
    status == status::SUCCESS || status == status::FAILED
}

/// A build is done when every task has finished or can never run because a task it depends on
/// (directly or through others) failed. Evergreen marked a build finished when its compile task
/// failed for the same reason: the tasks that need the compile will never be dispatched.
fn build_is_done(tasks: &[Task]) -> bool {
    let mut dead: std::collections::HashSet<&str> = tasks
        .iter()
        .filter(|t| t.status == status::FAILED)
        .map(|t| t.task_id.as_str())
        .collect();
    let deps: Vec<(&Task, Vec<String>)> = tasks
        .iter()
        .map(|t| {
            (
                t,
                serde_json::from_str::<Vec<String>>(&t.depends_on).unwrap_or_default(),
            )
        })
        .collect();
    // Propagate "blocked" until nothing changes; a build has at most MAX_TASKS tasks.
    loop {
        let mut changed = false;
        for (t, d) in &deps {
            if !is_finished(&t.status)
                && !dead.contains(t.task_id.as_str())
                && d.iter().any(|id| dead.contains(id.as_str()))
            {
                dead.insert(t.task_id.as_str());
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    tasks
        .iter()
        .all(|t| is_finished(&t.status) || dead.contains(t.task_id.as_str()))
}

/// Hands an activated, undispatched task to a host.
pub async fn dispatch_task<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    task_id: &str,
    host_id: &str,
    distro: &str,
    at: Option<NaiveDateTime>,
) -> AppResult<Task> {
    let _turn = crate::service::write_turn(db).await;
    let txn = db.begin().await?;
    let t = lock_task(&txn, task_id).await?;
    if t.status != status::UNDISPATCHED {
        return Err(AppError::Conflict(format!(
            "task '{task_id}' is {}, not undispatched",
            t.status
        )));
    }
    require_activated(&t)?;
    let at = truncate_ms(at.unwrap_or_else(now));
    let mut am = tsk::ActiveModel::from(t);
    am.status = Set(status::DISPATCHED.into());
    am.host_id = Set(host_id.to_owned());
    am.distro = Set(distro.to_owned());
    am.dispatch_time = Set(Some(at));
    am.scheduled_time = Set(Some(at));
    let t = am.update(&txn).await?;
    txn.commit().await?;
    Ok(t)
}

/// Marks a task started, and its build and version started if they were not.
pub async fn start_task<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    task_id: &str,
    at: Option<NaiveDateTime>,
) -> AppResult<Task> {
    let _turn = crate::service::write_turn(db).await;
    let txn = db.begin().await?;
    let t = lock_task(&txn, task_id).await?;
    if t.status != status::DISPATCHED && t.status != status::UNDISPATCHED {
        return Err(AppError::Conflict(format!(
            "task '{task_id}' is {}; only a task that has not started can start",
            t.status
        )));
    }
    require_activated(&t)?;
    let at = truncate_ms(at.unwrap_or_else(now));
    let mut am = tsk::ActiveModel::from(t);
    am.status = Set(status::STARTED.into());
    am.start_time = Set(Some(at));
    am.last_heartbeat = Set(Some(at));
    let t = am.update(&txn).await?;
    // Build and version: created -> started, start time kept from the first task.
    let b = bld::Entity::find_by_id(t.build_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::Internal("task without build".into()))?;
    if b.start_time.is_none() || b.status == status::CREATED {
        let mut bam = bld::ActiveModel::from(b.clone());
        if b.status == status::CREATED {
            bam.status = Set(status::STARTED.into());
        }
        if b.start_time.is_none() {
            bam.start_time = Set(Some(at));
        }
        bam.update(&txn).await?;
    }
    let v = ver::Entity::find_by_id(t.version_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::Internal("task without version".into()))?;
    if v.start_time.is_none() || v.status == status::CREATED {
        let mut vam = ver::ActiveModel::from(v.clone());
        if v.status == status::CREATED {
            vam.status = Set(status::STARTED.into());
        }
        if v.start_time.is_none() {
            vam.start_time = Set(Some(at));
        }
        vam.update(&txn).await?;
    }
    txn.commit().await?;
    Ok(t)
}

/// Records a heartbeat from a running task.
pub async fn heartbeat_task<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    task_id: &str,
    at: Option<NaiveDateTime>,
) -> AppResult<Task> {
    let _turn = crate::service::write_turn(db).await;
    let txn = db.begin().await?;
    let t = lock_task(&txn, task_id).await?;
    if t.status != status::STARTED {
        return Err(AppError::Conflict(format!(
            "task '{task_id}' is {}, not started",
            t.status
        )));
    }
    let mut am = tsk::ActiveModel::from(t);
    am.last_heartbeat = Set(Some(truncate_ms(at.unwrap_or_else(now))));
    let t = am.update(&txn).await?;
    txn.commit().await?;
    Ok(t)
}

/// Finishes a started task and derives its build's and version's status and times:
/// - a failed task marks its build failed at once;
/// - a build finishes (success, or failed if any task failed) when all its tasks have finished,
///   with `time_taken` = finish - start;
/// - a version finishes when all its builds have, failed if any build failed.
pub async fn finish_task<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    task_id: &str,
    end: TaskEnd,
    at: Option<NaiveDateTime>,
) -> AppResult<Task> {
    if end.status != status::SUCCESS && end.status != status::FAILED {
        return Err(AppError::invalid_field(
            "status",
            "a task ends with 'success' or 'failed'",
        ));
    }
    let _turn = crate::service::write_turn(db).await;
    let txn = db.begin().await?;
    let t = lock_task(&txn, task_id).await?;
    if t.status != status::STARTED {
        return Err(AppError::Conflict(format!(
            "task '{task_id}' is {}; only a started task can finish",
            t.status
        )));
    }
    let at = truncate_ms(at.unwrap_or_else(now));
    let mut am = tsk::ActiveModel::from(t.clone());
    am.status = Set(end.status.clone());
    am.details_type = Set(end.kind);
    am.details_desc = Set(end.desc);
    am.timed_out = Set(end.timed_out);
    am.finish_time = Set(Some(at));
    am.time_taken_ns = Set(nanos_between(t.start_time, at));
    let t = am.update(&txn).await?;

    // Lock the build before reading its tasks: of two sibling tasks finishing at once, the
    // second then sees the first as finished.
    lock_pk(&txn, "evg_builds", t.build_id).await?;
    let b = bld::Entity::find_by_id(t.build_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::Internal("task without build".into()))?;
    let siblings = tsk::Entity::find()
        .filter(tsk::Column::BuildId.eq(b.id))
        .all(&txn)
        .await?;
    let failed = siblings.iter().any(|s| s.status == status::FAILED);
    let all_done = build_is_done(&siblings);
    let mut bam = bld::ActiveModel::from(b.clone());
    bam.status = Set(if failed {
        status::FAILED.into()
    } else if all_done {
        status::SUCCESS.into()
    } else {
        status::STARTED.into()
    });
    if all_done {
        bam.finish_time = Set(Some(at));
        bam.time_taken_ns = Set(nanos_between(b.start_time, at));
    }
    bam.update(&txn).await?;

    if all_done {
        lock_pk(&txn, "evg_versions", t.version_id).await?;
        let builds = bld::Entity::find()
            .filter(bld::Column::VersionId.eq(t.version_id))
            .all(&txn)
            .await?;
        if builds.iter().all(|x| x.finish_time.is_some()) {
            let v = ver::Entity::find_by_id(t.version_id)
                .one(&txn)
                .await?
                .ok_or_else(|| AppError::Internal("task without version".into()))?;
            let any_failed = builds.iter().any(|x| x.status == status::FAILED);
            let mut vam = ver::ActiveModel::from(v);
            vam.status = Set(if any_failed {
                status::FAILED.into()
            } else {
                status::SUCCESS.into()
            });
            vam.finish_time = Set(Some(at));
            vam.update(&txn).await?;
        }
    }
    txn.commit().await?;
    Ok(t)
}

/// Attaches test results to a task's current execution, all or none, within the task's limit
/// (`MAX_RESULTS_PER_TASK`).
pub async fn add_test_results<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    task_id: &str,
    results: Vec<NewTestResult>,
) -> AppResult<u64> {
    if results.len() > MAX_BATCH {
        return Err(AppError::bad_request(format!(
            "at most {MAX_BATCH} test results per call"
        )));
    }
    for r in &results {
        if !matches!(r.status.as_str(), "pass" | "fail" | "skip") {
            return Err(AppError::invalid_field(
                "status",
                format!("test status '{}' is not pass, fail or skip", r.status),
            ));
        }
        if !r.start_s.is_finite() || !r.end_s.is_finite() || r.end_s < r.start_s {
            return Err(AppError::invalid_field(
                "end",
                format!("test '{}' must end after it starts", r.test_file),
            ));
        }
    }
    let _turn = crate::service::write_turn(db).await;
    let txn = db.begin().await?;
    let t = lock_task(&txn, task_id).await?;
    let n = results.len() as u64;
    let held = stored_results(&txn, t.id).await?;
    check_room(task_id, "test results", held, n, MAX_RESULTS_PER_TASK)?;
    if txn.get_database_backend() == DbBackend::Postgres {
        insert_results_pg(&txn, t.id, t.execution, &results).await?;
        txn.commit().await?;
        return Ok(n);
    }
    let mut rows = results
        .into_iter()
        .map(|r| res::ActiveModel {
            id: NotSet,
            task_id: Set(t.id),
            execution: Set(t.execution),
            test_file: Set(r.test_file),
            status: Set(r.status),
            url: Set(r.url),
            log_id: Set(r.log_id),
            line_num: Set(r.line_num),
            exit_code: Set(r.exit_code),
            start_s: Set(r.start_s),
            end_s: Set(r.end_s),
        })
        .peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(1_000).collect();
        res::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(n)
}

/// PostgreSQL: the whole batch as one statement whose rows come from one JSON parameter.
///
/// A multi-row `VALUES` list binds ten parameters a row, which the server built and encoded and
/// PostgreSQL parsed and planned for every chunk of 1,000 rows; `json_to_recordset` reads the
/// batch in one pass in C. `ROWS FROM ... WITH ORDINALITY ... ORDER BY` keeps the ids in the order the results
/// were reported (the order the lists show). Floats are written in their shortest exact form and
/// read back to the same `float8`.
async fn insert_results_pg(
    txn: &impl ConnectionTrait,
    task_id: i64,
    execution: i32,
    results: &[NewTestResult],
) -> AppResult<()> {
    #[derive(serde::Serialize)]
    struct Row<'a> {
        test_file: &'a str,
        status: &'a str,
        url: &'a str,
        log_id: &'a str,
        line_num: i32,
        exit_code: i32,
        start_s: f64,
        end_s: f64,
    }
    let rows: Vec<Row<'_>> = results
        .iter()
        .map(|r| Row {
            test_file: &r.test_file,
            status: &r.status,
            url: &r.url,
            log_id: &r.log_id,
            line_num: r.line_num,
            exit_code: r.exit_code,
            start_s: r.start_s,
            end_s: r.end_s,
        })
        .collect();
    let json = serde_json::to_string(&rows)
        .map_err(|e| AppError::Internal(format!("writing test results: {e}")))?;
    const SQL: &str = "INSERT INTO evg_test_results \
        (task_id, execution, test_file, status, url, log_id, line_num, exit_code, start_s, end_s) \
        SELECT $1, $2, r.test_file, r.status, r.url, r.log_id, r.line_num, r.exit_code, r.start_s, r.end_s \
        FROM ROWS FROM (json_to_recordset($3::json) AS (test_file text, status text, url text, \
        log_id text, line_num int4, exit_code int4, start_s float8, end_s float8)) \
        WITH ORDINALITY AS r(test_file, status, url, log_id, line_num, exit_code, start_s, end_s, ord) \
        ORDER BY r.ord";
    txn.execute_raw(sea_orm::Statement::from_sql_and_values(
        DbBackend::Postgres,
        SQL,
        [task_id.into(), execution.into(), json.into()],
    ))
    .await?;
    Ok(())
}

/// Attaches artifact files to a task, all or none, within the task's limit
/// (`MAX_FILES_PER_TASK`).
pub async fn add_artifacts<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    task_id: &str,
    files: Vec<NewArtifact>,
) -> AppResult<u64> {
    if files.len() > MAX_BATCH {
        return Err(AppError::bad_request(format!(
            "at most {MAX_BATCH} files per call"
        )));
    }
    let _turn = crate::service::write_turn(db).await;
    let txn = db.begin().await?;
    let t = lock_task(&txn, task_id).await?;
    let n = files.len() as u64;
    let held = count_artifacts(&txn, &[t.id])
        .await?
        .remove(&t.id)
        .unwrap_or(0);
    check_room(task_id, "files", held, n, MAX_FILES_PER_TASK)?;
    if !files.is_empty() {
        let rows = files.into_iter().map(|f| art::ActiveModel {
            id: NotSet,
            task_id: Set(t.id),
            name: Set(f.name),
            url: Set(f.url),
        });
        art::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(n)
}

/// How many test results the task stores, of every execution (read under the task's lock, so no
/// concurrent writer of the task adds to them meanwhile). Not `count_children`: that one counts the
/// current execution's, checking each row's execution against the task's, which costs a lookup a
/// row; this one reads only the `(task_id, id)` index, and bounds what a task stores.
async fn stored_results(txn: &impl ConnectionTrait, task: i64) -> AppResult<u64> {
    let mut q = Query::select();
    q.expr_as(count_star(), Alias::new("n"))
        .from(res::Entity)
        .and_where(Expr::col(res::Column::TaskId).eq(task));
    fetch_count(txn, &q).await
}

/// Refuses a batch that would take a task past its limit, naming what it holds.
fn check_room(task_id: &str, what: &str, held: u64, adding: u64, limit: u64) -> AppResult<()> {
    if held.saturating_add(adding) > limit {
        return Err(AppError::bad_request(format!(
            "task '{task_id}' holds {held} {what}; {adding} more would pass the limit of {limit} a task"
        )));
    }
    Ok(())
}
