//! `tree_object!`: an object type of the one-pass tree whose scalar fields are declared once.
//! Each field's one expression becomes both its `#[Object]` resolver and its arm of
//! `Scalars::write_scalar`, so the writer cannot answer what the resolver would not.
//!
//! An object with relations is a `MergedObject` of two parts over one shared row: the scalar
//! fields, made here, and the relations (`<Node>Relations`, an ordinary `#[Object]` the domain
//! writes, with its arguments, loaders and complexity). Scalars come first in the schema.
//!
//! ```ignore
//! tree_object! {
//!     /// One revision of a project.
//!     VersionNode(Version) = VersionScalars + VersionRelations as v, "EvergreenVersion";
//!     /// Evergreen's id.
//!     id -> &str ["id"; version_id] = &v.version_id;
//!     create_time -> DateTime<Utc> ["createTime"; create_time] = utc(v.create_time);
//! }
//! ```
//!
//! Each scalar names its resolver method, its type, its GraphQL name (what async-graphql derives
//! from the method, spelled out because `FIELDS` needs it as text), the columns it reads, and
//! its value over the row (`v`). Without `= Scalars + Relations`, the object has scalar fields
//! only.

macro_rules! tree_object {
    // Scalars and relations, merged.
    (
        $(#[$doc:meta])*
        $node:ident($row:ty) = $scalars:ident + $relations:ident as $v:ident, $name:literal;
        $($fields:tt)*
    ) => {
        $(#[$doc])*
        #[derive(async_graphql::MergedObject)]
        #[graphql(name = $name)]
        pub struct $node(pub $scalars, pub $relations);

        impl $node {
            pub fn new(row: $row) -> Self {
                let row = std::sync::Arc::new(row);
                $node($scalars(row.clone()), $relations(row))
            }
        }

        /// The scalar fields of the object (its relations are the other part).
        pub struct $scalars(std::sync::Arc<$row>);

        // The part has its own name: the merged object's is `$name`.
        $crate::graphql::onepass::object::tree_object!(
            @scalars $scalars, $row, $v, $name, [#[async_graphql::Object]], $($fields)*
        );
    };
    // Scalar fields only.
    (
        $(#[$doc:meta])*
        $node:ident($row:ty) as $v:ident, $name:literal;
        $($fields:tt)*
    ) => {
        pub struct $node(std::sync::Arc<$row>);

        impl $node {
            pub fn new(row: $row) -> Self {
                $node(std::sync::Arc::new(row))
            }
        }

        $crate::graphql::onepass::object::tree_object!(
            @scalars $node, $row, $v, $name,
            [$(#[$doc])* #[async_graphql::Object(name = $name)]], $($fields)*
        );
    };
    // The scalar resolvers on `$object` (under the attributes given) and `Scalars`.
    (
        @scalars $object:ident, $row:ty, $v:ident, $name:literal, [$($attr:tt)*],
        $(
            $(#[$fdoc:meta])*
            $method:ident -> $ty:ty [$field:literal; $($col:ident),*] = $body:expr;
        )*
    ) => {
        $($attr)*
        impl $object {
            $(
                $(#[$fdoc])*
                #[graphql(name = $field)]
                async fn $method(&self) -> $ty {
                    let $v = &*self.0;
                    $body
                }
            )*
        }

        impl $crate::graphql::onepass::row::Scalars for $row {
            const NODE: &'static str = $name;
            const FIELDS: &'static [(&'static str, &'static [&'static str])] =
                &[$(($field, &[$(stringify!($col)),*])),*];

            fn write_scalar(&self, field: &str, out: &mut Vec<u8>) {
                let $v = self;
                match field {
                    $($field => $crate::graphql::onepass::json::WriteJson::write_json(&$body, out),)*
                    _ => out.extend_from_slice(b"null"),
                }
            }
        }
    };
}

pub(crate) use tree_object;
