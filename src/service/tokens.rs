//! API tokens: creation (the secret is returned once), listing, revocation and look-up by secret.
//! Only the SHA-256 of a secret is stored.

use chrono::Utc;
use entity::api_token as tok;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

/// What a token may do. `Write` implies `Read`; `Delete` is on its own (KernelCI's delete
/// permission, kept apart from its post permission), and so are XPRESSO's two permissions,
/// `RunRequest` and `StopRequest` (they also read); `Admin` implies every other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Read,
    Write,
    Delete,
    /// XPRESSO's `run_request`: submit requests.
    RunRequest,
    /// XPRESSO's `stop_request`: stop requests.
    StopRequest,
    Admin,
}

impl Scope {
    pub fn parse(s: &str) -> Option<Scope> {
        match s.trim().to_ascii_lowercase().as_str() {
            // KernelCI names its permissions after the methods: get, post, delete.
            "read" | "get" => Some(Scope::Read),
            "write" | "post" => Some(Scope::Write),
            "delete" => Some(Scope::Delete),
            "run_request" => Some(Scope::RunRequest),
            "stop_request" => Some(Scope::StopRequest),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }

    /// Whether holding `self` allows what `need` allows.
    pub fn implies(self, need: Scope) -> bool {
        match self {
            Scope::Admin => true,
            Scope::Write => matches!(need, Scope::Read | Scope::Write),
            // XPRESSO's permissions belong to a member of a group, who may read its requests.
            Scope::RunRequest | Scope::StopRequest => need == self || need == Scope::Read,
            other => other == need,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Delete => "delete",
            Scope::RunRequest => "run_request",
            Scope::StopRequest => "stop_request",
            Scope::Admin => "admin",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub group: String,
    /// The user it acts for (XPRESSO's submitter): as created, else the token's name.
    pub user: String,
    pub created_at: chrono::NaiveDateTime,
    pub revoked_at: Option<chrono::NaiveDateTime>,
}

impl Token {
    fn from_model(m: tok::Model) -> Self {
        let scopes = m
            .scopes
            .split_whitespace()
            .filter_map(Scope::parse)
            .collect();
        let user = if m.user_name.is_empty() {
            m.name.clone()
        } else {
            m.user_name
        };
        Token {
            id: m.id,
            name: m.name,
            user,
            scopes,
            group: m.group_name,
            created_at: m.created_at,
            revoked_at: m.revoked_at,
        }
    }

    /// True when the token grants `need` (directly or through a broader scope).
    pub fn grants(&self, need: Scope) -> bool {
        self.scopes.iter().any(|s| s.implies(need))
    }
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn new_secret() -> AppResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    Ok(format!("tg_{}", hex::encode(bytes)))
}

/// Creates a token and returns it with its secret, which is not stored and cannot be shown again.
/// It acts for the user of its own name.
pub async fn create(
    db: &impl ConnectionTrait,
    name: &str,
    scopes: &[Scope],
    group: &str,
) -> AppResult<(Token, String)> {
    create_for(db, name, scopes, group, "").await
}

/// As `create`, for the user `user` (empty: the token's name).
pub async fn create_for(
    db: &impl ConnectionTrait,
    name: &str,
    scopes: &[Scope],
    group: &str,
    user: &str,
) -> AppResult<(Token, String)> {
    if name.trim().is_empty() || name.len() > 200 {
        return Err(AppError::invalid_field(
            "name",
            "a token name is 1 to 200 characters",
        ));
    }
    if scopes.is_empty() {
        return Err(AppError::invalid_field(
            "scope",
            "a token needs at least one scope",
        ));
    }
    if group.trim().is_empty() || group.len() > 200 {
        return Err(AppError::invalid_field(
            "group",
            "a group name is 1 to 200 characters",
        ));
    }
    if user.len() > 200 {
        return Err(AppError::invalid_field(
            "user",
            "a user name is at most 200 characters",
        ));
    }
    let secret = new_secret()?;
    let mut names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let model = tok::ActiveModel {
        id: NotSet,
        name: Set(name.to_owned()),
        secret_hash: Set(hash_secret(&secret)),
        scopes: Set(names.join(" ")),
        group_name: Set(group.to_owned()),
        user_name: Set(user.trim().to_owned()),
        created_at: Set(Utc::now().naive_utc()),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok((Token::from_model(model), secret))
}

pub async fn list(db: &impl ConnectionTrait) -> AppResult<Vec<Token>> {
    let rows = tok::Entity::find()
        .order_by_asc(tok::Column::Id)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(Token::from_model).collect())
}

/// Revokes a token; revoking twice is harmless.
pub async fn revoke(db: &impl ConnectionTrait, id: i64) -> AppResult<Token> {
    let Some(m) = tok::Entity::find_by_id(id).one(db).await? else {
        return Err(AppError::not_found(format!("no token with id {id}")));
    };
    if m.revoked_at.is_some() {
        return Ok(Token::from_model(m));
    }
    let mut am: tok::ActiveModel = m.into();
    am.revoked_at = Set(Some(Utc::now().naive_utc()));
    Ok(Token::from_model(am.update(db).await?))
}

/// The live token whose secret is `secret`, if any.
pub async fn find_by_secret(db: &impl ConnectionTrait, secret: &str) -> AppResult<Option<Token>> {
    let m = tok::Entity::find()
        .filter(tok::Column::SecretHash.eq(hash_secret(secret)))
        .filter(tok::Column::RevokedAt.is_null())
        .one(db)
        .await?;
    Ok(m.map(Token::from_model))
}
