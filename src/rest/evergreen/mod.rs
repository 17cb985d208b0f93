//! Evergreen (MCI) REST v1 (seed 001): the ten documented routes under `/rest/v1`, answered as
//! Evergreen's `rest` package did in 2014-2015 (fact sheet §2).
//!
//! Routes are open, as the original's were, unless the operator requires a token for the
//! `evergreen` surface (reads then need `read`, `PATCH` needs `write`). Paths and methods no route
//! matches get gorilla/mux's plain-text `404 page not found`, as the original's router answered.

pub mod errors;
pub mod gojson;
pub mod handlers;
pub mod schemas;
pub mod wire;

use poem::http::Method;

use super::api::{Dialect, QueryParam, RestApi, Route, Takes, read_or_write};
use crate::config::Surface;

pub const PREFIX: &str = "/rest/v1";

const TAG: &str = "evergreen";

/// Evergreen's API: every route of seed 001, once, in the doc's order, with its handler. Paths
/// are given without a trailing slash; both forms are served (no StrictSlash redirect).
pub fn api() -> RestApi {
    use Method as M;
    use handlers as h;
    let routes = vec![
        Route::new(M::GET, "/projects/:project_id/versions", TAG, "The 10 most recent commit versions of a project, newest first (200 with an empty list for an unknown project).", |st, req, _| Box::pin(h::recent_versions(st, req)))
            .answers(Some("EvergreenRecentVersions")),
        Route::new(M::GET, "/projects/:project_id/revisions/:revision", TAG, "The commit version of a project at a full git revision.", |st, req, _| Box::pin(h::version_by_revision(st, req)))
            .answers(Some("EvergreenVersion")),
        Route::new(M::GET, "/versions/:version_id", TAG, "One version.", |st, req, _| Box::pin(h::version(st, req)))
            .answers(Some("EvergreenVersion")),
        Route::new(M::PATCH, "/versions/:version_id", TAG, "Activate or deactivate a version, cascading to its builds and undispatched tasks; answers like GET.", |st, req, body| Box::pin(h::patch_version(st, req, body)))
            .answers(Some("EvergreenVersion"))
            .body("EvergreenVersionPatch"),
        Route::new(M::GET, "/versions/:version_id/status", TAG, "The version's tasks keyed by task then variant (groupby=tasks, the default) or variant then task (groupby=builds).", |st, req, _| Box::pin(h::version_status(st, req)))
            .answers(Some("EvergreenVersionStatus"))
            .query(&[QueryParam {
                    name: "groupby",
                    takes: Takes::OneOf(&["tasks", "builds"]),
                }]),
        Route::new(M::GET, "/builds/:build_id", TAG, "One build.", |st, req, _| Box::pin(h::build(st, req)))
            .answers(Some("EvergreenBuild")),
        Route::new(M::GET, "/builds/:build_id/status", TAG, "The statuses of a build's tasks.", |st, req, _| Box::pin(h::build_status(st, req)))
            .answers(Some("EvergreenBuildStatus")),
        Route::new(M::GET, "/tasks/:task_id", TAG, "One task, with its test results and files.", |st, req, _| Box::pin(h::task(st, req)))
            .answers(Some("EvergreenTask")),
        Route::new(M::GET, "/tasks/:task_id/status", TAG, "A task's status and test results.", |st, req, _| Box::pin(h::task_status(st, req)))
            .answers(Some("EvergreenTaskStatus")),
        Route::new(M::GET, "/tasks/:task_name/history", TAG, "A task's results across the project's 10 most recent commit versions (project: the project identifier).", |st, req, _| Box::pin(h::task_history(st, req)))
            .answers(Some("EvergreenTaskHistory"))
            .query(&[QueryParam {
                    name: "project",
                    takes: Takes::Text,
                }]),
    ];
    RestApi {
        name: "Evergreen REST v1",
        prefix: PREFIX,
        also_at: &[],
        surface: Surface::Evergreen,
        token_form: crate::auth::TokenForm::Bearer,
        scope: read_or_write,
        routes,
        schemas: schemas::schemas,
        dialect: Dialect {
            render: errors::render,
            not_found: errors::gorilla_not_found,
            // gorilla/mux (of the seed era) fell through to its not-found handler.
            wrong_method: |_, _| errors::gorilla_not_found(),
            options: None,
            // gorilla's `Methods("GET")` does not match HEAD.
            head_as_get: false,
        },
        finish: None,
        paths_note: None,
    }
}
