//! The Evergreen rows the per-parent pages read by column position (`service::rows`): each
//! `decode` reads the entity's columns in their declared order.

use entity::{evg_artifact as art, evg_build as bld, evg_task as tsk, evg_test_result as res};
use sea_orm::{DbErr, QueryResult};

use crate::service::rows::{Cols, ColumnSet, Positional};

impl Positional for res::Model {
    type Entity = res::Entity;

    fn decode(row: &QueryResult, cols: ColumnSet) -> Result<Self, DbErr> {
        let mut c = Cols::new(row, cols);
        Ok(Self {
            id: c.read()?,
            task_id: c.read()?,
            execution: c.read()?,
            test_file: c.read()?,
            status: c.read()?,
            url: c.read()?,
            log_id: c.read()?,
            line_num: c.read()?,
            exit_code: c.read()?,
            start_s: c.read()?,
            end_s: c.read()?,
        })
    }
}

impl Positional for tsk::Model {
    type Entity = tsk::Entity;

    fn decode(row: &QueryResult, cols: ColumnSet) -> Result<Self, DbErr> {
        let mut c = Cols::new(row, cols);
        Ok(Self {
            id: c.read()?,
            task_id: c.read()?,
            build_id: c.read()?,
            version_id: c.read()?,
            project_id: c.read()?,
            position: c.read()?,
            display_name: c.read()?,
            variant: c.read()?,
            distro: c.read()?,
            host_id: c.read()?,
            priority: c.read()?,
            activated: c.read()?,
            status: c.read()?,
            details_type: c.read()?,
            details_desc: c.read()?,
            timed_out: c.read()?,
            aborted: c.read()?,
            create_time: c.read()?,
            scheduled_time: c.read()?,
            dispatch_time: c.read()?,
            start_time: c.read()?,
            finish_time: c.read()?,
            push_time: c.read()?,
            last_heartbeat: c.read()?,
            restarts: c.read()?,
            execution: c.read()?,
            archived: c.read()?,
            time_taken_ns: c.read()?,
            expected_duration_ns: c.read()?,
            min_queue_pos: c.read()?,
            depends_on: c.read()?,
        })
    }
}

impl Positional for bld::Model {
    type Entity = bld::Entity;

    fn decode(row: &QueryResult, cols: ColumnSet) -> Result<Self, DbErr> {
        let mut c = Cols::new(row, cols);
        Ok(Self {
            id: c.read()?,
            build_id: c.read()?,
            version_id: c.read()?,
            project_id: c.read()?,
            position: c.read()?,
            variant: c.read()?,
            display_name: c.read()?,
            build_number: c.read()?,
            status: c.read()?,
            activated: c.read()?,
            activated_time: c.read()?,
            create_time: c.read()?,
            start_time: c.read()?,
            finish_time: c.read()?,
            push_time: c.read()?,
            time_taken_ns: c.read()?,
        })
    }
}

impl Positional for art::Model {
    type Entity = art::Entity;

    fn decode(row: &QueryResult, cols: ColumnSet) -> Result<Self, DbErr> {
        let mut c = Cols::new(row, cols);
        Ok(Self {
            id: c.read()?,
            task_id: c.read()?,
            name: c.read()?,
            url: c.read()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::rows::column_names as names;

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
