//! GraphQL for the Evergreen domain: projects and their build variants, versions, builds, tasks,
//! test results and artifacts as cursor connections, every relation through the request's
//! dataloader, the task history report, and the mutations that ingest projects and versions and
//! drive tasks through their lifecycle (the work Evergreen's repotracker and agents did).
//!
//! - `inputs`: filters, orders and mutation inputs;
//! - `nodes`: the object types and their connections; `history`: the task history report;
//! - `query`, `mutation`: the roots merged into the schema;
//! - `loaders`: the request's dataloader; `tree`: the rows of the one-pass writer.

mod history;
pub mod inputs;
pub mod loaders;
mod mutation;
mod nodes;
mod query;
mod tree;

pub use mutation::EvergreenMutation as Mutation;
pub use query::EvergreenQuery as Query;

use crate::graphql::onepass::{Scalars, TreeRow};
use crate::service::evergreen::{Build, Task, TestResult, Version};

/// The object types the one-pass writer covers, with their scalar fields (for the test that
/// keeps them equal to the schema's).
pub fn one_pass_fields() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        (Version::NODE, Version::field_names()),
        (Build::NODE, Build::field_names()),
        (Task::NODE, Task::field_names()),
        (TestResult::NODE, TestResult::field_names()),
    ]
}
