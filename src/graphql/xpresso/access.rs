//! The token rule of every XPRESSO field that needs one (every field but the runner's mutations,
//! which the postback token authorises), shared by the catalog and the requests.

use async_graphql::{Context, Result};

use crate::auth::Principal;
use crate::config::Surface;
use crate::error::AppError;
use crate::graphql::context::{GqlResultExt, state};
use crate::service::tokens::Scope;
use crate::service::xpresso::Caller;

/// The caller as XPRESSO sees it, a token's user in its group, if the token grants `need`;
/// `UNAUTHENTICATED` without a token (XPRESSO shows nothing to anonymous callers, reads
/// included), `FORBIDDEN` without the scope.
pub(crate) fn caller(ctx: &Context<'_>, need: Scope) -> Result<Caller> {
    let st = state(ctx)?;
    let anonymous = Principal::anonymous();
    let principal = ctx.data_opt::<Principal>().unwrap_or(&anonymous);
    crate::auth::check(&st.config.auth, Surface::Xpresso, principal, need).gql()?;
    let token = principal
        .token
        .as_ref()
        .ok_or_else(|| AppError::Unauthenticated("a token is required".into()))
        .gql()?;
    Ok(Caller {
        group: token.group.clone(),
        user: token.user.clone(),
    })
}
