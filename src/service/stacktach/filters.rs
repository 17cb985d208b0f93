//! The list filters as SQL: marks, and string traits, written for each backend (PostgreSQL's
//! `jsonb` containment, which its GIN indexes answer; on SQLite the rows of `strings`).

use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Order, SelectStatement};
use sea_orm::{ConnectionTrait, DbBackend};

use super::model::Mark;
use super::strings::Owner;

/// The trait `name` of the owner's JSON object (events' traits, streams' distinguishing traits)
/// is the string `value`. Numbers, datetimes and missing traits never match, as winchester
/// compared only string traits.
pub(super) fn string_trait(
    db: &impl ConnectionTrait,
    owner: Owner,
    name: &str,
    value: &str,
) -> Condition {
    let (table, column) = owner.table();
    let expr = match db.get_database_backend() {
        // Containment of `{"name": "value"}`: true exactly when the trait is that string, and
        // answered by the GIN index on the column's jsonb (migration 000008).
        DbBackend::Postgres => Expr::cust_with_values(
            format!("CAST(\"{table}\".\"{column}\" AS jsonb) @> CAST($1 AS jsonb)"),
            [serde_json::json!({ name: value }).to_string()],
        ),
        // The owners among the string rows of that name and value: a range of their key.
        _ => {
            let (strings, id) = owner.strings();
            Expr::cust_with_values(
                format!(
                    "\"{table}\".\"id\" IN \
                     (SELECT \"{id}\" FROM \"{strings}\" WHERE \"name\" = ? AND \"value\" = ?)"
                ),
                [name.to_owned(), value.to_owned()],
            )
        }
    };
    Condition::all().add(expr)
}

/// Applies a mark: ids below it newest first, or above it oldest first.
pub(super) fn apply_mark(q: &mut SelectStatement, table: &str, mark: &Mark) {
    let id = Expr::col((Alias::new(table), Alias::new("id")));
    if let Some(from) = mark.from {
        q.and_where(if mark.ascending {
            id.clone().gt(from)
        } else {
            id.clone().lt(from)
        });
    }
}

/// Orders by id in the mark's direction.
pub(super) fn order_by_mark(q: &mut SelectStatement, table: &str, mark: &Mark) {
    let order = if mark.ascending {
        Order::Asc
    } else {
        Order::Desc
    };
    q.order_by((Alias::new(table), Alias::new("id")), order);
}
