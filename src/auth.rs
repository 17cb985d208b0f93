//! Authentication and authorisation for every edge: an `Authorization: Bearer <token>` header
//! becomes a `Principal`, and `check` decides whether it may do an operation on a surface under
//! the configured policy. Each surface's default follows its legacy server.

use sea_orm::ConnectionTrait;

use crate::config::{AuthPolicy, Surface};
use crate::error::{AppError, AppResult};
use crate::service::tokens::{self, Scope, Token};

/// Who is calling: a live token, or nobody.
#[derive(Clone, Debug, Default)]
pub struct Principal {
    pub token: Option<Token>,
}

impl Principal {
    pub fn anonymous() -> Self {
        Principal { token: None }
    }

    pub fn group(&self) -> Option<&str> {
        self.token.as_ref().map(|t| t.group.as_str())
    }
}

/// How a surface's clients send their token in the `Authorization` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenForm {
    /// `Bearer <token>`.
    Bearer,
    /// `Bearer <token>` or the bare token, as KernelCI's clients send it.
    BearerOrBare,
    /// `Bearer <token>` or `Jwt <token>`, as XPRESSO's clients send it.
    BearerOrJwt,
}

/// Resolves the `Authorization` header. No header is an anonymous caller; a header that is not a
/// live token is an error even where anonymous calls are allowed, so that a client with a
/// mistyped or revoked token learns it at once.
pub async fn principal_from_header(
    db: &impl ConnectionTrait,
    header: Option<&str>,
    form: TokenForm,
) -> AppResult<Principal> {
    let Some(value) = header else {
        return Ok(Principal::anonymous());
    };
    let bearer = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "));
    let secret = match form {
        TokenForm::Bearer => bearer,
        TokenForm::BearerOrBare => bearer.or(Some(value)),
        TokenForm::BearerOrJwt => bearer.or_else(|| value.strip_prefix("Jwt ")),
    };
    let Some(secret) = secret else {
        return Err(AppError::Unauthenticated(
            match form {
                TokenForm::BearerOrJwt => {
                    "expected 'Authorization: Jwt <token>' or 'Bearer <token>'"
                }
                _ => "expected 'Authorization: Bearer <token>'",
            }
            .into(),
        ));
    };
    match tokens::find_by_secret(db, secret.trim()).await? {
        Some(token) => Ok(Principal { token: Some(token) }),
        None => Err(AppError::Unauthenticated("unknown or revoked token".into())),
    }
}

/// May `principal` perform an operation needing `need` on `surface`?
///
/// - reads are open unless the operator requires a token on the surface;
/// - pytest-monitor writes are open as they were (its plugin sends no credentials) unless required;
/// - GraphQL mutations need a write token unless the operator opened them;
/// - KernelCI needs a token on every request (`AuthPolicy::requires_token`).
pub fn check(
    policy: &AuthPolicy,
    surface: Surface,
    principal: &Principal,
    need: Scope,
) -> AppResult<()> {
    let required = policy.requires_token(surface)
        || (surface == Surface::Graphql && need != Scope::Read && !policy.open_mutations);
    if !required {
        return Ok(());
    }
    match &principal.token {
        None => Err(AppError::Unauthenticated(format!(
            "this operation needs a token with the '{}' scope: send 'Authorization: Bearer <token>'",
            need.as_str()
        ))),
        Some(t) if t.grants(need) => Ok(()),
        Some(_) => Err(AppError::Forbidden(format!(
            "the token lacks the '{}' scope",
            need.as_str()
        ))),
    }
}
