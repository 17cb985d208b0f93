//! Topologies: creating, replacing, deleting and listing them.

use sea_orm::{ActiveModelTrait, ActiveValue::NotSet, ConnectionTrait, IntoActiveModel, Set};

use super::super::model::{Topology, check_name, new_uuid};
use super::shared::{
    check_definition, count, existing, list, name_conflict, name_free, now, remove,
};
use crate::error::AppResult;
use crate::service::{Slice, write_turn};
use entity::xpr_topology;

/// A topology to create, or the whole of one to replace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewTopology {
    pub name: String,
    /// The topology definition (YAML or JSON), at most `MAX_DEFINITION_BYTES`.
    pub definition: String,
}

pub async fn create_topology(
    db: &impl ConnectionTrait,
    group: &str,
    input: &NewTopology,
) -> AppResult<Topology> {
    type E = xpr_topology::Entity;
    let name = check_name("name", &input.name)?;
    check_definition(&input.definition)?;
    let uuid = new_uuid()?;
    let t = now();
    let _turn = write_turn(db).await;
    name_free::<E>(db, group, &name, None).await?;
    xpr_topology::ActiveModel {
        id: NotSet,
        uuid: Set(uuid),
        group_name: Set(group.to_owned()),
        name: Set(name.clone()),
        definition: Set(input.definition.clone()),
        created_at: Set(t),
        updated_at: Set(t),
    }
    .insert(db)
    .await
    .map_err(name_conflict::<E>(&name))
}

/// Replaces the topology's name and definition.
pub async fn update_topology(
    db: &impl ConnectionTrait,
    group: &str,
    uuid: &str,
    input: &NewTopology,
) -> AppResult<Topology> {
    type E = xpr_topology::Entity;
    let name = check_name("name", &input.name)?;
    check_definition(&input.definition)?;
    let _turn = write_turn(db).await;
    let row = existing::<E>(db, group, uuid).await?;
    name_free::<E>(db, group, &name, Some(row.id)).await?;
    let mut am = row.into_active_model();
    am.name = Set(name.clone());
    am.definition = Set(input.definition.clone());
    am.updated_at = Set(now());
    am.update(db).await.map_err(name_conflict::<E>(&name))
}

pub async fn delete_topology(db: &impl ConnectionTrait, group: &str, uuid: &str) -> AppResult<()> {
    remove::<xpr_topology::Entity>(db, group, uuid).await
}

/// The group's topologies in creation order (the slice's part; at most `MAX_LIST_ROWS`).
pub async fn list_topologies(
    db: &impl ConnectionTrait,
    group: &str,
    slice: &Slice,
) -> AppResult<Vec<Topology>> {
    list::<xpr_topology::Entity>(db, group, slice).await
}

pub async fn count_topologies(db: &impl ConnectionTrait, group: &str) -> AppResult<u64> {
    count::<xpr_topology::Entity>(db, group).await
}
