//! Lists answered in one pass: the Evergreen version tree (versions → builds → tasks → test
//! results) and, flat, the pytest-monitor `monitorMetrics` and `monitorSessions` lists.
//!
//! async-graphql resolves every field of every object through its own future, context and
//! `IndexMap`, and then serialises and drops the resulting `Value` tree. For the nested tree that
//! dashboards ask for (20 versions → 10 builds → 5 tasks → 5 results: about 13,700 objects) that
//! machinery, not SQL, was most of the server's time, and about 60 % of it for a flat page of
//! 100 metrics. When the selection under `evergreenVersions` or `evergreenTasks` (or under one
//! version, build or task by id) is made only of plain fields of this tree, or the selection
//! under `monitorMetrics` or `monitorSessions` only of their scalar fields (and a session's
//! tags), it is planned here once, read with the same service calls the resolvers make (one
//! statement per level), and written straight to JSON, which async-graphql passes through as a
//! raw value (its `raw_value` feature).
//!
//! Anything this plan does not cover (repeated response keys, which GraphQL merges; fragments on
//! other types; fields that leave the list such as `project`, `dependsOnTasks`, a metric's
//! `session` or a session's `tag(name)`; arguments that do not parse) returns `None` from the
//! planner, and the field is resolved the ordinary way, which also reports any error. So this
//! path never changes an answer: `tests/it/graphql_evergreen.rs` and `tests/it/graphql_monitor.rs`
//! compare the two on every field (`TestApp::one_pass_matches_resolvers`).
//!
//! The planner knows no domain: each row type implements `TreeRow` in its domain's GraphQL
//! module (its fields, how it writes them, and how the level below it is read), and the planner
//! works through that trait alone.
//!
//! - `row`: `TreeRow`, what a domain implements, and `Resolved`, the field type it answers with;
//! - `object`: `tree_object!`, an object type whose scalar fields are declared once for both its
//!   resolvers and the writer;
//! - `json`: the value writers;
//! - `plan`: the selection turned into a plan (`plan_list`, `plan_one`), or `None`;
//! - `write`: the plan read level by level and written (`answer_list`, `write_one`).

pub(crate) mod json;
pub(crate) mod object;
mod plan;
pub(crate) mod row;
mod write;

pub use json::*;
pub(crate) use object::tree_object;
pub use plan::{ConnPlan, NodePlan, plan_list, plan_one};
pub use row::{ObjectList, Resolved, Scalars, TreeRow};
pub use write::{answer_list, write_list, write_one};
