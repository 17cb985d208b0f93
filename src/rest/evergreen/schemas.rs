//! The OpenAPI schemas of Evergreen REST v1's answers (`wire`), named as the route table's
//! `response` and `body` refer to them.

use serde_json::{Map, Value, json};

/// The OpenAPI schemas of these shapes, named as the route table's `response` and `body` refer to
/// them. Map-typed members are `additionalProperties`; times are RFC 3339 strings (`0001-01-01T00:00:00Z`
/// when unset); durations are integer nanoseconds.
pub fn schemas() -> Value {
    let s = json!({"type": "string"});
    let b = json!({"type": "boolean"});
    let i = json!({"type": "integer"});
    let t = json!({"type": "string", "format": "date-time", "description": "RFC 3339 in UTC; 0001-01-01T00:00:00Z when unset"});
    let ns = json!({"type": "integer", "format": "int64", "description": "nanoseconds"});
    let strings = json!({"type": "array", "items": s, "nullable": true});
    let reference = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let map_of = |item: Value| json!({"type": "object", "additionalProperties": item});
    let summary = reference("EvergreenTaskSummary");
    let details = json!({"type": "object", "properties": {"timed_out": b, "timeout_stage": s}});
    let tests = map_of(reference("EvergreenTestResult"));
    let mut all = Map::new();
    all.insert(
        "EvergreenTaskSummary".into(),
        json!({"type": "object", "properties": {"task_id": s, "status": s, "time_taken": ns}}),
    );
    all.insert(
        "EvergreenRecentVersions".into(),
        json!({"type": "object", "properties": {
            "project": s,
            "versions": {"type": "array", "items": {"type": "object", "properties": {
                "version_id": s, "author": s, "revision": s, "message": s,
                "builds": map_of(json!({"type": "object", "properties": {
                    "build_id": s, "name": s, "tasks": map_of(summary.clone())}}))}}}}}),
    );
    all.insert("EvergreenVersion".into(), json!({"type": "object", "properties": {
            "id": s, "create_time": t, "start_time": t, "finish_time": t, "project": s, "revision": s,
            "author": s, "author_email": s, "message": s,
            "status": {"type": "string", "enum": ["created", "started", "success", "failed"]},
            "activated": b, "builds": strings, "build_variants": strings, "order": i,
            "owner_name": s, "repo_name": s, "branch_name": s, "repo_kind": s, "batch_time": i,
            "identifier": s, "remote": b, "remote_path": s, "requester": s}}));
    all.insert(
        "EvergreenVersionPatch".into(),
        json!({"type": "object", "properties": {"activated": b}}),
    );
    all.insert("EvergreenVersionStatus".into(), json!({"type": "object", "description": "`tasks` (groupby=tasks) or `builds` (groupby=builds)", "properties": {
            "version_id": s,
            "tasks": map_of(map_of(summary.clone())),
            "builds": map_of(map_of(summary.clone()))}}));
    all.insert("EvergreenBuild".into(), json!({"type": "object", "properties": {
            "id": s, "create_time": t, "start_time": t, "finish_time": t, "push_time": t, "version": s,
            "project": s, "revision": s, "variant": s, "number": s, "status": s, "activated": b,
            "activated_time": t, "order": i, "tasks": map_of(summary.clone()), "time_taken": ns,
            "name": s, "requester": s}}));
    all.insert(
        "EvergreenBuildStatus".into(),
        json!({"type": "object", "properties": {
            "build_id": s, "build_variant": s, "tasks": map_of(summary)}}),
    );
    all.insert(
        "EvergreenTestResult".into(),
        json!({"type": "object", "properties": {
            "status": {"type": "string", "enum": ["pass", "fail", "skip"]}, "time_taken": ns,
            "logs": {"type": "object", "properties": {"url": s}}}}),
    );
    all.insert("EvergreenTask".into(), json!({"type": "object", "properties": {
            "id": s, "create_time": t, "scheduled_time": t, "dispatch_time": t, "start_time": t,
            "finish_time": t, "push_time": t, "version": s, "project": s, "revision": s, "priority": i,
            "last_heartbeat": t, "activated": b, "build_id": s, "distro": s, "build_variant": s,
            "depends_on": {"type": "array", "items": s}, "display_name": s, "host_id": s,
            "restarts": i, "execution": i, "archived": b, "order": i, "requester": s, "status": s,
            "status_details": details.clone(), "aborted": b, "time_taken": ns, "expected_duration": ns,
            "test_results": tests.clone(), "min_queue_pos": i,
            "files": {"type": "array", "items": {"type": "object", "properties": {"name": s, "url": s}}}}}));
    all.insert(
        "EvergreenTaskStatus".into(),
        json!({"type": "object", "properties": {
            "task_id": s, "task_name": s, "status": s, "status_details": details, "tests": tests}}),
    );
    all.insert("EvergreenTaskHistory".into(), json!({"type": "object", "properties": {
            "Tasks": {"type": "array", "items": {"type": "object", "properties": {
                "_id": s, "order": i,
                "tasks": {"type": "array", "items": {"type": "object", "properties": {
                    "_id": s, "activated": b, "build_variant": s, "status": s,
                    "status_details": {"type": "object"}, "time_taken": ns}}}}}},
            "Versions": {"type": "array", "items": {"type": "object", "properties": {
                "id": s, "create_time": t, "start_time": t, "finish_time": t, "revision": s,
                "message": s, "order": i}}},
            "FailedTests": map_of(json!({"type": "array", "items": {"type": "object", "properties": {
                "status": s, "test_file": s, "url": s, "log_id": s, "line_num": i, "exit_code": i,
                "start": {"type": "number"}, "end": {"type": "number"}}}})),
            "Exhausted": {"type": "object", "properties": {"Before": b, "After": b}}}}));
    all.insert(
        "EvergreenMessage".into(),
        json!({"type": "object", "properties": {"message": s}}),
    );
    Value::Object(all)
}
