//! GraphQL for the XPRESSO domain: the catalog (testbeds, topologies, profiles, bundles; managed
//! with the admin scope), requests with their items, results, scripts and sections as
//! connections, submitting and stopping requests, and the runner's mutations (authorised by a
//! request's postback token) that move items and attach results.
//!
//! Everything is scoped to the caller's group, as XPRESSO's REST API is: every field needs a
//! token, and another group's objects are as absent as missing ones. The runner's mutations are
//! the exception: they take no token, the postback token they are given names the request.
//!
//! - `catalog`: the catalog's object types, inputs, queries and mutations;
//! - `inputs`: the requests' states, filter, order, submission and results inputs;
//! - `nodes`: the request types (request, item, phase result, script, section) and their
//!   connections;
//! - `query`, `mutation`: the requests' roots;
//! - `access`: `caller`, the token rule of every XPRESSO field but the runner's mutations;
//! - `loaders`: the request's dataloader.

mod access;
mod catalog;
pub mod inputs;
pub mod loaders;
mod mutation;
mod nodes;
mod query;

use async_graphql::MergedObject;

/// Every XPRESSO query field.
#[derive(MergedObject, Default)]
pub struct Query(catalog::CatalogQuery, query::RequestQuery);

/// Every XPRESSO mutation.
#[derive(MergedObject, Default)]
pub struct Mutation(catalog::CatalogMutation, mutation::RequestMutation);

/// The object types the one-pass writer covers: none (XPRESSO implements no `TreeRow`).
pub fn one_pass_fields() -> Vec<(&'static str, Vec<&'static str>)> {
    Vec::new()
}
