//! What the catalog's kinds share: the bounds they have in common, the table operations each
//! kind runs the same way (finding an entry in its group, the name checks, deleting, listing,
//! counting) and the checks of the input fields that more than one kind takes.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait};
use serde_json::{Map, Value};

use super::super::model::{MAX_TESTBEDS, is_uuid};
use crate::error::{AppError, AppResult};
use crate::service::{Direction, Slice, apply_slice, count_star, fetch_count, write_turn};
use entity::{xpr_bundle, xpr_profile, xpr_testbed, xpr_topology};

/// The largest testbed or topology definition, in bytes.
pub const MAX_DEFINITION_BYTES: usize = 1024 * 1024;
/// The largest JSON object a profile or bundle entry holds (harness, engine, options, env,
/// parameters), in bytes as stored.
pub const MAX_JSON_BYTES: usize = 64 * 1024;
/// The most rows one catalog list reads (the largest configurable page and its look-ahead row).
pub const MAX_LIST_ROWS: u64 = 10_001;

// ---------------------------------------------------------------------------------------------
// What the four tables share.

/// A catalog table: its kind's name (for messages) and its shared columns.
pub(super) trait CatalogTable: EntityTrait {
    const KIND: &'static str;
    fn id_col() -> Self::Column;
    fn uuid_col() -> Self::Column;
    fn group_col() -> Self::Column;
    fn name_col() -> Self::Column;
}

macro_rules! catalog_table {
    ($module:ident, $kind:literal) => {
        impl CatalogTable for $module::Entity {
            const KIND: &'static str = $kind;
            fn id_col() -> Self::Column {
                $module::Column::Id
            }
            fn uuid_col() -> Self::Column {
                $module::Column::Uuid
            }
            fn group_col() -> Self::Column {
                $module::Column::GroupName
            }
            fn name_col() -> Self::Column {
                $module::Column::Name
            }
        }
    };
}

catalog_table!(xpr_testbed, "testbed");
catalog_table!(xpr_topology, "topology");
catalog_table!(xpr_profile, "profile");
catalog_table!(xpr_bundle, "bundle");

/// Now, to the microsecond (what PostgreSQL keeps), so both backends answer the same.
pub(super) fn now() -> chrono::NaiveDateTime {
    let t = chrono::Utc::now().naive_utc();
    t - chrono::Duration::nanoseconds(i64::from(t.and_utc().timestamp_subsec_nanos() % 1_000))
}

fn not_found<E: CatalogTable>(uuid: &str) -> AppError {
    AppError::not_found(format!("{} {uuid} not found", E::KIND))
}

fn duplicate<E: CatalogTable>(name: &str) -> AppError {
    AppError::Conflict(format!(
        "a {} named '{name}' already exists in this group",
        E::KIND
    ))
}

/// A unique violation on insert or update is the name's (the UUID is random): say so.
pub(super) fn name_conflict<E: CatalogTable>(
    name: &str,
) -> impl FnOnce(sea_orm::DbErr) -> AppError + '_ {
    move |e| match AppError::from(e) {
        AppError::Conflict(_) => duplicate::<E>(name),
        other => other,
    }
}

/// The entry with this UUID in `group`, or NOT_FOUND.
pub(super) async fn existing<E: CatalogTable>(
    db: &impl ConnectionTrait,
    group: &str,
    uuid: &str,
) -> AppResult<E::Model> {
    E::find()
        .filter(E::uuid_col().eq(uuid.trim().to_ascii_lowercase()))
        .filter(E::group_col().eq(group))
        .one(db)
        .await?
        .ok_or_else(|| not_found::<E>(uuid))
}

/// CONFLICT when another entry of `group` (not `except`) is named `name`.
pub(super) async fn name_free<E: CatalogTable>(
    db: &impl ConnectionTrait,
    group: &str,
    name: &str,
    except: Option<i64>,
) -> AppResult<()> {
    let mut q = E::find()
        .filter(E::group_col().eq(group))
        .filter(E::name_col().eq(name));
    if let Some(id) = except {
        q = q.filter(E::id_col().ne(id));
    }
    match q.one(db).await? {
        Some(_) => Err(duplicate::<E>(name)),
        None => Ok(()),
    }
}

pub(super) async fn remove<E: CatalogTable>(
    db: &impl ConnectionTrait,
    group: &str,
    uuid: &str,
) -> AppResult<()> {
    let _turn = write_turn(db).await;
    let done = E::delete_many()
        .filter(E::uuid_col().eq(uuid.trim().to_ascii_lowercase()))
        .filter(E::group_col().eq(group))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(not_found::<E>(uuid));
    }
    Ok(())
}

/// The group's entries in id (creation) order, the slice's part of them.
pub(super) async fn list<E: CatalogTable>(
    db: &impl ConnectionTrait,
    group: &str,
    slice: &Slice,
) -> AppResult<Vec<E::Model>> {
    let slice = match slice.clone() {
        Slice::Offset { offset, limit } => Slice::Offset {
            offset,
            limit: limit.min(MAX_LIST_ROWS),
        },
        Slice::After { after, limit } => Slice::After {
            after,
            limit: limit.min(MAX_LIST_ROWS),
        },
    };
    let mut q = E::find().filter(E::group_col().eq(group));
    apply_slice(
        QueryTrait::query(&mut q),
        None,
        E::id_col().into_expr(),
        Direction::Asc,
        &slice,
    );
    Ok(q.all(db).await?)
}

pub(super) async fn count<E: CatalogTable>(
    db: &impl ConnectionTrait,
    group: &str,
) -> AppResult<u64> {
    let q = E::find()
        .select_only()
        .expr_as(count_star(), "n")
        .filter(E::group_col().eq(group))
        .into_query();
    fetch_count(db, &q).await
}

// ---------------------------------------------------------------------------------------------
// Checks.

/// A definition: at most `MAX_DEFINITION_BYTES`, without NUL (which PostgreSQL does not keep).
pub(super) fn check_definition(text: &str) -> AppResult<()> {
    if text.len() > MAX_DEFINITION_BYTES {
        return Err(AppError::invalid_field(
            "definition",
            format!("must be at most {MAX_DEFINITION_BYTES} bytes"),
        ));
    }
    if text.contains('\0') {
        return Err(AppError::invalid_field(
            "definition",
            "must not contain the NUL character",
        ));
    }
    Ok(())
}

/// A JSON object as stored, at most `MAX_JSON_BYTES`.
pub(super) fn stored_object(field: &str, map: &Map<String, Value>) -> AppResult<String> {
    let text = serde_json::to_string(map)
        .map_err(|e| AppError::Internal(format!("{field} does not serialise: {e}")))?;
    if text.len() > MAX_JSON_BYTES {
        return Err(AppError::invalid_field(
            field,
            format!("must be at most {MAX_JSON_BYTES} bytes as JSON"),
        ));
    }
    Ok(text)
}

pub(super) fn stored<T: serde::Serialize>(what: &str, v: &T) -> AppResult<String> {
    serde_json::to_string(v)
        .map_err(|e| AppError::Internal(format!("{what} does not serialise: {e}")))
}

/// A UUID a caller gives, in lower case, or an error naming `field`.
pub(super) fn given_uuid(field: &str, value: &str) -> AppResult<String> {
    let v = value.trim();
    if !is_uuid(v) {
        return Err(AppError::invalid_field(
            field,
            format!("'{}' is not a UUID", truncated(v)),
        ));
    }
    Ok(v.to_ascii_lowercase())
}

/// At most 64 characters of `s`, for messages that quote input.
pub(super) fn truncated(s: &str) -> String {
    let mut out: String = s.chars().take(64).collect();
    if s.chars().count() > 64 {
        out.push('…');
    }
    out
}

/// Testbed UUIDs: at most `MAX_TESTBEDS`, each a UUID, in lower case, duplicates dropped.
pub(super) fn given_testbeds(field: &str, uuids: &[String]) -> AppResult<Vec<String>> {
    if uuids.len() > MAX_TESTBEDS {
        return Err(AppError::invalid_field(
            field,
            format!("at most {MAX_TESTBEDS} testbeds"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(uuids.len());
    for u in uuids {
        let u = given_uuid(field, u)?;
        if !out.contains(&u) {
            out.push(u);
        }
    }
    Ok(out)
}

/// The first of `wanted` that `found` lacks.
pub(super) fn first_missing<'a>(wanted: &'a [String], found: &[String]) -> Option<&'a String> {
    wanted.iter().find(|w| !found.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn testbed_lists_are_uuids_without_duplicates() {
        let a = "07F3A282-AC12-4993-96B0-181912A41BB1".to_owned();
        let got = given_testbeds("testbeds", &[a.clone(), a.to_ascii_lowercase()]).unwrap();
        assert_eq!(got, vec![a.to_ascii_lowercase()]);
        assert!(given_testbeds("testbeds", &["nope".into()]).is_err());
    }
}
