//! What a domain implements for its rows (`TreeRow`), and the output type of a field that may be
//! answered in one pass (`Resolved`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Mutex;

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::{
    ContextBase, ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value,
};
use futures_util::future::BoxFuture;
use sea_orm::DatabaseConnection;

use super::json::Key;
use crate::error::AppResult;
use crate::service::KeyCursor;
use crate::service::rows::{ColumnSet, Positional};

// ----------------------------------------------------------------------------------------------
// The output type: either the ordinary connection or the JSON written here
// ----------------------------------------------------------------------------------------------

/// A field's value that is either resolved by async-graphql (`T`) or already written as JSON.
/// The schema sees `T`: the type name and registration are `T`'s.
pub enum Resolved<T> {
    Typed(T),
    /// Taken once, when async-graphql resolves the field.
    Json(Mutex<Option<String>>),
}

impl<T> Resolved<T> {
    pub fn json(text: String) -> Self {
        Resolved::Json(Mutex::new(Some(text)))
    }
}

impl<T: OutputType> OutputType for Resolved<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        match self {
            Resolved::Typed(t) => t.resolve(ctx, field).await,
            Resolved::Json(text) => {
                let text = text
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .unwrap_or_else(|| "null".to_owned());
                let mut raw = async_graphql::indexmap::IndexMap::with_capacity(1);
                raw.insert(
                    Name::new(async_graphql_value::RAW_VALUE_TOKEN),
                    Value::String(text),
                );
                Ok(Value::Object(raw))
            }
        }
    }
}

// ----------------------------------------------------------------------------------------------
// Rows of the tree
// ----------------------------------------------------------------------------------------------

/// A row type of the tree: its GraphQL name, its scalar fields and the level below it. Each
/// domain implements it for its rows, in its GraphQL module, beside the object's resolvers.
pub trait TreeRow: Scalars + Send + Sync + 'static {
    /// The level below (`Self` for a leaf, which has none).
    type Child: TreeRow + Positional;
    /// The nested connection's `filter` argument, as the domain's service takes it (`()` for a
    /// leaf).
    type Filter: Default + Send + Sync + 'static;
    /// The field that lists the level below, if any.
    const CHILDREN: Option<&'static str> = None;
    fn id(&self) -> i64;

    /// The id of the row this one hangs off (its parent in the tree). Read only for rows listed
    /// below a parent (some level's `Child`); a root-only list (metrics, sessions) has none.
    fn parent_id(&self) -> i64 {
        debug_assert!(false, "{} is never listed below a parent", Self::NODE);
        self.id()
    }

    /// The row's cursor in its parent's list (that list's fixed order). Read only for rows
    /// listed below a parent: a root list's cursor comes from its resolver, which knows the
    /// order the client asked for.
    fn cursor(&self) -> KeyCursor {
        debug_assert!(false, "{} is never listed below a parent", Self::NODE);
        KeyCursor::by_id(self.id())
    }
    /// Fields that are lists of plain objects (a session's `tags`): the field, the objects'
    /// GraphQL type and their scalar fields, written by `write_objects`. None by default.
    const OBJECT_LISTS: &'static [ObjectList] = &[];

    /// Writes the list `field`, one of `OBJECT_LISTS`, with `fields` (keys written before each
    /// value, each field one of the list's, or `__typename`) for every object.
    fn write_objects(&self, field: &str, fields: &[(Key, &'static str)], out: &mut Vec<u8>) {
        // Only planned for a row that declares `OBJECT_LISTS`, which must also write them.
        debug_assert!(false, "{} lists no objects, asked for {field}", Self::NODE);
        let _ = fields;
        out.extend_from_slice(b"null");
    }

    /// Reads the `filter` argument of the `CHILDREN` field (`field` is that field's context) as
    /// its resolver reads it; `None` when it does not parse, so that the resolver reports it.
    fn child_filter(field: &ContextBase<'_, &Positioned<Field>>) -> Option<Self::Filter> {
        let _ = field;
        Some(Self::Filter::default())
    }

    /// One statement for a page of children of every parent in `parent_ids`: at most `limit`
    /// rows each after `after`, in the children's order, reading at least `cols`.
    fn children_page<'a>(
        db: &'a DatabaseConnection,
        parent_ids: &'a [i64],
        filter: &'a Self::Filter,
        after: Option<&'a KeyCursor>,
        limit: u64,
        cols: ColumnSet,
    ) -> BoxFuture<'a, AppResult<Vec<Self::Child>>> {
        let _ = (db, parent_ids, filter, after, limit, cols);
        Box::pin(async { Ok(Vec::new()) })
    }

    /// How many children each parent has (one grouped count).
    fn count_children<'a>(
        db: &'a DatabaseConnection,
        parent_ids: &'a [i64],
        filter: &'a Self::Filter,
    ) -> BoxFuture<'a, AppResult<HashMap<i64, u64>>> {
        let _ = (db, parent_ids, filter);
        Box::pin(async { Ok(HashMap::new()) })
    }

    /// The scalar field names, for the test that keeps `FIELDS` equal to the schema's.
    fn field_names() -> Vec<&'static str> {
        Self::FIELDS.iter().map(|(name, _)| *name).collect()
    }
}

/// A row type's GraphQL object name and scalar fields, as the one-pass writer writes them. Not
/// written by hand: `tree_object!` declares each field once and makes both this and the object's
/// resolvers from it, so the two cannot drift.
pub trait Scalars {
    /// The GraphQL object type.
    const NODE: &'static str;
    /// The scalar fields `write_scalar` writes, in the object's order, each with the columns it
    /// reads (a nested page selects only those).
    const FIELDS: &'static [(&'static str, &'static [&'static str])];

    /// Writes the value of `field`, one of `FIELDS`, as the object's resolver returns it. Only
    /// the field's own columns are certain to have been read.
    fn write_scalar(&self, field: &str, out: &mut Vec<u8>);
}

/// A field of a row that lists plain objects: its name, the objects' type, their fields and the
/// row's columns the list is read from.
pub struct ObjectList {
    pub field: &'static str,
    pub node: &'static str,
    pub fields: &'static [&'static str],
    pub columns: &'static [&'static str],
}
