//! Bundles: creating, replacing, deleting and listing them.

use sea_orm::{ActiveModelTrait, ActiveValue::NotSet, ConnectionTrait, IntoActiveModel, Set};

use super::super::catalog::{profiles_by_uuids, testbeds_by_uuids, topologies_by_uuids};
use super::super::model::{Bundle, BundleEntry, MAX_BUNDLE_ENTRIES, check_name, new_uuid};
use super::shared::{
    MAX_JSON_BYTES, count, existing, first_missing, given_testbeds, given_uuid, list,
    name_conflict, name_free, now, remove, stored,
};
use crate::error::{AppError, AppResult};
use crate::service::{Slice, write_turn};
use entity::xpr_bundle;

/// A bundle to create, or the whole of one to replace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewBundle {
    pub name: String,
    /// 1 to `MAX_BUNDLE_ENTRIES` entries, each naming a profile of the group, with testbeds or
    /// a topology of the group (not both) and parameters that pass `Parameters::check`.
    pub entries: Vec<BundleEntry>,
}

/// The entries checked and normalised (UUIDs in lower case), without the database.
fn bundle_entries(entries: &[BundleEntry]) -> AppResult<Vec<BundleEntry>> {
    if entries.is_empty() || entries.len() > MAX_BUNDLE_ENTRIES {
        return Err(AppError::invalid_field(
            "entries",
            format!("a bundle has 1 to {MAX_BUNDLE_ENTRIES} entries"),
        ));
    }
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let field = |f: &str| format!("entries[{i}].{f}");
            let testbeds = given_testbeds(&field("testbeds"), &e.testbeds)?;
            let topology = match &e.topology {
                Some(t) => Some(given_uuid(&field("topology"), t)?),
                None => None,
            };
            if !testbeds.is_empty() && topology.is_some() {
                return Err(AppError::invalid_field(
                    field("topology"),
                    "an entry runs on testbeds or on a topology, not both",
                ));
            }
            e.parameters.check(&field("parameters"))?;
            let size = stored("parameters", &e.parameters)?.len();
            if size > MAX_JSON_BYTES {
                return Err(AppError::invalid_field(
                    field("parameters"),
                    format!("must be at most {MAX_JSON_BYTES} bytes as JSON"),
                ));
            }
            Ok(BundleEntry {
                profile: given_uuid(&field("profile"), &e.profile)?,
                testbeds,
                topology,
                parameters: e.parameters.clone(),
            })
        })
        .collect()
}

/// Every profile, testbed and topology the entries name is defined in `group` (three reads).
async fn bundle_references(
    db: &impl ConnectionTrait,
    group: &str,
    entries: &[BundleEntry],
) -> AppResult<()> {
    let mut profiles: Vec<String> = entries.iter().map(|e| e.profile.clone()).collect();
    profiles.sort();
    profiles.dedup();
    let mut testbeds: Vec<String> = entries.iter().flat_map(|e| e.testbeds.clone()).collect();
    testbeds.sort();
    testbeds.dedup();
    let mut topologies: Vec<String> = entries.iter().filter_map(|e| e.topology.clone()).collect();
    topologies.sort();
    topologies.dedup();
    let found_profiles: Vec<String> = profiles_by_uuids(db, group, &profiles)
        .await?
        .into_iter()
        .map(|p| p.uuid)
        .collect();
    let found_testbeds: Vec<String> = testbeds_by_uuids(db, group, &testbeds)
        .await?
        .into_iter()
        .map(|t| t.uuid)
        .collect();
    let found_topologies: Vec<String> = topologies_by_uuids(db, group, &topologies)
        .await?
        .into_iter()
        .map(|t| t.uuid)
        .collect();
    for (i, e) in entries.iter().enumerate() {
        if !found_profiles.contains(&e.profile) {
            return Err(AppError::invalid_field(
                format!("entries[{i}].profile"),
                format!("profile {} is not defined", e.profile),
            ));
        }
        if let Some(u) = first_missing(&e.testbeds, &found_testbeds) {
            return Err(AppError::invalid_field(
                format!("entries[{i}].testbeds"),
                format!("testbed {u} is not defined"),
            ));
        }
        if let Some(t) = &e.topology
            && !found_topologies.contains(t)
        {
            return Err(AppError::invalid_field(
                format!("entries[{i}].topology"),
                format!("topology {t} is not defined"),
            ));
        }
    }
    Ok(())
}

pub async fn create_bundle(
    db: &impl ConnectionTrait,
    group: &str,
    input: &NewBundle,
) -> AppResult<Bundle> {
    type E = xpr_bundle::Entity;
    let name = check_name("name", &input.name)?;
    let entries = bundle_entries(&input.entries)?;
    let stored_entries = stored("entries", &entries)?;
    let uuid = new_uuid()?;
    let t = now();
    let _turn = write_turn(db).await;
    bundle_references(db, group, &entries).await?;
    name_free::<E>(db, group, &name, None).await?;
    xpr_bundle::ActiveModel {
        id: NotSet,
        uuid: Set(uuid),
        group_name: Set(group.to_owned()),
        name: Set(name.clone()),
        entries: Set(stored_entries),
        created_at: Set(t),
        updated_at: Set(t),
    }
    .insert(db)
    .await
    .map_err(name_conflict::<E>(&name))
}

/// Replaces the bundle's name and entries.
pub async fn update_bundle(
    db: &impl ConnectionTrait,
    group: &str,
    uuid: &str,
    input: &NewBundle,
) -> AppResult<Bundle> {
    type E = xpr_bundle::Entity;
    let name = check_name("name", &input.name)?;
    let entries = bundle_entries(&input.entries)?;
    let stored_entries = stored("entries", &entries)?;
    let _turn = write_turn(db).await;
    let row = existing::<E>(db, group, uuid).await?;
    bundle_references(db, group, &entries).await?;
    name_free::<E>(db, group, &name, Some(row.id)).await?;
    let mut am = row.into_active_model();
    am.name = Set(name.clone());
    am.entries = Set(stored_entries);
    am.updated_at = Set(now());
    am.update(db).await.map_err(name_conflict::<E>(&name))
}

pub async fn delete_bundle(db: &impl ConnectionTrait, group: &str, uuid: &str) -> AppResult<()> {
    remove::<xpr_bundle::Entity>(db, group, uuid).await
}

/// The group's bundles in creation order (the slice's part; at most `MAX_LIST_ROWS`).
pub async fn list_bundles(
    db: &impl ConnectionTrait,
    group: &str,
    slice: &Slice,
) -> AppResult<Vec<Bundle>> {
    list::<xpr_bundle::Entity>(db, group, slice).await
}

pub async fn count_bundles(db: &impl ConnectionTrait, group: &str) -> AppResult<u64> {
    count::<xpr_bundle::Entity>(db, group).await
}

/// A bundle's entries as stored (none when the column is damaged).
pub fn bundle_entries_of(b: &Bundle) -> Vec<BundleEntry> {
    serde_json::from_str(&b.entries).unwrap_or_default()
}
