//! Rows decoded by position, for the statements that return thousands of rows per request (the
//! per-parent child pages behind nested GraphQL lists).
//!
//! sea-orm's derived `FromQueryResult` reads every column by name: it formats `"{prefix}{name}"`
//! and the driver looks the name up, for every column of every row. On a nested query that
//! returns 7,000 rows of up to 30 columns that was the largest single cost in the server
//! (about a third of its CPU). These statements select the entity's columns explicitly, in the
//! entity's declared order, and `decode` reads them back by index.

use sea_orm::sea_query::{Alias, IntoIden, SelectStatement};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Iterable, QueryResult};

use entity::{evg_artifact as art, evg_build as bld, evg_task as tsk, evg_test_result as res};

use crate::error::AppResult;

/// A model read by column position.
pub trait Positional: Sized + Send {
    /// The entity whose columns are selected, in `Column::iter()` (declaration) order.
    type Entity: EntityTrait;

    /// Reads one row whose first columns are the entity's, in declaration order.
    fn decode(row: &QueryResult) -> Result<Self, DbErr>;
}

/// Adds every column of `T`'s entity, qualified by `table`, in declaration order.
pub fn select_columns<T: Positional>(q: &mut SelectStatement, table: &Alias) {
    for c in <T::Entity as EntityTrait>::Column::iter() {
        q.column((table.clone(), c.into_iden()));
    }
}

/// Runs a select built with `select_columns` (possibly followed by more columns) and decodes
/// every row.
pub async fn fetch_positional<T: Positional>(
    db: &impl ConnectionTrait,
    stmt: &SelectStatement,
) -> AppResult<Vec<T>> {
    fetch_decoded(db, stmt, T::decode).await
}

/// Runs a select and decodes every row with `decode`, which reads the columns by position.
pub async fn fetch_decoded<T>(
    db: &impl ConnectionTrait,
    stmt: &SelectStatement,
    decode: impl Fn(&QueryResult) -> Result<T, DbErr>,
) -> AppResult<Vec<T>> {
    let rows = db.query_all(stmt).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(decode(r)?);
    }
    Ok(out)
}

/// Reads consecutive columns: each `next` call takes the following index.
pub struct Cols<'a> {
    row: &'a QueryResult,
    at: usize,
}

impl<'a> Cols<'a> {
    pub fn new(row: &'a QueryResult) -> Self {
        Cols { row, at: 0 }
    }

    pub fn next<V: sea_orm::TryGetable>(&mut self) -> Result<V, DbErr> {
        let v = self.row.try_get_by_index(self.at)?;
        self.at += 1;
        Ok(v)
    }
}

impl Positional for res::Model {
    type Entity = res::Entity;

    fn decode(row: &QueryResult) -> Result<Self, DbErr> {
        let mut c = Cols { row, at: 0 };
        Ok(Self {
            id: c.next()?,
            task_id: c.next()?,
            execution: c.next()?,
            test_file: c.next()?,
            status: c.next()?,
            url: c.next()?,
            log_id: c.next()?,
            line_num: c.next()?,
            exit_code: c.next()?,
            start_s: c.next()?,
            end_s: c.next()?,
        })
    }
}

impl Positional for tsk::Model {
    type Entity = tsk::Entity;

    fn decode(row: &QueryResult) -> Result<Self, DbErr> {
        let mut c = Cols { row, at: 0 };
        Ok(Self {
            id: c.next()?,
            task_id: c.next()?,
            build_id: c.next()?,
            version_id: c.next()?,
            project_id: c.next()?,
            position: c.next()?,
            display_name: c.next()?,
            variant: c.next()?,
            distro: c.next()?,
            host_id: c.next()?,
            priority: c.next()?,
            activated: c.next()?,
            status: c.next()?,
            details_type: c.next()?,
            details_desc: c.next()?,
            timed_out: c.next()?,
            aborted: c.next()?,
            create_time: c.next()?,
            scheduled_time: c.next()?,
            dispatch_time: c.next()?,
            start_time: c.next()?,
            finish_time: c.next()?,
            push_time: c.next()?,
            last_heartbeat: c.next()?,
            restarts: c.next()?,
            execution: c.next()?,
            archived: c.next()?,
            time_taken_ns: c.next()?,
            expected_duration_ns: c.next()?,
            min_queue_pos: c.next()?,
            depends_on: c.next()?,
        })
    }
}

impl Positional for bld::Model {
    type Entity = bld::Entity;

    fn decode(row: &QueryResult) -> Result<Self, DbErr> {
        let mut c = Cols { row, at: 0 };
        Ok(Self {
            id: c.next()?,
            build_id: c.next()?,
            version_id: c.next()?,
            project_id: c.next()?,
            position: c.next()?,
            variant: c.next()?,
            display_name: c.next()?,
            build_number: c.next()?,
            status: c.next()?,
            activated: c.next()?,
            activated_time: c.next()?,
            create_time: c.next()?,
            start_time: c.next()?,
            finish_time: c.next()?,
            push_time: c.next()?,
            time_taken_ns: c.next()?,
        })
    }
}

impl Positional for art::Model {
    type Entity = art::Entity;

    fn decode(row: &QueryResult) -> Result<Self, DbErr> {
        let mut c = Cols { row, at: 0 };
        Ok(Self {
            id: c.next()?,
            task_id: c.next()?,
            name: c.next()?,
            url: c.next()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sea_query::Iden;

    fn names<E: EntityTrait>() -> Vec<String> {
        E::Column::iter().map(|c| c.to_string()).collect()
    }

    /// `decode` reads the fields in this order; the entity must declare its columns in it too.
    #[test]
    fn declared_column_order_is_the_decoding_order() {
        assert_eq!(
            names::<res::Entity>(),
            [
                "id",
                "task_id",
                "execution",
                "test_file",
                "status",
                "url",
                "log_id",
                "line_num",
                "exit_code",
                "start_s",
                "end_s"
            ]
        );
        assert_eq!(names::<art::Entity>(), ["id", "task_id", "name", "url"]);
        assert_eq!(
            names::<bld::Entity>(),
            [
                "id",
                "build_id",
                "version_id",
                "project_id",
                "position",
                "variant",
                "display_name",
                "build_number",
                "status",
                "activated",
                "activated_time",
                "create_time",
                "start_time",
                "finish_time",
                "push_time",
                "time_taken_ns"
            ]
        );
        assert_eq!(
            names::<tsk::Entity>(),
            [
                "id",
                "task_id",
                "build_id",
                "version_id",
                "project_id",
                "position",
                "display_name",
                "variant",
                "distro",
                "host_id",
                "priority",
                "activated",
                "status",
                "details_type",
                "details_desc",
                "timed_out",
                "aborted",
                "create_time",
                "scheduled_time",
                "dispatch_time",
                "start_time",
                "finish_time",
                "push_time",
                "last_heartbeat",
                "restarts",
                "execution",
                "archived",
                "time_taken_ns",
                "expected_duration_ns",
                "min_queue_pos",
                "depends_on"
            ]
        );
    }
}
