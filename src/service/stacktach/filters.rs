//! The list filters as SQL: marks, and string traits inside the stored JSON objects, written for
//! each backend (SQLite's `json_extract`, PostgreSQL's `jsonb` containment, which its GIN
//! indexes answer).

use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Order, SelectStatement};
use sea_orm::{ConnectionTrait, DbBackend};

use super::model::Mark;

/// The trait `name` of the JSON object in `column` is the string `value`. Numbers, datetimes and
/// missing traits never match, as winchester compared only string traits.
pub(super) fn string_trait(
    db: &impl ConnectionTrait,
    table: &str,
    column: &str,
    name: &str,
    value: &str,
) -> Condition {
    let col = format!("\"{table}\".\"{column}\"");
    let expr = match db.get_database_backend() {
        // Containment of `{"name": "value"}`: true exactly when the trait is that string, and
        // answered by the GIN index on the column's jsonb (migration 000008).
        DbBackend::Postgres => Expr::cust_with_values(
            format!("CAST({col} AS jsonb) @> CAST($1 AS jsonb)"),
            [serde_json::json!({ name: value }).to_string()],
        ),
        _ => {
            // A label with a double quote cannot be written as a path: it matches nothing.
            if name.contains('"') {
                return Condition::all().add(Expr::cust("1 = 0"));
            }
            let path = format!("$.\"{name}\"");
            Expr::cust_with_values(
                format!("(json_type({col}, ?) = 'text' AND json_extract({col}, ?) = ?)"),
                [path.clone(), path, value.to_owned()],
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
