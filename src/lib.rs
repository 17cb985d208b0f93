//! testgraph: test and CI results from five legacy systems in one store, served over GraphQL and
//! over REST routes that speak each legacy API.
//!
//! Modules:
//! - `cli`: the command line (`serve`, `migrate`, `export-schema`, `token`), turned into a `Config`.
//! - `config`: the configuration value and every limit, read once and passed down.
//! - `db`: opening SQLite or PostgreSQL and applying migrations.
//! - `error`: the one `AppError`, mapped to each wire dialect at the edges.
//! - `state`: `AppState`, the database pool, configuration and caches every edge reaches.
//! - `service`: the only code that queries the database, one module per domain.
//! - `auth`: bearer tokens and scopes turned into a `Principal`, for every edge.
//! - `graphql`: the schema, its resolvers, dataloaders and request limits.
//! - `rest`: one module per legacy API, each with its route table, handlers, wire shapes and errors;
//!   and `rest::bulk`, the batch mutations as plain JSON POSTs under `/bulk/v1`.
//! - `app`: assembles the HTTP routes and middleware; `serve` runs them on a listener.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod cors;
pub mod db;
pub mod error;
pub mod graphql;
pub mod rest;
pub mod service;
pub mod state;
