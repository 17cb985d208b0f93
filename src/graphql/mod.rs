//! The GraphQL API: the schema (one merged Query and Mutation per domain), its request limits,
//! dataloaders, and the poem endpoint that serves it with GraphiQL.
//!
//! `schema_parts!` below is the one list of domains: each entry is a module that exports its
//! `Query` and `Mutation` roots, `loaders::Domain` and `one_pass_fields`.

pub mod connection;
pub mod context;
pub mod endpoint;
pub mod evergreen;
pub mod kernelci;
pub mod limits;
pub mod loaders;
pub mod monitor;
pub mod onepass;
pub mod stacktach;
pub mod time;
pub mod xpresso;

use async_graphql::{EmptySubscription, MergedObject, Schema};

/// Everything the schema takes from its domains, from one list of their modules.
macro_rules! schema_parts {
    ($($domain:ident),+ $(,)?) => {
        /// Every domain's query fields.
        #[derive(MergedObject, Default)]
        pub struct QueryRoot($($domain::Query),+);

        /// Every domain's mutations.
        #[derive(MergedObject, Default)]
        pub struct MutationRoot($($domain::Mutation),+);

        /// Gives a request every domain's dataloaders, their fetches run by `fetches`.
        pub fn attach_loaders(
            batch: async_graphql::BatchRequest,
            db: &sea_orm::DatabaseConnection,
            fetches: &loaders::FetchQueue,
            limits: &crate::config::Limits,
        ) -> async_graphql::BatchRequest {
            $(let batch = loaders::attach::<$domain::loaders::Domain>(batch, db, fetches, limits);)+
            batch
        }

        /// The scalar fields the one-pass writer covers for the object type `node`, from every
        /// domain: a test keeps them equal to the schema's, so that a field added to an object is
        /// added to its writer too (until it is, a query asking for it is answered by the
        /// resolvers).
        pub fn one_pass_scalar_fields(node: &str) -> Option<Vec<&'static str>> {
            [$($domain::one_pass_fields()),+]
                .into_iter()
                .flatten()
                .find(|(n, _)| *n == node)
                .map(|(_, fields)| fields)
        }
    };
}

schema_parts!(monitor, evergreen, kernelci, stacktach, xpresso);

pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

use crate::state::AppState;

/// Builds the schema with the configured depth and complexity limits. The other limits (tokens,
/// root fields, directives, aliases), introspection and suggestions depend on the request or
/// must run before parsing: `limits::precheck` and `limits::with_codes` apply them around
/// execution, in `endpoint`.
pub fn build_schema(state: AppState) -> AppSchema {
    let limits = state.config.limits.clone();
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .limit_depth(limits.graphql_max_depth)
    .limit_complexity(limits.graphql_max_complexity)
    .data(state)
    .finish()
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .finish()
    .sdl()
}
