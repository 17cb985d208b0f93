//! Reading a plan level by level (one statement a level, plus one grouped count where a total is
//! asked for) and writing the answer's JSON.

use std::collections::HashMap;

use futures_util::future::BoxFuture;
use sea_orm::DatabaseConnection;

use super::json::{put_bool, put_int, put_opt_str, put_str};
use super::plan::{ChildPlan, ConnItem, ConnPlan, EdgeItem, NodeItem, NodePlan, PageItem};
use super::row::{Resolved, TreeRow};
use crate::error::{AppError, AppResult};
use crate::graphql::connection::encode;
use crate::service::KeyCursor;

// ----------------------------------------------------------------------------------------------
// Reading and writing
// ----------------------------------------------------------------------------------------------

/// JSON texts laid end to end: text `i` is `buf[ends[i-1]..ends[i]]`.
#[derive(Default)]
struct Texts {
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl Texts {
    fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }

    fn close(&mut self) {
        self.ends.push(self.buf.len());
    }
}

/// One parent's page: at most `limit + 1` rows, the extra one telling that a next page exists.
struct Page<T> {
    rows: Vec<T>,
    has_next: bool,
    total: u64,
}

/// Writes one object of the tree and the levels below it.
pub async fn write_one<T: TreeRow>(
    db: &DatabaseConnection,
    plan: &NodePlan,
    row: &T,
) -> AppResult<String> {
    let texts = write_nodes(db, plan, &[row]).await?;
    into_text(texts)
}

/// Writes a root connection (`evergreenVersions`, `evergreenTasks`) from its page of rows;
/// `cursor` is the root's own (versions by order, tasks by id), not the nested lists'.
pub async fn write_list<T: TreeRow>(
    db: &DatabaseConnection,
    plan: &ConnPlan,
    rows: Vec<T>,
    limit: u64,
    has_previous: bool,
    total: u64,
    cursor: &(dyn Fn(&T) -> KeyCursor + Sync),
) -> AppResult<String> {
    let page = into_page(rows, limit, total);
    let texts = write_conns(db, plan, vec![page], has_previous, cursor).await?;
    into_text(texts)
}

/// A root list answered in one pass: `page` is the rows read (`limit + 1` at most), the page size
/// and whether a cursor came before; `count` runs only when the query asks for `totalCount`.
pub async fn answer_list<T: TreeRow, N>(
    st: &crate::state::AppState,
    plan: &ConnPlan,
    (rows, limit, has_previous): (Vec<T>, u64, bool),
    cursor: &(dyn Fn(&T) -> KeyCursor + Sync),
    count: impl std::future::Future<Output = AppResult<u64>>,
) -> async_graphql::Result<Resolved<N>> {
    use crate::graphql::context::GqlResultExt;
    let total = if plan.wants_total() {
        count.await.gql()?
    } else {
        0
    };
    let json = write_list(&st.db, plan, rows, limit, has_previous, total, cursor)
        .await
        .gql()?;
    st.one_pass_answers
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(Resolved::json(json))
}

/// The written JSON as text. Every piece came from `&str`s and ASCII, so this cannot fail; if it
/// ever did, the request fails rather than passing on a broken raw value.
fn into_text(texts: Texts) -> AppResult<String> {
    String::from_utf8(texts.buf)
        .map_err(|e| AppError::Internal(format!("tree writer produced {e}")))
}

fn into_page<T>(mut rows: Vec<T>, limit: u64, total: u64) -> Page<T> {
    let has_next = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    Page {
        rows,
        has_next,
        total,
    }
}

/// Writes one connection per page, reading the levels below for all pages at once.
async fn write_conns<T: TreeRow>(
    db: &DatabaseConnection,
    plan: &ConnPlan,
    pages: Vec<Page<T>>,
    has_previous: bool,
    cursor: &(dyn Fn(&T) -> KeyCursor + Sync),
) -> AppResult<Texts> {
    // The objects of every page are written together, so that each level below is one read.
    let all: Vec<&T> = pages.iter().flat_map(|p| p.rows.iter()).collect();
    let mut node_texts = Vec::new();
    for (_, item) in &plan.items {
        let nodes = match item {
            ConnItem::Nodes(n) => Some(n),
            ConnItem::Edges { items, .. } => items.iter().find_map(|(_, e)| match e {
                EdgeItem::Node(n) => Some(n),
                _ => None,
            }),
            _ => None,
        };
        node_texts.push(match nodes {
            Some(n) => Some(write_nodes(db, n, &all).await?),
            None => None,
        });
    }

    let mut out = Texts::default();
    let mut at = 0;
    for page in &pages {
        let cursors: Vec<String> = if needs_cursors(plan) {
            page.rows.iter().map(|r| encode(&cursor(r))).collect()
        } else {
            Vec::new()
        };
        let buf = &mut out.buf;
        buf.push(b'{');
        for (n, ((key, item), texts)) in plan.items.iter().zip(&node_texts).enumerate() {
            if n > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(key);
            match item {
                ConnItem::Typename => put_str(buf, &plan.typename),
                ConnItem::TotalCount => put_int(buf, page.total as i64),
                ConnItem::Nodes(_) => {
                    buf.push(b'[');
                    for i in 0..page.rows.len() {
                        if i > 0 {
                            buf.push(b',');
                        }
                        if let Some(t) = texts {
                            buf.extend_from_slice(t.get(at + i));
                        }
                    }
                    buf.push(b']');
                }
                ConnItem::Edges { typename, items } => {
                    buf.push(b'[');
                    for i in 0..page.rows.len() {
                        if i > 0 {
                            buf.push(b',');
                        }
                        buf.push(b'{');
                        for (m, (key, e)) in items.iter().enumerate() {
                            if m > 0 {
                                buf.push(b',');
                            }
                            buf.extend_from_slice(key);
                            match e {
                                EdgeItem::Typename => put_str(buf, typename),
                                EdgeItem::Cursor => {
                                    put_str(buf, cursors.get(i).map_or("", String::as_str))
                                }
                                EdgeItem::Node(_) => {
                                    if let Some(t) = texts {
                                        buf.extend_from_slice(t.get(at + i));
                                    }
                                }
                            }
                        }
                        buf.push(b'}');
                    }
                    buf.push(b']');
                }
                ConnItem::PageInfo(items) => {
                    buf.push(b'{');
                    for (m, (key, p)) in items.iter().enumerate() {
                        if m > 0 {
                            buf.push(b',');
                        }
                        buf.extend_from_slice(key);
                        match p {
                            PageItem::Typename => put_str(buf, "PageInfo"),
                            PageItem::HasPrevious => put_bool(buf, has_previous),
                            PageItem::HasNext => put_bool(buf, page.has_next),
                            PageItem::Start => {
                                put_opt_str(buf, cursors.first().map(String::as_str))
                            }
                            PageItem::End => put_opt_str(buf, cursors.last().map(String::as_str)),
                        }
                    }
                    buf.push(b'}');
                }
            }
        }
        buf.push(b'}');
        out.close();
        at += page.rows.len();
    }
    Ok(out)
}

fn needs_cursors(plan: &ConnPlan) -> bool {
    plan.items.iter().any(|(_, i)| match i {
        ConnItem::Edges { items, .. } => items.iter().any(|(_, e)| matches!(e, EdgeItem::Cursor)),
        ConnItem::PageInfo(items) => items
            .iter()
            .any(|(_, p)| matches!(p, PageItem::Start | PageItem::End)),
        _ => false,
    })
}

/// Writes one object per row. Boxed: the levels recurse through `write_conns`.
fn write_nodes<'a, T: TreeRow>(
    db: &'a DatabaseConnection,
    plan: &'a NodePlan,
    rows: &'a [&'a T],
) -> BoxFuture<'a, AppResult<Texts>> {
    Box::pin(async move {
        // Each nested connection of this level: one read for all rows, then written per row.
        let mut children: Vec<Option<Texts>> = Vec::with_capacity(plan.items.len());
        let ids: Vec<i64> = rows.iter().map(|r| r.id()).collect();
        for (_, item) in &plan.items {
            children.push(match item {
                NodeItem::Children(c) => Some(read_children::<T>(db, c, &ids).await?),
                _ => None,
            });
        }

        let mut out = Texts {
            buf: Vec::with_capacity(rows.len() * 64),
            ends: Vec::with_capacity(rows.len()),
        };
        for (i, row) in rows.iter().enumerate() {
            let buf = &mut out.buf;
            buf.push(b'{');
            for (n, ((key, item), child)) in plan.items.iter().zip(&children).enumerate() {
                if n > 0 {
                    buf.push(b',');
                }
                buf.extend_from_slice(key);
                match item {
                    NodeItem::Typename => put_str(buf, T::NODE),
                    NodeItem::Scalar(f) => row.write_scalar(f, buf),
                    NodeItem::Objects(f, fields) => row.write_objects(f, fields, buf),
                    NodeItem::Children(_) => {
                        if let Some(t) = child {
                            buf.extend_from_slice(t.get(i));
                        }
                    }
                }
            }
            buf.push(b'}');
            out.close();
        }
        Ok(out)
    })
}

/// Reads one page of the children of every `T` in `parent_ids` (one statement, plus one grouped
/// count when the total is asked for) and writes each parent's connection.
async fn read_children<T: TreeRow>(
    db: &DatabaseConnection,
    plan: &ChildPlan,
    parent_ids: &[i64],
) -> AppResult<Texts> {
    // The planner stored `T::Filter` (`plan_child::<T>`); anything else is a bug, not input.
    let Some(filter) = plan.filter.downcast_ref::<T::Filter>() else {
        return Err(AppError::Internal(format!(
            "one-pass plan of {} carries another filter type",
            T::NODE
        )));
    };
    let rows: Vec<T::Child> = if plan.conn.wants_rows() {
        T::children_page(
            db,
            parent_ids,
            filter,
            plan.after.as_ref(),
            plan.limit + 1,
            plan.cols,
        )
        .await?
    } else {
        Vec::new()
    };
    let totals = if plan.conn.wants_total() {
        T::count_children(db, parent_ids, filter).await?
    } else {
        HashMap::new()
    };
    let mut by_parent: HashMap<i64, Vec<T::Child>> = HashMap::with_capacity(parent_ids.len());
    for r in rows {
        by_parent.entry(r.parent_id()).or_default().push(r);
    }
    let pages = parent_ids
        .iter()
        .map(|id| {
            into_page(
                by_parent.remove(id).unwrap_or_default(),
                plan.limit,
                totals.get(id).copied().unwrap_or(0),
            )
        })
        .collect();
    write_conns(
        db,
        &plan.conn,
        pages,
        plan.after.is_some(),
        &T::Child::cursor,
    )
    .await
}
