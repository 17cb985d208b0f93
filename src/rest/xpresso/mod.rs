//! Cisco XPRESSO's requests API (seed 002) under `/api/v1/requests`: submitting a profile or a
//! bundle request, the group's requests, one request with its results, and stopping one,
//! answered in the shapes and key order of the seed's examples (fact sheet §3): bare JSON, 200 on
//! submit, `{"Error": ...}` for errors and `{}` for a missing request.
//!
//! Every request needs a token (`Authorization: Jwt <token>` or `Bearer <token>`), which names
//! the caller's user and group; an `X-Group` header, when sent, must name the token's group.
//! Reads need `read` (which `run_request` and `stop_request` imply), submitting `run_request`,
//! stopping `stop_request`. pytest-monitor is mounted at `/api/v1`: poem routes the longer
//! prefix here whatever the order of `rest::apis()`.

pub mod errors;
pub mod handlers;
pub mod schemas;
pub mod wire;

use poem::http::Method;

use super::api::{Dialect, QueryParam, RestApi, Route, Takes, options_allow};
use crate::auth::TokenForm;
use crate::config::Surface;
use crate::service::tokens::Scope;

pub const PREFIX: &str = "/api/v1/requests";

const TAG: &str = "xpresso requests";

const fn text(name: &'static str) -> QueryParam {
    QueryParam {
        name,
        takes: Takes::Text,
    }
}

const LIST: &[QueryParam] = &[
    text("limit"),
    text("offset"),
    QueryParam {
        name: "state",
        takes: Takes::OneOf(&[
            "PREPARING",
            "QUEUED",
            "RUNNING",
            "FINALIZING",
            "FINISHED",
            "FAILED",
            "STOPPED",
        ]),
    },
    text("submitter"),
    text("tag"),
    text("branch"),
];

/// XPRESSO's permissions by method: submitting is `run_request`, stopping `stop_request`,
/// anything else a read.
fn scope(method: &Method) -> Scope {
    match *method {
        Method::POST => Scope::RunRequest,
        Method::PATCH => Scope::StopRequest,
        _ => Scope::Read,
    }
}

/// The requests API: the seed's four routes.
pub fn api() -> RestApi {
    use Method as M;
    use handlers as h;
    let routes = vec![
        Route::new(M::POST, "/", TAG, "Submit a profile request (profile, with testbeds or topologies and parameters) or a bundle request (bundle, no overrides). 200 with the request's summary; 400 {\"Error\": ...} (\"Provided profile is not defined.\"). Needs run_request.", |st, req, body| Box::pin(h::submit(st, req, body)))
            .answers(Some("XpressoRequestSummary"))
            .body("XpressoSubmitBody")
            .success(200),
        Route::new(M::GET, "/", TAG, "The group's requests, newest first, as a bare array (without tags, scripts and results_meta); limit (default 100, at most 1000) and offset page it; state, submitter, tag and branch filter it.", |st, req, _| Box::pin(h::list(st, req)))
            .answers(Some("XpressoRequestList"))
            .query(LIST),
        Route::new(M::GET, "/:request_id", TAG, "One request of the group with its items' results, scripts and sections; 404 {} for an unknown request or another group's.", |st, req, _| Box::pin(h::detail(st, req)))
            .answers(Some("XpressoRequest")),
        Route::new(M::PATCH, "/:request_id/stop", TAG, "Stop a request that has not ended: its unfinished items become STOPPED. 200 with the request's summary; 404 {} for an unknown request; 400 {\"Error\": ...} for one that already ended. Needs stop_request.", |st, req, body| Box::pin(h::stop(st, req, body)))
            .answers(Some("XpressoRequestSummary"))
            .body("XpressoStopBody"),
    ];
    RestApi {
        name: "Cisco XPRESSO requests",
        prefix: PREFIX,
        also_at: &[],
        surface: Surface::Xpresso,
        token_form: TokenForm::BearerOrJwt,
        scope,
        routes,
        schemas: schemas::schemas,
        dialect: Dialect {
            render: errors::render,
            not_found: errors::not_found,
            wrong_method: |_, allow| errors::wrong_method(allow),
            options: Some(options_allow),
            head_as_get: true,
        },
        finish: None,
        paths_note: None,
    }
}
