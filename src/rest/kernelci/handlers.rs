//! The job resource's handlers (seed 003; KernelCI backend `handlers/job.py`, `job_logs.py`,
//! `distinct.py` and `base.py` as of 94c5bae7). Each reads the request, calls the KernelCI
//! service and writes the answer with `wire`; errors are rendered by `errors::render`.

use chrono::Utc;
use poem::http::StatusCode;
use poem::{Request, Response};
use serde_json::{Map, Value};

use super::errors;
use super::query;
use super::wire;
use crate::error::{AppError, AppResult};
use crate::service::kernelci::{self as svc, JOB_FIELDS, JOB_STATUSES, SUMMARY_FIELDS, is_oid};
use crate::state::AppState;

fn pairs(req: &Request) -> Vec<(String, String)> {
    query::pairs(req.uri().query().unwrap_or_default())
}

/// The `id` path segment when it has the route's shape (`[A-Za-z0-9]{24}`); `None` when the
/// backend's URL pattern would not have matched, which is the application's 404.
fn route_id(req: &Request) -> Option<String> {
    let id = req.raw_path_param("id")?;
    (id.len() == 24 && id.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| id.to_owned())
}

/// The route's id, checked; otherwise the answer: the app's 404, or a 400 `wrong` for an id that
/// is not hex.
fn checked_id(req: &Request, wrong: &str) -> Result<String, Box<Response>> {
    let Some(id) = route_id(req) else {
        return Err(Box::new(errors::not_found()));
    };
    if !is_oid(&id) {
        return Err(Box::new(errors::render(AppError::bad_request(wrong))));
    }
    Ok(id)
}

fn not_found_id(id: &str) -> AppError {
    AppError::not_found(format!("Resource '{id}' not found"))
}

/// `GET /job`: jobs matching the query string, in the envelope with their total.
pub async fn list_jobs(st: &AppState, req: &Request) -> AppResult<Response> {
    let q = query::list(&pairs(req), JOB_FIELDS, Utc::now())?;
    let (rows, count) = tokio::try_join!(
        svc::list_jobs(&st.db, &q.criteria, &q.sort, q.skip, q.limit),
        svc::count_jobs(&st.db, &q.criteria),
    )?;
    let result = rows
        .iter()
        .map(|j| wire::project(wire::job(j), &q.projection))
        .collect();
    let body = wire::list(count, q.limit, q.skip, result);
    Ok(wire::respond(req, StatusCode::OK, &body))
}

/// `GET /job/<id>`: one job; only `field` and `nfield` apply.
pub async fn job(st: &AppState, req: &Request) -> AppResult<Response> {
    let id = match checked_id(req, "Wrong ID value provided") {
        Ok(id) => id,
        Err(answer) => return Ok(*answer),
    };
    let projection = query::projection(&pairs(req))?;
    let found = svc::job_by_oid(&st.db, &id)
        .await?
        .ok_or_else(|| not_found_id(&id))?;
    let body = wire::one(wire::project(wire::job(&found), &projection));
    Ok(wire::respond(req, StatusCode::OK, &body))
}

/// `GET /job/distinct/<field>`: the distinct values of one of the allowed fields among the jobs
/// the query string's filters match (skip, limit, sort and projection do not apply).
pub async fn distinct(st: &AppState, req: &Request) -> AppResult<Response> {
    let name = req.raw_path_param("field").unwrap_or_default();
    let Some(field) = svc::field(JOB_FIELDS, name).filter(|f| f.distinct) else {
        return Err(AppError::bad_request(
            "No field specified or field not valid",
        ));
    };
    let criteria = query::criteria(&pairs(req), JOB_FIELDS, Utc::now())?;
    let values = svc::distinct_jobs(&st.db, field, &criteria).await?;
    Ok(wire::respond(req, StatusCode::OK, &wire::distinct(values)))
}

/// `GET /job/<id>/logs`: the build-log summary of the job `id` (looked up by `job_id`).
pub async fn job_logs(st: &AppState, req: &Request) -> AppResult<Response> {
    let id = match checked_id(req, "Wrong ID value provided") {
        Ok(id) => id,
        Err(answer) => return Ok(*answer),
    };
    let projection = query::projection(&pairs(req))?;
    let found = svc::summary_for_job(&st.db, &id)
        .await?
        .ok_or_else(|| not_found_id(&id))?;
    let doc = wire::summary(&found);
    let body = wire::one(wire::project(doc, &projection));
    Ok(wire::respond(req, StatusCode::OK, &body))
}

/// `GET /job/logs`: build-log summaries matching the query string (`job_id`, `job`, `kernel`,
/// `git_branch`, `created_on` and the date parameters), in the envelope.
pub async fn list_logs(st: &AppState, req: &Request) -> AppResult<Response> {
    let q = query::list(&pairs(req), SUMMARY_FIELDS, Utc::now())?;
    let (rows, count) = tokio::try_join!(
        svc::list_summaries(&st.db, &q.criteria, &q.sort, q.skip, q.limit),
        svc::count_summaries(&st.db, &q.criteria),
    )?;
    let result = rows
        .iter()
        .map(|s| wire::project(wire::summary(s), &q.projection))
        .collect();
    let body = wire::list(count, q.limit, q.skip, result);
    Ok(wire::respond(req, StatusCode::OK, &body))
}

/// The keys `POST /job` reads (`JOB_VALID_KEYS["POST"]`); the first three are mandatory.
const POST_KEYS: [&str; 7] = [
    "job",
    "kernel",
    "git_branch",
    "git_commit",
    "git_describe",
    "kernel_version",
    "status",
];
const MANDATORY: [&str; 3] = ["job", "kernel", "git_branch"];

fn invalid_json(errors: Vec<String>) -> Response {
    let status = StatusCode::BAD_REQUEST;
    let body = wire::reason(status, "Provided JSON is not valid", &errors);
    Response::builder()
        .status(status)
        .content_type(wire::JSON_CONTENT_TYPE)
        .body(wire::text(&body))
}

/// `POST /job` (an id in the path is ignored, as the backend ignored it): sets the status of the
/// job named by `job`, `kernel` and `git_branch` once its builds are in. The checks run in the
/// backend's order: content type (415), JSON (422), keys (400), status (400), the job (404).
pub async fn post_job(st: &AppState, req: &Request, body: &[u8]) -> AppResult<Response> {
    let json_type = req
        .content_type()
        .is_some_and(|c| c.trim_start().starts_with("application/json"));
    if !json_type {
        return Ok(errors::reason(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Wrong content type defined: Use application/json as the content type",
        ));
    }
    let Ok(doc) = serde_json::from_slice::<Value>(body) else {
        return Ok(errors::reason(
            StatusCode::UNPROCESSABLE_ENTITY,
            "No JSON data found in the POST request",
        ));
    };
    let Value::Object(obj) = doc else {
        return Ok(invalid_json(vec!["Provided data is not JSON".into()]));
    };
    let missing: Vec<String> = MANDATORY
        .iter()
        .filter(|k| !obj.contains_key(**k))
        .map(|k| format!("'{k}'"))
        .collect();
    if !missing.is_empty() {
        return Ok(invalid_json(vec![format!(
            "One or more mandatory keys are missing: [{}]",
            missing.join(", ")
        )]));
    }
    let mut unknown: Vec<&str> = obj
        .keys()
        .map(String::as_str)
        .filter(|k| !POST_KEYS.contains(k))
        .collect();
    unknown.sort_unstable();
    let mut notes = Vec::new();
    if !unknown.is_empty() {
        notes.push(format!(
            "Found non recognizable keys, they will not be considered: {}",
            unknown.join(", ")
        ));
    }
    let text = |k: &str, obj: &Map<String, Value>| -> Result<Option<String>, String> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("Value of key '{k}' must be a string")),
        }
    };
    let mut wrong = Vec::new();
    let mut read = |k: &str| match text(k, &obj) {
        Ok(v) => v.unwrap_or_default(),
        Err(e) => {
            wrong.push(e);
            String::new()
        }
    };
    let (name, kernel, branch) = (read("job"), read("kernel"), read("git_branch"));
    let status = match obj.get("status") {
        None | Some(Value::Null) => "PASS".to_owned(),
        Some(_) => read("status"),
    };
    if !wrong.is_empty() {
        return Ok(invalid_json(wrong));
    }
    if !JOB_STATUSES.contains(&status.as_str()) {
        let body = wire::reason(
            StatusCode::BAD_REQUEST,
            &format!(
                "Status value '{status}' is not valid, should be one of: ['BUILD', 'FAIL', 'PASS', 'UNKNOWN']"
            ),
            &notes,
        );
        return Ok(wire::respond(req, StatusCode::BAD_REQUEST, &body));
    }
    let updated = svc::set_job_status(&st.db, &name, &kernel, &branch, &status).await?;
    let (status_code, reason) = match updated {
        Some(_) => (
            StatusCode::OK,
            format!("Job '{name}-{kernel}' (branch {branch}) marked as '{status}'"),
        ),
        None => (
            StatusCode::NOT_FOUND,
            format!("Job '{name}-{kernel} (branch {branch})' not found"),
        ),
    };
    let body = wire::reason(status_code, &reason, &notes);
    Ok(wire::respond(req, status_code, &body))
}

/// `DELETE /job` without an id: the backend's 400.
pub async fn delete_without_id() -> AppResult<Response> {
    Err(AppError::bad_request("No ID value specified"))
}

/// `DELETE /job/<id>`: deletes the job and its builds (and its log summary).
pub async fn delete_job(st: &AppState, req: &Request) -> AppResult<Response> {
    let id = match checked_id(req, "Wrong ID specified") {
        Ok(id) => id,
        Err(answer) => return Ok(*answer),
    };
    if !svc::delete_job(&st.db, &id).await? {
        return Err(AppError::not_found("Resource not found"));
    }
    let body = wire::reason(StatusCode::OK, &format!("Resource '{id}' deleted"), &[]);
    Ok(wire::respond(req, StatusCode::OK, &body))
}
