//! What every resolver uses, whatever its domain: the application state, the token check, and
//! `AppError` turned into a GraphQL error with a stable `extensions.code`.

use std::sync::Arc;

use async_graphql::ErrorExtensions;

use crate::error::AppError;
use crate::state::AppState;

/// An `AppError` as a GraphQL error: the public message and a stable `extensions.code`.
pub fn to_gql(e: AppError) -> async_graphql::Error {
    let code = e.code();
    async_graphql::Error::new(e.public_message()).extend_with(|_, ext| ext.set("code", code))
}

/// `.gql()` turns a service result into a resolver result. Resolvers must use it rather than `?`
/// on an `AppError`, whose blanket conversion would drop the code.
pub trait GqlResultExt<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResultExt<T> for Result<T, AppError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(to_gql)
    }
}

impl<T> GqlResultExt<T> for Result<T, Arc<AppError>> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| match Arc::try_unwrap(e) {
            Ok(e) => to_gql(e),
            Err(shared) => {
                let code = shared.code();
                let msg = match &*shared {
                    AppError::Database(_) | AppError::Internal(_) => {
                        "internal server error".to_owned()
                    }
                    other => other.to_string(),
                };
                async_graphql::Error::new(msg).extend_with(|_, ext| ext.set("code", code))
            }
        })
    }
}

/// The application state every resolver reads.
pub fn state<'a>(ctx: &async_graphql::Context<'a>) -> async_graphql::Result<&'a AppState> {
    ctx.data::<AppState>()
}

/// Fails unless the caller may perform an operation needing `need` on the GraphQL surface.
pub fn require(
    ctx: &async_graphql::Context<'_>,
    need: crate::service::tokens::Scope,
) -> async_graphql::Result<()> {
    let st = state(ctx)?;
    let anonymous = crate::auth::Principal::anonymous();
    let principal = ctx
        .data_opt::<crate::auth::Principal>()
        .unwrap_or(&anonymous);
    crate::auth::check(
        &st.config.auth,
        crate::config::Surface::Graphql,
        principal,
        need,
    )
    .gql()
}
