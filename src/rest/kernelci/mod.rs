//! KernelCI's job resource (seed 003): jobs, their distinct values and their build-log
//! summaries under `/job` and `/jobs`, answered as the KernelCI backend did in its documented
//! era (fact sheet §4): the `{code, count, limit, skip, result}` envelope, MongoDB's extended
//! JSON, the full query language, gzip and its CORS headers.
//!
//! Every method needs a token, sent as `Authorization: <token>` (or `Bearer <token>`): `GET`
//! a `read` (KernelCI's get) token, `POST` a `write` (post) token, `DELETE` a `delete` token.
//! Paths without a route get the application's 404; methods a path does not take get 501.

pub mod errors;
pub mod handlers;
pub mod query;
pub mod wire;

use poem::http::Method;

use super::api::{Dialect, QueryParam, RestApi, Route, Takes};
use crate::auth::TokenForm;
use crate::config::Surface;
use crate::service::tokens::Scope;

pub const PREFIX: &str = "/job";

const TAG: &str = "kernelci";

const fn text(name: &'static str) -> QueryParam {
    QueryParam {
        name,
        takes: Takes::Text,
    }
}

const JOB_LIST: &[QueryParam] = &[
    text("limit"),
    text("skip"),
    text("sort"),
    QueryParam {
        name: "sort_order",
        takes: Takes::OneOf(&["1", "-1"]),
    },
    text("date_range"),
    text("time_range"),
    text("created_on"),
    text("field"),
    text("nfield"),
    text("gte"),
    text("lt"),
    text("_id"),
    text("job"),
    text("kernel"),
    text("status"),
    text("git_branch"),
    text("git_commit"),
    text("git_describe"),
    text("kernel_version"),
    text("private"),
];

const LOG_LIST: &[QueryParam] = &[
    text("limit"),
    text("skip"),
    text("sort"),
    QueryParam {
        name: "sort_order",
        takes: Takes::OneOf(&["1", "-1"]),
    },
    text("date_range"),
    text("time_range"),
    text("created_on"),
    text("field"),
    text("nfield"),
    text("gte"),
    text("lt"),
    text("job_id"),
    text("job"),
    text("kernel"),
    text("git_branch"),
];

const PROJECTION: &[QueryParam] = &[text("field"), text("nfield")];

/// KernelCI's permissions by method: get, post (and put), delete.
fn scope(method: &Method) -> Scope {
    match *method {
        Method::POST | Method::PUT | Method::PATCH => Scope::Write,
        Method::DELETE => Scope::Delete,
        _ => Scope::Read,
    }
}

/// The job resource: every route of seed 003, mounted at `/job` and `/jobs`. `:id` takes any
/// segment; a handler answers the application's 404 where the backend's `[A-Za-z0-9]{24}`
/// pattern would not have matched.
pub fn api() -> RestApi {
    use Method as M;
    use handlers as h;
    let routes = vec![
        Route::new(M::GET, "/", TAG, "Jobs matching the query string, in the {code, count, limit, skip, result} envelope; count is every match, skip and limit aside; limit=0 is all (up to 10,000).", |st, req, _| Box::pin(h::list_jobs(st, req)))
            .answers(Some("KernelciJobList"))
            .query(JOB_LIST),
        Route::new(M::POST, "/", TAG, "Set the status of the job named by job, kernel and git_branch once its builds are imported (default PASS); 415, 422, 400 and 404 in the backend's order.", |st, req, body| Box::pin(h::post_job(st, req, body)))
            .answers(Some("KernelciReason"))
            .body("KernelciJobStatusUpdate")
            .success(200),
        Route::new(M::DELETE, "/", TAG, "Without an id: 400 'No ID value specified'.", |_, _, _| Box::pin(h::delete_without_id()))
            .answers(Some("KernelciReason")),
        Route::new(M::GET, "/:id", TAG, "One job by its 24-hex id; field and nfield apply.", |st, req, _| Box::pin(h::job(st, req)))
            .answers(Some("KernelciJobList"))
            .query(PROJECTION),
        Route::new(M::POST, "/:id", TAG, "As POST /job: the id is ignored, the job is found by job, kernel and git_branch.", |st, req, body| Box::pin(h::post_job(st, req, body)))
            .answers(Some("KernelciReason"))
            .body("KernelciJobStatusUpdate")
            .success(200),
        Route::new(M::DELETE, "/:id", TAG, "Delete a job with its builds and its build-log summary.", |st, req, _| Box::pin(h::delete_job(st, req)))
            .answers(Some("KernelciReason")),
        Route::new(M::GET, "/distinct/:field", TAG, "The distinct values of one field (compiler, compiler_version, compiler_version_ext, git_branch, git_commit, git_describe, git_describe_v, git_url, job, kernel, kernel_version) among the jobs the filters match.", |st, req, _| Box::pin(h::distinct(st, req)))
            .answers(Some("KernelciDistinct"))
            .query(JOB_LIST),
        Route::new(M::GET, "/:id/logs", TAG, "The build-log summary of one job (by its job id).", |st, req, _| Box::pin(h::job_logs(st, req)))
            .answers(Some("KernelciLogSummaryList"))
            .query(PROJECTION),
        Route::new(M::GET, "/logs", TAG, "Build-log summaries matching the query string, in the envelope.", |st, req, _| Box::pin(h::list_logs(st, req)))
            .answers(Some("KernelciLogSummaryList"))
            .query(LOG_LIST),
    ];
    RestApi {
        name: "KernelCI backend, job resource",
        prefix: PREFIX,
        also_at: &["/jobs"],
        surface: Surface::Kernelci,
        token_form: TokenForm::BearerOrBare,
        scope,
        routes,
        schemas: wire::schemas,
        dialect: Dialect {
            render: errors::render,
            not_found: errors::not_found,
            wrong_method: errors::wrong_method,
            options: Some(errors::options),
            head_as_get: true,
        },
        finish: Some(wire::finish),
        paths_note: Some(
            "Of GET, POST, PUT and DELETE, a verb this resource does not implement answers 501 \
             {\"code\":501,\"reason\":\"Method not implemented\"} on purpose, as the KernelCI \
             backend's base handler did; any other method 405 {\"code\":405,\"reason\":\"Operation \
             not allowed\"} (Tornado's).",
        ),
    }
}
