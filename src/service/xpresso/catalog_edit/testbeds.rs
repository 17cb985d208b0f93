//! Testbeds: creating, replacing, deleting and listing them.

use sea_orm::{ActiveModelTrait, ActiveValue::NotSet, ConnectionTrait, IntoActiveModel, Set};

use super::super::model::{Testbed, check_name, new_uuid};
use super::shared::{
    check_definition, count, existing, list, name_conflict, name_free, now, remove,
};
use crate::error::AppResult;
use crate::service::{Slice, write_turn};
use entity::xpr_testbed;

/// A testbed to create, or the whole of one to replace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewTestbed {
    pub name: String,
    /// The testbed file (pyATS YAML), at most `MAX_DEFINITION_BYTES`.
    pub definition: String,
}

pub async fn create_testbed(
    db: &impl ConnectionTrait,
    group: &str,
    input: &NewTestbed,
) -> AppResult<Testbed> {
    type E = xpr_testbed::Entity;
    let name = check_name("name", &input.name)?;
    check_definition(&input.definition)?;
    let uuid = new_uuid()?;
    let t = now();
    let _turn = write_turn(db).await;
    name_free::<E>(db, group, &name, None).await?;
    xpr_testbed::ActiveModel {
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

/// Replaces the testbed's name and definition.
pub async fn update_testbed(
    db: &impl ConnectionTrait,
    group: &str,
    uuid: &str,
    input: &NewTestbed,
) -> AppResult<Testbed> {
    type E = xpr_testbed::Entity;
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

pub async fn delete_testbed(db: &impl ConnectionTrait, group: &str, uuid: &str) -> AppResult<()> {
    remove::<xpr_testbed::Entity>(db, group, uuid).await
}

/// The group's testbeds in creation order (the slice's part; at most `MAX_LIST_ROWS`).
pub async fn list_testbeds(
    db: &impl ConnectionTrait,
    group: &str,
    slice: &Slice,
) -> AppResult<Vec<Testbed>> {
    list::<xpr_testbed::Entity>(db, group, slice).await
}

pub async fn count_testbeds(db: &impl ConnectionTrait, group: &str) -> AppResult<u64> {
    count::<xpr_testbed::Entity>(db, group).await
}
