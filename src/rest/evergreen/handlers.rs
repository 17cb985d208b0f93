//! Handlers of Evergreen REST v1's routes. Each reads its path and query, calls the Evergreen
//! service, and shapes the answer with `wire`; failures carry the Go handlers' messages. No
//! handler touches the database itself.

use poem::http::StatusCode;
use poem::{Request, Response};
use serde_json::Value;

use super::errors;
use super::wire;
use crate::error::{AppError, AppResult};
use crate::service::evergreen::{self as svc, Build, Project, Version};
use crate::state::AppState;

/// A route's answer: the success, or its failure (rendered by `errors::render`).
pub type Reply = AppResult<Response>;

fn param(req: &Request, name: &str) -> String {
    req.raw_path_param(name).unwrap_or_default().to_owned()
}

/// Go's `r.FormValue(key)`: the first value of the query parameter, `""` when absent.
fn form_value(req: &Request, key: &str) -> String {
    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn ok(body: &Value) -> Response {
    errors::json(StatusCode::OK, body)
}

fn not_found(text: &str) -> AppError {
    AppError::not_found(text)
}

/// A service result, or the route's failure worded `text`.
fn or_fail<T>(r: AppResult<T>, text: &str) -> AppResult<T> {
    r.map_err(|e| e.reworded(text))
}

/// A row that must exist because another row points at it; its absence is a broken store, a 500.
fn required<T>(v: Option<T>, what: &str, text: &str) -> AppResult<T> {
    v.ok_or_else(|| AppError::Internal(format!("dangling reference to a {what}")).reworded(text))
}

/// The version object of `v`: its project and builds, read through the service.
async fn version_body(st: &AppState, v: &Version, text: &str) -> AppResult<Value> {
    let db = &st.db;
    let project = required(
        or_fail(svc::projects_by_ids(db, &[v.project_id]).await, text)?.remove(&v.project_id),
        "project",
        text,
    )?;
    let builds = or_fail(svc::builds_for_versions(db, &[v.id]).await, text)?
        .remove(&v.id)
        .unwrap_or_default();
    Ok(wire::version(v, &project, &builds))
}

/// GET /rest/v1/projects/{project_id}/versions [EVG rest/version.go getRecentVersions]: the
/// project's `NUM_RECENT_VERSIONS` newest commit versions; an unknown project is a 200 with no
/// versions.
pub async fn recent_versions(st: &AppState, req: &Request) -> Reply {
    let project_id = param(req, "project_id");
    let text = format!("Error finding recent versions of project '{project_id}'");
    let db = &st.db;
    let Some(project) = or_fail(svc::project_by_identifier(db, &project_id).await, &text)? else {
        return Ok(ok(&wire::recent_versions(&project_id, &[])));
    };
    let versions = or_fail(
        svc::recent_versions(db, project.id, svc::NUM_RECENT_VERSIONS).await,
        &text,
    )?;
    let version_ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
    let mut builds = if version_ids.is_empty() {
        Default::default()
    } else {
        or_fail(svc::builds_for_versions(db, &version_ids).await, &text)?
    };
    let build_ids: Vec<i64> = builds.values().flatten().map(|b: &Build| b.id).collect();
    let mut tasks = if build_ids.is_empty() {
        Default::default()
    } else {
        or_fail(svc::tasks_for_builds(db, &build_ids).await, &text)?
    };
    let items: Vec<wire::RecentVersion> = versions
        .into_iter()
        .map(|v| {
            let with_tasks = builds
                .remove(&v.id)
                .unwrap_or_default()
                .into_iter()
                .map(|b| {
                    let t = tasks.remove(&b.id).unwrap_or_default();
                    (b, t)
                })
                .collect();
            (v, with_tasks)
        })
        .collect();
    Ok(ok(&wire::recent_versions(&project_id, &items)))
}

/// GET /rest/v1/projects/{project_id}/revisions/{revision} [EVG rest/version.go
/// getVersionInfoViaRevision]: the project's commit version at the exact revision.
pub async fn version_by_revision(st: &AppState, req: &Request) -> Reply {
    let project_id = param(req, "project_id");
    let revision = param(req, "revision");
    let text = format!("Error finding revision '{revision}' for project '{project_id}'");
    let db = &st.db;
    let Some(project): Option<Project> =
        or_fail(svc::project_by_identifier(db, &project_id).await, &text)?
    else {
        return Err(not_found(&text));
    };
    let Some(v) = or_fail(
        svc::version_by_revision(db, project.id, &revision).await,
        &text,
    )?
    else {
        return Err(not_found(&text));
    };
    Ok(ok(&version_body(st, &v, &text).await?))
}

async fn find_version(st: &AppState, version_id: &str) -> AppResult<Version> {
    let text = format!("Error finding version '{version_id}'");
    match or_fail(svc::version_by_id(&st.db, version_id).await, &text)? {
        Some(v) => Ok(v),
        None => Err(not_found(&text)),
    }
}

/// GET /rest/v1/versions/{version_id} [EVG rest/version.go getVersionInfo].
pub async fn version(st: &AppState, req: &Request) -> Reply {
    let version_id = param(req, "version_id");
    let v = find_version(st, &version_id).await?;
    let text = format!("Error finding version '{version_id}'");
    Ok(ok(&version_body(st, &v, &text).await?))
}

/// The `activated` member of a PATCH body as Go's `json.Decoder` into
/// `struct { Activated *bool }` reads it: only the first JSON value counts (trailing bytes are
/// never looked at), keys match case-insensitively and the last matching one wins, and a value
/// that is not a boolean is a decoding error. The legacy handler ignored decoding errors, so a
/// malformed body means "nothing to change".
pub fn patch_activated(body: &[u8]) -> Option<bool> {
    let first = serde_json::Deserializer::from_slice(body)
        .into_iter::<Value>()
        .next()?
        .ok()?;
    first
        .as_object()?
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case("activated"))?
        .1
        .as_bool()
}

/// PATCH /rest/v1/versions/{version_id} [EVG rest/version.go modifyVersionInfo]: sets the
/// version's activation when the body has `activated`, cascading to its builds and their
/// undispatched tasks, then answers like GET.
pub async fn patch_version(st: &AppState, req: &Request, body: &[u8]) -> Reply {
    let version_id = param(req, "version_id");
    let mut v = find_version(st, &version_id).await?;
    if let Some(active) = patch_activated(body) {
        let text = format!(
            "Error marking version '{version_id}' as {}",
            if active { "active" } else { "inactive" }
        );
        v = svc::set_version_activated(&st.db, &version_id, active)
            .await
            .map_err(|e| match e {
                // Deleted between the look-up and the update: the look-up's 404.
                crate::error::AppError::NotFound(_) => {
                    not_found(&format!("Error finding version '{version_id}'"))
                }
                other => other.reworded(&text),
            })?;
    }
    let text = format!("Error finding version '{version_id}'");
    Ok(ok(&version_body(st, &v, &text).await?))
}

/// GET /rest/v1/versions/{version_id}/status?groupby=tasks|builds [EVG rest/version.go
/// getVersionStatus]. No existence check, as the original's aggregation had none: an unknown
/// version gives empty maps.
pub async fn version_status(st: &AppState, req: &Request) -> Reply {
    let version_id = param(req, "version_id");
    let group_by = form_value(req, "groupby");
    let by_builds = match group_by.as_str() {
        "" | "tasks" => false,
        "builds" => true,
        other => {
            return Err(AppError::bad_request(format!(
                "Invalid groupby parameter '{other}'"
            )));
        }
    };
    let text = format!("Error finding status for version '{version_id}'");
    let tasks = match or_fail(svc::version_by_id(&st.db, &version_id).await, &text)? {
        Some(v) => or_fail(svc::tasks_for_version(&st.db, v.id).await, &text)?,
        None => Vec::new(),
    };
    Ok(ok(&wire::version_status(&version_id, by_builds, &tasks)))
}

/// The build, its version and project, and its tasks; 404 when the build is unknown.
async fn find_build(
    st: &AppState,
    build_id: &str,
) -> Result<(Build, Vec<svc::TaskSummary>, String), AppError> {
    let text = format!("Error finding build '{build_id}'");
    let db = &st.db;
    let Some(b) = or_fail(svc::build_by_id(db, build_id).await, &text)? else {
        return Err(not_found(&text));
    };
    let tasks = or_fail(svc::tasks_for_builds(db, &[b.id]).await, &text)?
        .remove(&b.id)
        .unwrap_or_default();
    Ok((b, tasks, text))
}

/// GET /rest/v1/builds/{build_id} [EVG rest/build.go getBuildInfo].
pub async fn build(st: &AppState, req: &Request) -> Reply {
    let build_id = param(req, "build_id");
    let (b, tasks, text) = find_build(st, &build_id).await?;
    let db = &st.db;
    let v = required(
        or_fail(svc::versions_by_ids(db, &[b.version_id]).await, &text)?.remove(&b.version_id),
        "version",
        &text,
    )?;
    let p = required(
        or_fail(svc::projects_by_ids(db, &[b.project_id]).await, &text)?.remove(&b.project_id),
        "project",
        &text,
    )?;
    Ok(ok(&wire::build(&b, &v, &p, &tasks)))
}

/// GET /rest/v1/builds/{build_id}/status [EVG rest/build.go getBuildStatus].
pub async fn build_status(st: &AppState, req: &Request) -> Reply {
    let build_id = param(req, "build_id");
    let (b, tasks, _) = find_build(st, &build_id).await?;
    Ok(ok(&wire::build_status(&b, &tasks)))
}

/// The task and its current execution's test results; 404 when the task is unknown.
async fn find_task(
    st: &AppState,
    task_id: &str,
) -> Result<(svc::Task, Vec<svc::TestResult>, String), AppError> {
    let text = format!("Error finding task '{task_id}'");
    let db = &st.db;
    let Some(t) = or_fail(svc::task_by_id(db, task_id).await, &text)? else {
        return Err(not_found(&text));
    };
    let results = or_fail(
        svc::test_results_for_tasks(db, &[(t.id, t.execution)], None).await,
        &text,
    )?
    .remove(&t.id)
    .unwrap_or_default();
    Ok((t, results, text))
}

/// GET /rest/v1/tasks/{task_id} [EVG rest/task.go getTaskInfo].
pub async fn task(st: &AppState, req: &Request) -> Reply {
    let task_id = param(req, "task_id");
    let (t, results, text) = find_task(st, &task_id).await?;
    let db = &st.db;
    let b = required(
        or_fail(svc::builds_by_ids(db, &[t.build_id]).await, &text)?.remove(&t.build_id),
        "build",
        &text,
    )?;
    let v = required(
        or_fail(svc::versions_by_ids(db, &[t.version_id]).await, &text)?.remove(&t.version_id),
        "version",
        &text,
    )?;
    let p = required(
        or_fail(svc::projects_by_ids(db, &[t.project_id]).await, &text)?.remove(&t.project_id),
        "project",
        &text,
    )?;
    let files = or_fail(svc::artifacts_for_tasks(db, &[t.id]).await, &text)?
        .remove(&t.id)
        .unwrap_or_default();
    Ok(ok(&wire::task(&t, &b, &v, &p, &results, &files)))
}

/// GET /rest/v1/tasks/{task_id}/status [EVG rest/task.go getTaskStatus].
pub async fn task_status(st: &AppState, req: &Request) -> Reply {
    let task_id = param(req, "task_id");
    let (t, results, _) = find_task(st, &task_id).await?;
    Ok(ok(&wire::task_status(&t, &results)))
}

/// GET /rest/v1/tasks/{task_name}/history?project=P [EVG rest/task_history.go getTaskHistory]:
/// `project` is the project identifier; missing or unknown, the answer is the 404 the original
/// gave when it found no project ref.
pub async fn task_history(st: &AppState, req: &Request) -> Reply {
    let task_name = param(req, "task_name");
    let project_id = form_value(req, "project");
    let missing = format!("Error finding project '{project_id}'");
    let project = if project_id.is_empty() {
        None
    } else {
        or_fail(
            svc::project_by_identifier(&st.db, &project_id).await,
            &missing,
        )?
    };
    let Some(project) = project else {
        return Err(not_found(&missing));
    };
    let text = format!("Error finding history for task '{task_name}'");
    let h = or_fail(svc::task_history(&st.db, &project, &task_name).await, &text)?;
    Ok(ok(&wire::task_history(
        &h.versions,
        &h.tasks,
        &h.failed,
        h.exhausted_before,
    )))
}

#[cfg(test)]
mod tests {
    use super::patch_activated;

    #[test]
    fn patch_body_is_read_like_go_json_decoder() {
        assert_eq!(patch_activated(br#"{"activated": false}"#), Some(false));
        assert_eq!(
            patch_activated(br#"{"activated": true, "x": 1}"#),
            Some(true)
        );
        assert_eq!(patch_activated(br#"{"Activated": true}"#), Some(true));
        assert_eq!(
            patch_activated(br#"{"activated": true} trailing"#),
            Some(true)
        );
        assert_eq!(patch_activated(br#"{}"#), None);
        assert_eq!(patch_activated(br#"{"activated": null}"#), None);
        assert_eq!(patch_activated(br#"{"activated": "yes"}"#), None);
        assert_eq!(patch_activated(b"not json"), None);
        assert_eq!(patch_activated(b""), None);
        assert_eq!(patch_activated(b"[true]"), None);
    }
}
