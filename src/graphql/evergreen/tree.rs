//! The Evergreen rows of the one-pass writer (`graphql::onepass`): the version tree's four levels,
//! each with the fields of its GraphQL object (`nodes`) and how the level below it is read.

use std::collections::HashMap;

use async_graphql::parser::types::Field;
use async_graphql::{ContextBase, Positioned};
use futures_util::future::BoxFuture;
use sea_orm::DatabaseConnection;

use super::inputs::EvergreenStatusFilter;
use crate::error::AppResult;
use crate::graphql::onepass::{
    TreeRow, put_bool, put_float, put_int, put_naive, put_str, put_time,
};
use crate::graphql::time::{epoch, seconds};
use crate::service::KeyCursor;
use crate::service::evergreen::{
    self as svc, Build, ChildFilter, Parent, Task, TestResult, Version,
};
use crate::service::rows::ColumnSet;

/// The `filter` argument of a nested builds, tasks or test results connection.
fn status_filter(field: &ContextBase<'_, &Positioned<Field>>) -> Option<ChildFilter> {
    let (_, filter) = field
        .param_value::<Option<EvergreenStatusFilter>>("filter", None)
        .ok()?;
    Some(filter.unwrap_or_default().into_filter())
}

impl TreeRow for Version {
    type Child = Build;
    type Filter = ChildFilter;
    const NODE: &'static str = "EvergreenVersion";
    const CHILDREN: Option<&'static str> = Some("builds");
    const FIELDS: &'static [(&'static str, &'static [&'static str])] = &[
        ("id", &["version_id"]),
        ("revision", &["revision"]),
        ("author", &["author"]),
        ("authorEmail", &["author_email"]),
        ("message", &["message"]),
        ("status", &["status"]),
        ("activated", &["activated"]),
        ("createTime", &["create_time"]),
        ("startTime", &["start_time"]),
        ("finishTime", &["finish_time"]),
        ("order", &["order_num"]),
        ("requester", &["requester"]),
    ];

    fn id(&self) -> i64 {
        self.id
    }
    fn parent_id(&self) -> i64 {
        self.project_id
    }
    fn cursor(&self) -> KeyCursor {
        svc::version_cursor(self)
    }
    fn child_filter(field: &ContextBase<'_, &Positioned<Field>>) -> Option<ChildFilter> {
        status_filter(field)
    }
    fn children_page<'a>(
        db: &'a DatabaseConnection,
        parent_ids: &'a [i64],
        filter: &'a ChildFilter,
        after: Option<&'a KeyCursor>,
        limit: u64,
        cols: ColumnSet,
    ) -> BoxFuture<'a, AppResult<Vec<Self::Child>>> {
        let parent = Parent::VersionOfBuild;
        Box::pin(svc::children_page(
            db, parent, parent_ids, filter, after, limit, cols,
        ))
    }
    fn count_children<'a>(
        db: &'a DatabaseConnection,
        parent_ids: &'a [i64],
        filter: &'a ChildFilter,
    ) -> BoxFuture<'a, AppResult<HashMap<i64, u64>>> {
        Box::pin(svc::count_children(
            db,
            Parent::VersionOfBuild,
            parent_ids,
            filter,
        ))
    }
    fn write_scalar(&self, field: &str, out: &mut Vec<u8>) {
        match field {
            "id" => put_str(out, &self.version_id),
            "revision" => put_str(out, &self.revision),
            "author" => put_str(out, &self.author),
            "authorEmail" => put_str(out, &self.author_email),
            "message" => put_str(out, &self.message),
            "status" => put_str(out, &self.status),
            "activated" => put_bool(out, self.activated),
            "createTime" => put_naive(out, Some(self.create_time)),
            "startTime" => put_naive(out, self.start_time),
            "finishTime" => put_naive(out, self.finish_time),
            "order" => put_int(out, self.order_num),
            "requester" => put_str(out, &self.requester),
            _ => out.extend_from_slice(b"null"),
        }
    }
}

impl TreeRow for Build {
    type Child = Task;
    type Filter = ChildFilter;
    const NODE: &'static str = "EvergreenBuild";
    const CHILDREN: Option<&'static str> = Some("tasks");
    const FIELDS: &'static [(&'static str, &'static [&'static str])] = &[
        ("id", &["build_id"]),
        ("variant", &["variant"]),
        ("displayName", &["display_name"]),
        ("buildNumber", &["build_number"]),
        ("status", &["status"]),
        ("activated", &["activated"]),
        ("activatedTime", &["activated_time"]),
        ("createTime", &["create_time"]),
        ("startTime", &["start_time"]),
        ("finishTime", &["finish_time"]),
        ("pushTime", &["push_time"]),
        ("timeTakenNs", &["time_taken_ns"]),
        ("timeTakenSeconds", &["time_taken_ns"]),
    ];

    fn id(&self) -> i64 {
        self.id
    }
    fn parent_id(&self) -> i64 {
        self.version_id
    }
    fn cursor(&self) -> KeyCursor {
        svc::child_cursor(Some(i64::from(self.position)), self.id)
    }
    fn child_filter(field: &ContextBase<'_, &Positioned<Field>>) -> Option<ChildFilter> {
        status_filter(field)
    }
    fn children_page<'a>(
        db: &'a DatabaseConnection,
        parent_ids: &'a [i64],
        filter: &'a ChildFilter,
        after: Option<&'a KeyCursor>,
        limit: u64,
        cols: ColumnSet,
    ) -> BoxFuture<'a, AppResult<Vec<Self::Child>>> {
        let parent = Parent::BuildOfTask;
        Box::pin(svc::children_page(
            db, parent, parent_ids, filter, after, limit, cols,
        ))
    }
    fn count_children<'a>(
        db: &'a DatabaseConnection,
        parent_ids: &'a [i64],
        filter: &'a ChildFilter,
    ) -> BoxFuture<'a, AppResult<HashMap<i64, u64>>> {
        Box::pin(svc::count_children(
            db,
            Parent::BuildOfTask,
            parent_ids,
            filter,
        ))
    }
    fn write_scalar(&self, field: &str, out: &mut Vec<u8>) {
        match field {
            "id" => put_str(out, &self.build_id),
            "variant" => put_str(out, &self.variant),
            "displayName" => put_str(out, &self.display_name),
            "buildNumber" => put_str(out, &self.build_number),
            "status" => put_str(out, &self.status),
            "activated" => put_bool(out, self.activated),
            "activatedTime" => put_naive(out, self.activated_time),
            "createTime" => put_naive(out, Some(self.create_time)),
            "startTime" => put_naive(out, self.start_time),
            "finishTime" => put_naive(out, self.finish_time),
            "pushTime" => put_naive(out, self.push_time),
            "timeTakenNs" => put_int(out, self.time_taken_ns),
            "timeTakenSeconds" => put_float(out, seconds(self.time_taken_ns)),
            _ => out.extend_from_slice(b"null"),
        }
    }
}

impl TreeRow for Task {
    type Child = TestResult;
    type Filter = ChildFilter;
    const NODE: &'static str = "EvergreenTask";
    const CHILDREN: Option<&'static str> = Some("testResults");
    const FIELDS: &'static [(&'static str, &'static [&'static str])] = &[
        ("id", &["task_id"]),
        ("displayName", &["display_name"]),
        ("variant", &["variant"]),
        ("status", &["status"]),
        ("activated", &["activated"]),
        ("priority", &["priority"]),
        ("distro", &["distro"]),
        ("hostId", &["host_id"]),
        ("detailsType", &["details_type"]),
        ("detailsDesc", &["details_desc"]),
        ("timedOut", &["timed_out"]),
        ("aborted", &["aborted"]),
        ("createTime", &["create_time"]),
        ("scheduledTime", &["scheduled_time"]),
        ("dispatchTime", &["dispatch_time"]),
        ("startTime", &["start_time"]),
        ("finishTime", &["finish_time"]),
        ("pushTime", &["push_time"]),
        ("lastHeartbeat", &["last_heartbeat"]),
        ("restarts", &["restarts"]),
        ("execution", &["execution"]),
        ("archived", &["archived"]),
        ("timeTakenNs", &["time_taken_ns"]),
        ("timeTakenSeconds", &["time_taken_ns"]),
        ("expectedDurationNs", &["expected_duration_ns"]),
        ("minQueuePos", &["min_queue_pos"]),
        ("dependsOn", &["depends_on"]),
    ];

    fn id(&self) -> i64 {
        self.id
    }
    fn parent_id(&self) -> i64 {
        self.build_id
    }
    fn cursor(&self) -> KeyCursor {
        svc::child_cursor(Some(i64::from(self.position)), self.id)
    }
    fn child_filter(field: &ContextBase<'_, &Positioned<Field>>) -> Option<ChildFilter> {
        status_filter(field)
    }
    fn children_page<'a>(
        db: &'a DatabaseConnection,
        parent_ids: &'a [i64],
        filter: &'a ChildFilter,
        after: Option<&'a KeyCursor>,
        limit: u64,
        cols: ColumnSet,
    ) -> BoxFuture<'a, AppResult<Vec<Self::Child>>> {
        let parent = Parent::TaskOfResult;
        Box::pin(svc::children_page(
            db, parent, parent_ids, filter, after, limit, cols,
        ))
    }
    fn count_children<'a>(
        db: &'a DatabaseConnection,
        parent_ids: &'a [i64],
        filter: &'a ChildFilter,
    ) -> BoxFuture<'a, AppResult<HashMap<i64, u64>>> {
        Box::pin(svc::count_children(
            db,
            Parent::TaskOfResult,
            parent_ids,
            filter,
        ))
    }
    fn write_scalar(&self, field: &str, out: &mut Vec<u8>) {
        match field {
            "id" => put_str(out, &self.task_id),
            "displayName" => put_str(out, &self.display_name),
            "variant" => put_str(out, &self.variant),
            "status" => put_str(out, &self.status),
            "activated" => put_bool(out, self.activated),
            "priority" => put_int(out, self.priority),
            "distro" => put_str(out, &self.distro),
            "hostId" => put_str(out, &self.host_id),
            "detailsType" => put_str(out, &self.details_type),
            "detailsDesc" => put_str(out, &self.details_desc),
            "timedOut" => put_bool(out, self.timed_out),
            "aborted" => put_bool(out, self.aborted),
            "createTime" => put_naive(out, Some(self.create_time)),
            "scheduledTime" => put_naive(out, self.scheduled_time),
            "dispatchTime" => put_naive(out, self.dispatch_time),
            "startTime" => put_naive(out, self.start_time),
            "finishTime" => put_naive(out, self.finish_time),
            "pushTime" => put_naive(out, self.push_time),
            "lastHeartbeat" => put_naive(out, self.last_heartbeat),
            "restarts" => put_int(out, i64::from(self.restarts)),
            "execution" => put_int(out, i64::from(self.execution)),
            "archived" => put_bool(out, self.archived),
            "timeTakenNs" => put_int(out, self.time_taken_ns),
            "timeTakenSeconds" => put_float(out, seconds(self.time_taken_ns)),
            "expectedDurationNs" => put_int(out, self.expected_duration_ns),
            "minQueuePos" => put_int(out, i64::from(self.min_queue_pos)),
            "dependsOn" => {
                let _ = serde_json::to_writer(&mut *out, &svc::task_depends_on(self));
            }
            _ => out.extend_from_slice(b"null"),
        }
    }
}

impl TreeRow for TestResult {
    type Child = TestResult;
    type Filter = ();
    const NODE: &'static str = "EvergreenTestResult";
    const FIELDS: &'static [(&'static str, &'static [&'static str])] = &[
        ("testFile", &["test_file"]),
        ("status", &["status"]),
        ("url", &["url"]),
        ("logId", &["log_id"]),
        ("lineNum", &["line_num"]),
        ("exitCode", &["exit_code"]),
        ("execution", &["execution"]),
        ("start", &["start_s"]),
        ("end", &["end_s"]),
        ("startTime", &["start_s"]),
        ("endTime", &["end_s"]),
        ("timeTakenNs", &["start_s", "end_s"]),
        ("timeTakenSeconds", &["start_s", "end_s"]),
    ];

    fn id(&self) -> i64 {
        self.id
    }
    fn parent_id(&self) -> i64 {
        self.task_id
    }
    fn cursor(&self) -> KeyCursor {
        svc::child_cursor(None, self.id)
    }
    fn write_scalar(&self, field: &str, out: &mut Vec<u8>) {
        match field {
            "testFile" => put_str(out, &self.test_file),
            "status" => put_str(out, &self.status),
            "url" => put_str(out, &self.url),
            "logId" => put_str(out, &self.log_id),
            "lineNum" => put_int(out, i64::from(self.line_num)),
            "exitCode" => put_int(out, i64::from(self.exit_code)),
            "execution" => put_int(out, i64::from(self.execution)),
            "start" => put_float(out, self.start_s),
            "end" => put_float(out, self.end_s),
            "startTime" => put_time(out, epoch(self.start_s)),
            "endTime" => put_time(out, epoch(self.end_s)),
            "timeTakenNs" => put_int(out, ((self.end_s - self.start_s) * 1e9) as i64),
            "timeTakenSeconds" => put_float(out, self.end_s - self.start_s),
            _ => out.extend_from_slice(b"null"),
        }
    }
}
