//! Reading what requests hold below them: items, phase results, scripts and sections, all of
//! them for the REST detail, or a page per parent for GraphQL's nested connections (one
//! statement a level, `per_parent`).

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Condition};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QueryResult,
};

use super::model::{Item, PhaseResult, Script, Section};
use crate::error::AppResult;
use crate::service::per_parent::{self, ChildLevel};
use crate::service::rows::{Cols, ColumnSet, Positional};
use crate::service::{Direction, KeyCursor, in_list};
use entity::{xpr_item, xpr_request, xpr_result, xpr_script, xpr_section};

/// Each level is ordered by id: rows are written in their position order, in one transaction.
const fn level(table: &'static str, parent_col: &'static str, parent: &'static str) -> ChildLevel {
    ChildLevel {
        table,
        parent_col,
        parent_table: parent,
        sort_col: None,
        direction: Direction::Asc,
        same_as_parent: None,
    }
}

const ITEMS: ChildLevel = level("xpr_items", "request_id", "xpr_requests");
const SCRIPTS: ChildLevel = level("xpr_scripts", "result_id", "xpr_results");
const SECTIONS: ChildLevel = level("xpr_sections", "script_id", "xpr_scripts");

impl Positional for Item {
    type Entity = xpr_item::Entity;

    fn decode(row: &QueryResult, cols: ColumnSet) -> Result<Self, DbErr> {
        let mut c = Cols::new(row, cols);
        Ok(Self {
            id: c.read()?,
            request_id: c.read()?,
            position: c.read()?,
            state: c.read()?,
            priority: c.read()?,
            spec: c.read()?,
            selected_testbed: c.read()?,
            max_runtime_seconds: c.read()?,
            max_clean_runtime_seconds: c.read()?,
            start_time: c.read()?,
            completion_time: c.read()?,
            stop_requested: c.read()?,
            error_detail: c.read()?,
        })
    }
}

impl Positional for Script {
    type Entity = xpr_script::Entity;

    fn decode(row: &QueryResult, cols: ColumnSet) -> Result<Self, DbErr> {
        let mut c = Cols::new(row, cols);
        Ok(Self {
            id: c.read()?,
            result_id: c.read()?,
            position: c.read()?,
            task_id: c.read()?,
            name: c.read()?,
            path: c.read()?,
            summary: c.read()?,
        })
    }
}

impl Positional for Section {
    type Entity = xpr_section::Entity;

    fn decode(row: &QueryResult, cols: ColumnSet) -> Result<Self, DbErr> {
        let mut c = Cols::new(row, cols);
        Ok(Self {
            id: c.read()?,
            script_id: c.read()?,
            position: c.read()?,
            uuid: c.read()?,
            section_id: c.read()?,
            parent_id: c.read()?,
            sequence_number: c.read()?,
            section_name: c.read()?,
            section_type: c.read()?,
            result: c.read()?,
            source_file: c.read()?,
            source_line: c.read()?,
            run_time: c.read()?,
            start_time: c.read()?,
            stop_time: c.read()?,
            log_file: c.read()?,
            log_start: c.read()?,
            log_start_line: c.read()?,
            log_size: c.read()?,
            log_size_line: c.read()?,
            description: c.read()?,
        })
    }
}

/// The phase results of these items (at most a run and a clean each), by item then phase.
pub async fn results_of_items(
    db: &impl ConnectionTrait,
    items: &[i64],
) -> AppResult<Vec<PhaseResult>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    Ok(xpr_result::Entity::find()
        .filter(xpr_result::Column::ItemId.is_in(items.iter().copied()))
        .order_by_asc(xpr_result::Column::ItemId)
        .order_by_asc(xpr_result::Column::Phase)
        .all(db)
        .await?)
}

/// Every script of these phase results, in order (the REST detail).
pub async fn scripts_of_results(
    db: &impl ConnectionTrait,
    results: &[i64],
) -> AppResult<Vec<Script>> {
    if results.is_empty() {
        return Ok(Vec::new());
    }
    Ok(xpr_script::Entity::find()
        .filter(xpr_script::Column::ResultId.is_in(results.iter().copied()))
        .order_by_asc(xpr_script::Column::Id)
        .all(db)
        .await?)
}

/// Every section of these scripts, in order (the REST detail).
pub async fn sections_of_scripts(
    db: &impl ConnectionTrait,
    scripts: &[i64],
) -> AppResult<Vec<Section>> {
    if scripts.is_empty() {
        return Ok(Vec::new());
    }
    Ok(xpr_section::Entity::find()
        .filter(xpr_section::Column::ScriptId.is_in(scripts.iter().copied()))
        .order_by_asc(xpr_section::Column::Id)
        .all(db)
        .await?)
}

/// The cursor of a row in its parent's list (they are ordered by id).
pub fn child_cursor(id: i64) -> KeyCursor {
    KeyCursor::by_id(id)
}

/// "`column` of `table` is one of `values`"; no values: every row.
fn any_of(db: &impl ConnectionTrait, table: &str, column: &str, values: &[String]) -> Condition {
    let mut c = Condition::all();
    if !values.is_empty() {
        c = c.add(in_list(db, (Alias::new(table), Alias::new(column)), values));
    }
    c
}

/// A page of each request's items, in position order (one statement), only those in `states`
/// (stored words, `RUNNING`) when some are given.
pub async fn items_page(
    db: &impl ConnectionTrait,
    requests: &[i64],
    states: &[String],
    after: Option<&KeyCursor>,
    limit: u64,
) -> AppResult<Vec<Item>> {
    let filter = any_of(db, "xpr_items", "state", states);
    per_parent::page(db, &ITEMS, requests, filter, after, limit, ColumnSet::ALL).await
}

/// How many items each request has in `states` (all when none are given).
pub async fn count_items(
    db: &impl ConnectionTrait,
    requests: &[i64],
    states: &[String],
) -> AppResult<HashMap<i64, u64>> {
    let filter = any_of(db, "xpr_items", "state", states);
    per_parent::counts(db, &ITEMS, requests, filter).await
}

/// A page of each phase result's scripts, in order (one statement).
pub async fn scripts_page(
    db: &impl ConnectionTrait,
    results: &[i64],
    after: Option<&KeyCursor>,
    limit: u64,
) -> AppResult<Vec<Script>> {
    per_parent::page(
        db,
        &SCRIPTS,
        results,
        Condition::all(),
        after,
        limit,
        ColumnSet::ALL,
    )
    .await
}

pub async fn count_scripts(
    db: &impl ConnectionTrait,
    results: &[i64],
) -> AppResult<HashMap<i64, u64>> {
    per_parent::counts(db, &SCRIPTS, results, Condition::all()).await
}

/// A page of each script's sections, in order (one statement), only those with these results
/// (`passed`, `failed`, ...) when some are given.
pub async fn sections_page(
    db: &impl ConnectionTrait,
    scripts: &[i64],
    results: &[String],
    after: Option<&KeyCursor>,
    limit: u64,
) -> AppResult<Vec<Section>> {
    let filter = any_of(db, "xpr_sections", "result", results);
    per_parent::page(db, &SECTIONS, scripts, filter, after, limit, ColumnSet::ALL).await
}

/// How many sections each script has with these results (all when none are given).
pub async fn count_sections(
    db: &impl ConnectionTrait,
    scripts: &[i64],
    results: &[String],
) -> AppResult<HashMap<i64, u64>> {
    let filter = any_of(db, "xpr_sections", "result", results);
    per_parent::counts(db, &SECTIONS, scripts, filter).await
}

/// Item `position` of request `number`, if the request belongs to the group (one statement).
pub async fn item(
    db: &impl ConnectionTrait,
    group: &str,
    number: i64,
    position: i32,
) -> AppResult<Option<Item>> {
    let of_group = sea_orm::sea_query::Query::select()
        .column(xpr_request::Column::Id)
        .from(xpr_request::Entity)
        .and_where(xpr_request::Column::Id.eq(number))
        .and_where(xpr_request::Column::GroupName.eq(group))
        .to_owned();
    Ok(xpr_item::Entity::find()
        .filter(xpr_item::Column::RequestId.in_subquery(of_group))
        .filter(xpr_item::Column::Position.eq(position))
        .one(db)
        .await?)
}
