//! Requests: submitting a profile or a bundle (its items made from the catalog, in one
//! transaction), the group's lists and counts, one request, and stopping one.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QueryTrait,
    TransactionSession, TransactionTrait,
};
use serde_json::{Map, Value, json};

use super::catalog;
use super::model::{
    Caller, DEFAULT_REQUEST_RUNTIME_SECONDS, Item, ItemSpec, JobRef, MAX_BUNDLE_ENTRIES, MAX_NAME,
    MAX_TAGS, MAX_TESTBEDS, MAX_TEXT, NamedRef, NewRequest, Parameters, Profile, Request,
    RequestFilter, RequestOrder, State, Summary, Testbed, Topology, check_runtime, json_or,
    new_uuid, verdict,
};
use crate::error::{AppError, AppResult};
use crate::service::locks::lock_pk;
use crate::service::{
    Direction, Slice, apply_slice, count_star, fetch_all, fetch_count, in_list, write_turn,
};
use entity::{xpr_item, xpr_request};

/// Now, to the microsecond the API shows.
pub(super) fn now() -> chrono::NaiveDateTime {
    crate::service::stacktach::truncate_us(Utc::now().naive_utc())
}

/// What one item will run, before it is stored.
struct Planned {
    spec: ItemSpec,
    priority: i32,
    max_runtime_seconds: i64,
    max_clean_runtime_seconds: i64,
}

/// A submission's error, in the words XPRESSO's clients read (`{"Error": ...}`).
fn refuse(msg: impl Into<String>) -> AppError {
    AppError::BadRequest(msg.into())
}

/// Checks the submission's own fields (before anything is read).
fn check_submission(r: &NewRequest) -> AppResult<()> {
    match (&r.profile, &r.bundle) {
        (None, None) => return Err(refuse("Provide a profile or a bundle.")),
        (Some(_), Some(_)) => {
            return Err(refuse("Provide either a profile or a bundle, not both."));
        }
        (None, Some(_)) => {
            if r.testbeds.is_some()
                || r.topologies.is_some()
                || r.parameters.as_ref().is_some_and(|p| !p.is_empty())
            {
                return Err(refuse(
                    "Testbeds, topologies and arguments are defined in the bundle and cannot be \
                     overridden.",
                ));
            }
        }
        (Some(_), None) => {}
    }
    if r.testbeds.is_some() && r.topologies.is_some() {
        return Err(refuse("Provide either testbeds or topologies, not both."));
    }
    for (what, list) in [("testbeds", &r.testbeds), ("topologies", &r.topologies)] {
        if let Some(l) = list {
            if l.is_empty() {
                return Err(refuse(format!("Provided {what} list is empty.")));
            }
            if l.len() > MAX_TESTBEDS {
                return Err(refuse(format!(
                    "At most {MAX_TESTBEDS} {what} can be provided."
                )));
            }
        }
    }
    if r.tags.len() > MAX_TAGS {
        return Err(refuse(format!("At most {MAX_TAGS} tags can be provided.")));
    }
    for t in &r.tags {
        if t.trim().is_empty() || t.chars().count() > 100 || t.chars().any(char::is_control) {
            return Err(refuse(
                "Each tag must be 1 to 100 characters, without control characters.",
            ));
        }
    }
    for (what, v, max) in [
        ("submitted_for", r.submitted_for.as_deref(), 200),
        ("branch", r.branch.as_deref(), MAX_NAME),
        ("description", r.description.as_deref(), MAX_TEXT),
    ] {
        if let Some(v) = v
            && (v.chars().count() > max
                || (what != "description" && v.chars().any(char::is_control)))
        {
            return Err(refuse(format!(
                "Provided {what} is too long or holds control characters (at most {max} characters)."
            )));
        }
    }
    if let Some(s) = r.max_request_runtime_seconds {
        check_runtime("max_request_runtime_seconds", s)
            .map_err(|_| refuse("Provided max_request_runtime_seconds must be 0 to 604800."))?;
    }
    if let Some(p) = &r.parameters {
        p.check("parameters")
            .map_err(|e| refuse(format!("Provided parameters are invalid: {e}.")))?;
    }
    Ok(())
}

/// A profile's job-file reference as stored.
fn job_of(p: &Profile) -> JobRef {
    serde_json::from_value(json_or(&p.job, json!({}))).unwrap_or_default()
}

/// Options and environment: the profile's, then the overrides. A job argument `false` removes
/// the flag; `true` keeps it bare.
fn merged(p: &Profile, params: &Parameters) -> (Map<String, Value>, Map<String, Value>) {
    let as_map = |text: &str| match json_or(text, json!({})) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let mut options = as_map(&p.options);
    for (k, v) in params.job_args.iter().chain(params.harness_args.iter()) {
        if v == &Value::Bool(false) {
            options.remove(k);
        } else {
            options.insert(k.clone(), v.clone());
        }
    }
    let mut env = as_map(&p.env);
    for (k, v) in &params.env_vars {
        env.insert(k.clone(), v.clone());
    }
    (options, env)
}

/// One item's plan: the profile on these testbeds, or on this topology.
fn plan(
    p: &Profile,
    testbeds: &[Testbed],
    topology: Option<&Topology>,
    params: &Parameters,
) -> Planned {
    let harness = json_or(&p.harness, json!({}));
    // The harness's run command names the one harness configuration an item carries.
    let run = harness
        .pointer("/harness/run")
        .and_then(Value::as_str)
        .unwrap_or("easypy")
        .to_owned();
    let (options, env) = merged(p, params);
    Planned {
        spec: ItemSpec {
            profile: NamedRef {
                name: p.name.clone(),
                uuid: p.uuid.clone(),
            },
            job: job_of(p),
            engine: json_or(&p.engine, json!({})),
            harness_instances: vec![harness],
            harness_config: json!([{ run: "" }]),
            options,
            env,
            submitted_testbeds: testbeds
                .iter()
                .map(|t| NamedRef {
                    name: t.name.clone(),
                    uuid: t.uuid.clone(),
                })
                .collect(),
            topology: match topology {
                Some(t) => json!({"name": t.name, "uuid": t.uuid}),
                None => json!({}),
            },
        },
        priority: p.priority,
        max_runtime_seconds: p.max_runtime_seconds,
        max_clean_runtime_seconds: p.max_clean_runtime_seconds,
    }
}

/// The testbeds with these UUIDs in the group, in the order given; the first that is not
/// there is named in the error.
async fn resolve_testbeds(
    db: &impl ConnectionTrait,
    group: &str,
    uuids: &[String],
) -> AppResult<Vec<Testbed>> {
    let found = catalog::testbeds_by_uuids(db, group, uuids).await?;
    let by: HashMap<&str, &Testbed> = found.iter().map(|t| (t.uuid.as_str(), t)).collect();
    uuids
        .iter()
        .map(|u| {
            by.get(u.to_ascii_lowercase().as_str())
                .map(|t| (*t).clone())
                .ok_or_else(|| refuse(format!("Provided testbed {u} is not defined.")))
        })
        .collect()
}

async fn resolve_topology(
    db: &impl ConnectionTrait,
    group: &str,
    uuid: &str,
) -> AppResult<Topology> {
    catalog::topology(db, group, uuid)
        .await?
        .ok_or_else(|| refuse(format!("Provided topology {uuid} is not defined.")))
}

fn uuid_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// The items of a profile request: one on the given (or the profile's) testbeds, or one per
/// given topology (or on the profile's topology).
async fn plan_profile(
    db: &impl ConnectionTrait,
    group: &str,
    p: &Profile,
    r: &NewRequest,
) -> AppResult<Vec<Planned>> {
    let params = r.parameters.clone().unwrap_or_default();
    if let Some(topologies) = &r.topologies {
        let mut out = Vec::with_capacity(topologies.len());
        for u in topologies {
            let t = resolve_topology(db, group, u).await?;
            out.push(plan(p, &[], Some(&t), &params));
        }
        return Ok(out);
    }
    let testbeds = match &r.testbeds {
        Some(t) => resolve_testbeds(db, group, t).await?,
        None => resolve_testbeds(db, group, &uuid_list(&p.testbeds)).await?,
    };
    let topology = match (&r.testbeds, &p.topology) {
        (None, Some(u)) if testbeds.is_empty() => Some(resolve_topology(db, group, u).await?),
        _ => None,
    };
    Ok(vec![plan(p, &testbeds, topology.as_ref(), &params)])
}

/// The items of a bundle request: one per entry.
async fn plan_bundle(
    db: &impl ConnectionTrait,
    group: &str,
    entries: &[super::model::BundleEntry],
) -> AppResult<(Vec<Planned>, Vec<Profile>)> {
    if entries.is_empty() || entries.len() > MAX_BUNDLE_ENTRIES {
        return Err(refuse("Provided bundle has no runnable entries."));
    }
    let mut out = Vec::with_capacity(entries.len());
    let mut profiles = Vec::with_capacity(entries.len());
    for (n, e) in entries.iter().enumerate() {
        let p = catalog::profile(db, group, &e.profile)
            .await?
            .ok_or_else(|| {
                refuse(format!(
                    "Bundle entry {} names profile {}, which is not defined.",
                    n + 1,
                    e.profile
                ))
            })?;
        let testbeds = if e.testbeds.is_empty() && e.topology.is_none() {
            resolve_testbeds(db, group, &uuid_list(&p.testbeds)).await?
        } else {
            resolve_testbeds(db, group, &e.testbeds).await?
        };
        let topology = match (&e.topology, &p.topology) {
            (Some(u), _) => Some(resolve_topology(db, group, u).await?),
            (None, Some(u)) if testbeds.is_empty() && e.testbeds.is_empty() => {
                Some(resolve_topology(db, group, u).await?)
            }
            _ => None,
        };
        out.push(plan(&p, &testbeds, topology.as_ref(), &e.parameters));
        profiles.push(p);
    }
    Ok((out, profiles))
}

/// A new postback token: what the request's runner reports with.
fn new_postback_token() -> AppResult<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    Ok(format!("xpr_{}", hex::encode(bytes)))
}

/// Submits a request for `caller`: resolves its profile or bundle in the caller's group, makes
/// its items (PREPARING), and stores everything in one transaction. Errors are `BadRequest`
/// with XPRESSO's sentences (`Provided profile is not defined.`).
pub async fn submit_request(
    db: &(impl ConnectionTrait + TransactionTrait),
    caller: &Caller,
    r: &NewRequest,
) -> AppResult<(Request, Vec<Item>)> {
    check_submission(r)?;
    let group = caller.group.as_str();
    // The catalog is read before the transaction, which then only writes: its first statement
    // takes SQLite's write lock, with no earlier read whose snapshot a concurrent writer could
    // make stale. The items copy what they run, so a catalog change in between is harmless.
    let (name, planned, interest, runtime, profile_uuid, bundle_uuid) = if let Some(pu) = &r.profile
    {
        let p = catalog::profile(db, group, pu)
            .await?
            .ok_or_else(|| refuse("Provided profile is not defined."))?;
        let planned = plan_profile(db, group, &p, r).await?;
        let name = job_of(&p).name;
        let name = if name.is_empty() {
            p.name.clone()
        } else {
            name
        };
        (
            name,
            planned,
            uuid_list(&p.interest_list),
            p.max_request_runtime_seconds,
            Some(p.uuid.clone()),
            None,
        )
    } else {
        let bu = r.bundle.as_deref().unwrap_or_default();
        let b = catalog::bundle(db, group, bu)
            .await?
            .ok_or_else(|| refuse("Provided bundle is not defined."))?;
        let entries: Vec<super::model::BundleEntry> =
            serde_json::from_str(&b.entries).unwrap_or_default();
        let (planned, profiles) = plan_bundle(db, group, &entries).await?;
        let mut interest: Vec<String> = Vec::new();
        for p in &profiles {
            for a in uuid_list(&p.interest_list) {
                if !interest.contains(&a) {
                    interest.push(a);
                }
            }
        }
        let runtime = profiles
            .iter()
            .map(|p| p.max_request_runtime_seconds)
            .max()
            .unwrap_or(DEFAULT_REQUEST_RUNTIME_SECONDS);
        (
            b.name.clone(),
            planned,
            interest,
            runtime,
            None,
            Some(b.uuid.clone()),
        )
    };
    let _turn = write_turn(db).await;
    let txn = db.begin().await?;
    let created = now();
    let username = r
        .submitted_for
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(&caller.user)
        .to_owned();
    let request = xpr_request::ActiveModel {
        id: NotSet,
        uuid: Set(new_uuid()?),
        group_name: Set(caller.group.clone()),
        name: Set(name),
        source: Set("API".into()),
        submitter: Set(caller.user.clone()),
        username: Set(username),
        description: Set(r.description.clone()),
        tags: Set(serde_json::to_string(&r.tags).unwrap_or_else(|_| "[]".into())),
        branch: Set(r
            .branch
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .unwrap_or("N/A")
            .to_owned()),
        state: Set(State::Preparing.as_str().into()),
        verdict: Set(None),
        interest_list: Set(serde_json::to_string(&interest).unwrap_or_else(|_| "[]".into())),
        compare_baseline: Set(r.compare_baseline),
        is_baseline: Set(r.is_baseline),
        clean: Set(r.clean),
        max_request_runtime_seconds: Set(r.max_request_runtime_seconds.unwrap_or(runtime)),
        meta: Set("{}".into()),
        profile_uuid: Set(profile_uuid),
        bundle_uuid: Set(bundle_uuid),
        stop_requested: Set("{}".into()),
        date_created: Set(created),
        date_completed: Set(None),
        postback_token: Set(new_postback_token()?),
    }
    .insert(&txn)
    .await?;
    let mut items = Vec::with_capacity(planned.len());
    for (n, p) in planned.into_iter().enumerate() {
        let item = xpr_item::ActiveModel {
            id: NotSet,
            request_id: Set(request.id),
            position: Set(n as i32 + 1),
            state: Set(State::Preparing.as_str().into()),
            priority: Set(p.priority),
            spec: Set(serde_json::to_string(&p.spec)
                .map_err(|e| AppError::Internal(format!("item spec: {e}")))?),
            selected_testbed: Set(None),
            max_runtime_seconds: Set(p.max_runtime_seconds),
            max_clean_runtime_seconds: Set(p.max_clean_runtime_seconds),
            start_time: Set(None),
            completion_time: Set(None),
            stop_requested: Set("{}".into()),
            error_detail: Set(None),
        }
        .insert(&txn)
        .await?;
        items.push(item);
    }
    txn.commit().await?;
    Ok((request, items))
}

/// The filter as a condition on `xpr_requests`, within the group.
fn condition(db: &impl ConnectionTrait, group: &str, f: &RequestFilter) -> Condition {
    let mut c = Condition::all().add(xpr_request::Column::GroupName.eq(group));
    if !f.states.is_empty() {
        let states: Vec<String> = f.states.iter().map(|s| s.as_str().to_owned()).collect();
        c = c.add(in_list(
            db,
            (xpr_request::Entity, xpr_request::Column::State),
            &states,
        ));
    }
    if !f.submitters.is_empty() {
        c = c.add(in_list(
            db,
            (xpr_request::Entity, xpr_request::Column::Submitter),
            &f.submitters,
        ));
    }
    if !f.branches.is_empty() {
        c = c.add(in_list(
            db,
            (xpr_request::Entity, xpr_request::Column::Branch),
            &f.branches,
        ));
    }
    if let Some(t) = f.created_after {
        c = c.add(xpr_request::Column::DateCreated.gte(t));
    }
    if let Some(t) = f.created_before {
        c = c.add(xpr_request::Column::DateCreated.lt(t));
    }
    if let Some(tag) = &f.tag {
        // Tags are a JSON array of strings in one column.
        let array = serde_json::to_string(&[tag]).unwrap_or_default();
        c = c.add(match db.get_database_backend() {
            DbBackend::Postgres => Expr::cust_with_values(
                r#"CAST("xpr_requests"."tags" AS jsonb) @> CAST($1 AS jsonb)"#,
                [array],
            ),
            _ => Expr::cust_with_values(
                r#"EXISTS (SELECT 1 FROM json_each("xpr_requests"."tags") WHERE json_each.value = ?)"#,
                [tag.clone()],
            ),
        });
    }
    c
}

/// The sort column of an order (`None`: the request number alone).
fn sort_expr(order: RequestOrder) -> Option<sea_orm::sea_query::SimpleExpr> {
    let col = match order {
        RequestOrder::Number => return None,
        RequestOrder::DateCreated => xpr_request::Column::DateCreated,
        RequestOrder::DateCompleted => xpr_request::Column::DateCompleted,
        RequestOrder::State => xpr_request::Column::State,
    };
    Some(Expr::col((xpr_request::Entity, col)))
}

/// A page of the group's requests.
pub async fn list_requests(
    db: &impl ConnectionTrait,
    group: &str,
    filter: &RequestFilter,
    order: RequestOrder,
    dir: Direction,
    slice: &Slice,
) -> AppResult<Vec<Request>> {
    let mut q = xpr_request::Entity::find().filter(condition(db, group, filter));
    apply_slice(
        QueryTrait::query(&mut q),
        sort_expr(order),
        Expr::col((xpr_request::Entity, xpr_request::Column::Id)),
        dir,
        slice,
    );
    Ok(q.all(db).await?)
}

/// How many of the group's requests match.
pub async fn count_requests(
    db: &impl ConnectionTrait,
    group: &str,
    filter: &RequestFilter,
) -> AppResult<u64> {
    let mut q = sea_orm::sea_query::Query::select();
    q.expr_as(count_star(), sea_orm::sea_query::Alias::new("n"))
        .from(xpr_request::Entity)
        .cond_where(condition(db, group, filter));
    fetch_count(db, &q).await
}

/// Request `number` if it belongs to the group.
pub async fn request(
    db: &impl ConnectionTrait,
    group: &str,
    number: i64,
) -> AppResult<Option<Request>> {
    Ok(xpr_request::Entity::find_by_id(number)
        .filter(xpr_request::Column::GroupName.eq(group))
        .one(db)
        .await?)
}

/// The group's requests among these numbers (for loaders), in no particular order.
pub async fn requests_by_numbers(
    db: &impl ConnectionTrait,
    group: &str,
    numbers: &[i64],
) -> AppResult<Vec<Request>> {
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    Ok(xpr_request::Entity::find()
        .filter(xpr_request::Column::Id.is_in(numbers.iter().copied()))
        .filter(xpr_request::Column::GroupName.eq(group))
        .all(db)
        .await?)
}

/// The items of these requests, by request then position.
pub async fn items_of_requests(
    db: &impl ConnectionTrait,
    requests: &[i64],
) -> AppResult<Vec<Item>> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    Ok(xpr_item::Entity::find()
        .filter(xpr_item::Column::RequestId.is_in(requests.iter().copied()))
        .order_by_asc(xpr_item::Column::RequestId)
        .order_by_asc(xpr_item::Column::Position)
        .all(db)
        .await?)
}

/// Each request's consolidated summary: the sum of its items' run results (requests without
/// any are absent).
pub async fn summaries_of_requests(
    db: &impl ConnectionTrait,
    requests: &[i64],
) -> AppResult<HashMap<i64, Summary>> {
    if requests.is_empty() {
        return Ok(HashMap::new());
    }
    #[derive(sea_orm::FromQueryResult)]
    struct Row {
        request_id: i64,
        applicable_tasks: i64,
        total_tasks: i64,
        unknown: i64,
        abort: i64,
        fail: i64,
        pass: i64,
        block: i64,
        passx: i64,
        skip: i64,
        error: i64,
    }
    use sea_orm::sea_query::{Alias, Query};
    let r = Alias::new("xpr_results");
    let i = Alias::new("xpr_items");
    let mut q = Query::select();
    q.column((i.clone(), Alias::new("request_id")));
    for c in [
        "applicable_tasks",
        "total_tasks",
        "unknown",
        "abort",
        "fail",
        "pass",
        "block",
        "passx",
        "skip",
        "error",
    ] {
        q.column((r.clone(), Alias::new(c)));
    }
    q.from(r.clone())
        .inner_join(
            i.clone(),
            Expr::col((i.clone(), Alias::new("id"))).equals((r.clone(), Alias::new("item_id"))),
        )
        .and_where(Expr::col((r.clone(), Alias::new("phase"))).eq("run"))
        .cond_where(in_list(db, (i, Alias::new("request_id")), requests));
    let rows: Vec<Row> = fetch_all(db, &q).await?;
    let mut out: HashMap<i64, Summary> = HashMap::new();
    for row in rows {
        out.entry(row.request_id).or_default().add(&Summary {
            applicable_tasks: row.applicable_tasks,
            total_tasks: row.total_tasks,
            unknown: row.unknown,
            abort: row.abort,
            fail: row.fail,
            pass: row.pass,
            block: row.block,
            passx: row.passx,
            skip: row.skip,
            error: row.error,
        });
    }
    Ok(out)
}

/// Brings the request's state, completion time and verdict up to date with its items; called
/// inside every transaction that changes an item, after the request row was locked.
pub(super) async fn refresh(
    txn: &impl ConnectionTrait,
    request: Request,
    at: chrono::NaiveDateTime,
) -> AppResult<Request> {
    let items = items_of_requests(txn, &[request.id]).await?;
    let states: Vec<State> = items
        .iter()
        .map(|i| State::parse(&i.state).unwrap_or(State::Failed))
        .collect();
    let stopped = request.stop_requested != "{}";
    let state = State::of_request(&states, stopped);
    let summary = summaries_of_requests(txn, &[request.id])
        .await?
        .remove(&request.id)
        .unwrap_or_default();
    let verdict = verdict(state, &summary).map(str::to_owned);
    let completed = if state.is_terminal() {
        request.date_completed.or(Some(at))
    } else {
        None
    };
    if state.as_str() == request.state
        && verdict == request.verdict
        && completed == request.date_completed
    {
        return Ok(request);
    }
    let mut am: xpr_request::ActiveModel = request.into();
    am.state = Set(state.as_str().into());
    am.verdict = Set(verdict);
    am.date_completed = Set(completed);
    Ok(am.update(txn).await?)
}

/// Stops request `number` of the caller's group: every unfinished item becomes STOPPED with who
/// stopped it, when and why, and so does the request. A request that already ended cannot be
/// stopped (`BadRequest`); one of another group is `NotFound`.
pub async fn stop_request(
    db: &(impl ConnectionTrait + TransactionTrait),
    caller: &Caller,
    number: i64,
    reason: &str,
) -> AppResult<(Request, Vec<Item>)> {
    if reason.chars().count() > MAX_TEXT {
        return Err(refuse(format!(
            "Provided reason is longer than {MAX_TEXT} characters."
        )));
    }
    let _turn = write_turn(db).await;
    let txn = db.begin().await?;
    lock_pk(&txn, "xpr_requests", number).await?;
    let Some(req) = request(&txn, &caller.group, number).await? else {
        return Err(AppError::not_found(format!(
            "request {} not found",
            super::model::request_id(number)
        )));
    };
    let state = State::parse(&req.state).unwrap_or(State::Failed);
    if state.is_terminal() {
        return Err(refuse(format!(
            "Request {} is {} and cannot be stopped.",
            super::model::request_id(number),
            req.state
        )));
    }
    let at = now();
    let stop = json!({
        "reason": reason,
        "user": caller.user,
        "time": super::model::iso_z(at),
    })
    .to_string();
    let open: Vec<&str> = State::ALL
        .iter()
        .filter(|s| !s.is_terminal())
        .map(|s| s.as_str())
        .collect();
    xpr_item::Entity::update_many()
        .col_expr(
            xpr_item::Column::State,
            Expr::value(State::Stopped.as_str()),
        )
        .col_expr(xpr_item::Column::StopRequested, Expr::value(stop.clone()))
        .col_expr(xpr_item::Column::CompletionTime, Expr::value(at))
        .filter(xpr_item::Column::RequestId.eq(number))
        .filter(xpr_item::Column::State.is_in(open))
        .exec(&txn)
        .await?;
    let mut am: xpr_request::ActiveModel = req.into();
    am.stop_requested = Set(stop);
    let req = am.update(&txn).await?;
    let req = refresh(&txn, req, at).await?;
    let items = items_of_requests(&txn, &[number]).await?;
    txn.commit().await?;
    Ok((req, items))
}
