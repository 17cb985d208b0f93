//! Evergreen REST v1's JSON shapes (seed 001, fact sheet §2) built from the `evg_*` models and the
//! service's task summaries; `gojson` writes them as Go did.
//!
//! Go marshals a struct's fields in declaration order and a map's keys sorted bytewise, so every
//! struct-typed object here is built with `object` (insertion order, kept by serde_json's
//! `preserve_order`) and every map-typed object (keyed by variant, task name, test file or task id)
//! with `sorted`. Values follow the legacy server of the seed era; where the doc and the code
//! disagree the fact sheet's §2.3 choice is taken.

use std::collections::BTreeMap;

use entity::{evg_artifact, evg_build, evg_project, evg_task, evg_test_result, evg_version};
use serde_json::{Map, Value, json};

use super::gojson::time;

use crate::service::evergreen::TaskSummary;

/// `{"message": text}`, the body of every error [EVG rest/locals.go responseError].
pub fn message(text: &str) -> Value {
    object([("message", json!(text))])
}

/// One entry of a build's task cache as the status routes show it: `{task_id, status, time_taken}`.
pub fn task_summary(t: &TaskSummary) -> Value {
    object([
        ("task_id", json!(t.task_id)),
        ("status", json!(t.status)),
        ("time_taken", json!(t.time_taken_ns)),
    ])
}

/// The version object [EVG rest/version.go `version`]. `builds` are the version's builds in
/// variant order; with none, `builds` and `build_variants` are `null` (Go nil slices).
/// `build_variants` holds the builds' display names, as the doc shows (§2.3 item 4).
pub fn version(
    v: &evg_version::Model,
    p: &evg_project::Model,
    builds: &[evg_build::Model],
) -> Value {
    let (build_ids, build_variants) = if builds.is_empty() {
        (Value::Null, Value::Null)
    } else {
        (
            builds.iter().map(|b| json!(b.build_id)).collect(),
            builds.iter().map(|b| json!(b.display_name)).collect(),
        )
    };
    object([
        ("id", json!(v.version_id)),
        ("create_time", time(Some(v.create_time))),
        ("start_time", time(v.start_time)),
        ("finish_time", time(v.finish_time)),
        ("project", json!(p.identifier)),
        ("revision", json!(v.revision)),
        ("author", json!(v.author)),
        ("author_email", json!(v.author_email)),
        ("message", json!(v.message)),
        ("status", json!(v.status)),
        ("activated", json!(v.activated)),
        ("builds", build_ids),
        ("build_variants", build_variants),
        ("order", json!(v.order_num)),
        ("owner_name", json!(p.owner_name)),
        ("repo_name", json!(p.repo_name)),
        ("branch_name", json!(p.branch_name)),
        ("repo_kind", json!(p.repo_kind)),
        ("batch_time", json!(p.batch_time)),
        ("identifier", json!(p.identifier)),
        ("remote", json!(p.remote)),
        ("remote_path", json!(p.remote_path)),
        ("requester", json!(v.requester)),
    ])
}

/// One entry of `recent_versions`: a version with its builds (in variant order), each with its tasks.
pub type RecentVersion = (
    evg_version::Model,
    Vec<(evg_build::Model, Vec<TaskSummary>)>,
);

/// `GET /projects/{id}/versions` [EVG rest/version.go getRecentVersions]: each version with its
/// builds keyed by variant id, each build's tasks keyed by display name. `project` is echoed as
/// given; a version without builds has `"builds": {}` (Go makes the map).
pub fn recent_versions(project_identifier: &str, items: &[RecentVersion]) -> Value {
    let versions = items
        .iter()
        .map(|(v, builds)| {
            let builds = sorted(builds.iter().map(|(b, tasks)| {
                let info = object([
                    ("build_id", json!(b.build_id)),
                    ("name", json!(b.display_name)),
                    ("tasks", tasks_by_name(tasks)),
                ]);
                (b.variant.clone(), info)
            }));
            object([
                ("version_id", json!(v.version_id)),
                ("author", json!(v.author)),
                ("revision", json!(v.revision)),
                ("message", json!(v.message)),
                ("builds", builds),
            ])
        })
        .collect();
    object([
        ("project", json!(project_identifier)),
        ("versions", Value::Array(versions)),
    ])
}

/// `GET /versions/{id}/status` [EVG rest/version.go getVersionStatus]: the version's tasks keyed
/// by display name then variant (`groupby=tasks`), or by variant then display name
/// (`groupby=builds`). No tasks gives `{}`, never `null`.
pub fn version_status(version_id: &str, by_builds: bool, tasks: &[TaskSummary]) -> Value {
    let mut grouped: BTreeMap<&str, BTreeMap<&str, Value>> = BTreeMap::new();
    for t in tasks {
        let (outer, inner) = if by_builds {
            (t.variant.as_str(), t.display_name.as_str())
        } else {
            (t.display_name.as_str(), t.variant.as_str())
        };
        grouped
            .entry(outer)
            .or_default()
            .insert(inner, task_summary(t));
    }
    let grouped = sorted(grouped.into_iter().map(|(outer, inner)| {
        (
            outer.to_owned(),
            sorted(inner.into_iter().map(|(k, v)| (k.to_owned(), v))),
        )
    }));
    let key = if by_builds { "builds" } else { "tasks" };
    object([("version_id", json!(version_id)), (key, grouped)])
}

/// The build object [EVG rest/build.go `build`]. `tasks` are the build's tasks (its task cache);
/// `number` is a string; the doc's `"requested"` key is the code's `requester` (§2.3 item 1).
pub fn build(
    b: &evg_build::Model,
    v: &evg_version::Model,
    p: &evg_project::Model,
    tasks: &[TaskSummary],
) -> Value {
    object([
        ("id", json!(b.build_id)),
        ("create_time", time(Some(b.create_time))),
        ("start_time", time(b.start_time)),
        ("finish_time", time(b.finish_time)),
        ("push_time", time(b.push_time)),
        ("version", json!(v.version_id)),
        ("project", json!(p.identifier)),
        ("revision", json!(v.revision)),
        ("variant", json!(b.variant)),
        ("number", json!(b.build_number)),
        ("status", json!(b.status)),
        ("activated", json!(b.activated)),
        ("activated_time", time(b.activated_time)),
        ("order", json!(v.order_num)),
        ("tasks", tasks_by_name(tasks)),
        ("time_taken", json!(b.time_taken_ns)),
        ("name", json!(b.display_name)),
        ("requester", json!(v.requester)),
    ])
}

/// `GET /builds/{id}/status` [EVG rest/build.go getBuildStatus].
pub fn build_status(b: &evg_build::Model, tasks: &[TaskSummary]) -> Value {
    object([
        ("build_id", json!(b.build_id)),
        ("build_variant", json!(b.variant)),
        ("tasks", tasks_by_name(tasks)),
    ])
}

/// The task object [EVG rest/task.go `task`]. `results` are the current execution's (the service
/// selects them, `test_results_for_tasks`). `files` are the task's artifacts, `[]` when none (§2.3
/// item 3); `depends_on` is a list of task ids (§2.3 item 2).
pub fn task(
    t: &evg_task::Model,
    b: &evg_build::Model,
    v: &evg_version::Model,
    p: &evg_project::Model,
    results: &[evg_test_result::Model],
    files: &[evg_artifact::Model],
) -> Value {
    let files = files
        .iter()
        .map(|f| object([("name", json!(f.name)), ("url", json!(f.url))]))
        .collect();
    object([
        ("id", json!(t.task_id)),
        ("create_time", time(Some(t.create_time))),
        ("scheduled_time", time(t.scheduled_time)),
        ("dispatch_time", time(t.dispatch_time)),
        ("start_time", time(t.start_time)),
        ("finish_time", time(t.finish_time)),
        ("push_time", time(t.push_time)),
        ("version", json!(v.version_id)),
        ("project", json!(p.identifier)),
        ("revision", json!(v.revision)),
        ("priority", json!(t.priority)),
        ("last_heartbeat", time(t.last_heartbeat)),
        ("activated", json!(t.activated)),
        ("build_id", json!(b.build_id)),
        ("distro", json!(t.distro)),
        ("build_variant", json!(t.variant)),
        ("depends_on", depends_on(&t.depends_on)),
        ("display_name", json!(t.display_name)),
        ("host_id", json!(t.host_id)),
        ("restarts", json!(t.restarts)),
        ("execution", json!(t.execution)),
        ("archived", json!(t.archived)),
        ("order", json!(v.order_num)),
        ("requester", json!(v.requester)),
        ("status", json!(t.status)),
        ("status_details", status_details(t)),
        ("aborted", json!(t.aborted)),
        ("time_taken", json!(t.time_taken_ns)),
        ("expected_duration", json!(t.expected_duration_ns)),
        ("test_results", tests_by_file(results)),
        ("min_queue_pos", json!(t.min_queue_pos)),
        ("files", Value::Array(files)),
    ])
}

/// `GET /tasks/{id}/status` [EVG rest/task.go getTaskStatus].
pub fn task_status(t: &evg_task::Model, results: &[evg_test_result::Model]) -> Value {
    object([
        ("task_id", json!(t.task_id)),
        ("task_name", json!(t.display_name)),
        ("status", json!(t.status)),
        ("status_details", status_details(t)),
        ("tests", tests_by_file(results)),
    ])
}

/// `GET /tasks/{name}/history?project=P` [EVG model/task_history.go TaskHistoryChunk]: Go field
/// names as keys (no json tags). `Tasks` groups `tasks` by their version's revision (a task joins
/// the version whose `id` is its `version_id`; versions without tasks are left out), newest
/// `order` first, tasks in the order given; each group and task is a `bson.M`, so its keys are
/// sorted. `Versions` are listed newest first. `failed` pairs each failed task with its current
/// execution's `fail` results (the service selects both); `FailedTests` lists them and leaves out
/// tasks without any. `Exhausted.After` is always true for this route.
pub fn task_history(
    versions: &[evg_version::Model],
    tasks: &[evg_task::Model],
    failed: &[(evg_task::Model, Vec<evg_test_result::Model>)],
    exhausted_before: bool,
) -> Value {
    let mut newest_first: Vec<&evg_version::Model> = versions.iter().collect();
    newest_first.sort_by_key(|v| std::cmp::Reverse(v.order_num));

    let groups = newest_first
        .iter()
        .filter_map(|v| {
            let members: Vec<Value> = tasks
                .iter()
                .filter(|t| t.version_id == v.id)
                .map(history_task)
                .collect();
            if members.is_empty() {
                return None;
            }
            Some(object([
                ("_id", json!(v.revision)),
                ("order", json!(v.order_num)),
                ("tasks", Value::Array(members)),
            ]))
        })
        .collect();

    let history_versions = newest_first
        .iter()
        .map(|v| {
            object([
                ("id", json!(v.version_id)),
                ("create_time", time(Some(v.create_time))),
                ("start_time", time(v.start_time)),
                ("finish_time", time(v.finish_time)),
                ("revision", json!(v.revision)),
                ("message", json!(v.message)),
                ("order", json!(v.order_num)),
            ])
        })
        .collect();

    let failed_tests = sorted(failed.iter().filter_map(|(t, results)| {
        let list: Vec<Value> = results.iter().map(failed_test).collect();
        (!list.is_empty()).then(|| (t.task_id.clone(), Value::Array(list)))
    }));

    object([
        ("Tasks", Value::Array(groups)),
        ("Versions", Value::Array(history_versions)),
        ("FailedTests", failed_tests),
        (
            "Exhausted",
            object([("Before", json!(exhausted_before)), ("After", json!(true))]),
        ),
    ])
}

// ---- shape helpers ----------------------------------------------------------------------------

/// A struct-typed object: keys in declaration order.
fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    let mut m = Map::new();
    for (k, v) in fields {
        m.insert(k.to_owned(), v);
    }
    Value::Object(m)
}

/// A map-typed object: keys sorted bytewise, as Go's encoder sorts map keys. A repeated key keeps
/// its last value, as repeated assignment into a Go map does.
fn sorted(entries: impl IntoIterator<Item = (String, Value)>) -> Value {
    let map: BTreeMap<String, Value> = entries.into_iter().collect();
    Value::Object(map.into_iter().collect())
}

/// A task cache as a map: display name to `task_summary`.
fn tasks_by_name(tasks: &[TaskSummary]) -> Value {
    sorted(
        tasks
            .iter()
            .map(|t| (t.display_name.clone(), task_summary(t))),
    )
}

/// `{timed_out, timeout_stage}`; the stage is the end details' description.
fn status_details(t: &evg_task::Model) -> Value {
    object([
        ("timed_out", json!(t.timed_out)),
        ("timeout_stage", json!(t.details_desc)),
    ])
}

/// Test results keyed by file: `{status, time_taken, logs:{url}}`, `time_taken` in nanoseconds
/// computed as Go does (float seconds times 1e9, truncated).
fn tests_by_file(results: &[evg_test_result::Model]) -> Value {
    sorted(results.iter().map(|r| {
        let entry = object([
            ("status", json!(r.status)),
            ("time_taken", json!(duration_ns(r))),
            ("logs", object([("url", json!(r.url))])),
        ]);
        (r.test_file.clone(), entry)
    }))
}

/// `time.Duration((end - start) * float64(time.Second))`: Go's float-to-int conversion truncates,
/// as `as` does (which also maps NaN to 0 and saturates instead of being undefined).
fn duration_ns(r: &evg_test_result::Model) -> i64 {
    ((r.end_s - r.start_s) * 1e9) as i64
}

/// The stored JSON array of task ids; unreadable or absent text gives `[]`. Objects of the later
/// `{"id", "status"}` form contribute their `id`.
fn depends_on(text: &str) -> Value {
    let ids = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => items
            .into_iter()
            .filter_map(|item| match item {
                Value::String(id) => Some(Value::String(id)),
                Value::Object(mut o) => match o.remove("id") {
                    Some(Value::String(id)) => Some(Value::String(id)),
                    _ => None,
                },
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Value::Array(ids)
}

/// One task of a task-history group, a `bson.M` (keys already in sorted order).
fn history_task(t: &evg_task::Model) -> Value {
    object([
        ("_id", json!(t.task_id)),
        ("activated", json!(t.activated)),
        ("build_variant", json!(t.variant)),
        ("status", json!(t.status)),
        ("status_details", history_details(t)),
        ("time_taken", json!(t.time_taken_ns)),
    ])
}

/// The raw end-details subdocument as the history aggregation pushes it: a `bson.M`, so sorted
/// keys, and every field of Evergreen's `TaskEndDetail` is `omitempty`, so only set fields appear.
/// A task has details once it has ended (success or failed) or once any detail is recorded; until
/// then the subdocument is `{}` (the doc's undispatched example). `status` is the task's status.
fn history_details(t: &evg_task::Model) -> Value {
    let ended = matches!(t.status.as_str(), "success" | "failed");
    if !ended && !t.timed_out && t.details_type.is_empty() && t.details_desc.is_empty() {
        return Value::Object(Map::new());
    }
    let mut fields = Vec::new();
    if !t.details_desc.is_empty() {
        fields.push(("desc".to_owned(), json!(t.details_desc)));
    }
    if !t.status.is_empty() {
        fields.push(("status".to_owned(), json!(t.status)));
    }
    if t.timed_out {
        fields.push(("timed_out".to_owned(), json!(true)));
    }
    if !t.details_type.is_empty() {
        fields.push(("type".to_owned(), json!(t.details_type)));
    }
    sorted(fields)
}

/// A failed test as Go's `TestResult` marshals: `log_id` and `line_num` are `omitempty`; `start`
/// and `end` are float epoch seconds.
fn failed_test(r: &evg_test_result::Model) -> Value {
    let mut m = Map::new();
    m.insert("status".into(), json!(r.status));
    m.insert("test_file".into(), json!(r.test_file));
    m.insert("url".into(), json!(r.url));
    if !r.log_id.is_empty() {
        m.insert("log_id".into(), json!(r.log_id));
    }
    if r.line_num != 0 {
        m.insert("line_num".into(), json!(r.line_num));
    }
    m.insert("exit_code".into(), json!(r.exit_code));
    m.insert("start".into(), json!(r.start_s));
    m.insert("end".into(), json!(r.end_s));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::evergreen::gojson::{ZERO_TIME, render};
    use chrono::NaiveDate;
    use chrono::NaiveDateTime;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|d| d.and_hms_milli_opt(h, mi, s, ms))
            .expect("valid test time")
    }

    fn project() -> evg_project::Model {
        evg_project::Model {
            id: 1,
            identifier: "mongodb-mongo-master".into(),
            display_name: "MongoDB master".into(),
            owner_name: "mongodb".into(),
            repo_name: "mongo".into(),
            branch_name: "master".into(),
            repo_kind: "github".into(),
            batch_time: 0,
            remote: false,
            remote_path: "".into(),
            enabled: true,
            private: false,
            tasks: "[]".into(),
            last_order: 4205,
        }
    }

    const REV: &str = "d477da53e119b207de45880434ccef1e47084652";

    fn version_model() -> evg_version::Model {
        evg_version::Model {
            id: 10,
            version_id: format!("mongodb_mongo_master_{REV}"),
            project_id: 1,
            revision: REV.into(),
            author: "Eric Milkie".into(),
            author_email: "milkie@10gen.com".into(),
            message: "SERVER-14613 corrections for gcc".into(),
            status: "started".into(),
            activated: true,
            create_time: at(2014, 7, 22, 17, 2, 9, 162),
            start_time: Some(at(2014, 7, 22, 17, 3, 18, 151)),
            finish_time: None,
            order_num: 4205,
            requester: "gitter_request".into(),
        }
    }

    fn build_model(id: i64, variant: &str, display: &str) -> evg_build::Model {
        evg_build::Model {
            id,
            build_id: format!(
                "mongodb_mongo_master_{}_{REV}_14_07_22_17_02_09",
                variant.replace('-', "_")
            ),
            version_id: 10,
            project_id: 1,
            position: id as i32,
            variant: variant.into(),
            display_name: display.into(),
            build_number: "7960".into(),
            status: "started".into(),
            activated: true,
            activated_time: Some(at(2014, 7, 22, 17, 3, 7, 556)),
            create_time: at(2014, 7, 22, 17, 2, 9, 162),
            start_time: Some(at(2014, 7, 22, 17, 3, 18, 151)),
            finish_time: None,
            push_time: Some(at(2014, 7, 22, 17, 2, 9, 162)),
            time_taken_ns: 0,
        }
    }

    fn task_model(id: i64, name: &str, variant: &str, status: &str) -> evg_task::Model {
        evg_task::Model {
            id,
            task_id: format!("t_{variant}_{name}"),
            build_id: 100,
            version_id: 10,
            project_id: 1,
            position: 0,
            display_name: name.into(),
            variant: variant.into(),
            distro: "rhel55-test".into(),
            host_id: "i-58e6e573".into(),
            priority: 0,
            activated: true,
            status: status.into(),
            details_type: "".into(),
            details_desc: "".into(),
            timed_out: false,
            aborted: false,
            create_time: at(2014, 7, 22, 13, 27, 6, 913),
            scheduled_time: None,
            dispatch_time: None,
            start_time: None,
            finish_time: None,
            push_time: None,
            last_heartbeat: None,
            restarts: 0,
            execution: 0,
            archived: false,
            time_taken_ns: 0,
            expected_duration_ns: 0,
            min_queue_pos: 0,
            depends_on: "[]".into(),
        }
    }

    fn result_model(
        execution: i32,
        file: &str,
        status: &str,
        start: f64,
        end: f64,
    ) -> evg_test_result::Model {
        evg_test_result::Model {
            id: 0,
            task_id: 1,
            execution,
            test_file: file.into(),
            status: status.into(),
            url: format!("http://buildlogs.mongodb.org/{file}"),
            log_id: "".into(),
            line_num: 0,
            exit_code: 0,
            start_s: start,
            end_s: end,
        }
    }

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    #[test]
    fn version_matches_the_doc_example() {
        let builds = [
            build_model(1, "linux-64", "Linux 64-bit"),
            build_model(2, "linux-64-debug", "Linux 64-bit DEBUG"),
        ];
        let v = version(&version_model(), &project(), &builds);
        assert_eq!(
            keys(&v),
            [
                "id",
                "create_time",
                "start_time",
                "finish_time",
                "project",
                "revision",
                "author",
                "author_email",
                "message",
                "status",
                "activated",
                "builds",
                "build_variants",
                "order",
                "owner_name",
                "repo_name",
                "branch_name",
                "repo_kind",
                "batch_time",
                "identifier",
                "remote",
                "remote_path",
                "requester"
            ]
        );
        let text = render(&v);
        for line in [
            "  \"id\": \"mongodb_mongo_master_d477da53e119b207de45880434ccef1e47084652\",",
            "  \"create_time\": \"2014-07-22T17:02:09.162Z\",",
            "  \"start_time\": \"2014-07-22T17:03:18.151Z\",",
            "  \"finish_time\": \"0001-01-01T00:00:00Z\",",
            "  \"project\": \"mongodb-mongo-master\",",
            "  \"activated\": true,",
            "  \"builds\": [\n    \"mongodb_mongo_master_linux_64_d477da53e119b207de45880434ccef1e47084652_14_07_22_17_02_09\",\n    \"mongodb_mongo_master_linux_64_debug_d477da53e119b207de45880434ccef1e47084652_14_07_22_17_02_09\"\n  ],",
            "  \"build_variants\": [\n    \"Linux 64-bit\",\n    \"Linux 64-bit DEBUG\"\n  ],",
            "  \"order\": 4205,",
            "  \"batch_time\": 0,",
            "  \"identifier\": \"mongodb-mongo-master\",",
            "  \"remote\": false,",
            "  \"remote_path\": \"\",",
            "  \"requester\": \"gitter_request\"\n}",
        ] {
            assert!(text.contains(line), "missing {line:?} in {text}");
        }

        let bare = version(&version_model(), &project(), &[]);
        assert_eq!(bare["builds"], Value::Null);
        assert_eq!(bare["build_variants"], Value::Null);
    }

    #[test]
    fn task_test_results_are_nanoseconds_keyed_by_file() {
        let mut t = task_model(1, "aggregation", "linux-64", "success");
        t.execution = 1;
        t.depends_on = r#"["compile_task"]"#.into();
        let results = [
            result_model(
                1,
                "jstests/aggregation/mongos_slaveok.js",
                "pass",
                0.0,
                25.482633113,
            ),
            result_model(1, "a.js", "pass", 1405000000.5, 1405000001.75),
        ];
        let body = task(
            &t,
            &build_model(1, "linux-64", "Linux 64-bit"),
            &version_model(),
            &project(),
            &results,
            &[],
        );
        let tr = &body["test_results"];
        assert_eq!(keys(tr), ["a.js", "jstests/aggregation/mongos_slaveok.js"]);
        assert_eq!(
            tr["jstests/aggregation/mongos_slaveok.js"]["time_taken"],
            json!(25482633113_i64)
        );
        assert_eq!(tr["a.js"]["time_taken"], json!(1250000000_i64));
        assert_eq!(keys(&tr["a.js"]), ["status", "time_taken", "logs"]);
        assert_eq!(body["files"], json!([]));
        assert_eq!(body["depends_on"], json!(["compile_task"]));
        assert_eq!(body["order"], json!(4205));
        assert_eq!(
            render(&body["status_details"]),
            "{\n  \"timed_out\": false,\n  \"timeout_stage\": \"\"\n}"
        );
        assert_eq!(keys(&body).len(), 32);
        assert_eq!(keys(&body)[31], "files");

        let status = task_status(&t, &results);
        assert_eq!(
            keys(&status),
            ["task_id", "task_name", "status", "status_details", "tests"]
        );
        assert_eq!(status["tests"], *tr);
    }

    #[test]
    fn map_typed_objects_are_sorted_alphabetically() {
        let tasks = [
            task_model(1, "jsCore", "ubuntu", "success"),
            task_model(2, "aggregation", "ubuntu", "failed"),
            task_model(3, "aggregation", "amazon", "undispatched"),
            task_model(4, "compile", "amazon", "success"),
        ]
        .map(TaskSummary::from);
        let by_tasks = version_status("v", false, &tasks);
        assert_eq!(keys(&by_tasks), ["version_id", "tasks"]);
        assert_eq!(
            keys(&by_tasks["tasks"]),
            ["aggregation", "compile", "jsCore"]
        );
        assert_eq!(
            keys(&by_tasks["tasks"]["aggregation"]),
            ["amazon", "ubuntu"]
        );
        assert_eq!(
            keys(&by_tasks["tasks"]["aggregation"]["amazon"]),
            ["task_id", "status", "time_taken"]
        );
        let by_builds = version_status("v", true, &tasks);
        assert_eq!(keys(&by_builds), ["version_id", "builds"]);
        assert_eq!(keys(&by_builds["builds"]), ["amazon", "ubuntu"]);
        assert_eq!(
            keys(&by_builds["builds"]["ubuntu"]),
            ["aggregation", "jsCore"]
        );
        assert_eq!(
            render(&version_status("v", true, &[])),
            "{\n  \"version_id\": \"v\",\n  \"builds\": {}\n}"
        );

        let b = build_model(1, "linux-64", "Linux 64-bit");
        let body = build(&b, &version_model(), &project(), &tasks);
        assert_eq!(keys(&body["tasks"]), ["aggregation", "compile", "jsCore"]);
        assert_eq!(body["number"], json!("7960"));
        assert_eq!(body["finish_time"], json!(ZERO_TIME));
        assert_eq!(
            keys(&build_status(&b, &tasks)),
            ["build_id", "build_variant", "tasks"]
        );

        let recent = recent_versions(
            "mongodb-mongo-master",
            &[(
                version_model(),
                vec![
                    (build_model(2, "ubuntu", "Ubuntu"), tasks[..2].to_vec()),
                    (
                        build_model(1, "amazon", "Amazon 64-bit"),
                        tasks[2..].to_vec(),
                    ),
                ],
            )],
        );
        let first = &recent["versions"][0];
        assert_eq!(
            keys(first),
            ["version_id", "author", "revision", "message", "builds"]
        );
        assert_eq!(keys(&first["builds"]), ["amazon", "ubuntu"]);
        assert_eq!(
            keys(&first["builds"]["amazon"]),
            ["build_id", "name", "tasks"]
        );
        assert_eq!(
            keys(&first["builds"]["ubuntu"]["tasks"]),
            ["aggregation", "jsCore"]
        );
        assert_eq!(
            render(&recent_versions("nope", &[])),
            "{\n  \"project\": \"nope\",\n  \"versions\": []\n}"
        );
    }

    #[test]
    fn task_history_groups_by_revision_newest_first() {
        let mut older = version_model();
        older.id = 9;
        older.order_num = 3;
        older.revision = "9b20d123".into();
        let newer = evg_version::Model {
            id: 10,
            order_num: 4,
            revision: "3585388b".into(),
            ..version_model()
        };
        let mut t_old = task_model(1, "compile", "osx-108", "failed");
        t_old.version_id = 9;
        t_old.details_type = "test".into();
        let t_new = task_model(2, "compile", "osx-108", "undispatched");
        let mut failing = result_model(0, "x.js", "fail", 1.0, 2.5);
        failing.log_id = "abc".into();
        let failed = [(t_old.clone(), vec![failing])];
        let h = task_history(
            &[older.clone(), newer.clone()],
            &[t_old.clone(), t_new.clone()],
            &failed,
            true,
        );
        assert_eq!(keys(&h), ["Tasks", "Versions", "FailedTests", "Exhausted"]);
        assert_eq!(h["Tasks"][0]["_id"], json!("3585388b"));
        assert_eq!(h["Tasks"][0]["order"], json!(4));
        assert_eq!(h["Tasks"][1]["_id"], json!("9b20d123"));
        assert_eq!(
            keys(&h["Tasks"][0]["tasks"][0]),
            [
                "_id",
                "activated",
                "build_variant",
                "status",
                "status_details",
                "time_taken"
            ]
        );
        assert_eq!(h["Tasks"][0]["tasks"][0]["status_details"], json!({}));
        assert_eq!(
            keys(&h["Tasks"][1]["tasks"][0]["status_details"]),
            ["status", "type"]
        );
        assert_eq!(
            keys(&h["Versions"][0]),
            [
                "id",
                "create_time",
                "start_time",
                "finish_time",
                "revision",
                "message",
                "order"
            ]
        );
        assert_eq!(h["Versions"][0]["order"], json!(4));
        assert_eq!(keys(&h["FailedTests"]), [t_old.task_id.as_str()]);
        let ft = &h["FailedTests"][t_old.task_id.as_str()];
        assert_eq!(ft.as_array().map(Vec::len), Some(1));
        assert_eq!(
            keys(&ft[0]),
            [
                "status",
                "test_file",
                "url",
                "log_id",
                "exit_code",
                "start",
                "end"
            ]
        );
        assert!(render(&h).contains("\"end\": 2.5"));
        assert!(render(&h).contains("\"start\": 1,"));
        assert_eq!(
            render(&h["Exhausted"]),
            "{\n  \"Before\": true,\n  \"After\": true\n}"
        );
        assert_eq!(
            render(&message("Error finding task 'x'")),
            "{\n  \"message\": \"Error finding task 'x'\"\n}"
        );
    }
}
