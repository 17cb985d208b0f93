//! Evergreen (MCI) REST v1 (seed 001): the ten documented routes under `/rest/v1`, answered as
//! Evergreen's `rest` package did in 2014-2015 (fact sheet §2).
//!
//! Routes are open, as the original's were, unless the operator requires a token for the
//! `evergreen` surface (reads then need `read`, `PATCH` needs `write`). Paths and methods no route
//! matches get gorilla/mux's plain-text `404 page not found`, as the original's router answered.

pub mod errors;
pub mod handlers;
pub mod wire;

use std::collections::BTreeMap;
use std::sync::Arc;

use poem::http::{Method, StatusCode};
use poem::{Endpoint, EndpointExt, IntoEndpoint, Request, Response, Route, RouteMethod};

use super::{QueryParam, RouteDoc, Takes};
use crate::auth;
use crate::config::Surface;
use crate::error::AppError;
use crate::service::tokens::Scope;
use crate::state::AppState;

pub const PREFIX: &str = "/rest/v1";

/// What a route does; `dispatch` maps it to its handler.
#[derive(Clone, Copy, Debug)]
enum Op {
    RecentVersions,
    VersionByRevision,
    Version,
    PatchVersion,
    VersionStatus,
    Build,
    BuildStatus,
    Task,
    TaskStatus,
    TaskHistory,
}

const TAG: &str = "evergreen";

fn doc(
    method: Method,
    path: &'static str,
    response: &'static str,
    query: &'static [QueryParam],
    body: Option<&'static str>,
    summary: &'static str,
) -> RouteDoc {
    RouteDoc {
        method,
        path,
        summary,
        tag: TAG,
        response: Some(response),
        query,
        body,
    }
}

/// Every route of seed 001, once, in the doc's order. Paths are given without a trailing slash;
/// both forms are served (no StrictSlash redirect).
fn table() -> Vec<(RouteDoc, Op)> {
    use Method as M;
    vec![
        (
            doc(
                M::GET,
                "/projects/:project_id/versions",
                "EvergreenRecentVersions",
                &[],
                None,
                "The 10 most recent commit versions of a project, newest first (200 with an empty list for an unknown project).",
            ),
            Op::RecentVersions,
        ),
        (
            doc(
                M::GET,
                "/projects/:project_id/revisions/:revision",
                "EvergreenVersion",
                &[],
                None,
                "The commit version of a project at a full git revision.",
            ),
            Op::VersionByRevision,
        ),
        (
            doc(
                M::GET,
                "/versions/:version_id",
                "EvergreenVersion",
                &[],
                None,
                "One version.",
            ),
            Op::Version,
        ),
        (
            doc(
                M::PATCH,
                "/versions/:version_id",
                "EvergreenVersion",
                &[],
                Some("EvergreenVersionPatch"),
                "Activate or deactivate a version, cascading to its builds and undispatched tasks; answers like GET.",
            ),
            Op::PatchVersion,
        ),
        (
            doc(
                M::GET,
                "/versions/:version_id/status",
                "EvergreenVersionStatus",
                &[QueryParam {
                    name: "groupby",
                    takes: Takes::OneOf(&["tasks", "builds"]),
                }],
                None,
                "The version's tasks keyed by task then variant (groupby=tasks, the default) or variant then task (groupby=builds).",
            ),
            Op::VersionStatus,
        ),
        (
            doc(
                M::GET,
                "/builds/:build_id",
                "EvergreenBuild",
                &[],
                None,
                "One build.",
            ),
            Op::Build,
        ),
        (
            doc(
                M::GET,
                "/builds/:build_id/status",
                "EvergreenBuildStatus",
                &[],
                None,
                "The statuses of a build's tasks.",
            ),
            Op::BuildStatus,
        ),
        (
            doc(
                M::GET,
                "/tasks/:task_id",
                "EvergreenTask",
                &[],
                None,
                "One task, with its test results and files.",
            ),
            Op::Task,
        ),
        (
            doc(
                M::GET,
                "/tasks/:task_id/status",
                "EvergreenTaskStatus",
                &[],
                None,
                "A task's status and test results.",
            ),
            Op::TaskStatus,
        ),
        (
            doc(
                M::GET,
                "/tasks/:task_name/history",
                "EvergreenTaskHistory",
                &[QueryParam {
                    name: "project",
                    takes: Takes::Text,
                }],
                None,
                "A task's results across the project's 10 most recent commit versions (project: the project identifier).",
            ),
            Op::TaskHistory,
        ),
    ]
}

/// The documented routes, for the OpenAPI document.
pub fn routes() -> Vec<RouteDoc> {
    table().into_iter().map(|(doc, _)| doc).collect()
}

async fn dispatch(op: Op, st: &AppState, req: &Request, body: &[u8]) -> Response {
    use handlers as h;
    let reply = match op {
        Op::RecentVersions => h::recent_versions(st, req).await,
        Op::VersionByRevision => h::version_by_revision(st, req).await,
        Op::Version => h::version(st, req).await,
        Op::PatchVersion => h::patch_version(st, req, body).await,
        Op::VersionStatus => h::version_status(st, req).await,
        Op::Build => h::build(st, req).await,
        Op::BuildStatus => h::build_status(st, req).await,
        Op::Task => h::task(st, req).await,
        Op::TaskStatus => h::task_status(st, req).await,
        Op::TaskHistory => h::task_history(st, req).await,
    };
    reply.unwrap_or_else(errors::render)
}

/// Runs one route: authorisation on the `evergreen` surface, then the handler.
async fn run(op: Op, st: Arc<AppState>, mut req: Request) -> Response {
    let need = if req.method() == Method::GET {
        Scope::Read
    } else {
        Scope::Write
    };
    let principal = match auth::principal_from_header(&st.db, req.header("authorization")).await {
        Ok(p) => p,
        Err(e) => return errors::render(e),
    };
    if let Err(e) = auth::check(&st.config.auth, Surface::Evergreen, &principal, need) {
        return errors::render(e);
    }
    // The guard has already bounded and buffered the body.
    let body = match req.take_body().into_bytes().await {
        Ok(b) => b,
        Err(e) => {
            return errors::render(AppError::bad_request(format!(
                "could not read the body: {e}"
            )));
        }
    };
    dispatch(op, &st, &req, &body).await
}

/// The router for `/rest/v1`: every route of the table, each path with all its methods.
pub fn router(state: Arc<AppState>) -> Route {
    let mut by_path: BTreeMap<&'static str, RouteMethod> = BTreeMap::new();
    for (doc, op) in table() {
        let st = state.clone();
        let ep = poem::endpoint::make(move |req: Request| {
            let st = st.clone();
            async move { run(op, st, req).await }
        });
        let entry = by_path.remove(doc.path).unwrap_or_default();
        let entry = match doc.method {
            Method::PATCH => entry.patch(ep),
            _ => entry.get(ep),
        };
        by_path.insert(doc.path, entry);
    }
    let mut route = Route::new();
    for (path, methods) in by_path {
        // gorilla's `Methods("GET")` does not match HEAD, which poem would otherwise answer
        // with the GET handler.
        let methods = methods.head(not_found_endpoint());
        route = route.at(path, methods.after(method_dialect).into_endpoint());
    }
    route
}

/// poem answers unmatched methods with an empty 405; gorilla/mux (of the seed era) fell through
/// to its not-found handler.
async fn method_dialect(r: poem::Result<Response>) -> poem::Result<Response> {
    match r {
        Ok(resp) => Ok(resp),
        Err(e)
            if e.status() == StatusCode::METHOD_NOT_ALLOWED
                || e.status() == StatusCode::NOT_FOUND =>
        {
            Ok(errors::gorilla_not_found())
        }
        Err(e) => Err(e),
    }
}

/// Unknown paths under `/rest/v1`, as gorilla/mux answered them.
pub fn not_found_endpoint() -> impl Endpoint<Output = Response> {
    poem::endpoint::make_sync(|_| errors::gorilla_not_found())
}
