//! The runner's side of a request: moving its items through their states and attaching their
//! run and clean results, authorised by the request's postback token. Every change locks the
//! request row first and moves an item only from the state it was read in, so two runners
//! racing on one item cannot both win; each change brings the request's state up to date.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait,
};
use serde_json::{Value, json};

use super::model::{
    Item, ItemSpec, MAX_NAME, MAX_REQUEST_SECTIONS, MAX_SCRIPTS, MAX_SECTIONS, MAX_TEXT,
    NewPhaseResult, NewSection, Phase, PhaseResult, Request, State, is_uuid, item_id, new_uuid,
    parse_item_id,
};
use super::requests::{now, refresh};
use crate::error::{AppError, AppResult};
use crate::service::locks::lock_pk;
use crate::service::{count_star, fetch_count, write_turn};
use entity::{xpr_item, xpr_request, xpr_result, xpr_script, xpr_section};

/// How a runner moves an item.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemMove {
    pub to: State,
    /// When it starts running: the testbed chosen among those submitted (UUID or name); the
    /// first submitted one when not given.
    pub selected_testbed: Option<String>,
    /// Why it failed.
    pub error_detail: Option<String>,
}

/// The request a postback token belongs to (`Jwt <token>` or the bare token).
pub async fn request_by_postback(db: &impl ConnectionTrait, token: &str) -> AppResult<Request> {
    let t = token.trim();
    let t = t.strip_prefix("Jwt ").unwrap_or(t).trim();
    if t.is_empty() || t.len() > 100 {
        return Err(AppError::Unauthenticated("unknown postback token".into()));
    }
    xpr_request::Entity::find()
        .filter(xpr_request::Column::PostbackToken.eq(t))
        .one(db)
        .await?
        .ok_or_else(|| AppError::Unauthenticated("unknown postback token".into()))
}

/// The item `id` of the token's request, and the request, in a transaction that locked it.
/// The lock is the transaction's first statement: on SQLite it takes the write lock before
/// anything is read, so a concurrent writer is waited for (busy timeout) instead of failing on
/// a stale snapshot; on PostgreSQL it orders the request's writers.
async fn locked_item(
    txn: &impl ConnectionTrait,
    token: &str,
    id: &str,
) -> AppResult<(Request, Item)> {
    let Some((number, position)) = parse_item_id(id) else {
        return Err(AppError::invalid_field(
            "itemId",
            format!("'{id}' is not an item id such as REQ0000001-1"),
        ));
    };
    lock_pk(txn, "xpr_requests", number).await?;
    let req = request_by_postback(txn, token).await?;
    if number != req.id {
        return Err(AppError::Forbidden(format!(
            "the postback token is not that of item {id}'s request"
        )));
    }
    let item = xpr_item::Entity::find()
        .filter(xpr_item::Column::RequestId.eq(number))
        .filter(xpr_item::Column::Position.eq(position))
        .one(txn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("item {id} not found")))?;
    Ok((req, item))
}

fn state_of(item: &Item) -> State {
    State::parse(&item.state).unwrap_or(State::Failed)
}

/// The submitted testbed a runner names (by UUID or name), as `{"name", "uuid"}`.
fn chosen_testbed(item: &Item, wanted: Option<&str>) -> AppResult<Option<String>> {
    let spec: ItemSpec = serde_json::from_str(&item.spec).unwrap_or_default();
    let pick = match wanted {
        None => spec.submitted_testbeds.first(),
        Some(w) => {
            let found = spec
                .submitted_testbeds
                .iter()
                .find(|t| t.uuid.eq_ignore_ascii_case(w) || t.name == w);
            if found.is_none() {
                return Err(AppError::invalid_field(
                    "selectedTestbed",
                    format!("'{w}' is not one of the item's submitted testbeds"),
                ));
            }
            found
        }
    };
    Ok(pick.map(|t| json!({"name": t.name, "uuid": t.uuid}).to_string()))
}

/// Moves an item of the token's request to `mv.to`, if a runner may make that move from the
/// state it is in: PREPARING → QUEUED → RUNNING → FINALIZING → FINISHED, or FAILED from any of
/// the first four. Anything else (a stopped or ended item, a skipped step, the same move made
/// twice by two runners) is refused with the item's state.
pub async fn move_item(
    db: &(impl ConnectionTrait + TransactionTrait),
    token: &str,
    id: &str,
    mv: &ItemMove,
) -> AppResult<(Request, Item)> {
    if let Some(d) = &mv.error_detail
        && d.chars().count() > MAX_TEXT
    {
        return Err(AppError::invalid_field(
            "errorDetail",
            format!("at most {MAX_TEXT} characters"),
        ));
    }
    if mv.selected_testbed.is_some() && mv.to != State::Running {
        return Err(AppError::invalid_field(
            "selectedTestbed",
            "a testbed is chosen when the item starts running",
        ));
    }
    let _turn = write_turn(db).await;
    let txn = db.begin().await?;
    let (req, item) = locked_item(&txn, token, id).await?;
    let from = state_of(&item);
    if from == mv.to {
        return Err(AppError::Conflict(format!(
            "item {id} is already {}",
            from.as_str()
        )));
    }
    if !from.runner_may_move(mv.to) {
        return Err(AppError::bad_request(format!(
            "item {id} is {} and cannot move to {}",
            from.as_str(),
            mv.to.as_str()
        )));
    }
    let at = now();
    let mut update = xpr_item::Entity::update_many()
        .col_expr(xpr_item::Column::State, Expr::value(mv.to.as_str()))
        .filter(xpr_item::Column::Id.eq(item.id))
        .filter(xpr_item::Column::State.eq(from.as_str()));
    if mv.to == State::Running {
        update = update
            .col_expr(xpr_item::Column::StartTime, Expr::value(at))
            .col_expr(
                xpr_item::Column::SelectedTestbed,
                Expr::value(chosen_testbed(&item, mv.selected_testbed.as_deref())?),
            );
    }
    if mv.to.is_terminal() {
        update = update.col_expr(xpr_item::Column::CompletionTime, Expr::value(at));
    }
    if mv.to == State::Failed {
        update = update.col_expr(
            xpr_item::Column::ErrorDetail,
            Expr::value(mv.error_detail.clone()),
        );
    }
    if update.exec(&txn).await?.rows_affected != 1 {
        // Only without the row lock (another process on SQLite's busy timeout) can this happen.
        return Err(AppError::Conflict(format!(
            "item {id} changed state meanwhile"
        )));
    }
    let req = refresh(&txn, req, at).await?;
    let item = xpr_item::Entity::find_by_id(item.id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("item {id} not found")))?;
    txn.commit().await?;
    Ok((req, item))
}

/// Checks a results upload's bounds and texts.
fn check_results(r: &NewPhaseResult) -> AppResult<()> {
    let too_long = |field: &str, v: &str, max: usize| -> AppResult<()> {
        if v.chars().count() > max {
            return Err(AppError::invalid_field(
                field,
                format!("at most {max} characters"),
            ));
        }
        Ok(())
    };
    if let Some(s) = &r.state {
        too_long("state", s, 20)?;
    }
    r.summary.check("summary")?;
    if r.scripts.len() > MAX_SCRIPTS {
        return Err(AppError::invalid_field(
            "scripts",
            format!("at most {MAX_SCRIPTS} scripts a phase"),
        ));
    }
    let sections: usize = r.scripts.iter().map(|s| s.sections.len()).sum();
    if sections > MAX_SECTIONS {
        return Err(AppError::invalid_field(
            "scripts.sections",
            format!("at most {MAX_SECTIONS} sections a phase"),
        ));
    }
    for s in &r.scripts {
        too_long("scripts.taskId", &s.task_id, MAX_NAME)?;
        too_long("scripts.name", &s.name, MAX_NAME)?;
        too_long("scripts.path", &s.path, MAX_TEXT)?;
        s.summary.check("scripts.summary")?;
        for x in &s.sections {
            too_long("sections.sectionId", &x.section_id, MAX_NAME)?;
            too_long("sections.sectionName", &x.section_name, MAX_NAME)?;
            too_long("sections.sectionType", &x.section_type, 50)?;
            too_long("sections.result", &x.result, 20)?;
            too_long("sections.runTime", &x.run_time, 30)?;
            too_long("sections.sourceFile", &x.source_file, MAX_TEXT)?;
            too_long("sections.logFile", &x.log_file, MAX_TEXT)?;
            too_long("sections.description", &x.description, MAX_TEXT)?;
            if let Some(p) = &x.parent_id {
                too_long("sections.parentId", p, MAX_NAME)?;
            }
            if let Some(u) = &x.uuid
                && !is_uuid(u)
            {
                return Err(AppError::invalid_field(
                    "sections.id",
                    format!("'{u}' is not a UUID"),
                ));
            }
        }
    }
    Ok(())
}

fn section_row(
    script: i64,
    position: usize,
    x: &NewSection,
) -> AppResult<xpr_section::ActiveModel> {
    Ok(xpr_section::ActiveModel {
        id: NotSet,
        script_id: Set(script),
        position: Set(position as i32),
        uuid: Set(match &x.uuid {
            Some(u) => u.to_ascii_lowercase(),
            None => new_uuid()?,
        }),
        section_id: Set(x.section_id.clone()),
        parent_id: Set(x.parent_id.clone()),
        sequence_number: Set(x.sequence_number),
        section_name: Set(x.section_name.clone()),
        section_type: Set(x.section_type.clone()),
        result: Set(x.result.clone()),
        source_file: Set(x.source_file.clone()),
        source_line: Set(x.source_line),
        run_time: Set(x.run_time.clone()),
        start_time: Set(x.start_time),
        stop_time: Set(x.stop_time),
        log_file: Set(x.log_file.clone()),
        log_start: Set(x.log_start),
        log_start_line: Set(x.log_start_line),
        log_size: Set(x.log_size),
        log_size_line: Set(x.log_size_line),
        description: Set(x.description.clone()),
    })
}

/// How many sections the request holds outside this item's `phase` results.
async fn sections_elsewhere(
    txn: &impl ConnectionTrait,
    request: i64,
    item: i64,
    phase: Phase,
) -> AppResult<u64> {
    use sea_orm::sea_query::{Alias, Condition, ExprTrait, Query};
    let (sec, scr, res, itm) = (
        Alias::new("xpr_sections"),
        Alias::new("xpr_scripts"),
        Alias::new("xpr_results"),
        Alias::new("xpr_items"),
    );
    let mut q = Query::select();
    q.expr_as(count_star(), Alias::new("n"))
        .from(sec.clone())
        .inner_join(
            scr.clone(),
            Expr::col((scr.clone(), Alias::new("id"))).equals((sec, Alias::new("script_id"))),
        )
        .inner_join(
            res.clone(),
            Expr::col((res.clone(), Alias::new("id"))).equals((scr, Alias::new("result_id"))),
        )
        .inner_join(
            itm.clone(),
            Expr::col((itm.clone(), Alias::new("id"))).equals((res.clone(), Alias::new("item_id"))),
        )
        .and_where(Expr::col((itm, Alias::new("request_id"))).eq(request))
        .cond_where(
            Condition::any()
                .add(Expr::col((res.clone(), Alias::new("item_id"))).ne(item))
                .add(Expr::col((res, Alias::new("phase"))).ne(phase.as_str())),
        );
    fetch_count(txn, &q).await
}

/// Sections written a statement per this many rows (21 parameters each, under SQLite's limit).
const SECTION_CHUNK: usize = 500;

/// Attaches a phase's results to an item of the token's request while it runs or finalizes,
/// replacing what that phase had (a runner may upload again), in one transaction.
pub async fn attach_results(
    db: &(impl ConnectionTrait + TransactionTrait),
    token: &str,
    id: &str,
    phase: Phase,
    r: &NewPhaseResult,
) -> AppResult<(Request, Item, PhaseResult)> {
    check_results(r)?;
    let _turn = write_turn(db).await;
    let txn = db.begin().await?;
    let (req, item) = locked_item(&txn, token, id).await?;
    let state = state_of(&item);
    if !matches!(state, State::Running | State::Finalizing) {
        return Err(AppError::bad_request(format!(
            "item {id} is {}: results are attached while it is RUNNING or FINALIZING",
            state.as_str()
        )));
    }
    let others = sections_elsewhere(&txn, req.id, item.id, phase).await?;
    let new: usize = r.scripts.iter().map(|s| s.sections.len()).sum();
    if others + new as u64 > MAX_REQUEST_SECTIONS {
        return Err(AppError::invalid_field(
            "scripts.sections",
            format!(
                "request {} would hold more than {MAX_REQUEST_SECTIONS} sections ({others} in its other results)",
                super::model::request_id(req.id)
            ),
        ));
    }
    xpr_result::Entity::delete_many()
        .filter(xpr_result::Column::ItemId.eq(item.id))
        .filter(xpr_result::Column::Phase.eq(phase.as_str()))
        .exec(&txn)
        .await?;
    let mut meta = r.results_meta.clone();
    // The archive's metadata names its result and item as XPRESSO's did.
    meta.entry("result_id").or_insert_with(|| {
        Value::String(format!(
            "{}-{}",
            item_id(req.id, item.position),
            phase.as_str()
        ))
    });
    meta.entry("related_id")
        .or_insert_with(|| Value::String(item_id(req.id, item.position)));
    let s = &r.summary;
    let result = xpr_result::ActiveModel {
        id: NotSet,
        item_id: Set(item.id),
        phase: Set(phase.as_str().into()),
        state: Set(r.state.clone()),
        start_time: Set(r.start_time),
        completion_time: Set(r.completion_time),
        applicable_tasks: Set(s.applicable_tasks),
        total_tasks: Set(s.total_tasks),
        unknown: Set(s.unknown),
        abort: Set(s.abort),
        fail: Set(s.fail),
        pass: Set(s.pass),
        block: Set(s.block),
        passx: Set(s.passx),
        skip: Set(s.skip),
        error: Set(s.error),
        results_meta: Set(Value::Object(meta).to_string()),
    }
    .insert(&txn)
    .await?;
    for (n, sc) in r.scripts.iter().enumerate() {
        let script = xpr_script::ActiveModel {
            id: NotSet,
            result_id: Set(result.id),
            position: Set(n as i32),
            task_id: Set(sc.task_id.clone()),
            name: Set(sc.name.clone()),
            path: Set(sc.path.clone()),
            summary: Set(serde_json::to_string(&sc.summary)
                .map_err(|e| AppError::Internal(format!("summary: {e}")))?),
        }
        .insert(&txn)
        .await?;
        for (c, chunk) in sc.sections.chunks(SECTION_CHUNK).enumerate() {
            let rows = chunk
                .iter()
                .enumerate()
                .map(|(k, x)| section_row(script.id, c * SECTION_CHUNK + k, x))
                .collect::<AppResult<Vec<_>>>()?;
            xpr_section::Entity::insert_many(rows).exec(&txn).await?;
        }
    }
    let req = refresh(&txn, req, now()).await?;
    txn.commit().await?;
    Ok((req, item, result))
}
