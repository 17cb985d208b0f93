//! GraphQL for the KernelCI domain: jobs as a cursor connection filtered with the legacy query
//! language's power (any-of lists, `null` matches, KernelCI's creation-time windows) and ordered,
//! a job's builds and build-log summary through the request's dataloader, the distinct values of
//! a job field, build-log summaries, and the mutations that report builds (creating their jobs),
//! record summaries, set a job's status and delete a job.
//!
//! - `inputs`: filters, orders and mutation inputs;
//! - `nodes`: the object types and their connections;
//! - `query`, `mutation`: the roots merged into the schema;
//! - `loaders`: the request's dataloader.

pub mod inputs;
pub mod loaders;
mod mutation;
mod nodes;
mod query;

pub use mutation::KernelciMutation as Mutation;
pub use query::KernelciQuery as Query;

/// The object types the one-pass writer covers: none (KernelCI implements no `TreeRow`; its
/// lists go through the resolvers and the loader).
pub fn one_pass_fields() -> Vec<(&'static str, Vec<&'static str>)> {
    Vec::new()
}
