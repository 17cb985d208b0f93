//! Cursor connections, for every domain: opaque keyset cursors, the page-size rules, the lazy
//! `totalCount` (`Total`), and the building of root (`connect`) and nested (`nested`) connections.

use std::future::Future;
use std::sync::Arc;

use async_graphql::connection::CursorType;
use async_graphql::dataloader::{DataLoader, Loader};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Shared};

use super::context::{GqlResultExt, state};
use crate::config::Limits;
use crate::error::{AppError, AppResult};
use crate::service::{Direction, KeyCursor};

/// The direction of an ordered list, for every domain's `orderBy`.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq, Default)]
#[graphql(name = "SortDirection")]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

impl From<SortDirection> for Direction {
    fn from(d: SortDirection) -> Self {
        match d {
            SortDirection::Asc => Direction::Asc,
            SortDirection::Desc => Direction::Desc,
        }
    }
}

/// An opaque cursor: the sort value and id of a row, base64url-encoded JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct Cursor(pub KeyCursor);

impl CursorType for Cursor {
    type Error = AppError;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        decode(s).map(Cursor)
    }

    fn encode_cursor(&self) -> String {
        encode(&self.0)
    }
}

pub fn encode(k: &KeyCursor) -> String {
    // Serialising a plain struct of numbers and strings cannot fail.
    let json = serde_json::to_vec(k).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

pub fn decode(s: &str) -> AppResult<KeyCursor> {
    let bad = || AppError::invalid_field("after", "not a cursor returned by this API");
    let bytes = URL_SAFE_NO_PAD.decode(s.as_bytes()).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

/// The page size for `first`: the configured default when absent, an error outside 0..=max.
pub fn page_size(first: Option<i32>, limits: &Limits) -> AppResult<u64> {
    match first {
        None => Ok(limits.page_default),
        Some(n) if n < 0 => Err(AppError::invalid_field(
            "first",
            "'first' must not be negative",
        )),
        Some(n) if n as u64 > limits.page_max => Err(AppError::invalid_field(
            "first",
            format!("'first' must be at most {}", limits.page_max),
        )),
        Some(n) => Ok(n as u64),
    }
}

/// The rows a connection without `first` counts for in the complexity: the default configuration's
/// page size (`--page-default`), whatever the operator set, so a query's cost does not depend on
/// the server it is sent to.
pub const DEFAULT_FIRST_FOR_COMPLEXITY: usize = crate::config::DEFAULT_PAGE_SIZE as usize;

/// Complexity of a connection field: its children cost once per requested row.
pub fn list_complexity(first: Option<i32>, child: usize) -> usize {
    let n = first
        .map(|n| n.max(0) as usize)
        .unwrap_or(DEFAULT_FIRST_FOR_COMPLEXITY);
    n.max(1).saturating_mul(child).saturating_add(1)
}

/// `totalCount` of a connection, counted only when a client asks for it: the count is a future
/// made with the connection and awaited (once, however many aliases ask) only by `totalCount`.
/// A root list counts with one query; a nested list asks its domain's loader, so that a level
/// of parents costs one grouped count.
pub struct Total(Shared<BoxFuture<'static, async_graphql::Result<u64>>>);

impl Total {
    pub fn new(count: impl Future<Output = async_graphql::Result<u64>> + Send + 'static) -> Self {
        Total(count.boxed().shared())
    }

    /// A root list's total: `count` over a handle on the database, run only if asked.
    pub fn counted<F, Fut>(db: &sea_orm::DatabaseConnection, count: F) -> Self
    where
        F: FnOnce(sea_orm::DatabaseConnection) -> Fut + Send + 'static,
        Fut: Future<Output = AppResult<u64>> + Send + 'static,
    {
        let db = db.clone();
        Total::new(async move { count(db).await.gql() })
    }
}

#[async_graphql::Object]
impl Total {
    /// Number of items matching the filter (one extra COUNT query, or one per level for a
    /// nested list).
    async fn total_count(&self) -> async_graphql::Result<u64> {
        self.0.clone().await
    }
}

/// Builds a connection from `limit + 1` fetched rows.
pub fn connect<T, N, E: async_graphql::ObjectType>(
    mut rows: Vec<T>,
    limit: u64,
    has_previous: bool,
    cursor: impl Fn(&T) -> KeyCursor,
    node: impl Fn(T) -> N,
    extra: E,
) -> async_graphql::connection::Connection<Cursor, N, E>
where
    N: async_graphql::OutputType,
{
    let has_next = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let mut conn = async_graphql::connection::Connection::with_additional_fields(
        has_previous,
        has_next,
        extra,
    );
    conn.edges.extend(
        rows.into_iter()
            .map(|r| async_graphql::connection::Edge::new(Cursor(cursor(&r)), node(r))),
    );
    conn
}

/// A nested connection: one parent's page, asked of the request's `loader` with the key `key`
/// makes from the page's row count (the page size plus the one row that tells whether a next
/// page exists) and its cursor, so that every parent of a level asking for the same page shares
/// one statement. Not read when the client asks only for `totalCount`, which `total` answers.
#[allow(clippy::too_many_arguments)]
pub async fn nested<L, K, T, N>(
    ctx: &async_graphql::Context<'_>,
    loader: &DataLoader<L>,
    first: Option<i32>,
    after: Option<String>,
    key: impl FnOnce(u64, Option<String>) -> K,
    cursor: impl Fn(&T) -> KeyCursor,
    node: impl Fn(T) -> N,
    total: Total,
) -> async_graphql::Result<async_graphql::connection::Connection<Cursor, N, Total>>
where
    L: Loader<K, Value = Vec<T>, Error = Arc<AppError>>,
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    T: Send + Sync + Clone + 'static,
    N: async_graphql::OutputType,
{
    let limit = page_size(first, &state(ctx)?.config.limits).gql()?;
    if let Some(a) = &after {
        decode(a).gql()?;
    }
    let has_previous = after.is_some();
    let rows = if wants_rows(ctx) {
        let found = loader.load_one(key(limit + 1, after)).await.gql()?;
        found.unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(connect(rows, limit, has_previous, cursor, node, total))
}

pub fn after_slice(
    after: Option<&str>,
    limit: u64,
) -> async_graphql::Result<crate::service::Slice> {
    let after = after
        .map(decode)
        .transpose()
        .map_err(super::context::to_gql)?;
    Ok(crate::service::Slice::After {
        after,
        limit: limit + 1,
    })
}

/// Whether the client asked for the rows of a connection (or its page info) rather than only its
/// `totalCount`; when it did not, the page is not read at all.
pub fn wants_rows(ctx: &async_graphql::Context<'_>) -> bool {
    let look = ctx.look_ahead();
    look.field("edges").exists() || look.field("nodes").exists() || look.field("pageInfo").exists()
}

/// The rows `read` gives, or none (and `read` never runs) when the client asked only for the
/// connection's `totalCount`.
pub async fn page_rows<T>(
    ctx: &async_graphql::Context<'_>,
    read: impl std::future::Future<Output = AppResult<Vec<T>>>,
) -> async_graphql::Result<Vec<T>> {
    if !wants_rows(ctx) {
        return Ok(Vec::new());
    }
    read.await.gql()
}
