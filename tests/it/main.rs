//! Integration tests, one binary (each extra test binary costs a link on 2 cores). Every test gets
//! a fresh database with the real migrations: a SQLite file by default, a new PostgreSQL database
//! when `TEST_DATABASE_URL` is set.

mod architecture;
mod browser;
mod bulk;
mod common;
mod concurrency;
mod demo;
mod e2e_klugman;
mod e2e_pytest_monitor;
mod evergreen_rest;
mod external;
mod graphql_attacks;
mod graphql_evergreen;
mod graphql_kernelci;
mod graphql_limits;
mod graphql_monitor;
mod graphql_stacktach;
mod graphql_xpresso;
mod graphql_xpresso_catalog;
mod http;
mod kernelci_rest;
mod limits;
mod monitor_rest;
mod proxy;
mod resilience;
mod server;
mod stacktach_engine;
mod stacktach_rest;
mod xpresso_rest;
