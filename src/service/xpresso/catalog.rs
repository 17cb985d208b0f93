//! Reading the catalog: testbeds, topologies, profiles and bundles, each within its group.
//! Another group's entry is as absent as one that does not exist.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::model::{Bundle, Profile, Testbed, Topology};
use crate::error::AppResult;
use entity::{xpr_bundle, xpr_profile, xpr_testbed, xpr_topology};

/// The entry of `E` with this UUID in `group`.
async fn one<E: EntityTrait>(
    db: &impl ConnectionTrait,
    (uuid_col, group_col): (E::Column, E::Column),
    group: &str,
    uuid: &str,
) -> AppResult<Option<E::Model>> {
    Ok(E::find()
        .filter(uuid_col.eq(uuid.to_ascii_lowercase()))
        .filter(group_col.eq(group))
        .one(db)
        .await?)
}

/// The entries of `E` with these UUIDs in `group` (those that exist, in no particular order).
async fn some<E: EntityTrait>(
    db: &impl ConnectionTrait,
    (uuid_col, group_col): (E::Column, E::Column),
    group: &str,
    uuids: &[String],
) -> AppResult<Vec<E::Model>> {
    if uuids.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: Vec<String> = uuids.iter().map(|u| u.to_ascii_lowercase()).collect();
    Ok(E::find()
        .filter(uuid_col.is_in(wanted))
        .filter(group_col.eq(group))
        .all(db)
        .await?)
}

const TESTBED: (xpr_testbed::Column, xpr_testbed::Column) =
    (xpr_testbed::Column::Uuid, xpr_testbed::Column::GroupName);
const TOPOLOGY: (xpr_topology::Column, xpr_topology::Column) =
    (xpr_topology::Column::Uuid, xpr_topology::Column::GroupName);
const PROFILE: (xpr_profile::Column, xpr_profile::Column) =
    (xpr_profile::Column::Uuid, xpr_profile::Column::GroupName);
const BUNDLE: (xpr_bundle::Column, xpr_bundle::Column) =
    (xpr_bundle::Column::Uuid, xpr_bundle::Column::GroupName);

pub async fn testbed(
    db: &impl ConnectionTrait,
    group: &str,
    uuid: &str,
) -> AppResult<Option<Testbed>> {
    one::<xpr_testbed::Entity>(db, TESTBED, group, uuid).await
}

pub async fn topology(
    db: &impl ConnectionTrait,
    group: &str,
    uuid: &str,
) -> AppResult<Option<Topology>> {
    one::<xpr_topology::Entity>(db, TOPOLOGY, group, uuid).await
}

pub async fn profile(
    db: &impl ConnectionTrait,
    group: &str,
    uuid: &str,
) -> AppResult<Option<Profile>> {
    one::<xpr_profile::Entity>(db, PROFILE, group, uuid).await
}

pub async fn bundle(
    db: &impl ConnectionTrait,
    group: &str,
    uuid: &str,
) -> AppResult<Option<Bundle>> {
    one::<xpr_bundle::Entity>(db, BUNDLE, group, uuid).await
}

pub async fn testbeds_by_uuids(
    db: &impl ConnectionTrait,
    group: &str,
    uuids: &[String],
) -> AppResult<Vec<Testbed>> {
    some::<xpr_testbed::Entity>(db, TESTBED, group, uuids).await
}

pub async fn topologies_by_uuids(
    db: &impl ConnectionTrait,
    group: &str,
    uuids: &[String],
) -> AppResult<Vec<Topology>> {
    some::<xpr_topology::Entity>(db, TOPOLOGY, group, uuids).await
}

pub async fn profiles_by_uuids(
    db: &impl ConnectionTrait,
    group: &str,
    uuids: &[String],
) -> AppResult<Vec<Profile>> {
    some::<xpr_profile::Entity>(db, PROFILE, group, uuids).await
}
