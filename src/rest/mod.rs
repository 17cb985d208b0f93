//! The REST side: the generic plumbing (`api`: route tables, running a route, the router;
//! `openapi`: the document built from the tables), and one module per API, each with its route
//! table, handlers, wire shapes and error dialect. `bulk` is testgraph's own: the batch mutations
//! as plain JSON POSTs.
//!
//! `apis()` is the one list of REST APIs: `app` mounts each, `openapi` documents each.

pub mod api;
pub mod bulk;
pub mod evergreen;
pub mod kernelci;
pub mod monitor;
pub mod openapi;
pub mod stacktach;
pub mod xpresso;

use api::RestApi;

/// Every REST API, in the order the OpenAPI document lists them.
pub fn apis() -> Vec<RestApi> {
    vec![
        monitor::api(),
        evergreen::api(),
        kernelci::api(),
        stacktach::api(),
        xpresso::api(),
        bulk::api(),
    ]
}
