//! StackTach.v3's REST API (seed 004) under `/v1`: streams and events as quincy served them over
//! winchester's database (fact sheet §5): bare JSON arrays with sorted keys, `__type__`-wrapped
//! datetimes and time ranges, hex `_mark` paging in both directions, `[{"count": N}]`, the
//! `name:value` trait filters, and Falcon's empty-bodied 404 and 405.
//!
//! Open, as quincy had no authentication (`--require-token stacktach` closes it; a token is sent
//! as `Authorization: Bearer <token>`): reads need `read`, writes `write`. `POST /v1/events` is
//! testgraph's own: how events get in.

pub mod errors;
pub mod handlers;
pub mod query;
pub mod wire;

use poem::http::Method;

use super::api::{Dialect, QueryParam, RestApi, Route, Takes, read_or_write};
use crate::auth::TokenForm;
use crate::config::Surface;

pub const PREFIX: &str = "/v1";

const STREAMS: &str = "stacktach streams";
const EVENTS: &str = "stacktach events";

const fn text(name: &'static str) -> QueryParam {
    QueryParam {
        name,
        takes: Takes::Text,
    }
}

const STATES: QueryParam = QueryParam {
    name: "state",
    takes: Takes::OneOf(&[
        "active",
        "firing",
        "expiring",
        "error",
        "expire_error",
        "completed",
        "retry_fire",
        "retry_expire",
    ]),
};

const STREAM_FILTERS: &[QueryParam] = &[
    text("older_than"),
    text("younger_than"),
    STATES,
    text("trigger_name"),
    text("name"),
    text("distinguishing_traits"),
    text("mark"),
];

const STREAM_LIST: &[QueryParam] = &[
    text("older_than"),
    text("younger_than"),
    STATES,
    text("trigger_name"),
    text("name"),
    text("distinguishing_traits"),
    text("mark"),
    text("limit"),
];

const DETAILS: &[QueryParam] = &[
    QueryParam {
        name: "details",
        takes: Takes::OneOf(&["true", "false"]),
    },
    QueryParam {
        name: "detail",
        takes: Takes::OneOf(&["true", "false"]),
    },
];

const EVENT_FILTERS: &[QueryParam] = &[
    text("from_datetime"),
    text("to_datetime"),
    text("event_name"),
    text("traits"),
    text("mark"),
];

const EVENT_LIST: &[QueryParam] = &[
    text("from_datetime"),
    text("to_datetime"),
    text("event_name"),
    text("traits"),
    text("mark"),
    text("limit"),
];

/// The API: every route of seed 004, `/v1/events/count` (undocumented, klugman's), the doc's
/// `POST` override of `PUT`, and the ingestion route.
pub fn api() -> RestApi {
    use Method as M;
    use handlers as h;
    let routes = vec![
        Route::new(M::GET, "/streams", STREAMS, "Streams matching the filters, newest id first (a '+' mark: oldest first), at most limit (default 200). Traits are name:value pairs separated by ';' or ','; a value may contain ':'.", |st, req, _| Box::pin(h::list_streams(st, req)))
            .answers(Some("StacktachStreamList"))
            .query(STREAM_LIST),
        Route::new(M::GET, "/streams/count", STREAMS, "How many streams match the filters (the mark applies, limit does not): [{\"count\": n}].", |st, req, _| Box::pin(h::count_streams(st, req)))
            .answers(Some("StacktachCount"))
            .query(STREAM_FILTERS),
        Route::new(M::GET, "/streams/:id", STREAMS, "One stream as an array of one ([] for an unknown id); with details=true its events, oldest first.", |st, req, _| Box::pin(h::stream(st, req)))
            .answers(Some("StacktachStreamList"))
            .query(DETAILS),
        Route::new(M::DELETE, "/streams/:id", STREAMS, "Delete a stream; its events are kept. 200, no body.", |st, req, _| Box::pin(h::delete_stream(st, req))),
        Route::new(M::PUT, "/streams/:id", STREAMS, "Reset a stream: error becomes retry_fire, expire_error becomes retry_expire, other states stay. 200, no body.", |st, req, _| Box::pin(h::reset_stream(st, req))),
        Route::new(M::POST, "/streams/:id", STREAMS, "With X-HTTP-Method-Override: PUT, as PUT (the doc's example); otherwise 405.", |st, req, _| Box::pin(h::post_stream(st, req))),
        Route::new(M::GET, "/events", EVENTS, "Events matching the filters, newest id first (a '+' mark: oldest first), at most limit (default 200), each with its _mark.", |st, req, _| Box::pin(h::list_events(st, req)))
            .answers(Some("StacktachEventList"))
            .query(EVENT_LIST),
        Route::new(M::POST, "/events", EVENTS, "testgraph's ingestion: store events (an array, or {\"events\": [...]}) and group them into streams by the configured triggers; a message id stored before is skipped. 201.", |st, _, body| Box::pin(h::ingest(st, body)))
            .answers(Some("StacktachIngestReport"))
            .body("StacktachEventBatch"),
        Route::new(M::GET, "/events/count", EVENTS, "How many events match the filters (the mark applies, limit does not): [{\"count\": n}].", |st, req, _| Box::pin(h::count_events(st, req)))
            .answers(Some("StacktachCount"))
            .query(EVENT_FILTERS),
        Route::new(M::GET, "/events/:message_id", EVENTS, "One event by its message id (any case), a bare object.", |st, req, _| Box::pin(h::event(st, req)))
            .answers(Some("StacktachEvent")),
    ];
    RestApi {
        name: "StackTach.v3 (quincy)",
        prefix: PREFIX,
        also_at: &[],
        surface: Surface::Stacktach,
        token_form: TokenForm::Bearer,
        scope: read_or_write,
        routes,
        schemas: wire::schemas,
        dialect: Dialect {
            render: errors::render,
            not_found: errors::not_found,
            wrong_method: |_, allow| errors::wrong_method(allow),
            options: Some(errors::options),
            head_as_get: true,
        },
        finish: None,
        paths_note: None,
    }
}
