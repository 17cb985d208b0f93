//! The legacy derived lists: component names, pipeline and build tags, session hashes.

use entity::{monitor_metric as met, monitor_session as ses, monitor_session_tag as tag};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::error::AppResult;
use crate::service::{count_star, fetch_all, fetch_count, starts_with};

use super::model::{Page, SessionFilter};
use super::sessions::{count_sessions, session_condition};

/// Distinct component names (null excluded), in first-seen order, optionally by prefix.
pub async fn list_components(
    db: &impl ConnectionTrait,
    prefix: Option<&str>,
    offset: u64,
    limit: u64,
) -> AppResult<Page<String>> {
    let mut base = Query::select();
    base.expr_as(Expr::col(met::Column::Component), Alias::new("v"))
        .expr_as(
            Func::min(Expr::col(met::Column::Id)),
            Alias::new("first_id"),
        )
        .from(met::Entity)
        .and_where(Expr::col(met::Column::Component).is_not_null())
        .group_by_col(met::Column::Component);
    if let Some(p) = prefix {
        base.and_where(starts_with(Expr::col(met::Column::Component), p));
    }
    let page = distinct_page(db, base, offset, limit).await?;
    Ok(Page {
        items: page.items.into_iter().flatten().collect(),
        total: page.total,
    })
}

pub async fn count_components(db: &impl ConnectionTrait) -> AppResult<u64> {
    let mut q = Query::select();
    q.expr_as(
        Func::count_distinct(Expr::col(met::Column::Component)),
        Alias::new("n"),
    )
    .from(met::Entity);
    fetch_count(db, &q).await
}

/// Which values of a description tag a derived list shows. The legacy routes differ: most
/// filter `json_extract(description, '$.tag') != ''`, which SQL's three-valued logic makes drop
/// sessions without the tag as well as empty values; `/components/<c>/pipelines` has no such
/// filter and lists both, a missing tag as `null`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagValues {
    /// Present and not empty.
    NonEmpty,
    /// Every value, `None` for the sessions without the tag.
    All,
}

/// Distinct values of one description tag over the sessions matching `sessions`, in first-seen
/// (session insertion) order.
pub async fn list_tag_values(
    db: &impl ConnectionTrait,
    tag_name: &str,
    which: TagValues,
    sessions: &SessionFilter,
    offset: u64,
    limit: u64,
) -> AppResult<Page<Option<String>>> {
    let mut base = Query::select();
    base.expr_as(
        Expr::col((tag::Entity, tag::Column::Value)),
        Alias::new("v"),
    )
    .expr_as(
        Func::min(Expr::col((ses::Entity, ses::Column::Id))),
        Alias::new("first_id"),
    )
    .from(ses::Entity);
    let on_session = Expr::col((tag::Entity, tag::Column::SessionId))
        .equals((ses::Entity, ses::Column::Id))
        .and(Expr::col((tag::Entity, tag::Column::Name)).eq(tag_name));
    match which {
        TagValues::NonEmpty => {
            base.inner_join(tag::Entity, on_session)
                .and_where(Expr::col((tag::Entity, tag::Column::Value)).ne(""));
        }
        TagValues::All => {
            base.left_join(tag::Entity, on_session);
        }
    }
    base.cond_where(session_condition(sessions))
        .group_by_col((tag::Entity, tag::Column::Value));
    distinct_page(db, base, offset, limit).await
}

/// Hashes of the sessions matching `filter`, in insertion order.
pub async fn list_session_hashes(
    db: &impl ConnectionTrait,
    filter: &SessionFilter,
    offset: u64,
    limit: u64,
) -> AppResult<Page<String>> {
    let total = count_sessions(db, filter).await?;
    let mut q = Query::select();
    q.column((ses::Entity, ses::Column::H))
        .from(ses::Entity)
        .cond_where(session_condition(filter))
        .order_by((ses::Entity, ses::Column::Id), Order::Asc)
        .limit(limit)
        .offset(offset);
    #[derive(FromQueryResult)]
    struct Row {
        h: String,
    }
    let rows: Vec<Row> = fetch_all(db, &q).await?;
    Ok(Page {
        items: rows.into_iter().map(|r| r.h).collect(),
        total,
    })
}

/// Pages over a grouped `SELECT v, MIN(id) AS first_id ... GROUP BY v`, in first-seen order
/// (`v` is null for the group of rows without a value).
async fn distinct_page(
    db: &impl ConnectionTrait,
    base: SelectStatement,
    offset: u64,
    limit: u64,
) -> AppResult<Page<Option<String>>> {
    let mut count = Query::select();
    count
        .expr_as(count_star(), Alias::new("n"))
        .from_subquery(base.clone(), Alias::new("d"));
    let total = fetch_count(db, &count).await?;
    let mut q = Query::select();
    q.column(Alias::new("v"))
        .from_subquery(base, Alias::new("d"))
        .order_by(Alias::new("first_id"), Order::Asc)
        .limit(limit)
        .offset(offset);
    #[derive(FromQueryResult)]
    struct Row {
        v: Option<String>,
    }
    let rows: Vec<Row> = fetch_all(db, &q).await?;
    Ok(Page {
        items: rows.into_iter().map(|r| r.v).collect(),
        total,
    })
}
