//! The plan: a selection on a connection or an object of the tree, checked to be made only of
//! what the writer covers, with each nested connection's arguments parsed as its resolver would.

use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::{ContextBase, Positioned};

use super::json::{Key, put_str};
use super::row::TreeRow;
use crate::config::Limits;
use crate::graphql::connection::{decode, page_size};
use crate::service::KeyCursor;
use crate::service::rows::{ColumnSet, Positional};

// ----------------------------------------------------------------------------------------------
// The plan
// ----------------------------------------------------------------------------------------------

fn key_of(f: &Field) -> Key {
    let mut k = Vec::with_capacity(f.response_key().node.len() + 3);
    put_str(&mut k, f.response_key().node.as_str());
    k.push(b':');
    k
}

/// The selection on a connection.
pub struct ConnPlan {
    pub(super) typename: String,
    pub(super) items: Vec<(Key, ConnItem)>,
}

pub(super) enum ConnItem {
    Typename,
    TotalCount,
    Edges {
        typename: String,
        items: Vec<(Key, EdgeItem)>,
    },
    Nodes(NodePlan),
    PageInfo(Vec<(Key, PageItem)>),
}

pub(super) enum EdgeItem {
    Typename,
    Cursor,
    Node(NodePlan),
}

#[derive(Clone, Copy)]
pub(super) enum PageItem {
    Typename,
    HasPrevious,
    HasNext,
    Start,
    End,
}

/// The selection on one object of the tree.
pub struct NodePlan {
    pub(super) items: Vec<(Key, NodeItem)>,
    /// The columns its scalar fields read.
    pub(super) columns: Vec<&'static str>,
}

pub(super) enum NodeItem {
    Typename,
    Scalar(&'static str),
    /// A list of plain objects (`TreeRow::OBJECT_LISTS`) and the fields asked of them.
    Objects(&'static str, Vec<(Key, &'static str)>),
    Children(ChildPlan),
}

/// A nested connection: its arguments, checked as the resolver checks them, and its selection.
pub(super) struct ChildPlan {
    /// The parent level's `TreeRow::Filter`, read back by the writer, which knows the type.
    pub(super) filter: Box<dyn std::any::Any + Send + Sync>,
    /// The columns the objects' fields read.
    pub(super) cols: ColumnSet,
    pub(super) limit: u64,
    pub(super) after: Option<KeyCursor>,
    pub(super) conn: ConnPlan,
}

impl ConnPlan {
    /// Whether the rows are needed at all (a connection asked only for its total reads none).
    pub(super) fn wants_rows(&self) -> bool {
        self.items.iter().any(|(_, i)| {
            matches!(
                i,
                ConnItem::Edges { .. } | ConnItem::Nodes(_) | ConnItem::PageInfo(_)
            )
        })
    }

    pub fn wants_total(&self) -> bool {
        self.items
            .iter()
            .any(|(_, i)| matches!(i, ConnItem::TotalCount))
    }
}

/// The fields of a selection set on the object type `on`, with its fragments spread, or `None`
/// when two of them share a response key (GraphQL would merge them) or a fragment names another
/// type. `@skip` and `@include` are already applied (async-graphql removes them before
/// execution); any other directive also sends the query to the resolvers.
fn plain_fields<'a>(
    ctx: &ContextBase<'a, &'a Positioned<Field>>,
    set: &'a SelectionSet,
    on: &str,
) -> Option<Vec<&'a Positioned<Field>>> {
    fn collect<'a>(
        ctx: &ContextBase<'a, &'a Positioned<Field>>,
        set: &'a SelectionSet,
        on: &str,
        out: &mut Vec<&'a Positioned<Field>>,
        depth: usize,
    ) -> Option<()> {
        // Validation rejects fragment cycles; the bound only keeps this obviously finite.
        if depth > 32 {
            return None;
        }
        for s in &set.items {
            match &s.node {
                Selection::Field(f) => {
                    let key = &f.node.response_key().node;
                    if !f.node.directives.is_empty()
                        || out.iter().any(|g| g.node.response_key().node == *key)
                    {
                        return None;
                    }
                    out.push(f);
                }
                Selection::InlineFragment(i) => {
                    let i = &i.node;
                    if !i.directives.is_empty()
                        || i.type_condition
                            .as_ref()
                            .is_some_and(|t| t.node.on.node != on)
                    {
                        return None;
                    }
                    collect(ctx, &i.selection_set.node, on, out, depth + 1)?;
                }
                Selection::FragmentSpread(spread) => {
                    let spread = &spread.node;
                    let def = &ctx
                        .query_env
                        .fragments
                        .get(&spread.fragment_name.node)?
                        .node;
                    if !spread.directives.is_empty()
                        || !def.directives.is_empty()
                        || def.type_condition.node.on.node != on
                    {
                        return None;
                    }
                    collect(ctx, &def.selection_set.node, on, out, depth + 1)?;
                }
            }
        }
        Some(())
    }
    let mut out = Vec::with_capacity(set.items.len());
    collect(ctx, set, on, &mut out, 0)?;
    Some(out)
}

/// Plans the selection on one object of the tree, the answer of `evergreenVersion(id)`,
/// `evergreenBuild(id)` or `evergreenTask(id)`; `ctx` is that field's context.
pub fn plan_one<'a, T: TreeRow>(
    ctx: &ContextBase<'a, &'a Positioned<Field>>,
    limits: &Limits,
) -> Option<NodePlan> {
    plan_node::<T>(ctx, &ctx.item.node.selection_set.node, limits)
}

impl NodePlan {
    /// Whether a level below is asked for. An object with scalars only is cheaper through the
    /// resolvers than written and passed as a raw value (validated again when serialised).
    pub fn has_children(&self) -> bool {
        self.items
            .iter()
            .any(|(_, i)| matches!(i, NodeItem::Children(_)))
    }
}

/// Plans the selection on a root connection of `T`s (`evergreenVersions`, `evergreenTasks`);
/// `ctx` is that field's context.
pub fn plan_list<'a, T: TreeRow>(
    ctx: &ContextBase<'a, &'a Positioned<Field>>,
    limits: &Limits,
) -> Option<ConnPlan> {
    plan_conn::<T>(ctx, &ctx.item.node.selection_set.node, limits)
}

fn plan_conn<'a, T: TreeRow>(
    ctx: &ContextBase<'a, &'a Positioned<Field>>,
    set: &'a SelectionSet,
    limits: &Limits,
) -> Option<ConnPlan> {
    let typename = format!("{}Connection", T::NODE);
    let edge_typename = format!("{}Edge", T::NODE);
    let mut items = Vec::new();
    for f in plain_fields(ctx, set, &typename)? {
        let sub = &f.node.selection_set.node;
        let item = match f.node.name.node.as_str() {
            "__typename" => ConnItem::Typename,
            "totalCount" => ConnItem::TotalCount,
            "nodes" => ConnItem::Nodes(plan_node::<T>(ctx, sub, limits)?),
            "edges" => {
                let mut edge = Vec::new();
                for e in plain_fields(ctx, sub, &edge_typename)? {
                    let item = match e.node.name.node.as_str() {
                        "__typename" => EdgeItem::Typename,
                        "cursor" => EdgeItem::Cursor,
                        // One `node` per edge: its objects are written once per connection.
                        "node" if edge.iter().any(|(_, i)| matches!(i, EdgeItem::Node(_))) => {
                            return None;
                        }
                        "node" => {
                            EdgeItem::Node(plan_node::<T>(ctx, &e.node.selection_set.node, limits)?)
                        }
                        _ => return None,
                    };
                    edge.push((key_of(&e.node), item));
                }
                ConnItem::Edges {
                    typename: edge_typename.clone(),
                    items: edge,
                }
            }
            "pageInfo" => {
                let mut page = Vec::new();
                for p in plain_fields(ctx, sub, "PageInfo")? {
                    let item = match p.node.name.node.as_str() {
                        "__typename" => PageItem::Typename,
                        "hasPreviousPage" => PageItem::HasPrevious,
                        "hasNextPage" => PageItem::HasNext,
                        "startCursor" => PageItem::Start,
                        "endCursor" => PageItem::End,
                        _ => return None,
                    };
                    page.push((key_of(&p.node), item));
                }
                ConnItem::PageInfo(page)
            }
            _ => return None,
        };
        items.push((key_of(&f.node), item));
    }
    Some(ConnPlan { typename, items })
}

fn plan_node<'a, T: TreeRow>(
    ctx: &ContextBase<'a, &'a Positioned<Field>>,
    set: &'a SelectionSet,
    limits: &Limits,
) -> Option<NodePlan> {
    let mut items = Vec::new();
    let mut columns = Vec::new();
    for f in plain_fields(ctx, set, T::NODE)? {
        let name = f.node.name.node.as_str();
        let item = if name == "__typename" {
            NodeItem::Typename
        } else if let Some((field, cols)) = T::FIELDS.iter().find(|(s, _)| *s == name) {
            columns.extend_from_slice(cols);
            NodeItem::Scalar(field)
        } else if let Some(list) = T::OBJECT_LISTS.iter().find(|l| l.field == name) {
            let mut fields = Vec::new();
            for o in plain_fields(ctx, &f.node.selection_set.node, list.node)? {
                let name = o.node.name.node.as_str();
                let field = std::iter::once(&"__typename")
                    .chain(list.fields)
                    .find(|s| **s == name)?;
                fields.push((key_of(&o.node), *field));
            }
            columns.extend_from_slice(list.columns);
            NodeItem::Objects(list.field, fields)
        } else if T::CHILDREN == Some(name) {
            NodeItem::Children(plan_child::<T>(ctx, f, limits)?)
        } else {
            return None;
        };
        items.push((key_of(&f.node), item));
    }
    Some(NodePlan { items, columns })
}

/// The nested connection `f` below a `T`: its arguments, parsed as the generated resolver parses
/// them (variables included); `None` when any is invalid, so that the resolver reports it.
fn plan_child<'a, T: TreeRow>(
    ctx: &ContextBase<'a, &'a Positioned<Field>>,
    f: &'a Positioned<Field>,
    limits: &Limits,
) -> Option<ChildPlan> {
    let fctx = ctx.with_field(f);
    let (_, first) = fctx.param_value::<Option<i32>>("first", None).ok()?;
    let (_, after) = fctx.param_value::<Option<String>>("after", None).ok()?;
    let filter = T::child_filter(&fctx)?;
    let limit = page_size(first, limits).ok()?;
    let after = match after {
        Some(a) => Some(decode(&a).ok()?),
        None => None,
    };
    let conn = plan_conn::<T::Child>(ctx, &f.node.selection_set.node, limits)?;
    let mut columns = Vec::new();
    for (_, item) in &conn.items {
        match item {
            ConnItem::Nodes(n) => columns.extend_from_slice(&n.columns),
            ConnItem::Edges { items, .. } => {
                for (_, e) in items {
                    if let EdgeItem::Node(n) = e {
                        columns.extend_from_slice(&n.columns);
                    }
                }
            }
            _ => {}
        }
    }
    Some(ChildPlan {
        filter: Box::new(filter),
        cols: ColumnSet::of::<<T::Child as Positional>::Entity>(&columns),
        limit,
        after,
        conn,
    })
}
