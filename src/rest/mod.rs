//! The REST compatibility layer: one module per legacy API, each with its route table (the single
//! list of documented paths, from which both the router and the OpenAPI document are built), its
//! handlers, its wire shapes and its error dialect. Beside them, `bulk` is testgraph's own: the
//! batch mutations as plain JSON POSTs.

pub mod bulk;
pub mod evergreen;
pub mod monitor;
pub mod openapi;

use poem::http::Method;

/// A query parameter a route reads, and what it takes.
pub struct QueryParam {
    pub name: &'static str,
    pub takes: Takes,
}

/// The values of a query parameter, for the OpenAPI document.
pub enum Takes {
    /// A legacy page number: 1 by default, negative counts from the last page.
    PageNumber,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// Any text.
    Text,
}

/// One documented route of a legacy API.
pub struct RouteDoc {
    pub method: Method,
    /// poem syntax: `/sessions/:h/metrics`.
    pub path: &'static str,
    pub summary: &'static str,
    /// OpenAPI tag (the legacy namespace).
    pub tag: &'static str,
    /// Name of the response schema in `components/schemas`, or `None` for no body.
    pub response: Option<&'static str>,
    /// Query parameters the route reads.
    pub query: &'static [QueryParam],
    /// Whether the route takes a JSON body (schema name).
    pub body: Option<&'static str>,
}
