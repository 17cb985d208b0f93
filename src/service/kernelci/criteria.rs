//! The legacy query language's filters as SQL: `Criteria` (exact matches, "any of", ranges, the
//! creation-time window) to a condition on a collection's table, and `Sort` to its order.

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, NullOrdering, SelectStatement};

use super::model::{Clause, Criteria, Field, Kind, Sort, Value};
use crate::service::in_list;

fn col(table: &str, column: &str) -> Expr {
    Expr::col((Alias::new(table), Alias::new(column)))
}

fn value(v: &Value) -> sea_orm::Value {
    match v {
        Value::Null => sea_orm::Value::String(None),
        Value::Text(s) => s.clone().into(),
        Value::Bool(b) => (*b).into(),
        Value::Time(t) => (*t).into(),
        Value::Int(i) => (*i).into(),
    }
}

fn operand(table: &str, f: &Field) -> Expr {
    col(table, f.column)
}

fn any_of(db: &impl ConnectionTrait, table: &str, f: &Field, values: &[Value]) -> Condition {
    let mut any = Condition::any();
    let nulls = values.contains(&Value::Null);
    if nulls {
        any = any.add(operand(table, f).is_null());
    }
    let texts: Vec<String> = values
        .iter()
        .filter_map(|v| match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    if !texts.is_empty() {
        any = any.add(match f.kind {
            // Ids are stored in lower case; the route takes either.
            Kind::Oid => {
                let lower: Vec<String> = texts.iter().map(|t| t.to_ascii_lowercase()).collect();
                in_list(db, (Alias::new(table), Alias::new(f.column)), &lower)
            }
            _ => in_list(db, (Alias::new(table), Alias::new(f.column)), &texts),
        });
    }
    for v in values {
        if matches!(v, Value::Bool(_) | Value::Time(_) | Value::Int(_)) {
            any = any.add(operand(table, f).eq(value(v)));
        }
    }
    // No value at all matches nothing, as MongoDB's `$in: []`.
    if any.is_empty() {
        return Condition::all().add(Expr::cust("1 = 0"));
    }
    any
}

/// The condition `criteria` puts on rows of `table`.
pub(super) fn condition(db: &impl ConnectionTrait, table: &str, criteria: &Criteria) -> Condition {
    let mut cond = Condition::all();
    for clause in &criteria.clauses {
        match clause {
            Clause::AnyOf(f, values) => cond = cond.add(any_of(db, table, f, values)),
            Clause::Range { field, gte, lt } => {
                if let Some(v) = gte {
                    cond = cond.add(operand(table, field).gte(value(v)));
                }
                if let Some(v) = lt {
                    cond = cond.add(operand(table, field).lt(value(v)));
                }
            }
        }
    }
    if let Some(from) = criteria.created_from {
        cond = cond.add(col(table, "created_on").gte(from));
    }
    if let Some(before) = criteria.created_before {
        cond = cond.add(col(table, "created_on").lt(before));
    }
    cond
}

/// Orders `q` by `sort`, then by insertion order in the same direction (the natural order when
/// there is no field). Nulls sort first ascending and last descending, as in MongoDB; the rule is
/// written only for columns that may hold null, since an explicit `NULLS` order no index serves
/// (PostgreSQL then read and sorted every match of `created_on DESC NULLS LAST` for a page).
pub(super) fn order(q: &mut SelectStatement, table: &str, sort: &Sort) {
    let dir = sort.direction.order();
    let nulls = match sort.direction {
        crate::service::Direction::Asc => NullOrdering::First,
        crate::service::Direction::Desc => NullOrdering::Last,
    };
    for f in &sort.fields {
        let col = (Alias::new(table), Alias::new(f.column));
        if f.nullable() {
            q.order_by_with_nulls(col, dir.clone(), nulls);
        } else {
            q.order_by(col, dir.clone());
        }
    }
    if sort.fields.is_empty() {
        q.order_by(
            (Alias::new(table), Alias::new("id")),
            sea_orm::sea_query::Order::Asc,
        );
    } else {
        q.order_by((Alias::new(table), Alias::new("id")), dir);
    }
}
