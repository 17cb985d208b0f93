//! testgraph's own bulk-ingestion routes under `/bulk/v1`: the batch mutations,
//! `addEvergreenTestResults`, `addMonitorMetrics` and `reportKernelciBuilds`, as plain JSON POSTs
//! for agents that send thousands of rows at a time.
//!
//! Each route takes the mutation's arguments as one JSON object (the same camelCase names, the
//! same defaults, unknown fields refused) and answers `201` with the mutation's payload:
//! `{"inserted": n}`, and for KernelCI's builds `{"builds": n, "jobsCreated": m}`. They call the
//! same service functions, under the same authorisation as the GraphQL mutations (a `write`
//! token unless the operator opened mutations), and report errors in the GraphQL shape
//! (`{"errors": [{"message", "extensions": {"code"}}]}`) with the error's HTTP status. A batch is stored whole or not at all.
//!
//! Why a second door: for a batch of 5,000 rows, the mutation spends most of the server's CPU in
//! async-graphql's handling of the variable (read into a value tree, deep-copied to validate,
//! copied again to coerce); here serde reads the rows straight into the service's input
//! (docs/performance.md).

use poem::Response;
use poem::http::{HeaderValue, Method, StatusCode, header};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::api::{Dialect, RestApi, Route};
use crate::config::Surface;
use crate::error::{AppError, AppResult};
use crate::graphql::evergreen::inputs::EvergreenTestResultInput;
use crate::graphql::kernelci::inputs::BuildInput as KernelciBuildInput;
use crate::graphql::monitor::inputs::NewMetricInput;
use crate::service::evergreen::{self as evg, NewTestResult};
use crate::service::kernelci::{self as kci, NewBuild};
use crate::service::monitor::{self as mon, NewMetric};
use crate::service::tokens::Scope;
use crate::state::AppState;

pub const PREFIX: &str = "/bulk/v1";

const TAG: &str = "bulk";

/// The bulk API: the batch routes, answered `201` with their mutation's payload, under the
/// mutations' authorisation (the GraphQL surface, a `write` token).
pub fn api() -> RestApi {
    let routes = vec![
        Route::new(
            Method::POST,
            "/evergreen/test_results",
            TAG,
            "addEvergreenTestResults as a JSON POST: attaches test results to a task's current execution, all or none; a task holds at most 100,000.",
            |st, _, body| Box::pin(test_results(st, body)),
        )
        .answers(Some("BulkInserted"))
        .body("BulkTestResults"),
        Route::new(
            Method::POST,
            "/monitor/metrics",
            TAG,
            "addMonitorMetrics as a JSON POST: stores pytest-monitor metrics in one transaction, all or none.",
            |st, _, body| Box::pin(metrics(st, body)),
        )
        .answers(Some("BulkInserted"))
        .body("BulkMetrics"),
        Route::new(
            Method::POST,
            "/kernelci/builds",
            TAG,
            "reportKernelciBuilds as a JSON POST: reports KernelCI builds in one transaction, all or none, creating their jobs on first sight.",
            |st, _, body| Box::pin(kernelci_builds(st, body)),
        )
        .answers(Some("BulkKernelciReport"))
        .body("BulkKernelciBuilds"),
    ];
    RestApi {
        name: "testgraph bulk ingestion",
        prefix: PREFIX,
        also_at: &[],
        surface: Surface::Graphql,
        token_form: crate::auth::TokenForm::Bearer,
        scope: |_| Scope::Write,
        routes,
        schemas,
        dialect: Dialect {
            render,
            not_found,
            wrong_method: |_, allow| wrong_method(allow),
            options: None,
            head_as_get: false,
        },
        finish: None,
        paths_note: None,
    }
}

// The rows are the mutations' own input types (`graphql::evergreen::EvergreenTestResultInput`,
// `graphql::monitor::NewMetricInput`, `graphql::kernelci::inputs::BuildInput`), which also
// derive serde's `Deserialize` with the same names and defaults: the two doors take the same
// fields by construction. `expecting` names a body in serde's messages by its OpenAPI schema.

/// `addEvergreenTestResults(taskId, results)`.
#[derive(Deserialize)]
#[serde(
    expecting = "a BulkTestResults object",
    rename_all = "camelCase",
    deny_unknown_fields
)]
struct TestResultsBody {
    task_id: String,
    results: Vec<EvergreenTestResultInput>,
}

/// `addMonitorMetrics(input)`.
#[derive(Deserialize)]
#[serde(expecting = "a BulkMetrics object", deny_unknown_fields)]
struct MetricsBody {
    input: Vec<NewMetricInput>,
}

/// `reportKernelciBuilds(input)`.
#[derive(Deserialize)]
#[serde(expecting = "a BulkKernelciBuilds object", deny_unknown_fields)]
struct KernelciBuildsBody {
    input: Vec<KernelciBuildInput>,
}

/// serde's message names the field, the expected type and the position, and nothing internal.
fn parse<T: DeserializeOwned>(body: &[u8]) -> AppResult<T> {
    // serde would also take a struct written as an array of its fields; the body is an object.
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(AppError::bad_request(
            "the body is not a valid batch: expected a JSON object",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| AppError::bad_request(format!("the body is not a valid batch: {e}")))
}

/// POST /bulk/v1/evergreen/test_results
async fn test_results(st: &AppState, body: &[u8]) -> AppResult<Response> {
    let b: TestResultsBody = parse(body)?;
    let rows = b.results.into_iter().map(NewTestResult::from).collect();
    inserted(evg::add_test_results(&st.db, &b.task_id, rows).await?)
}

/// POST /bulk/v1/monitor/metrics
async fn metrics(st: &AppState, body: &[u8]) -> AppResult<Response> {
    let b: MetricsBody = parse(body)?;
    inserted(mon::add_metrics(&st.db, b.input.into_iter().map(NewMetric::from).collect()).await?)
}

/// POST /bulk/v1/kernelci/builds
async fn kernelci_builds(st: &AppState, body: &[u8]) -> AppResult<Response> {
    let b: KernelciBuildsBody = parse(body)?;
    let rows: Vec<NewBuild> = b.input.into_iter().map(NewBuild::from).collect();
    let report = kci::report_builds(&st.db, &rows).await?;
    Ok(created(
        json!({ "builds": report.builds, "jobsCreated": report.jobs_created }),
    ))
}

fn inserted(n: u64) -> AppResult<Response> {
    Ok(created(json!({ "inserted": n })))
}

fn created(answer: Value) -> Response {
    Response::builder()
        .status(StatusCode::CREATED)
        .content_type("application/json")
        .body(answer.to_string())
}

/// An error in the GraphQL shape, with its HTTP status.
pub fn render(e: AppError) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    crate::graphql::endpoint::error_response(status, &e)
}

/// Other methods get 405, as an error in the GraphQL shape.
fn wrong_method(allow: HeaderValue) -> Response {
    let mut resp = render(AppError::bad_request("this route takes POST only"));
    resp.set_status(StatusCode::METHOD_NOT_ALLOWED);
    resp.headers_mut().insert(header::ALLOW, allow);
    resp
}

/// Unknown paths under `/bulk/v1`.
pub fn not_found() -> Response {
    render(AppError::not_found(
        "no such bulk route: POST /bulk/v1/evergreen/test_results, /bulk/v1/monitor/metrics or \
         /bulk/v1/kernelci/builds",
    ))
}

/// Request and response shapes, for the OpenAPI document.
pub fn schemas() -> Value {
    let s = json!({"type": "string"});
    let n = json!({"type": "number"});
    let i = json!({"type": "integer", "format": "int32"});
    let ns = json!({"type": "string", "nullable": true});
    let mut all = json!({
        "BulkInserted": {"type": "object", "required": ["inserted"], "properties": {
            "inserted": {"type": "integer", "description": "rows stored (all of the batch)"}}},
        "BulkTestResults": {"type": "object", "required": ["taskId", "results"], "additionalProperties": false, "properties": {
            "taskId": s,
            "results": {"type": "array", "maxItems": evg::MAX_BATCH, "items": {
                "type": "object", "required": ["testFile", "status", "start", "end"], "additionalProperties": false,
                "properties": {
                    "testFile": s,
                    "status": {"type": "string", "enum": ["pass", "fail", "skip"]},
                    "url": s, "logId": s, "lineNum": i, "exitCode": i,
                    "start": {"type": "number", "description": "seconds since the epoch"},
                    "end": {"type": "number", "description": "seconds since the epoch, not before start"}}}}}},
        "BulkMetrics": {"type": "object", "required": ["input"], "additionalProperties": false, "properties": {
            "input": {"type": "array", "maxItems": mon::MAX_METRICS_PER_BATCH, "items": {
                "type": "object",
                "required": ["sessionH", "contextH", "itemStartTime", "itemPath", "item", "itemFsLoc", "kind",
                             "totalTime", "userTime", "kernelTime", "cpuUsage", "memUsage"],
                "additionalProperties": false,
                "properties": {
                    "sessionH": s, "contextH": s, "itemStartTime": s, "itemPath": s, "item": s,
                    "itemVariant": s, "itemFsLoc": s, "kind": s,
                    "component": {"type": "string", "nullable": true},
                    "totalTime": n, "userTime": n, "kernelTime": n, "cpuUsage": n, "memUsage": n}}}}},
    });
    // Apart: one `json!` of every schema passes the macro's recursion limit.
    all["BulkKernelciReport"] = json!({"type": "object", "required": ["builds", "jobsCreated"], "properties": {
        "builds": {"type": "integer", "description": "builds stored, new or replacing a configuration reported before (all of the batch)"},
        "jobsCreated": {"type": "integer", "description": "jobs created for them"}}});
    all["BulkKernelciBuilds"] = json!({"type": "object", "required": ["input"], "additionalProperties": false, "properties": {
        "input": {"type": "array", "maxItems": kci::MAX_BATCH, "items": {
            "type": "object",
            "required": ["job", "kernel", "gitBranch", "arch", "defconfig", "status"],
            "additionalProperties": false,
            "properties": {
                "job": s, "kernel": s, "gitBranch": s, "gitCommit": ns, "gitUrl": ns,
                "gitDescribe": ns, "gitDescribeV": ns, "kernelVersion": ns, "compiler": ns,
                "compilerVersion": ns, "compilerVersionExt": ns, "compilerVersionFull": ns,
                "crossCompile": ns, "arch": s, "defconfig": s, "defconfigFull": ns,
                "buildEnvironment": ns,
                "status": {"type": "string", "enum": kci::BUILD_STATUSES},
                "buildTime": {"type": "number", "nullable": true, "description": "seconds"},
                "errors": {"type": "integer", "format": "int32", "nullable": true},
                "warnings": {"type": "integer", "format": "int32", "nullable": true},
                "createdOn": {"type": "string", "format": "date-time", "nullable": true,
                              "description": "when the build (and a job it creates) was made; now when absent"}}}}}});
    all
}
