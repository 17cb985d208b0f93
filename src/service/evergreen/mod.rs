//! Evergreen's domain: projects and their build variants, versions, builds, tasks, test results and
//! artifacts. Ingestion creates versions the way Evergreen's repotracker did (one build per
//! variant, one task per variant task, Evergreen's id formats and per-project order) and moves
//! tasks through their lifecycle, deriving build and version status and `time_taken` in the same
//! transaction as the change, as Evergreen's `UpdateBuildAndVersionStatusForTask` did.

use std::collections::HashMap;

use chrono::{NaiveDateTime, Utc};
use entity::{
    evg_artifact as art, evg_build as bld, evg_project as prj, evg_task as tsk,
    evg_test_result as res, evg_variant as var, evg_version as ver,
};
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, Order, Query, SelectStatement, SimpleExpr,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{NotSet, Set},
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionSession, TransactionTrait,
};

use super::rows::{ColumnSet, Positional, fetch_positional, fetch_some, select_all, select_from};
use super::{
    Direction, KeyCursor, Slice, SortValue, apply_slice, count_star, fetch_all, fetch_count,
    in_list,
};
use crate::error::{AppError, AppResult};

mod children;
mod lifecycle;

pub use children::{
    ChildFilter, artifacts_page, child_cursor, children_page, count_artifacts, count_children,
};
pub use lifecycle::{
    add_artifacts, add_test_results, dispatch_task, finish_task, heartbeat_task, start_task,
};

/// The requester of versions made from commits (patches use another and never show here).
pub const GITTER_REQUEST: &str = "gitter_request";
/// How many versions `recent_versions` and the task history look at.
pub const NUM_RECENT_VERSIONS: u64 = 10;
/// Most variants per project and tasks per variant accepted.
pub const MAX_VARIANTS: usize = 500;
pub const MAX_TASKS: usize = 1_000;
/// Most test results or artifacts in one call.
pub const MAX_BATCH: usize = 50_000;
/// Most test results one task holds. `GET /rest/v1/tasks/<id>` lists them all, as Evergreen did,
/// so this bounds that answer (about 200 bytes a result); Evergreen's largest suites report tens
/// of thousands.
pub const MAX_RESULTS_PER_TASK: u64 = 100_000;
/// Most artifact files one task holds (the same answer lists them all).
pub const MAX_FILES_PER_TASK: u64 = 10_000;

pub mod status {
    pub const CREATED: &str = "created";
    pub const STARTED: &str = "started";
    pub const SUCCESS: &str = "success";
    pub const FAILED: &str = "failed";
    pub const UNDISPATCHED: &str = "undispatched";
    pub const DISPATCHED: &str = "dispatched";
}

pub type Project = prj::Model;
pub type Variant = var::Model;
pub type Version = ver::Model;
pub type Build = bld::Model;
pub type Task = tsk::Model;
pub type TestResult = res::Model;
pub type Artifact = art::Model;

// ----------------------------------------------------------------------------------------------
// Inputs
// ----------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TaskDef {
    pub name: String,
    #[serde(default)]
    pub depends_on: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VariantDef {
    pub name: String,
    pub display_name: String,
    pub tasks: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProjectInput {
    pub identifier: String,
    pub display_name: String,
    pub owner_name: String,
    pub repo_name: String,
    pub branch_name: String,
    pub repo_kind: String,
    pub batch_time: i64,
    pub remote: bool,
    pub remote_path: String,
    pub enabled: bool,
    pub private: bool,
    pub tasks: Vec<TaskDef>,
    pub variants: Vec<VariantDef>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewVersion {
    pub project: String,
    pub revision: String,
    pub author: String,
    pub author_email: String,
    pub message: String,
    /// Defaults to now.
    pub create_time: Option<NaiveDateTime>,
    /// Defaults to activated when the project's batch time is 0.
    pub activated: Option<bool>,
    /// Defaults to `gitter_request`.
    pub requester: Option<String>,
}

/// How a task ended, as Evergreen's agent reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskEnd {
    /// `success` or `failed`.
    pub status: String,
    /// The failing command's type (e.g. "test", "setup").
    pub kind: String,
    /// The failing stage's description (`timeout_stage` in the REST shape).
    pub desc: String,
    pub timed_out: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewTestResult {
    pub test_file: String,
    /// pass, fail or skip.
    pub status: String,
    pub url: String,
    pub log_id: String,
    pub line_num: i32,
    pub exit_code: i32,
    pub start_s: f64,
    pub end_s: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewArtifact {
    pub name: String,
    pub url: String,
}

// ----------------------------------------------------------------------------------------------
// Ids
// ----------------------------------------------------------------------------------------------

/// Evergreen's `util.CleanName`: every character that is not an ASCII letter or digit becomes `_`.
pub fn clean_name(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

pub fn version_id(identifier: &str, revision: &str) -> String {
    clean_name(&format!("{identifier}_{revision}"))
}

pub fn build_id(identifier: &str, variant: &str, revision: &str, created: NaiveDateTime) -> String {
    clean_name(&format!(
        "{identifier}_{variant}_{revision}_{}",
        created.format("%y_%m_%d_%H_%M_%S")
    ))
}

/// As in seed 001's examples: the build id, the task name and the variant.
pub fn task_id(build_id: &str, task: &str, variant: &str) -> String {
    clean_name(&format!("{build_id}_{task}_{variant}"))
}

fn now() -> NaiveDateTime {
    // Evergreen stores times at millisecond precision.
    let t = Utc::now().naive_utc();
    truncate_ms(t)
}

fn truncate_ms(t: NaiveDateTime) -> NaiveDateTime {
    use chrono::Timelike;
    t.with_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(t)
}

fn nanos_between(start: Option<NaiveDateTime>, end: NaiveDateTime) -> i64 {
    start
        .map(|s| std::cmp::max((end - s).num_nanoseconds().unwrap_or(i64::MAX), 0))
        .unwrap_or(0)
}

// ----------------------------------------------------------------------------------------------
// Row locks
// ----------------------------------------------------------------------------------------------

/// Takes a row lock with a no-op update as a transaction's first statement: on PostgreSQL it
/// holds the row until commit (like `SELECT ... FOR UPDATE`), on SQLite it takes the database's
/// write lock before anything is read, so a concurrent writer waits (busy timeout) instead of
/// failing on a stale snapshot. Returns how many rows matched.
async fn lock(
    txn: &impl ConnectionTrait,
    table: &str,
    column: &str,
    value: &str,
) -> AppResult<u64> {
    let mut q = Query::update();
    q.table(Alias::new(table))
        .value(Alias::new(column), Expr::col(Alias::new(column)))
        .and_where(Expr::col(Alias::new(column)).eq(value));
    Ok(txn.execute(&q).await?.rows_affected())
}

/// Locks a row by its primary key, the same way.
async fn lock_pk(txn: &impl ConnectionTrait, table: &str, id: i64) -> AppResult<()> {
    let mut q = Query::update();
    q.table(Alias::new(table))
        .value(Alias::new("id"), Expr::col(Alias::new("id")))
        .and_where(Expr::col(Alias::new("id")).eq(id));
    txn.execute(&q).await?;
    Ok(())
}

// ----------------------------------------------------------------------------------------------
// Projects
// ----------------------------------------------------------------------------------------------

fn check_name(field: &str, v: &str) -> AppResult<()> {
    if v.trim().is_empty() || v.len() > 200 {
        return Err(AppError::invalid_field(
            field,
            format!("'{field}' must be 1 to 200 characters"),
        ));
    }
    Ok(())
}

/// Registers a project or replaces its settings, task definitions and variants. Variants keep
/// their build counters across updates; variants no longer listed are removed (their existing
/// builds stay).
pub async fn upsert_project<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    input: ProjectInput,
) -> AppResult<Project> {
    check_name("identifier", &input.identifier)?;
    if input.variants.len() > MAX_VARIANTS || input.tasks.len() > MAX_TASKS {
        return Err(AppError::bad_request(format!(
            "at most {MAX_VARIANTS} variants and {MAX_TASKS} tasks"
        )));
    }
    let defined: std::collections::HashSet<&str> =
        input.tasks.iter().map(|t| t.name.as_str()).collect();
    for t in &input.tasks {
        check_name("tasks.name", &t.name)?;
        for d in &t.depends_on {
            if !defined.contains(d.as_str()) {
                return Err(AppError::invalid_field(
                    "tasks.dependsOn",
                    format!("task '{}' depends on undefined task '{d}'", t.name),
                ));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for v in &input.variants {
        check_name("variants.name", &v.name)?;
        if !seen.insert(v.name.as_str()) {
            return Err(AppError::invalid_field(
                "variants.name",
                format!("variant '{}' is listed twice", v.name),
            ));
        }
        if v.tasks.len() > MAX_TASKS {
            return Err(AppError::bad_request(format!(
                "at most {MAX_TASKS} tasks per variant"
            )));
        }
        for t in &v.tasks {
            if !defined.contains(t.as_str()) {
                return Err(AppError::invalid_field(
                    "variants.tasks",
                    format!("variant '{}' runs undefined task '{t}'", v.name),
                ));
            }
        }
    }
    // Ids are built from cleaned names, so two names that clean alike would collide.
    for (what, names) in [
        (
            "variants.name",
            input
                .variants
                .iter()
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>(),
        ),
        (
            "tasks.name",
            input
                .tasks
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>(),
        ),
    ] {
        let mut cleaned: HashMap<String, &str> = HashMap::new();
        for n in names {
            if let Some(other) = cleaned.insert(clean_name(n), n) {
                return Err(AppError::invalid_field(
                    what,
                    format!("'{n}' and '{other}' would produce the same ids"),
                ));
            }
        }
    }
    let tasks_json =
        serde_json::to_string(&input.tasks).map_err(|e| AppError::Internal(e.to_string()))?;
    let _turn = super::write_turn(db).await;
    let txn = db.begin().await?;
    // Take the project's row lock (PostgreSQL) or the write lock (SQLite) before reading, so that
    // concurrent writers to one project queue instead of racing on stale reads.
    lock(&txn, "evg_projects", "identifier", &input.identifier).await?;
    let existing = prj::Entity::find()
        .filter(prj::Column::Identifier.eq(input.identifier.clone()))
        .one(&txn)
        .await?;
    let mut am = match &existing {
        Some(p) => prj::ActiveModel::from(p.clone()),
        None => prj::ActiveModel {
            id: NotSet,
            last_order: Set(0),
            ..Default::default()
        },
    };
    am.identifier = Set(input.identifier.clone());
    am.display_name = Set(input.display_name.clone());
    am.owner_name = Set(input.owner_name.clone());
    am.repo_name = Set(input.repo_name.clone());
    am.branch_name = Set(input.branch_name.clone());
    am.repo_kind = Set(input.repo_kind.clone());
    am.batch_time = Set(std::cmp::max(input.batch_time, 0));
    am.remote = Set(input.remote);
    am.remote_path = Set(input.remote_path.clone());
    am.enabled = Set(input.enabled);
    am.private = Set(input.private);
    am.tasks = Set(tasks_json);
    let project = if existing.is_some() {
        am.update(&txn).await?
    } else {
        am.insert(&txn).await?
    };

    let old: Vec<Variant> = var::Entity::find()
        .filter(var::Column::ProjectId.eq(project.id))
        .all(&txn)
        .await?;
    let mut old_by_name: HashMap<String, Variant> =
        old.into_iter().map(|v| (v.name.clone(), v)).collect();
    for (i, v) in input.variants.iter().enumerate() {
        let tasks =
            serde_json::to_string(&v.tasks).map_err(|e| AppError::Internal(e.to_string()))?;
        match old_by_name.remove(&v.name) {
            Some(o) => {
                let mut am = var::ActiveModel::from(o);
                am.position = Set(i as i32);
                am.display_name = Set(v.display_name.clone());
                am.tasks = Set(tasks);
                am.update(&txn).await?;
            }
            None => {
                var::ActiveModel {
                    id: NotSet,
                    project_id: Set(project.id),
                    position: Set(i as i32),
                    name: Set(v.name.clone()),
                    display_name: Set(v.display_name.clone()),
                    tasks: Set(tasks),
                    last_build_number: Set(0),
                }
                .insert(&txn)
                .await?;
            }
        }
    }
    let gone: Vec<i64> = old_by_name.values().map(|v| v.id).collect();
    if !gone.is_empty() {
        var::Entity::delete_many()
            .filter(var::Column::Id.is_in(gone))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(project)
}

pub async fn project_by_identifier(
    db: &impl ConnectionTrait,
    identifier: &str,
) -> AppResult<Option<Project>> {
    Ok(prj::Entity::find()
        .filter(prj::Column::Identifier.eq(identifier))
        .one(db)
        .await?)
}

pub async fn projects_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, Project>> {
    let rows = prj::Entity::find()
        .filter(in_list(db, (prj::Entity, prj::Column::Id), ids))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|p| (p.id, p)).collect())
}

pub async fn list_projects(db: &impl ConnectionTrait, slice: &Slice) -> AppResult<Vec<Project>> {
    let mut q = Query::select();
    q.column(Asterisk).from(prj::Entity);
    apply_slice(
        &mut q,
        None,
        Expr::col((prj::Entity, prj::Column::Id)),
        Direction::Asc,
        slice,
    );
    fetch_all(db, &q).await
}

pub async fn count_projects(db: &impl ConnectionTrait) -> AppResult<u64> {
    let mut q = Query::select();
    q.expr_as(count_star(), Alias::new("n")).from(prj::Entity);
    fetch_count(db, &q).await
}

/// The variants of each project, in order.
pub async fn variants_for_projects(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<Variant>>> {
    let rows = var::Entity::find()
        .filter(in_list(db, (var::Entity, var::Column::ProjectId), ids))
        .order_by_asc(var::Column::ProjectId)
        .order_by_asc(var::Column::Position)
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<Variant>> = HashMap::new();
    for v in rows {
        out.entry(v.project_id).or_default().push(v);
    }
    Ok(out)
}

pub fn project_tasks(p: &Project) -> Vec<TaskDef> {
    serde_json::from_str(&p.tasks).unwrap_or_default()
}

pub fn variant_tasks(v: &Variant) -> Vec<String> {
    serde_json::from_str(&v.tasks).unwrap_or_default()
}

// ----------------------------------------------------------------------------------------------
// Versions
// ----------------------------------------------------------------------------------------------

/// Creates the version of a revision with one build per variant and one task per variant task,
/// as Evergreen's repotracker did, in one transaction.
pub async fn create_version<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    new: NewVersion,
) -> AppResult<Version> {
    check_name("revision", &new.revision)?;
    let _turn = super::write_turn(db).await;
    let txn = db.begin().await?;
    // Bump the per-project order as the first statement: it locks the project row (PostgreSQL) or
    // the database (SQLite) until commit, so concurrent versions of one project get distinct,
    // consecutive orders and build numbers.
    let bumped = prj::Entity::update_many()
        .col_expr(
            prj::Column::LastOrder,
            Expr::col(prj::Column::LastOrder).add(1),
        )
        .filter(prj::Column::Identifier.eq(new.project.clone()))
        .exec(&txn)
        .await?;
    if bumped.rows_affected == 0 {
        return Err(AppError::not_found(format!("no project '{}'", new.project)));
    }
    let project = prj::Entity::find()
        .filter(prj::Column::Identifier.eq(new.project.clone()))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no project '{}'", new.project)))?;
    let vid = version_id(&project.identifier, &new.revision);
    if ver::Entity::find()
        .filter(ver::Column::VersionId.eq(vid.clone()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "version '{vid}' already exists"
        )));
    }
    let created = truncate_ms(new.create_time.unwrap_or_else(now));
    let activated = new.activated.unwrap_or(project.batch_time == 0);
    let order = project.last_order;

    let version = ver::ActiveModel {
        id: NotSet,
        version_id: Set(vid),
        project_id: Set(project.id),
        revision: Set(new.revision.clone()),
        author: Set(new.author),
        author_email: Set(new.author_email),
        message: Set(new.message),
        status: Set(status::CREATED.into()),
        activated: Set(activated),
        create_time: Set(created),
        start_time: Set(None),
        finish_time: Set(None),
        order_num: Set(order),
        requester: Set(new.requester.unwrap_or_else(|| GITTER_REQUEST.into())),
    }
    .insert(&txn)
    .await?;

    let defs: HashMap<String, TaskDef> = project_tasks(&project)
        .into_iter()
        .map(|t| (t.name.clone(), t))
        .collect();
    let variants = var::Entity::find()
        .filter(var::Column::ProjectId.eq(project.id))
        .order_by_asc(var::Column::Position)
        .all(&txn)
        .await?;
    let mut tasks = Vec::new();
    for (pos, v) in variants.into_iter().enumerate() {
        let number = v.last_build_number + 1;
        let mut vam = var::ActiveModel::from(v.clone());
        vam.last_build_number = Set(number);
        vam.update(&txn).await?;
        let bid = build_id(&project.identifier, &v.name, &new.revision, created);
        let build = bld::ActiveModel {
            id: NotSet,
            build_id: Set(bid.clone()),
            version_id: Set(version.id),
            project_id: Set(project.id),
            position: Set(pos as i32),
            variant: Set(v.name.clone()),
            display_name: Set(v.display_name.clone()),
            build_number: Set(number.to_string()),
            status: Set(status::CREATED.into()),
            activated: Set(activated),
            activated_time: Set(activated.then_some(created)),
            create_time: Set(created),
            start_time: Set(None),
            finish_time: Set(None),
            push_time: Set(Some(created)),
            time_taken_ns: Set(0),
        }
        .insert(&txn)
        .await?;
        let names = variant_tasks(&v);
        let ids: HashMap<&str, String> = names
            .iter()
            .map(|n| (n.as_str(), task_id(&bid, n, &v.name)))
            .collect();
        for (tpos, name) in names.iter().enumerate() {
            let depends: Vec<&String> = defs
                .get(name)
                .map(|d| {
                    d.depends_on
                        .iter()
                        .filter_map(|dep| ids.get(dep.as_str()))
                        .collect()
                })
                .unwrap_or_default();
            tasks.push(tsk::ActiveModel {
                id: NotSet,
                task_id: Set(ids.get(name.as_str()).cloned().unwrap_or_default()),
                build_id: Set(build.id),
                version_id: Set(version.id),
                project_id: Set(project.id),
                position: Set(tpos as i32),
                display_name: Set(name.clone()),
                variant: Set(v.name.clone()),
                distro: Set(String::new()),
                host_id: Set(String::new()),
                priority: Set(0),
                activated: Set(activated),
                status: Set(status::UNDISPATCHED.into()),
                details_type: Set(String::new()),
                details_desc: Set(String::new()),
                timed_out: Set(false),
                aborted: Set(false),
                create_time: Set(created),
                scheduled_time: Set(None),
                dispatch_time: Set(None),
                start_time: Set(None),
                finish_time: Set(None),
                push_time: Set(Some(created)),
                last_heartbeat: Set(None),
                restarts: Set(0),
                execution: Set(0),
                archived: Set(false),
                time_taken_ns: Set(0),
                expected_duration_ns: Set(0),
                min_queue_pos: Set(0),
                depends_on: Set(serde_json::to_string(&depends).unwrap_or_else(|_| "[]".into())),
            });
        }
    }
    let mut tasks = tasks.into_iter().peekable();
    while tasks.peek().is_some() {
        let chunk: Vec<_> = tasks.by_ref().take(500).collect();
        tsk::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(version)
}

pub async fn version_by_id(
    db: &impl ConnectionTrait,
    version_id: &str,
) -> AppResult<Option<Version>> {
    Ok(ver::Entity::find()
        .filter(ver::Column::VersionId.eq(version_id))
        .one(db)
        .await?)
}

/// The commit version of `revision` in a project.
pub async fn version_by_revision(
    db: &impl ConnectionTrait,
    project_id: i64,
    revision: &str,
) -> AppResult<Option<Version>> {
    Ok(ver::Entity::find()
        .filter(ver::Column::ProjectId.eq(project_id))
        .filter(ver::Column::Revision.eq(revision))
        .filter(ver::Column::Requester.eq(GITTER_REQUEST))
        .one(db)
        .await?)
}

/// The newest commit versions of a project, by order descending.
pub async fn recent_versions(
    db: &impl ConnectionTrait,
    project_id: i64,
    limit: u64,
) -> AppResult<Vec<Version>> {
    Ok(ver::Entity::find()
        .filter(ver::Column::ProjectId.eq(project_id))
        .filter(ver::Column::Requester.eq(GITTER_REQUEST))
        .order_by_desc(ver::Column::OrderNum)
        .limit(limit)
        .all(db)
        .await?)
}

pub async fn versions_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, Version>> {
    let rows = ver::Entity::find()
        .filter(in_list(db, (ver::Entity, ver::Column::Id), ids))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|v| (v.id, v)).collect())
}

/// The row id of the project with this identifier, as a subquery for the filters.
fn project_id_of(identifier: &str) -> SelectStatement {
    Query::select()
        .column(prj::Column::Id)
        .from(prj::Entity)
        .and_where(Expr::col(prj::Column::Identifier).eq(identifier))
        .to_owned()
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct VersionFilter {
    /// Project identifier.
    pub project: Option<String>,
    pub revision: Option<String>,
    pub status: Option<String>,
    pub requester: Option<String>,
    pub created_from: Option<NaiveDateTime>,
    pub created_to: Option<NaiveDateTime>,
}

fn version_condition(f: &VersionFilter) -> sea_orm::sea_query::Condition {
    use sea_orm::sea_query::Condition;
    let col = |c: ver::Column| Expr::col((ver::Entity, c));
    let mut cond = Condition::all();
    if let Some(p) = &f.project {
        cond = cond.add(col(ver::Column::ProjectId).in_subquery(project_id_of(p)));
    }
    if let Some(r) = &f.revision {
        cond = cond.add(col(ver::Column::Revision).eq(r.clone()));
    }
    if let Some(s) = &f.status {
        cond = cond.add(col(ver::Column::Status).eq(s.clone()));
    }
    if let Some(r) = &f.requester {
        cond = cond.add(col(ver::Column::Requester).eq(r.clone()));
    }
    if let Some(t) = f.created_from {
        cond = cond.add(col(ver::Column::CreateTime).gte(t));
    }
    if let Some(t) = f.created_to {
        cond = cond.add(col(ver::Column::CreateTime).lt(t));
    }
    cond
}

/// Versions by `order` (then id) in `direction`.
pub async fn list_versions(
    db: &impl ConnectionTrait,
    f: &VersionFilter,
    direction: Direction,
    slice: &Slice,
) -> AppResult<Vec<Version>> {
    let mut q = Query::select();
    q.column(Asterisk)
        .from(ver::Entity)
        .cond_where(version_condition(f));
    apply_slice(
        &mut q,
        Some(Expr::col((ver::Entity, ver::Column::OrderNum))),
        Expr::col((ver::Entity, ver::Column::Id)),
        direction,
        slice,
    );
    fetch_all(db, &q).await
}

pub fn version_cursor(v: &Version) -> KeyCursor {
    KeyCursor {
        value: SortValue::Float(v.order_num as f64),
        id: v.id,
    }
}

pub async fn count_versions(db: &impl ConnectionTrait, f: &VersionFilter) -> AppResult<u64> {
    let mut q = Query::select();
    q.expr_as(count_star(), Alias::new("n"))
        .from(ver::Entity)
        .cond_where(version_condition(f));
    fetch_count(db, &q).await
}

/// Sets a version's activation and cascades it: every build of the version, and every task of
/// those builds that has not been dispatched yet (Evergreen's SetVersionActivation).
pub async fn set_version_activated<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    version_id: &str,
    active: bool,
) -> AppResult<Version> {
    let _turn = super::write_turn(db).await;
    let txn = db.begin().await?;
    // Rows are written in the order the task lifecycle locks them (task, build, version) so that
    // an activation and a finishing task never wait on each other in a cycle; the first statement
    // is a write so that SQLite takes its write lock up front.
    let version_pk = {
        let mut sub = Query::select();
        sub.column(ver::Column::Id)
            .from(ver::Entity)
            .and_where(Expr::col(ver::Column::VersionId).eq(version_id));
        sub
    };
    tsk::Entity::update_many()
        .col_expr(tsk::Column::Activated, Expr::val(active))
        .filter(Expr::col(tsk::Column::VersionId).in_subquery(version_pk.clone()))
        .filter(tsk::Column::Status.eq(status::UNDISPATCHED))
        .exec(&txn)
        .await?;
    let mut b = bld::Entity::update_many()
        .col_expr(bld::Column::Activated, Expr::val(active))
        .filter(Expr::col(bld::Column::VersionId).in_subquery(version_pk));
    if active {
        b = b.col_expr(bld::Column::ActivatedTime, Expr::val(now()));
    }
    b.exec(&txn).await?;
    let updated = ver::Entity::update_many()
        .col_expr(ver::Column::Activated, Expr::val(active))
        .filter(ver::Column::VersionId.eq(version_id))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 0 {
        return Err(AppError::not_found(format!(
            "Error finding version '{version_id}'"
        )));
    }
    let v = ver::Entity::find()
        .filter(ver::Column::VersionId.eq(version_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("Error finding version '{version_id}'")))?;
    txn.commit().await?;
    Ok(v)
}

// ----------------------------------------------------------------------------------------------
// Builds and tasks
// ----------------------------------------------------------------------------------------------

pub async fn build_by_id(db: &impl ConnectionTrait, build_id: &str) -> AppResult<Option<Build>> {
    Ok(bld::Entity::find()
        .filter(bld::Column::BuildId.eq(build_id))
        .one(db)
        .await?)
}

pub async fn builds_by_ids(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, Build>> {
    let rows = bld::Entity::find()
        .filter(in_list(db, (bld::Entity, bld::Column::Id), ids))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|b| (b.id, b)).collect())
}

/// A task by its Evergreen id: the point lookup behind `evergreenTask(id:)` and every REST task
/// route, decoded by position (`service::rows`).
pub async fn task_by_id(db: &impl ConnectionTrait, task_id: &str) -> AppResult<Option<Task>> {
    let mut q = select_all::<Task>();
    q.and_where(Expr::col((tsk::Entity, tsk::Column::TaskId)).eq(task_id))
        .limit(1);
    Ok(fetch_positional(db, &q).await?.into_iter().next())
}

/// Every build of each version, in variant order (one statement). A version has one build per
/// variant, so the lists are bounded by the project's variant count.
pub async fn builds_for_versions(
    db: &impl ConnectionTrait,
    version_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<Build>>> {
    let mut q = select_all::<Build>();
    q.and_where(in_list(
        db,
        (bld::Entity, bld::Column::VersionId),
        version_ids,
    ))
    .order_by((bld::Entity, bld::Column::VersionId), Order::Asc)
    .order_by((bld::Entity, bld::Column::Position), Order::Asc);
    let rows: Vec<Build> = fetch_positional(db, &q).await?;
    let mut out: HashMap<i64, Vec<Build>> = HashMap::new();
    for b in rows {
        out.entry(b.version_id).or_default().push(b);
    }
    Ok(out)
}

/// What the legacy status maps show of a task: `{task_id, status, time_taken}` keyed by its
/// display name and variant. The build, build status, version status and recent versions routes
/// read up to thousands of tasks for these six of a task's thirty-one columns.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSummary {
    pub build_id: i64,
    pub task_id: String,
    pub display_name: String,
    pub variant: String,
    pub status: String,
    pub time_taken_ns: i64,
}

impl TaskSummary {
    fn columns() -> ColumnSet {
        static COLS: std::sync::LazyLock<ColumnSet> = std::sync::LazyLock::new(|| {
            ColumnSet::of::<tsk::Entity>(&[
                "task_id",
                "build_id",
                "display_name",
                "variant",
                "status",
                "time_taken_ns",
            ])
        });
        *COLS
    }
}

impl From<Task> for TaskSummary {
    fn from(t: Task) -> Self {
        TaskSummary {
            build_id: t.build_id,
            task_id: t.task_id,
            display_name: t.display_name,
            variant: t.variant,
            status: t.status,
            time_taken_ns: t.time_taken_ns,
        }
    }
}

impl Positional for TaskSummary {
    type Entity = tsk::Entity;

    fn decode(row: &sea_orm::QueryResult, cols: ColumnSet) -> Result<Self, sea_orm::DbErr> {
        Task::decode(row, cols).map(TaskSummary::from)
    }
}

/// The summaries of the tasks matching `cond`, in build then task order (one statement).
async fn task_summaries(
    db: &impl ConnectionTrait,
    cond: SimpleExpr,
) -> AppResult<Vec<TaskSummary>> {
    let mut q = select_from::<TaskSummary>(TaskSummary::columns());
    q.and_where(cond)
        .order_by((tsk::Entity, tsk::Column::BuildId), Order::Asc)
        .order_by((tsk::Entity, tsk::Column::Position), Order::Asc);
    fetch_some(db, &q, TaskSummary::columns()).await
}

/// The summary of every task of each build, in variant task order (one statement).
pub async fn tasks_for_builds(
    db: &impl ConnectionTrait,
    build_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<TaskSummary>>> {
    let cond = in_list(db, (tsk::Entity, tsk::Column::BuildId), build_ids);
    let mut out: HashMap<i64, Vec<TaskSummary>> = HashMap::new();
    for t in task_summaries(db, cond).await? {
        out.entry(t.build_id).or_default().push(t);
    }
    Ok(out)
}

/// The summary of every task of a version, in build then task order.
pub async fn tasks_for_version(
    db: &impl ConnectionTrait,
    version_id: i64,
) -> AppResult<Vec<TaskSummary>> {
    let cond = Expr::col((tsk::Entity, tsk::Column::VersionId)).eq(version_id);
    task_summaries(db, cond).await
}

/// The results of each task's current execution, in insertion order; with `status`, only the
/// results of that status (the task history's failed tests). Earlier executions' results and
/// the other statuses stay in the database: a task can hold thousands of results.
pub async fn test_results_for_tasks(
    db: &impl ConnectionTrait,
    tasks: &[(i64, i32)],
    status: Option<&str>,
) -> AppResult<HashMap<i64, Vec<TestResult>>> {
    if tasks.is_empty() {
        return Ok(HashMap::new());
    }
    let col = |c: res::Column| Expr::col((res::Entity, c));
    let mut current = Condition::any();
    for &(task, execution) in tasks {
        current = current.add(
            col(res::Column::TaskId)
                .eq(task)
                .and(col(res::Column::Execution).eq(execution)),
        );
    }
    let mut q = select_all::<TestResult>();
    q.cond_where(current);
    if let Some(status) = status {
        q.and_where(col(res::Column::Status).eq(status));
    }
    q.order_by((res::Entity, res::Column::TaskId), Order::Asc)
        .order_by((res::Entity, res::Column::Id), Order::Asc);
    let mut out: HashMap<i64, Vec<TestResult>> = HashMap::new();
    for r in fetch_positional::<TestResult>(db, &q).await? {
        out.entry(r.task_id).or_default().push(r);
    }
    Ok(out)
}

pub async fn artifacts_for_tasks(
    db: &impl ConnectionTrait,
    task_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<Artifact>>> {
    let rows = art::Entity::find()
        .filter(in_list(db, (art::Entity, art::Column::TaskId), task_ids))
        .order_by_asc(art::Column::TaskId)
        .order_by_asc(art::Column::Id)
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<Artifact>> = HashMap::new();
    for a in rows {
        out.entry(a.task_id).or_default().push(a);
    }
    Ok(out)
}

/// Which kind of parent a per-parent child page belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Parent {
    VersionOfBuild,
    BuildOfTask,
    TaskOfResult,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TaskFilter {
    pub project: Option<String>,
    pub variant: Option<String>,
    pub display_name: Option<String>,
    pub status: Option<String>,
    pub revision: Option<String>,
}

fn task_condition(f: &TaskFilter) -> sea_orm::sea_query::Condition {
    use sea_orm::sea_query::Condition;
    let col = |c: tsk::Column| Expr::col((tsk::Entity, c));
    let mut cond = Condition::all();
    if let Some(p) = &f.project {
        cond = cond.add(col(tsk::Column::ProjectId).in_subquery(project_id_of(p)));
    }
    if let Some(v) = &f.variant {
        cond = cond.add(col(tsk::Column::Variant).eq(v.clone()));
    }
    if let Some(n) = &f.display_name {
        cond = cond.add(col(tsk::Column::DisplayName).eq(n.clone()));
    }
    if let Some(s) = &f.status {
        cond = cond.add(col(tsk::Column::Status).eq(s.clone()));
    }
    if let Some(r) = &f.revision {
        let mut sub = Query::select();
        sub.column(ver::Column::Id)
            .from(ver::Entity)
            .and_where(Expr::col(ver::Column::Revision).eq(r.clone()));
        cond = cond.add(col(tsk::Column::VersionId).in_subquery(sub));
    }
    cond
}

pub async fn list_tasks(
    db: &impl ConnectionTrait,
    f: &TaskFilter,
    slice: &Slice,
) -> AppResult<Vec<Task>> {
    let mut q = Query::select();
    q.column(Asterisk)
        .from(tsk::Entity)
        .cond_where(task_condition(f));
    apply_slice(
        &mut q,
        None,
        Expr::col((tsk::Entity, tsk::Column::Id)),
        Direction::Asc,
        slice,
    );
    fetch_all(db, &q).await
}

pub async fn count_tasks(db: &impl ConnectionTrait, f: &TaskFilter) -> AppResult<u64> {
    let mut q = Query::select();
    q.expr_as(count_star(), Alias::new("n"))
        .from(tsk::Entity)
        .cond_where(task_condition(f));
    fetch_count(db, &q).await
}

/// Tasks by their Evergreen ids (`depends_on` holds those), one statement.
pub async fn tasks_by_task_ids(
    db: &impl ConnectionTrait,
    task_ids: &[String],
) -> AppResult<HashMap<String, Task>> {
    if task_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = tsk::Entity::find()
        .filter(in_list(db, (tsk::Entity, tsk::Column::TaskId), task_ids))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|t| (t.task_id.clone(), t)).collect())
}

/// The Evergreen ids of the tasks a task depends on.
pub fn task_depends_on(t: &Task) -> Vec<String> {
    serde_json::from_str(&t.depends_on).unwrap_or_default()
}

// ----------------------------------------------------------------------------------------------
// Task history
// ----------------------------------------------------------------------------------------------

/// What `GET /tasks/{name}/history?project=P` reports.
pub struct TaskHistory {
    /// The newest commit versions, order descending.
    pub versions: Vec<Version>,
    /// Tasks of that name in those versions, in variants that run the task.
    pub tasks: Vec<Task>,
    /// Failed test results of the failed tasks among them.
    pub failed: Vec<(Task, Vec<TestResult>)>,
    /// True when the project has no older versions than those listed.
    pub exhausted_before: bool,
}

pub async fn task_history(
    db: &impl ConnectionTrait,
    project: &Project,
    task_name: &str,
) -> AppResult<TaskHistory> {
    let versions = recent_versions(db, project.id, NUM_RECENT_VERSIONS + 1).await?;
    let exhausted_before = versions.len() as u64 <= NUM_RECENT_VERSIONS;
    let versions: Vec<Version> = versions
        .into_iter()
        .take(NUM_RECENT_VERSIONS as usize)
        .collect();
    let variants: Vec<String> = variants_for_projects(db, &[project.id])
        .await?
        .remove(&project.id)
        .unwrap_or_default()
        .into_iter()
        .filter(|v| variant_tasks(v).iter().any(|t| t == task_name))
        .map(|v| v.name)
        .collect();
    let version_ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
    let tasks = if variants.is_empty() || version_ids.is_empty() {
        Vec::new()
    } else {
        tsk::Entity::find()
            .filter(tsk::Column::VersionId.is_in(version_ids))
            .filter(tsk::Column::DisplayName.eq(task_name))
            .filter(tsk::Column::Variant.is_in(variants))
            .order_by_asc(tsk::Column::VersionId)
            .order_by_asc(tsk::Column::Variant)
            .all(db)
            .await?
    };
    let failed_tasks: Vec<&Task> = tasks
        .iter()
        .filter(|t| t.status == status::FAILED)
        .collect();
    let mut failed = Vec::new();
    if !failed_tasks.is_empty() {
        let keys: Vec<(i64, i32)> = failed_tasks.iter().map(|t| (t.id, t.execution)).collect();
        let mut results = test_results_for_tasks(db, &keys, Some("fail")).await?;
        for t in failed_tasks {
            let fails = results.remove(&t.id).unwrap_or_default();
            failed.push((t.clone(), fails));
        }
    }
    Ok(TaskHistory {
        versions,
        tasks,
        failed,
        exhausted_before,
    })
}
