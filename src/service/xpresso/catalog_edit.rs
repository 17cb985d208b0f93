//! Managing the catalog: creating, replacing and deleting testbeds, topologies, profiles and
//! bundles, and listing them, each within its group (the admin's). Another group's entry is as
//! absent as one that does not exist: NOT_FOUND to update or delete, missing from lists.
//!
//! Deleting is allowed while requests or bundles name the entry: a request keeps its own copy of
//! what it ran, and a profile or bundle that names a deleted entry fails when it is submitted.
//! Names are unique within a group (a pre-check for the clear message; the unique index
//! `(group_name, name)` settles races).

use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait,
    IntoActiveModel, QueryFilter, QuerySelect, QueryTrait, Set,
};
use serde_json::{Map, Value};

use super::catalog::{profiles_by_uuids, testbeds_by_uuids, topologies_by_uuids};
use super::model::{
    Bundle, BundleEntry, JobRef, MAX_BUNDLE_ENTRIES, MAX_NAME, MAX_TESTBEDS, MAX_TEXT, Profile,
    Testbed, Topology, check_name, check_runtime, is_uuid, new_uuid,
};
use crate::error::{AppError, AppResult};
use crate::service::{Direction, Slice, apply_slice, count_star, fetch_count, write_turn};
use entity::{xpr_bundle, xpr_profile, xpr_testbed, xpr_topology};

/// The largest testbed or topology definition, in bytes.
pub const MAX_DEFINITION_BYTES: usize = 1024 * 1024;
/// The largest JSON object a profile or bundle entry holds (harness, engine, options, env,
/// parameters), in bytes as stored.
pub const MAX_JSON_BYTES: usize = 64 * 1024;
/// The most addresses a profile's interest list holds.
pub const MAX_INTEREST_LIST: usize = 100;
/// A profile's priority: 0 (lowest) to 10 (highest); 4 when not given (the seed's items).
pub const MIN_PRIORITY: i32 = 0;
pub const MAX_PRIORITY: i32 = 10;
pub const DEFAULT_PRIORITY: i32 = 4;
/// A profile's run time bound when not given (the seed's items: 43,200 s), and its clean
/// phase's (0: no clean phase bound, as the seed's items show).
pub const DEFAULT_RUNTIME_SECONDS: i64 = 43_200;
pub const DEFAULT_CLEAN_RUNTIME_SECONDS: i64 = 0;
/// The most rows one catalog list reads (the largest configurable page and its look-ahead row).
pub const MAX_LIST_ROWS: u64 = 10_001;

/// A testbed to create, or the whole of one to replace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewTestbed {
    pub name: String,
    /// The testbed file (pyATS YAML), at most `MAX_DEFINITION_BYTES`.
    pub definition: String,
}

/// A topology to create, or the whole of one to replace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewTopology {
    pub name: String,
    /// The topology definition (YAML or JSON), at most `MAX_DEFINITION_BYTES`.
    pub definition: String,
}

/// A profile's job file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewJob {
    pub name: String,
    pub path: String,
    /// A UUID; when not given, made on creation and kept on replacement.
    pub uuid: Option<String>,
}

/// A profile to create, or the whole of one to replace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewProfile {
    pub name: String,
    pub job: NewJob,
    /// The harness instance, an object in the form of the API's `harness_instances` entries
    /// (stored as given).
    pub harness: Map<String, Value>,
    /// The execution engine: `name` and `type` (strings), `uuid` (a UUID; when not given, made
    /// on creation and kept on replacement); no other key.
    pub engine: Map<String, Value>,
    /// Default testbed UUIDs (candidates for the run), each defined in the group; duplicates
    /// are dropped.
    pub testbeds: Vec<String>,
    /// A default topology UUID instead of testbeds, defined in the group.
    pub topology: Option<String>,
    /// Harness and job options.
    pub options: Map<String, Value>,
    /// Environment variables: string values.
    pub env: Map<String, Value>,
    /// Who hears about results: at most `MAX_INTEREST_LIST` entries of 1 to 255 characters.
    pub interest_list: Vec<String>,
    /// `DEFAULT_RUNTIME_SECONDS` when not given.
    pub max_runtime_seconds: Option<i64>,
    /// `DEFAULT_CLEAN_RUNTIME_SECONDS` when not given.
    pub max_clean_runtime_seconds: Option<i64>,
    /// `DEFAULT_REQUEST_RUNTIME_SECONDS` when not given.
    pub max_request_runtime_seconds: Option<i64>,
    /// `MIN_PRIORITY` to `MAX_PRIORITY`; `DEFAULT_PRIORITY` when not given.
    pub priority: Option<i32>,
}

/// A bundle to create, or the whole of one to replace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewBundle {
    pub name: String,
    /// 1 to `MAX_BUNDLE_ENTRIES` entries, each naming a profile of the group, with testbeds or
    /// a topology of the group (not both) and parameters that pass `Parameters::check`.
    pub entries: Vec<BundleEntry>,
}

// ---------------------------------------------------------------------------------------------
// What the four tables share.

/// A catalog table: its kind's name (for messages) and its shared columns.
trait CatalogTable: EntityTrait {
    const KIND: &'static str;
    fn id_col() -> Self::Column;
    fn uuid_col() -> Self::Column;
    fn group_col() -> Self::Column;
    fn name_col() -> Self::Column;
}

macro_rules! catalog_table {
    ($module:ident, $kind:literal) => {
        impl CatalogTable for $module::Entity {
            const KIND: &'static str = $kind;
            fn id_col() -> Self::Column {
                $module::Column::Id
            }
            fn uuid_col() -> Self::Column {
                $module::Column::Uuid
            }
            fn group_col() -> Self::Column {
                $module::Column::GroupName
            }
            fn name_col() -> Self::Column {
                $module::Column::Name
            }
        }
    };
}

catalog_table!(xpr_testbed, "testbed");
catalog_table!(xpr_topology, "topology");
catalog_table!(xpr_profile, "profile");
catalog_table!(xpr_bundle, "bundle");

/// Now, to the microsecond (what PostgreSQL keeps), so both backends answer the same.
fn now() -> chrono::NaiveDateTime {
    let t = chrono::Utc::now().naive_utc();
    t - chrono::Duration::nanoseconds(i64::from(t.and_utc().timestamp_subsec_nanos() % 1_000))
}

fn not_found<E: CatalogTable>(uuid: &str) -> AppError {
    AppError::not_found(format!("{} {uuid} not found", E::KIND))
}

fn duplicate<E: CatalogTable>(name: &str) -> AppError {
    AppError::Conflict(format!(
        "a {} named '{name}' already exists in this group",
        E::KIND
    ))
}

/// A unique violation on insert or update is the name's (the UUID is random): say so.
fn name_conflict<E: CatalogTable>(name: &str) -> impl FnOnce(sea_orm::DbErr) -> AppError + '_ {
    move |e| match AppError::from(e) {
        AppError::Conflict(_) => duplicate::<E>(name),
        other => other,
    }
}

/// The entry with this UUID in `group`, or NOT_FOUND.
async fn existing<E: CatalogTable>(
    db: &impl ConnectionTrait,
    group: &str,
    uuid: &str,
) -> AppResult<E::Model> {
    E::find()
        .filter(E::uuid_col().eq(uuid.trim().to_ascii_lowercase()))
        .filter(E::group_col().eq(group))
        .one(db)
        .await?
        .ok_or_else(|| not_found::<E>(uuid))
}

/// CONFLICT when another entry of `group` (not `except`) is named `name`.
async fn name_free<E: CatalogTable>(
    db: &impl ConnectionTrait,
    group: &str,
    name: &str,
    except: Option<i64>,
) -> AppResult<()> {
    let mut q = E::find()
        .filter(E::group_col().eq(group))
        .filter(E::name_col().eq(name));
    if let Some(id) = except {
        q = q.filter(E::id_col().ne(id));
    }
    match q.one(db).await? {
        Some(_) => Err(duplicate::<E>(name)),
        None => Ok(()),
    }
}

async fn remove<E: CatalogTable>(
    db: &impl ConnectionTrait,
    group: &str,
    uuid: &str,
) -> AppResult<()> {
    let _turn = write_turn(db).await;
    let done = E::delete_many()
        .filter(E::uuid_col().eq(uuid.trim().to_ascii_lowercase()))
        .filter(E::group_col().eq(group))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(not_found::<E>(uuid));
    }
    Ok(())
}

/// The group's entries in id (creation) order, the slice's part of them.
async fn list<E: CatalogTable>(
    db: &impl ConnectionTrait,
    group: &str,
    slice: &Slice,
) -> AppResult<Vec<E::Model>> {
    let slice = match slice.clone() {
        Slice::Offset { offset, limit } => Slice::Offset {
            offset,
            limit: limit.min(MAX_LIST_ROWS),
        },
        Slice::After { after, limit } => Slice::After {
            after,
            limit: limit.min(MAX_LIST_ROWS),
        },
    };
    let mut q = E::find().filter(E::group_col().eq(group));
    apply_slice(
        QueryTrait::query(&mut q),
        None,
        E::id_col().into_expr(),
        Direction::Asc,
        &slice,
    );
    Ok(q.all(db).await?)
}

async fn count<E: CatalogTable>(db: &impl ConnectionTrait, group: &str) -> AppResult<u64> {
    let q = E::find()
        .select_only()
        .expr_as(count_star(), "n")
        .filter(E::group_col().eq(group))
        .into_query();
    fetch_count(db, &q).await
}

// ---------------------------------------------------------------------------------------------
// Checks.

/// A definition: at most `MAX_DEFINITION_BYTES`, without NUL (which PostgreSQL does not keep).
fn check_definition(text: &str) -> AppResult<()> {
    if text.len() > MAX_DEFINITION_BYTES {
        return Err(AppError::invalid_field(
            "definition",
            format!("must be at most {MAX_DEFINITION_BYTES} bytes"),
        ));
    }
    if text.contains('\0') {
        return Err(AppError::invalid_field(
            "definition",
            "must not contain the NUL character",
        ));
    }
    Ok(())
}

/// A JSON object as stored, at most `MAX_JSON_BYTES`.
fn stored_object(field: &str, map: &Map<String, Value>) -> AppResult<String> {
    let text = serde_json::to_string(map)
        .map_err(|e| AppError::Internal(format!("{field} does not serialise: {e}")))?;
    if text.len() > MAX_JSON_BYTES {
        return Err(AppError::invalid_field(
            field,
            format!("must be at most {MAX_JSON_BYTES} bytes as JSON"),
        ));
    }
    Ok(text)
}

fn stored<T: serde::Serialize>(what: &str, v: &T) -> AppResult<String> {
    serde_json::to_string(v)
        .map_err(|e| AppError::Internal(format!("{what} does not serialise: {e}")))
}

/// A UUID a caller gives, in lower case, or an error naming `field`.
fn given_uuid(field: &str, value: &str) -> AppResult<String> {
    let v = value.trim();
    if !is_uuid(v) {
        return Err(AppError::invalid_field(
            field,
            format!("'{}' is not a UUID", truncated(v)),
        ));
    }
    Ok(v.to_ascii_lowercase())
}

/// At most 64 characters of `s`, for messages that quote input.
fn truncated(s: &str) -> String {
    let mut out: String = s.chars().take(64).collect();
    if s.chars().count() > 64 {
        out.push('…');
    }
    out
}

/// Testbed UUIDs: at most `MAX_TESTBEDS`, each a UUID, in lower case, duplicates dropped.
fn given_testbeds(field: &str, uuids: &[String]) -> AppResult<Vec<String>> {
    if uuids.len() > MAX_TESTBEDS {
        return Err(AppError::invalid_field(
            field,
            format!("at most {MAX_TESTBEDS} testbeds"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(uuids.len());
    for u in uuids {
        let u = given_uuid(field, u)?;
        if !out.contains(&u) {
            out.push(u);
        }
    }
    Ok(out)
}

/// The job: a name, a path (1 to `MAX_TEXT` characters, no control characters), a UUID
/// (`keep` when not given, else a new one).
fn job_ref(job: &NewJob, keep: Option<String>) -> AppResult<JobRef> {
    let name = check_name("job.name", &job.name)?;
    let path = job.path.trim();
    if path.is_empty() || path.chars().count() > MAX_TEXT || path.chars().any(char::is_control) {
        return Err(AppError::invalid_field(
            "job.path",
            format!("must be 1 to {MAX_TEXT} characters, without control characters"),
        ));
    }
    let uuid = match &job.uuid {
        Some(u) => given_uuid("job.uuid", u)?,
        None => match keep {
            Some(u) => u,
            None => new_uuid()?,
        },
    };
    Ok(JobRef {
        name,
        path: path.to_owned(),
        uuid,
    })
}

/// The engine as stored: `{"name", "type", "uuid"}` in that order (`keep`'s UUID, else a new
/// one, when not given).
fn engine(given: &Map<String, Value>, keep: Option<String>) -> AppResult<Map<String, Value>> {
    if let Some(k) = given
        .keys()
        .find(|k| !matches!(k.as_str(), "name" | "type" | "uuid"))
    {
        return Err(AppError::invalid_field(
            "engine",
            format!(
                "unknown key '{}' (an engine has name, type and uuid)",
                truncated(k)
            ),
        ));
    }
    let text = |key: &str| -> AppResult<String> {
        match given.get(key) {
            Some(Value::String(s)) => check_name(&format!("engine.{key}"), s),
            _ => Err(AppError::invalid_field(
                format!("engine.{key}"),
                "is required, a string",
            )),
        }
    };
    let name = text("name")?;
    let kind = text("type")?;
    let uuid = match given.get("uuid") {
        Some(Value::String(u)) => given_uuid("engine.uuid", u)?,
        Some(Value::Null) | None => match keep {
            Some(u) => u,
            None => new_uuid()?,
        },
        Some(_) => {
            return Err(AppError::invalid_field(
                "engine.uuid",
                "must be a UUID string",
            ));
        }
    };
    let mut out = Map::new();
    out.insert("name".into(), Value::String(name));
    out.insert("type".into(), Value::String(kind));
    out.insert("uuid".into(), Value::String(uuid));
    Ok(out)
}

/// Environment variables: names of 1 to `MAX_NAME` characters, string values.
fn check_env(env: &Map<String, Value>) -> AppResult<()> {
    for (k, v) in env {
        if k.is_empty() || k.chars().count() > MAX_NAME {
            return Err(AppError::invalid_field(
                "env",
                format!("variable names are 1 to {MAX_NAME} characters"),
            ));
        }
        if !v.is_string() {
            return Err(AppError::invalid_field(
                "env",
                format!("'{}' must be a string", truncated(k)),
            ));
        }
    }
    Ok(())
}

fn interest_list(given: &[String]) -> AppResult<Vec<String>> {
    if given.len() > MAX_INTEREST_LIST {
        return Err(AppError::invalid_field(
            "interest_list",
            format!("at most {MAX_INTEREST_LIST} entries"),
        ));
    }
    given
        .iter()
        .map(|a| check_name("interest_list", a))
        .collect()
}

fn priority(given: Option<i32>) -> AppResult<i32> {
    let p = given.unwrap_or(DEFAULT_PRIORITY);
    if !(MIN_PRIORITY..=MAX_PRIORITY).contains(&p) {
        return Err(AppError::invalid_field(
            "priority",
            format!("must be {MIN_PRIORITY} to {MAX_PRIORITY}"),
        ));
    }
    Ok(p)
}

/// The first of `wanted` that `found` lacks.
fn first_missing<'a>(wanted: &'a [String], found: &[String]) -> Option<&'a String> {
    wanted.iter().find(|w| !found.contains(w))
}

/// Every testbed of `uuids` is defined in `group`, else an error naming `field`.
async fn testbeds_defined(
    db: &impl ConnectionTrait,
    group: &str,
    field: &str,
    uuids: &[String],
) -> AppResult<()> {
    let found: Vec<String> = testbeds_by_uuids(db, group, uuids)
        .await?
        .into_iter()
        .map(|t| t.uuid)
        .collect();
    match first_missing(uuids, &found) {
        Some(u) => Err(AppError::invalid_field(
            field,
            format!("testbed {u} is not defined"),
        )),
        None => Ok(()),
    }
}

async fn topology_defined(
    db: &impl ConnectionTrait,
    group: &str,
    field: &str,
    uuid: &str,
) -> AppResult<()> {
    match topologies_by_uuids(db, group, &[uuid.to_owned()])
        .await?
        .first()
    {
        Some(_) => Ok(()),
        None => Err(AppError::invalid_field(
            field,
            format!("topology {uuid} is not defined"),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Testbeds and topologies.

pub async fn create_testbed(
    db: &impl ConnectionTrait,
    group: &str,
    input: &NewTestbed,
) -> AppResult<Testbed> {
    type E = xpr_testbed::Entity;
    let name = check_name("name", &input.name)?;
    check_definition(&input.definition)?;
    let uuid = new_uuid()?;
    let t = now();
    let _turn = write_turn(db).await;
    name_free::<E>(db, group, &name, None).await?;
    xpr_testbed::ActiveModel {
        id: NotSet,
        uuid: Set(uuid),
        group_name: Set(group.to_owned()),
        name: Set(name.clone()),
        definition: Set(input.definition.clone()),
        created_at: Set(t),
        updated_at: Set(t),
    }
    .insert(db)
    .await
    .map_err(name_conflict::<E>(&name))
}

/// Replaces the testbed's name and definition.
pub async fn update_testbed(
    db: &impl ConnectionTrait,
    group: &str,
    uuid: &str,
    input: &NewTestbed,
) -> AppResult<Testbed> {
    type E = xpr_testbed::Entity;
    let name = check_name("name", &input.name)?;
    check_definition(&input.definition)?;
    let _turn = write_turn(db).await;
    let row = existing::<E>(db, group, uuid).await?;
    name_free::<E>(db, group, &name, Some(row.id)).await?;
    let mut am = row.into_active_model();
    am.name = Set(name.clone());
    am.definition = Set(input.definition.clone());
    am.updated_at = Set(now());
    am.update(db).await.map_err(name_conflict::<E>(&name))
}

pub async fn delete_testbed(db: &impl ConnectionTrait, group: &str, uuid: &str) -> AppResult<()> {
    remove::<xpr_testbed::Entity>(db, group, uuid).await
}

/// The group's testbeds in creation order (the slice's part; at most `MAX_LIST_ROWS`).
pub async fn list_testbeds(
    db: &impl ConnectionTrait,
    group: &str,
    slice: &Slice,
) -> AppResult<Vec<Testbed>> {
    list::<xpr_testbed::Entity>(db, group, slice).await
}

pub async fn count_testbeds(db: &impl ConnectionTrait, group: &str) -> AppResult<u64> {
    count::<xpr_testbed::Entity>(db, group).await
}

pub async fn create_topology(
    db: &impl ConnectionTrait,
    group: &str,
    input: &NewTopology,
) -> AppResult<Topology> {
    type E = xpr_topology::Entity;
    let name = check_name("name", &input.name)?;
    check_definition(&input.definition)?;
    let uuid = new_uuid()?;
    let t = now();
    let _turn = write_turn(db).await;
    name_free::<E>(db, group, &name, None).await?;
    xpr_topology::ActiveModel {
        id: NotSet,
        uuid: Set(uuid),
        group_name: Set(group.to_owned()),
        name: Set(name.clone()),
        definition: Set(input.definition.clone()),
        created_at: Set(t),
        updated_at: Set(t),
    }
    .insert(db)
    .await
    .map_err(name_conflict::<E>(&name))
}

/// Replaces the topology's name and definition.
pub async fn update_topology(
    db: &impl ConnectionTrait,
    group: &str,
    uuid: &str,
    input: &NewTopology,
) -> AppResult<Topology> {
    type E = xpr_topology::Entity;
    let name = check_name("name", &input.name)?;
    check_definition(&input.definition)?;
    let _turn = write_turn(db).await;
    let row = existing::<E>(db, group, uuid).await?;
    name_free::<E>(db, group, &name, Some(row.id)).await?;
    let mut am = row.into_active_model();
    am.name = Set(name.clone());
    am.definition = Set(input.definition.clone());
    am.updated_at = Set(now());
    am.update(db).await.map_err(name_conflict::<E>(&name))
}

pub async fn delete_topology(db: &impl ConnectionTrait, group: &str, uuid: &str) -> AppResult<()> {
    remove::<xpr_topology::Entity>(db, group, uuid).await
}

/// The group's topologies in creation order (the slice's part; at most `MAX_LIST_ROWS`).
pub async fn list_topologies(
    db: &impl ConnectionTrait,
    group: &str,
    slice: &Slice,
) -> AppResult<Vec<Topology>> {
    list::<xpr_topology::Entity>(db, group, slice).await
}

pub async fn count_topologies(db: &impl ConnectionTrait, group: &str) -> AppResult<u64> {
    count::<xpr_topology::Entity>(db, group).await
}

// ---------------------------------------------------------------------------------------------
// Profiles.

/// A profile's columns, checked, as stored.
struct ProfileColumns {
    name: String,
    job: String,
    harness: String,
    engine: String,
    testbeds: Vec<String>,
    topology: Option<String>,
    options: String,
    env: String,
    interest_list: String,
    max_runtime_seconds: i64,
    max_clean_runtime_seconds: i64,
    max_request_runtime_seconds: i64,
    priority: i32,
}

/// Checks what needs no database; `current` is the profile being replaced (whose job and engine
/// UUIDs are kept when not given).
fn profile_columns(input: &NewProfile, current: Option<&Profile>) -> AppResult<ProfileColumns> {
    let name = check_name("name", &input.name)?;
    let kept = |text: &str, key: &str| -> Option<String> {
        serde_json::from_str::<Value>(text)
            .ok()?
            .get(key)?
            .as_str()
            .filter(|u| is_uuid(u))
            .map(str::to_owned)
    };
    let job = job_ref(&input.job, current.and_then(|p| kept(&p.job, "uuid")))?;
    let engine = engine(&input.engine, current.and_then(|p| kept(&p.engine, "uuid")))?;
    let testbeds = given_testbeds("testbeds", &input.testbeds)?;
    let topology = match &input.topology {
        Some(t) => Some(given_uuid("topology", t)?),
        None => None,
    };
    if !testbeds.is_empty() && topology.is_some() {
        return Err(AppError::invalid_field(
            "topology",
            "a profile runs on testbeds or on a topology, not both",
        ));
    }
    check_env(&input.env)?;
    let runtime = |field: &str, given: Option<i64>, default: i64| {
        check_runtime(field, given.unwrap_or(default))
    };
    Ok(ProfileColumns {
        name,
        job: stored("job", &job)?,
        harness: stored_object("harness", &input.harness)?,
        engine: stored_object("engine", &engine)?,
        testbeds,
        topology,
        options: stored_object("options", &input.options)?,
        env: stored_object("env", &input.env)?,
        interest_list: stored("interest_list", &interest_list(&input.interest_list)?)?,
        max_runtime_seconds: runtime(
            "max_runtime_seconds",
            input.max_runtime_seconds,
            DEFAULT_RUNTIME_SECONDS,
        )?,
        max_clean_runtime_seconds: runtime(
            "max_clean_runtime_seconds",
            input.max_clean_runtime_seconds,
            DEFAULT_CLEAN_RUNTIME_SECONDS,
        )?,
        max_request_runtime_seconds: runtime(
            "max_request_runtime_seconds",
            input.max_request_runtime_seconds,
            super::model::DEFAULT_REQUEST_RUNTIME_SECONDS,
        )?,
        priority: priority(input.priority)?,
    })
}

/// The profile's testbeds and topology are defined in `group`.
async fn profile_references(
    db: &impl ConnectionTrait,
    group: &str,
    c: &ProfileColumns,
) -> AppResult<()> {
    testbeds_defined(db, group, "testbeds", &c.testbeds).await?;
    if let Some(t) = &c.topology {
        topology_defined(db, group, "topology", t).await?;
    }
    Ok(())
}

fn set_profile(am: &mut xpr_profile::ActiveModel, c: ProfileColumns) -> AppResult<()> {
    am.testbeds = Set(stored("testbeds", &c.testbeds)?);
    am.name = Set(c.name);
    am.job = Set(c.job);
    am.harness = Set(c.harness);
    am.engine = Set(c.engine);
    am.topology = Set(c.topology);
    am.options = Set(c.options);
    am.env = Set(c.env);
    am.interest_list = Set(c.interest_list);
    am.max_runtime_seconds = Set(c.max_runtime_seconds);
    am.max_clean_runtime_seconds = Set(c.max_clean_runtime_seconds);
    am.max_request_runtime_seconds = Set(c.max_request_runtime_seconds);
    am.priority = Set(c.priority);
    am.updated_at = Set(now());
    Ok(())
}

pub async fn create_profile(
    db: &impl ConnectionTrait,
    group: &str,
    input: &NewProfile,
) -> AppResult<Profile> {
    type E = xpr_profile::Entity;
    let c = profile_columns(input, None)?;
    let name = c.name.clone();
    let uuid = new_uuid()?;
    let _turn = write_turn(db).await;
    profile_references(db, group, &c).await?;
    name_free::<E>(db, group, &name, None).await?;
    let mut am = xpr_profile::ActiveModel {
        id: NotSet,
        uuid: Set(uuid),
        group_name: Set(group.to_owned()),
        ..Default::default()
    };
    set_profile(&mut am, c)?;
    am.created_at = am.updated_at.clone();
    am.insert(db).await.map_err(name_conflict::<E>(&name))
}

/// Replaces every field of the profile (those not given take their defaults again; the job's
/// and engine's UUIDs are kept when not given).
pub async fn update_profile(
    db: &impl ConnectionTrait,
    group: &str,
    uuid: &str,
    input: &NewProfile,
) -> AppResult<Profile> {
    type E = xpr_profile::Entity;
    let _turn = write_turn(db).await;
    let row = existing::<E>(db, group, uuid).await?;
    let c = profile_columns(input, Some(&row))?;
    let name = c.name.clone();
    profile_references(db, group, &c).await?;
    name_free::<E>(db, group, &name, Some(row.id)).await?;
    let mut am = row.into_active_model();
    set_profile(&mut am, c)?;
    am.update(db).await.map_err(name_conflict::<E>(&name))
}

pub async fn delete_profile(db: &impl ConnectionTrait, group: &str, uuid: &str) -> AppResult<()> {
    remove::<xpr_profile::Entity>(db, group, uuid).await
}

/// The group's profiles in creation order (the slice's part; at most `MAX_LIST_ROWS`).
pub async fn list_profiles(
    db: &impl ConnectionTrait,
    group: &str,
    slice: &Slice,
) -> AppResult<Vec<Profile>> {
    list::<xpr_profile::Entity>(db, group, slice).await
}

pub async fn count_profiles(db: &impl ConnectionTrait, group: &str) -> AppResult<u64> {
    count::<xpr_profile::Entity>(db, group).await
}

// ---------------------------------------------------------------------------------------------
// Bundles.

/// The entries checked and normalised (UUIDs in lower case), without the database.
fn bundle_entries(entries: &[BundleEntry]) -> AppResult<Vec<BundleEntry>> {
    if entries.is_empty() || entries.len() > MAX_BUNDLE_ENTRIES {
        return Err(AppError::invalid_field(
            "entries",
            format!("a bundle has 1 to {MAX_BUNDLE_ENTRIES} entries"),
        ));
    }
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let field = |f: &str| format!("entries[{i}].{f}");
            let testbeds = given_testbeds(&field("testbeds"), &e.testbeds)?;
            let topology = match &e.topology {
                Some(t) => Some(given_uuid(&field("topology"), t)?),
                None => None,
            };
            if !testbeds.is_empty() && topology.is_some() {
                return Err(AppError::invalid_field(
                    field("topology"),
                    "an entry runs on testbeds or on a topology, not both",
                ));
            }
            e.parameters.check(&field("parameters"))?;
            let size = stored("parameters", &e.parameters)?.len();
            if size > MAX_JSON_BYTES {
                return Err(AppError::invalid_field(
                    field("parameters"),
                    format!("must be at most {MAX_JSON_BYTES} bytes as JSON"),
                ));
            }
            Ok(BundleEntry {
                profile: given_uuid(&field("profile"), &e.profile)?,
                testbeds,
                topology,
                parameters: e.parameters.clone(),
            })
        })
        .collect()
}

/// Every profile, testbed and topology the entries name is defined in `group` (three reads).
async fn bundle_references(
    db: &impl ConnectionTrait,
    group: &str,
    entries: &[BundleEntry],
) -> AppResult<()> {
    let mut profiles: Vec<String> = entries.iter().map(|e| e.profile.clone()).collect();
    profiles.sort();
    profiles.dedup();
    let mut testbeds: Vec<String> = entries.iter().flat_map(|e| e.testbeds.clone()).collect();
    testbeds.sort();
    testbeds.dedup();
    let mut topologies: Vec<String> = entries.iter().filter_map(|e| e.topology.clone()).collect();
    topologies.sort();
    topologies.dedup();
    let found_profiles: Vec<String> = profiles_by_uuids(db, group, &profiles)
        .await?
        .into_iter()
        .map(|p| p.uuid)
        .collect();
    let found_testbeds: Vec<String> = testbeds_by_uuids(db, group, &testbeds)
        .await?
        .into_iter()
        .map(|t| t.uuid)
        .collect();
    let found_topologies: Vec<String> = topologies_by_uuids(db, group, &topologies)
        .await?
        .into_iter()
        .map(|t| t.uuid)
        .collect();
    for (i, e) in entries.iter().enumerate() {
        if !found_profiles.contains(&e.profile) {
            return Err(AppError::invalid_field(
                format!("entries[{i}].profile"),
                format!("profile {} is not defined", e.profile),
            ));
        }
        if let Some(u) = first_missing(&e.testbeds, &found_testbeds) {
            return Err(AppError::invalid_field(
                format!("entries[{i}].testbeds"),
                format!("testbed {u} is not defined"),
            ));
        }
        if let Some(t) = &e.topology
            && !found_topologies.contains(t)
        {
            return Err(AppError::invalid_field(
                format!("entries[{i}].topology"),
                format!("topology {t} is not defined"),
            ));
        }
    }
    Ok(())
}

pub async fn create_bundle(
    db: &impl ConnectionTrait,
    group: &str,
    input: &NewBundle,
) -> AppResult<Bundle> {
    type E = xpr_bundle::Entity;
    let name = check_name("name", &input.name)?;
    let entries = bundle_entries(&input.entries)?;
    let stored_entries = stored("entries", &entries)?;
    let uuid = new_uuid()?;
    let t = now();
    let _turn = write_turn(db).await;
    bundle_references(db, group, &entries).await?;
    name_free::<E>(db, group, &name, None).await?;
    xpr_bundle::ActiveModel {
        id: NotSet,
        uuid: Set(uuid),
        group_name: Set(group.to_owned()),
        name: Set(name.clone()),
        entries: Set(stored_entries),
        created_at: Set(t),
        updated_at: Set(t),
    }
    .insert(db)
    .await
    .map_err(name_conflict::<E>(&name))
}

/// Replaces the bundle's name and entries.
pub async fn update_bundle(
    db: &impl ConnectionTrait,
    group: &str,
    uuid: &str,
    input: &NewBundle,
) -> AppResult<Bundle> {
    type E = xpr_bundle::Entity;
    let name = check_name("name", &input.name)?;
    let entries = bundle_entries(&input.entries)?;
    let stored_entries = stored("entries", &entries)?;
    let _turn = write_turn(db).await;
    let row = existing::<E>(db, group, uuid).await?;
    bundle_references(db, group, &entries).await?;
    name_free::<E>(db, group, &name, Some(row.id)).await?;
    let mut am = row.into_active_model();
    am.name = Set(name.clone());
    am.entries = Set(stored_entries);
    am.updated_at = Set(now());
    am.update(db).await.map_err(name_conflict::<E>(&name))
}

pub async fn delete_bundle(db: &impl ConnectionTrait, group: &str, uuid: &str) -> AppResult<()> {
    remove::<xpr_bundle::Entity>(db, group, uuid).await
}

/// The group's bundles in creation order (the slice's part; at most `MAX_LIST_ROWS`).
pub async fn list_bundles(
    db: &impl ConnectionTrait,
    group: &str,
    slice: &Slice,
) -> AppResult<Vec<Bundle>> {
    list::<xpr_bundle::Entity>(db, group, slice).await
}

pub async fn count_bundles(db: &impl ConnectionTrait, group: &str) -> AppResult<u64> {
    count::<xpr_bundle::Entity>(db, group).await
}

/// A bundle's entries as stored (none when the column is damaged).
pub fn bundle_entries_of(b: &Bundle) -> Vec<BundleEntry> {
    serde_json::from_str(&b.entries).unwrap_or_default()
}

/// A profile's default testbed UUIDs as stored (none when the column is damaged).
pub fn profile_testbeds_of(p: &Profile) -> Vec<String> {
    serde_json::from_str(&p.testbeds).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_are_checked_and_completed() {
        let given: Map<String, Value> =
            serde_json::from_str(r#"{"name": "jenkins", "type": "jenkins"}"#).unwrap();
        let e = engine(&given, None).unwrap();
        assert_eq!(e.keys().collect::<Vec<_>>(), ["name", "type", "uuid"]);
        assert!(is_uuid(e["uuid"].as_str().unwrap()));
        let kept = engine(&given, Some("x".into())).unwrap();
        assert_eq!(kept["uuid"], "x");
        let extra: Map<String, Value> =
            serde_json::from_str(r#"{"name": "j", "type": "j", "host": "h"}"#).unwrap();
        assert!(engine(&extra, None).is_err());
        let no_type: Map<String, Value> = serde_json::from_str(r#"{"name": "j"}"#).unwrap();
        assert!(engine(&no_type, None).is_err());
    }

    #[test]
    fn testbed_lists_are_uuids_without_duplicates() {
        let a = "07F3A282-AC12-4993-96B0-181912A41BB1".to_owned();
        let got = given_testbeds("testbeds", &[a.clone(), a.to_ascii_lowercase()]).unwrap();
        assert_eq!(got, vec![a.to_ascii_lowercase()]);
        assert!(given_testbeds("testbeds", &["nope".into()]).is_err());
    }

    #[test]
    fn priority_and_times() {
        assert_eq!(priority(None).unwrap(), DEFAULT_PRIORITY);
        assert!(priority(Some(11)).is_err());
        assert!(priority(Some(-1)).is_err());
        assert_eq!(now().and_utc().timestamp_subsec_nanos() % 1_000, 0);
    }
}
