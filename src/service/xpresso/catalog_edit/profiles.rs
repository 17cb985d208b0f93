//! Profiles: their bounds and defaults, the checks of their fields, and creating, replacing,
//! deleting and listing them.

use sea_orm::{ActiveModelTrait, ActiveValue::NotSet, ConnectionTrait, IntoActiveModel, Set};
use serde_json::{Map, Value};

use super::super::catalog::{testbeds_by_uuids, topologies_by_uuids};
use super::super::model::{
    JobRef, MAX_NAME, MAX_TEXT, Profile, check_name, check_runtime, is_uuid, new_uuid,
};
use super::shared::{
    count, existing, first_missing, given_testbeds, given_uuid, list, name_conflict, name_free,
    now, remove, stored, stored_object, truncated,
};
use crate::error::{AppError, AppResult};
use crate::service::{Slice, write_turn};
use entity::xpr_profile;

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

// ---------------------------------------------------------------------------------------------
// Checks.

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
            super::super::model::DEFAULT_REQUEST_RUNTIME_SECONDS,
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
    fn priority_and_times() {
        assert_eq!(priority(None).unwrap(), DEFAULT_PRIORITY);
        assert!(priority(Some(11)).is_err());
        assert!(priority(Some(-1)).is_err());
        assert_eq!(now().and_utc().timestamp_subsec_nanos() % 1_000, 0);
    }
}
