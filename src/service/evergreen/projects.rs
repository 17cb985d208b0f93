//! Projects and their build variants: the upsert and the reads.

use std::collections::HashMap;

use entity::{evg_project as prj, evg_variant as var};
use sea_orm::sea_query::{Alias, Asterisk, Expr, Query};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionSession,
    TransactionTrait,
};

use super::model::{MAX_TASKS, MAX_VARIANTS, Project, ProjectInput, TaskDef, Variant, clean_name};
use crate::error::{AppError, AppResult};
use crate::service::locks::lock;
use crate::service::{Direction, Slice, apply_slice, count_star, fetch_all, fetch_count, in_list};

pub(super) fn check_name(field: &str, v: &str) -> AppResult<()> {
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
    let _turn = crate::service::write_turn(db).await;
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
