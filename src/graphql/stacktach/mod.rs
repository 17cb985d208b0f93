//! GraphQL for the StackTach.v3 domain: events and streams as cursor connections filtered as
//! quincy filters them and paged by id in either direction, an event's typed traits, a stream's
//! distinguishing traits, a stream's events and an event's streams through the request's
//! dataloader, the trigger definitions loaded at start, and the mutations that ingest events
//! (grouping them into streams), reset a stream that failed and delete a stream.
//!
//! - `inputs`: filters, orders, stream states and the ingested events;
//! - `nodes`: the object types and their connections;
//! - `query`, `mutation`: the roots merged into the schema;
//! - `loaders`: the request's dataloader.

pub mod inputs;
pub mod loaders;
mod mutation;
mod nodes;
mod query;

pub use mutation::StacktachMutation as Mutation;
pub use query::StacktachQuery as Query;

/// The object types the one-pass writer covers: none (StackTach implements no `TreeRow`; its
/// lists go through the resolvers and the loader).
pub fn one_pass_fields() -> Vec<(&'static str, Vec<&'static str>)> {
    Vec::new()
}
