//! Lists answered in one pass: the Evergreen version tree (versions → builds → tasks → test
//! results) and, flat, the pytest-monitor `metrics` and `sessions` lists.
//!
//! async-graphql resolves every field of every object through its own future, context and
//! `IndexMap`, and then serialises and drops the resulting `Value` tree. For the nested tree that
//! dashboards ask for (20 versions → 10 builds → 5 tasks → 5 results: about 13,700 objects) that
//! machinery, not SQL, was most of the server's time, and about 60 % of it for a flat page of
//! 100 metrics. When the selection under `evergreenVersions` or `evergreenTasks` (or under one
//! version, build or task by id) is made only of plain fields of this tree, or the selection
//! under `metrics` or `sessions` only of their scalar fields (and a session's tags), it is
//! planned here once, read with the same service calls the resolvers make (one statement per
//! level), and written straight to JSON, which async-graphql passes through as a raw value (its
//! `raw_value` feature).
//!
//! Anything this plan does not cover (repeated response keys, which GraphQL merges; fragments on
//! other types; fields that leave the list such as `project`, `dependsOnTasks`, a metric's
//! `session` or a session's `tag(name)`; arguments that do not parse) returns `None` from the
//! planner, and the field is resolved the ordinary way, which also reports any error. So this
//! path never changes an answer: `tests/it/graphql_evergreen.rs` and `tests/it/graphql_monitor.rs`
//! compare the two on every field, and `rows_of_every_level_match_the_resolvers` pins that.
//!
//! Only the Evergreen rows have levels below them (`TreeRow::CHILDREN`), read through the
//! Evergreen service's per-parent pages.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Mutex;

use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{
    ContextBase, ContextSelectionSet, Name, OutputType, Positioned, ScalarType, ServerResult, Value,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use futures_util::future::BoxFuture;
use sea_orm::DatabaseConnection;

use super::evergreen::{EvergreenStatusFilter, epoch, seconds, utc};
use crate::config::Limits;
use crate::error::AppResult;
use crate::graphql::connection::{decode, encode, page_size};
use crate::service::KeyCursor;
use crate::service::evergreen::{
    self as svc, Build, ChildFilter, Parent, Task, TestResult, Version,
};
use crate::service::monitor::{Metric, Session};
use crate::service::rows::{ColumnSet, Positional};

// ----------------------------------------------------------------------------------------------
// The output type: either the ordinary connection or the JSON written here
// ----------------------------------------------------------------------------------------------

/// A field's value that is either resolved by async-graphql (`T`) or already written as JSON.
/// The schema sees `T`: the type name and registration are `T`'s.
pub enum Resolved<T> {
    Typed(T),
    /// Taken once, when async-graphql resolves the field.
    Json(Mutex<Option<String>>),
}

impl<T> Resolved<T> {
    pub fn json(text: String) -> Self {
        Resolved::Json(Mutex::new(Some(text)))
    }
}

impl<T: OutputType> OutputType for Resolved<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        match self {
            Resolved::Typed(t) => t.resolve(ctx, field).await,
            Resolved::Json(text) => {
                let text = text
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .unwrap_or_else(|| "null".to_owned());
                let mut raw = async_graphql::indexmap::IndexMap::with_capacity(1);
                raw.insert(
                    Name::new(async_graphql_value::RAW_VALUE_TOKEN),
                    Value::String(text),
                );
                Ok(Value::Object(raw))
            }
        }
    }
}

// ----------------------------------------------------------------------------------------------
// Rows of the tree
// ----------------------------------------------------------------------------------------------

/// A row type of the tree: its GraphQL name, its scalar fields and the level below it.
pub trait TreeRow: Sync + 'static {
    /// The level below (`Self` for test results, which have none).
    type Child: TreeRow + Positional;
    /// The GraphQL object type.
    const NODE: &'static str;
    /// The field that lists the level below, and how its rows hang off this one.
    const CHILDREN: Option<(&'static str, Parent)>;
    /// The scalar fields `write_scalar` writes, exactly those of the GraphQL object, each with
    /// the columns it reads (a nested page selects only those).
    const FIELDS: &'static [(&'static str, &'static [&'static str])];

    fn id(&self) -> i64;

    /// The id of the row this one hangs off (its parent in the tree). Read only for rows listed
    /// below a parent (some level's `Child`); a root-only list (metrics, sessions) has none.
    fn parent_id(&self) -> i64 {
        debug_assert!(false, "{} is never listed below a parent", Self::NODE);
        self.id()
    }

    /// The row's cursor in its parent's list (that list's fixed order). Read only for rows
    /// listed below a parent: a root list's cursor comes from its resolver, which knows the
    /// order the client asked for.
    fn cursor(&self) -> KeyCursor {
        debug_assert!(false, "{} is never listed below a parent", Self::NODE);
        KeyCursor::by_id(self.id())
    }
    /// Writes the value of `field`, one of `FIELDS`, as the object's resolver would return it.
    /// Only the field's own columns are certain to have been read.
    fn write_scalar(&self, field: &str, out: &mut Vec<u8>);

    /// Fields that are lists of plain objects (a session's `tags`): the field, the objects'
    /// GraphQL type and their scalar fields, written by `write_objects`. None by default.
    const OBJECT_LISTS: &'static [ObjectList] = &[];

    /// Writes the list `field`, one of `OBJECT_LISTS`, with `fields` (keys written before each
    /// value, each field one of the list's, or `__typename`) for every object.
    fn write_objects(&self, field: &str, fields: &[(Key, &'static str)], out: &mut Vec<u8>) {
        // Only planned for a row that declares `OBJECT_LISTS`, which must also write them.
        debug_assert!(false, "{} lists no objects, asked for {field}", Self::NODE);
        let _ = fields;
        out.extend_from_slice(b"null");
    }
}

/// A field of a row that lists plain objects: its name, the objects' type, their fields and the
/// row's columns the list is read from.
pub struct ObjectList {
    pub field: &'static str,
    pub node: &'static str,
    pub fields: &'static [&'static str],
    pub columns: &'static [&'static str],
}

/// Writes one plain object of an `ObjectList`: `value` gives each field's JSON.
fn put_object(
    out: &mut Vec<u8>,
    node: &str,
    fields: &[(Key, &'static str)],
    mut value: impl FnMut(&str, &mut Vec<u8>),
) {
    out.push(b'{');
    for (n, (key, field)) in fields.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(key);
        if *field == "__typename" {
            put_str(out, node);
        } else {
            value(field, out);
        }
    }
    out.push(b'}');
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn put_bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => put_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

fn put_int(out: &mut Vec<u8>, n: i64) {
    let _ = serde_json::to_writer(&mut *out, &n);
}

/// Floats as async-graphql writes them: through `serde_json::Number`, `null` when not finite.
fn put_float(out: &mut Vec<u8>, x: f64) {
    match serde_json::Number::from_f64(x) {
        Some(n) => {
            let _ = serde_json::to_writer(&mut *out, &n);
        }
        None => out.extend_from_slice(b"null"),
    }
}

/// An instant as the `DateTime` scalar writes it.
fn put_time(out: &mut Vec<u8>, t: Option<DateTime<Utc>>) {
    match t.map(|t| t.to_value()) {
        Some(Value::String(s)) => put_str(out, &s),
        _ => out.extend_from_slice(b"null"),
    }
}

fn put_naive(out: &mut Vec<u8>, t: Option<NaiveDateTime>) {
    put_time(out, t.map(utc));
}

impl TreeRow for Version {
    type Child = Build;
    const NODE: &'static str = "EvergreenVersion";
    const CHILDREN: Option<(&'static str, Parent)> = Some(("builds", Parent::VersionOfBuild));
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
    const NODE: &'static str = "EvergreenBuild";
    const CHILDREN: Option<(&'static str, Parent)> = Some(("tasks", Parent::BuildOfTask));
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
    const NODE: &'static str = "EvergreenTask";
    const CHILDREN: Option<(&'static str, Parent)> = Some(("testResults", Parent::TaskOfResult));
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
    const NODE: &'static str = "EvergreenTestResult";
    const CHILDREN: Option<(&'static str, Parent)> = None;
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

/// A pytest-monitor metric: a flat list, no level below.
impl TreeRow for Metric {
    type Child = Metric;
    const NODE: &'static str = "Metric";
    const CHILDREN: Option<(&'static str, Parent)> = None;
    const FIELDS: &'static [(&'static str, &'static [&'static str])] = &[
        ("id", &["id"]),
        ("sessionH", &["session_h"]),
        ("contextH", &["context_h"]),
        ("itemStartTime", &["item_start_time"]),
        ("itemPath", &["item_path"]),
        ("item", &["item"]),
        ("itemVariant", &["item_variant"]),
        ("itemFsLoc", &["item_fs_loc"]),
        ("kind", &["kind"]),
        ("component", &["component"]),
        ("totalTime", &["total_time"]),
        ("userTime", &["user_time"]),
        ("kernelTime", &["kernel_time"]),
        ("cpuUsage", &["cpu_usage"]),
        ("memUsage", &["mem_usage"]),
    ];

    fn id(&self) -> i64 {
        self.id
    }
    fn write_scalar(&self, field: &str, out: &mut Vec<u8>) {
        match field {
            "id" => put_int(out, self.id),
            "sessionH" => put_str(out, &self.session_h),
            "contextH" => put_str(out, &self.context_h),
            "itemStartTime" => put_str(out, &self.item_start_time),
            "itemPath" => put_str(out, &self.item_path),
            "item" => put_str(out, &self.item),
            "itemVariant" => put_str(out, &self.item_variant),
            "itemFsLoc" => put_str(out, &self.item_fs_loc),
            "kind" => put_str(out, &self.kind),
            "component" => put_opt_str(out, self.component.as_deref()),
            "totalTime" => put_float(out, self.total_time),
            "userTime" => put_float(out, self.user_time),
            "kernelTime" => put_float(out, self.kernel_time),
            "cpuUsage" => put_float(out, self.cpu_usage),
            "memUsage" => put_float(out, self.mem_usage),
            _ => out.extend_from_slice(b"null"),
        }
    }
}

/// A pytest-monitor session: a flat list, whose tags are a list of plain objects.
impl TreeRow for Session {
    type Child = Session;
    const NODE: &'static str = "Session";
    const CHILDREN: Option<(&'static str, Parent)> = None;
    const FIELDS: &'static [(&'static str, &'static [&'static str])] = &[
        ("h", &["h"]),
        ("runDate", &["run_date"]),
        ("runAt", &["run_at"]),
        ("scmRef", &["scm_ref"]),
    ];
    const OBJECT_LISTS: &'static [ObjectList] = &[ObjectList {
        field: "tags",
        node: "Tag",
        fields: &["name", "value"],
        columns: &["description"],
    }];

    fn id(&self) -> i64 {
        self.id
    }
    fn write_scalar(&self, field: &str, out: &mut Vec<u8>) {
        match field {
            "h" => put_str(out, &self.h),
            "runDate" => put_str(out, &self.run_date),
            "runAt" => put_naive(out, Some(self.run_at)),
            "scmRef" => put_opt_str(out, self.scm_ref.as_deref()),
            _ => out.extend_from_slice(b"null"),
        }
    }
    fn write_objects(&self, field: &str, fields: &[(Key, &'static str)], out: &mut Vec<u8>) {
        if field != "tags" {
            debug_assert!(false, "Session lists no {field}");
            out.extend_from_slice(b"null");
            return;
        }
        out.push(b'[');
        for (i, (name, value)) in self.tags().iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            put_object(out, "Tag", fields, |f, out| match f {
                "name" => put_str(out, name),
                _ => put_str(out, value),
            });
        }
        out.push(b']');
    }
}

// ----------------------------------------------------------------------------------------------
// The plan
// ----------------------------------------------------------------------------------------------

/// `"responseKey":`, written before a field's value.
type Key = Vec<u8>;

fn key_of(f: &Field) -> Key {
    let mut k = Vec::with_capacity(f.response_key().node.len() + 3);
    put_str(&mut k, f.response_key().node.as_str());
    k.push(b':');
    k
}

/// The selection on a connection.
pub struct ConnPlan {
    typename: String,
    items: Vec<(Key, ConnItem)>,
}

enum ConnItem {
    Typename,
    TotalCount,
    Edges {
        typename: String,
        items: Vec<(Key, EdgeItem)>,
    },
    Nodes(NodePlan),
    PageInfo(Vec<(Key, PageItem)>),
}

enum EdgeItem {
    Typename,
    Cursor,
    Node(NodePlan),
}

#[derive(Clone, Copy)]
enum PageItem {
    Typename,
    HasPrevious,
    HasNext,
    Start,
    End,
}

/// The selection on one object of the tree.
pub struct NodePlan {
    items: Vec<(Key, NodeItem)>,
    /// The columns its scalar fields read.
    columns: Vec<&'static str>,
}

enum NodeItem {
    Typename,
    Scalar(&'static str),
    /// A list of plain objects (`TreeRow::OBJECT_LISTS`) and the fields asked of them.
    Objects(&'static str, Vec<(Key, &'static str)>),
    Children(ChildPlan),
}

/// A nested connection: its arguments, checked as the resolver checks them, and its selection.
struct ChildPlan {
    parent: Parent,
    /// The columns the objects' fields read.
    cols: ColumnSet,
    limit: u64,
    after: Option<KeyCursor>,
    filter: ChildFilter,
    conn: ConnPlan,
}

impl ConnPlan {
    /// Whether the rows are needed at all (a connection asked only for its total reads none).
    fn wants_rows(&self) -> bool {
        self.items.iter().any(|(_, i)| {
            matches!(
                i,
                ConnItem::Edges { .. } | ConnItem::Nodes(_) | ConnItem::PageInfo(_)
            )
        })
    }

    pub fn wants_total(&self) -> bool {
        self.items
            .iter()
            .any(|(_, i)| matches!(i, ConnItem::TotalCount))
    }
}

/// The fields of a selection set on the object type `on`, with its fragments spread, or `None`
/// when two of them share a response key (GraphQL would merge them) or a fragment names another
/// type. `@skip` and `@include` are already applied (async-graphql removes them before
/// execution); any other directive also sends the query to the resolvers.
fn plain_fields<'a>(
    ctx: &ContextBase<'a, &'a Positioned<Field>>,
    set: &'a SelectionSet,
    on: &str,
) -> Option<Vec<&'a Positioned<Field>>> {
    fn collect<'a>(
        ctx: &ContextBase<'a, &'a Positioned<Field>>,
        set: &'a SelectionSet,
        on: &str,
        out: &mut Vec<&'a Positioned<Field>>,
        depth: usize,
    ) -> Option<()> {
        // Validation rejects fragment cycles; the bound only keeps this obviously finite.
        if depth > 32 {
            return None;
        }
        for s in &set.items {
            match &s.node {
                Selection::Field(f) => {
                    let key = &f.node.response_key().node;
                    if !f.node.directives.is_empty()
                        || out.iter().any(|g| g.node.response_key().node == *key)
                    {
                        return None;
                    }
                    out.push(f);
                }
                Selection::InlineFragment(i) => {
                    let i = &i.node;
                    if !i.directives.is_empty()
                        || i.type_condition
                            .as_ref()
                            .is_some_and(|t| t.node.on.node != on)
                    {
                        return None;
                    }
                    collect(ctx, &i.selection_set.node, on, out, depth + 1)?;
                }
                Selection::FragmentSpread(spread) => {
                    let spread = &spread.node;
                    let def = &ctx
                        .query_env
                        .fragments
                        .get(&spread.fragment_name.node)?
                        .node;
                    if !spread.directives.is_empty()
                        || !def.directives.is_empty()
                        || def.type_condition.node.on.node != on
                    {
                        return None;
                    }
                    collect(ctx, &def.selection_set.node, on, out, depth + 1)?;
                }
            }
        }
        Some(())
    }
    let mut out = Vec::with_capacity(set.items.len());
    collect(ctx, set, on, &mut out, 0)?;
    Some(out)
}

/// Plans the selection on one object of the tree, the answer of `evergreenVersion(id)`,
/// `evergreenBuild(id)` or `evergreenTask(id)`; `ctx` is that field's context.
pub fn plan_one<'a, T: TreeRow>(
    ctx: &ContextBase<'a, &'a Positioned<Field>>,
    limits: &Limits,
) -> Option<NodePlan> {
    plan_node::<T>(ctx, &ctx.item.node.selection_set.node, limits)
}

impl NodePlan {
    /// Whether a level below is asked for. An object with scalars only is cheaper through the
    /// resolvers than written and passed as a raw value (validated again when serialised).
    pub fn has_children(&self) -> bool {
        self.items
            .iter()
            .any(|(_, i)| matches!(i, NodeItem::Children(_)))
    }
}

/// Writes one object of the tree and the levels below it.
pub async fn write_one<T: TreeRow>(
    db: &DatabaseConnection,
    plan: &NodePlan,
    row: &T,
) -> AppResult<String> {
    let texts = write_nodes(db, plan, &[row]).await?;
    into_text(texts)
}

/// Plans the selection on a root connection of `T`s (`evergreenVersions`, `evergreenTasks`);
/// `ctx` is that field's context.
pub fn plan_list<'a, T: TreeRow>(
    ctx: &ContextBase<'a, &'a Positioned<Field>>,
    limits: &Limits,
) -> Option<ConnPlan> {
    plan_conn::<T>(ctx, &ctx.item.node.selection_set.node, limits)
}

fn plan_conn<'a, T: TreeRow>(
    ctx: &ContextBase<'a, &'a Positioned<Field>>,
    set: &'a SelectionSet,
    limits: &Limits,
) -> Option<ConnPlan> {
    let typename = format!("{}Connection", T::NODE);
    let edge_typename = format!("{}Edge", T::NODE);
    let mut items = Vec::new();
    for f in plain_fields(ctx, set, &typename)? {
        let sub = &f.node.selection_set.node;
        let item = match f.node.name.node.as_str() {
            "__typename" => ConnItem::Typename,
            "totalCount" => ConnItem::TotalCount,
            "nodes" => ConnItem::Nodes(plan_node::<T>(ctx, sub, limits)?),
            "edges" => {
                let mut edge = Vec::new();
                for e in plain_fields(ctx, sub, &edge_typename)? {
                    let item = match e.node.name.node.as_str() {
                        "__typename" => EdgeItem::Typename,
                        "cursor" => EdgeItem::Cursor,
                        // One `node` per edge: its objects are written once per connection.
                        "node" if edge.iter().any(|(_, i)| matches!(i, EdgeItem::Node(_))) => {
                            return None;
                        }
                        "node" => {
                            EdgeItem::Node(plan_node::<T>(ctx, &e.node.selection_set.node, limits)?)
                        }
                        _ => return None,
                    };
                    edge.push((key_of(&e.node), item));
                }
                ConnItem::Edges {
                    typename: edge_typename.clone(),
                    items: edge,
                }
            }
            "pageInfo" => {
                let mut page = Vec::new();
                for p in plain_fields(ctx, sub, "PageInfo")? {
                    let item = match p.node.name.node.as_str() {
                        "__typename" => PageItem::Typename,
                        "hasPreviousPage" => PageItem::HasPrevious,
                        "hasNextPage" => PageItem::HasNext,
                        "startCursor" => PageItem::Start,
                        "endCursor" => PageItem::End,
                        _ => return None,
                    };
                    page.push((key_of(&p.node), item));
                }
                ConnItem::PageInfo(page)
            }
            _ => return None,
        };
        items.push((key_of(&f.node), item));
    }
    Some(ConnPlan { typename, items })
}

fn plan_node<'a, T: TreeRow>(
    ctx: &ContextBase<'a, &'a Positioned<Field>>,
    set: &'a SelectionSet,
    limits: &Limits,
) -> Option<NodePlan> {
    let mut items = Vec::new();
    let mut columns = Vec::new();
    for f in plain_fields(ctx, set, T::NODE)? {
        let name = f.node.name.node.as_str();
        let item = if name == "__typename" {
            NodeItem::Typename
        } else if let Some((field, cols)) = T::FIELDS.iter().find(|(s, _)| *s == name) {
            columns.extend_from_slice(cols);
            NodeItem::Scalar(field)
        } else if let Some(list) = T::OBJECT_LISTS.iter().find(|l| l.field == name) {
            let mut fields = Vec::new();
            for o in plain_fields(ctx, &f.node.selection_set.node, list.node)? {
                let name = o.node.name.node.as_str();
                let field = std::iter::once(&"__typename")
                    .chain(list.fields)
                    .find(|s| **s == name)?;
                fields.push((key_of(&o.node), *field));
            }
            columns.extend_from_slice(list.columns);
            NodeItem::Objects(list.field, fields)
        } else {
            match T::CHILDREN {
                Some((field, parent)) if field == name => {
                    NodeItem::Children(plan_child::<T::Child>(ctx, f, parent, limits)?)
                }
                _ => return None,
            }
        };
        items.push((key_of(&f.node), item));
    }
    Some(NodePlan { items, columns })
}

/// A nested connection's arguments, parsed as the generated resolver parses them (variables
/// included); `None` when any is invalid, so that the resolver reports it.
fn plan_child<'a, C: TreeRow + Positional>(
    ctx: &ContextBase<'a, &'a Positioned<Field>>,
    f: &'a Positioned<Field>,
    parent: Parent,
    limits: &Limits,
) -> Option<ChildPlan> {
    let fctx = ctx.with_field(f);
    let (_, first) = fctx.param_value::<Option<i32>>("first", None).ok()?;
    let (_, after) = fctx.param_value::<Option<String>>("after", None).ok()?;
    let (_, filter) = fctx
        .param_value::<Option<EvergreenStatusFilter>>("filter", None)
        .ok()?;
    let limit = page_size(first, limits).ok()?;
    let after = match after {
        Some(a) => Some(decode(&a).ok()?),
        None => None,
    };
    let conn = plan_conn::<C>(ctx, &f.node.selection_set.node, limits)?;
    let mut columns = Vec::new();
    for (_, item) in &conn.items {
        match item {
            ConnItem::Nodes(n) => columns.extend_from_slice(&n.columns),
            ConnItem::Edges { items, .. } => {
                for (_, e) in items {
                    if let EdgeItem::Node(n) = e {
                        columns.extend_from_slice(&n.columns);
                    }
                }
            }
            _ => {}
        }
    }
    Some(ChildPlan {
        parent,
        cols: ColumnSet::of::<C::Entity>(&columns),
        limit,
        after,
        filter: filter.unwrap_or_default().into_filter(),
        conn,
    })
}

// ----------------------------------------------------------------------------------------------
// Reading and writing
// ----------------------------------------------------------------------------------------------

/// JSON texts laid end to end: text `i` is `buf[ends[i-1]..ends[i]]`.
#[derive(Default)]
struct Texts {
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl Texts {
    fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }

    fn close(&mut self) {
        self.ends.push(self.buf.len());
    }
}

/// One parent's page: at most `limit + 1` rows, the extra one telling that a next page exists.
struct Page<T> {
    rows: Vec<T>,
    has_next: bool,
    total: u64,
}

/// Writes a root connection (`evergreenVersions`, `evergreenTasks`) from its page of rows;
/// `cursor` is the root's own (versions by order, tasks by id), not the nested lists'.
pub async fn write_list<T: TreeRow>(
    db: &DatabaseConnection,
    plan: &ConnPlan,
    rows: Vec<T>,
    limit: u64,
    has_previous: bool,
    total: u64,
    cursor: &(dyn Fn(&T) -> KeyCursor + Sync),
) -> AppResult<String> {
    let page = into_page(rows, limit, total);
    let texts = write_conns(db, plan, vec![page], has_previous, cursor).await?;
    into_text(texts)
}

/// A root list answered in one pass: `page` is the rows read (`limit + 1` at most), the page size
/// and whether a cursor came before; `count` runs only when the query asks for `totalCount`.
pub async fn answer_list<T: TreeRow, N>(
    st: &crate::state::AppState,
    plan: &ConnPlan,
    (rows, limit, has_previous): (Vec<T>, u64, bool),
    cursor: &(dyn Fn(&T) -> KeyCursor + Sync),
    count: impl std::future::Future<Output = AppResult<u64>>,
) -> async_graphql::Result<Resolved<N>> {
    use super::GqlResultExt;
    let total = if plan.wants_total() {
        count.await.gql()?
    } else {
        0
    };
    let json = write_list(&st.db, plan, rows, limit, has_previous, total, cursor)
        .await
        .gql()?;
    st.one_pass_answers
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(Resolved::json(json))
}

/// The written JSON as text. Every piece came from `&str`s and ASCII, so this cannot fail; if it
/// ever did, the request fails rather than passing on a broken raw value.
fn into_text(texts: Texts) -> AppResult<String> {
    String::from_utf8(texts.buf)
        .map_err(|e| crate::error::AppError::Internal(format!("tree writer produced {e}")))
}

fn into_page<T>(mut rows: Vec<T>, limit: u64, total: u64) -> Page<T> {
    let has_next = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    Page {
        rows,
        has_next,
        total,
    }
}

/// Writes one connection per page, reading the levels below for all pages at once.
async fn write_conns<T: TreeRow>(
    db: &DatabaseConnection,
    plan: &ConnPlan,
    pages: Vec<Page<T>>,
    has_previous: bool,
    cursor: &(dyn Fn(&T) -> KeyCursor + Sync),
) -> AppResult<Texts> {
    // The objects of every page are written together, so that each level below is one read.
    let all: Vec<&T> = pages.iter().flat_map(|p| p.rows.iter()).collect();
    let mut node_texts = Vec::new();
    for (_, item) in &plan.items {
        let nodes = match item {
            ConnItem::Nodes(n) => Some(n),
            ConnItem::Edges { items, .. } => items.iter().find_map(|(_, e)| match e {
                EdgeItem::Node(n) => Some(n),
                _ => None,
            }),
            _ => None,
        };
        node_texts.push(match nodes {
            Some(n) => Some(write_nodes(db, n, &all).await?),
            None => None,
        });
    }

    let mut out = Texts::default();
    let mut at = 0;
    for page in &pages {
        let cursors: Vec<String> = if needs_cursors(plan) {
            page.rows.iter().map(|r| encode(&cursor(r))).collect()
        } else {
            Vec::new()
        };
        let buf = &mut out.buf;
        buf.push(b'{');
        for (n, ((key, item), texts)) in plan.items.iter().zip(&node_texts).enumerate() {
            if n > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(key);
            match item {
                ConnItem::Typename => put_str(buf, &plan.typename),
                ConnItem::TotalCount => put_int(buf, page.total as i64),
                ConnItem::Nodes(_) => {
                    buf.push(b'[');
                    for i in 0..page.rows.len() {
                        if i > 0 {
                            buf.push(b',');
                        }
                        if let Some(t) = texts {
                            buf.extend_from_slice(t.get(at + i));
                        }
                    }
                    buf.push(b']');
                }
                ConnItem::Edges { typename, items } => {
                    buf.push(b'[');
                    for i in 0..page.rows.len() {
                        if i > 0 {
                            buf.push(b',');
                        }
                        buf.push(b'{');
                        for (m, (key, e)) in items.iter().enumerate() {
                            if m > 0 {
                                buf.push(b',');
                            }
                            buf.extend_from_slice(key);
                            match e {
                                EdgeItem::Typename => put_str(buf, typename),
                                EdgeItem::Cursor => {
                                    put_str(buf, cursors.get(i).map_or("", String::as_str))
                                }
                                EdgeItem::Node(_) => {
                                    if let Some(t) = texts {
                                        buf.extend_from_slice(t.get(at + i));
                                    }
                                }
                            }
                        }
                        buf.push(b'}');
                    }
                    buf.push(b']');
                }
                ConnItem::PageInfo(items) => {
                    buf.push(b'{');
                    for (m, (key, p)) in items.iter().enumerate() {
                        if m > 0 {
                            buf.push(b',');
                        }
                        buf.extend_from_slice(key);
                        match p {
                            PageItem::Typename => put_str(buf, "PageInfo"),
                            PageItem::HasPrevious => put_bool(buf, has_previous),
                            PageItem::HasNext => put_bool(buf, page.has_next),
                            PageItem::Start => {
                                put_opt_str(buf, cursors.first().map(String::as_str))
                            }
                            PageItem::End => put_opt_str(buf, cursors.last().map(String::as_str)),
                        }
                    }
                    buf.push(b'}');
                }
            }
        }
        buf.push(b'}');
        out.close();
        at += page.rows.len();
    }
    Ok(out)
}

fn needs_cursors(plan: &ConnPlan) -> bool {
    plan.items.iter().any(|(_, i)| match i {
        ConnItem::Edges { items, .. } => items.iter().any(|(_, e)| matches!(e, EdgeItem::Cursor)),
        ConnItem::PageInfo(items) => items
            .iter()
            .any(|(_, p)| matches!(p, PageItem::Start | PageItem::End)),
        _ => false,
    })
}

/// Writes one object per row. Boxed: the levels recurse through `write_conns`.
fn write_nodes<'a, T: TreeRow>(
    db: &'a DatabaseConnection,
    plan: &'a NodePlan,
    rows: &'a [&'a T],
) -> BoxFuture<'a, AppResult<Texts>> {
    Box::pin(async move {
        // Each nested connection of this level: one read for all rows, then written per row.
        let mut children: Vec<Option<Texts>> = Vec::with_capacity(plan.items.len());
        let ids: Vec<i64> = rows.iter().map(|r| r.id()).collect();
        for (_, item) in &plan.items {
            children.push(match item {
                NodeItem::Children(c) => Some(read_children::<T::Child>(db, c, &ids).await?),
                _ => None,
            });
        }

        let mut out = Texts {
            buf: Vec::with_capacity(rows.len() * 64),
            ends: Vec::with_capacity(rows.len()),
        };
        for (i, row) in rows.iter().enumerate() {
            let buf = &mut out.buf;
            buf.push(b'{');
            for (n, ((key, item), child)) in plan.items.iter().zip(&children).enumerate() {
                if n > 0 {
                    buf.push(b',');
                }
                buf.extend_from_slice(key);
                match item {
                    NodeItem::Typename => put_str(buf, T::NODE),
                    NodeItem::Scalar(f) => row.write_scalar(f, buf),
                    NodeItem::Objects(f, fields) => row.write_objects(f, fields, buf),
                    NodeItem::Children(_) => {
                        if let Some(t) = child {
                            buf.extend_from_slice(t.get(i));
                        }
                    }
                }
            }
            buf.push(b'}');
            out.close();
        }
        Ok(out)
    })
}

/// Reads one page of children for every parent (one statement, plus one grouped count when the
/// total is asked for) and writes each parent's connection.
async fn read_children<C: TreeRow + Positional>(
    db: &DatabaseConnection,
    plan: &ChildPlan,
    parent_ids: &[i64],
) -> AppResult<Texts> {
    let rows: Vec<C> = if plan.conn.wants_rows() {
        svc::children_page(
            db,
            plan.parent,
            parent_ids,
            &plan.filter,
            plan.after.as_ref(),
            plan.limit + 1,
            plan.cols,
        )
        .await?
    } else {
        Vec::new()
    };
    let totals = if plan.conn.wants_total() {
        svc::count_children(db, plan.parent, parent_ids, &plan.filter).await?
    } else {
        HashMap::new()
    };
    let mut by_parent: HashMap<i64, Vec<C>> = HashMap::with_capacity(parent_ids.len());
    for r in rows {
        by_parent.entry(r.parent_id()).or_default().push(r);
    }
    let pages = parent_ids
        .iter()
        .map(|id| {
            into_page(
                by_parent.remove(id).unwrap_or_default(),
                plan.limit,
                totals.get(id).copied().unwrap_or(0),
            )
        })
        .collect();
    write_conns(db, &plan.conn, pages, plan.after.is_some(), &C::cursor).await
}

/// The scalar fields the one-pass writer covers, by GraphQL type: a test keeps them equal to the
/// schema's, so that a field added to an object is added here too (until it is, a query asking
/// for it is answered by the resolvers).
pub fn scalar_fields(node: &str) -> Option<Vec<&'static str>> {
    [
        (Version::NODE, Version::FIELDS),
        (Build::NODE, Build::FIELDS),
        (Task::NODE, Task::FIELDS),
        (TestResult::NODE, TestResult::FIELDS),
        (Metric::NODE, Metric::FIELDS),
        (Session::NODE, Session::FIELDS),
    ]
    .into_iter()
    .find(|(n, _)| *n == node)
    .map(|(_, fields)| fields.iter().map(|(name, _)| *name).collect())
}
