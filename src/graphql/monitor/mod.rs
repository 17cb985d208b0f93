//! GraphQL for the pytest-monitor domain: execution contexts, sessions and metrics as cursor
//! connections with filters and ordering, relations through the request's dataloader, and the
//! mutations that write contexts, sessions and metric batches.
//!
//! - `inputs`: filters, orders and mutation inputs;
//! - `nodes`: the object types and their connections;
//! - `query`, `mutation`: the roots merged into the schema;
//! - `loaders`: the request's dataloader; `tree`: the rows of the one-pass writer.

pub mod inputs;
pub mod loaders;
mod mutation;
mod nodes;
mod query;
mod tree;

pub use mutation::MonitorMutation as Mutation;
pub use query::MonitorQuery as Query;

use crate::graphql::onepass::{Scalars, TreeRow};
use crate::service::monitor::{Metric, Session};

/// The object types the one-pass writer covers, with their scalar fields (for the test that
/// keeps them equal to the schema's).
pub fn one_pass_fields() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        (Metric::NODE, Metric::field_names()),
        (Session::NODE, Session::field_names()),
    ]
}
