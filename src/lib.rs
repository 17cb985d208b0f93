//! testgraph: test and CI results from five legacy systems in one store, served over GraphQL and
//! over REST routes that speak each legacy API.
//!
//! Modules:
//! - `cli`: the command line (`serve`, `migrate`, `export-schema`, `token`), turned into a `Config`.
//! - `config`: the configuration value and every limit, read once and passed down.
//! - `db`: opening SQLite or PostgreSQL and applying migrations.
//! - `demo`: `testgraph demo`, a small dataset for every domain, written through the services.
//! - `error`: the one `AppError`, mapped to each wire dialect at the edges.
//! - `state`: `AppState`, the database pool, configuration and caches every edge reaches.
//! - `service`: the only code that queries the database: generic helpers (paging, positional
//!   rows, per-parent pages, cached totals, tokens) and one folder per domain.
//! - `auth`: bearer tokens and scopes turned into a `Principal`, for every edge.
//! - `cors`: the cross-origin policy (`--cors-origin`).
//! - `ratelimit`: requests-a-minute budgets per token and per client address, checked by every
//!   API route's guard.
//! - `gzip`: compressed answers for the legacy APIs whose servers compressed them.
//! - `graphql`: the schema (one list of domains, `schema_parts!`), connections, dataloaders, the
//!   one-pass writer and request limits, and one folder per domain.
//! - `rest`: the route-table plumbing and the OpenAPI document, one folder per legacy API, and
//!   `rest::bulk`, the batch mutations as plain JSON POSTs under `/bulk/v1`; `rest::apis()` lists
//!   them.
//! - `web`: the browser pages (GraphiQL at `/graphiql`, the REST reference at `/docs`) and their
//!   embedded, pinned bundles (`build.rs` fetches them).
//! - `worker`: StackTach's pipeline worker, a background task of `serve`.
//! - `app`: assembles the HTTP routes and middleware; `serve` runs them on a listener.
//!
//! `docs/architecture.md` walks a request of each kind through these layers and lists what
//! adding a domain takes.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod cors;
pub mod db;
pub mod demo;
pub mod error;
pub mod graphql;
pub mod gzip;
pub mod ratelimit;
pub mod rest;
pub mod service;
pub mod state;
pub mod web;
pub mod worker;
