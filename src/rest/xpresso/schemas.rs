//! The OpenAPI schemas of XPRESSO's bodies and answers (`wire`), named as the route table's
//! `response` and `body` refer to them.

use serde_json::{Map, Value, json};

use crate::service::xpresso::{DEFAULT_LIMIT, MAX_LIMIT, SUCCESS_RATE_RULE, State};

/// Every schema of the requests API.
pub fn schemas() -> Value {
    let s = json!({"type": "string"});
    let sn = json!({"type": "string", "nullable": true});
    let b = json!({"type": "boolean"});
    let i = json!({"type": "integer"});
    let obj = json!({"type": "object", "additionalProperties": true});
    let empty_list = json!({"type": "array", "items": {}, "maxItems": 0});
    let strings = json!({"type": "array", "items": s});
    let t = json!({"type": "string", "format": "date-time", "example": "2019-08-27T15:16:14.247943Z",
        "description": "UTC with microseconds and Z"});
    let tn = json!({"type": "string", "format": "date-time", "nullable": true,
        "example": "2019-08-27T15:16:14.247943Z", "description": "UTC with microseconds and Z"});
    let ts = json!({"type": "string", "format": "date-time", "nullable": true,
        "example": "2019-08-27T08:21:44Z", "description": "UTC in whole seconds and Z"});
    let states: Vec<&str> = State::ALL.iter().map(|s| s.as_str()).collect();
    let state = json!({"type": "string", "enum": states});
    let reference = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let named = json!({"type": "object", "properties": {"name": s, "uuid": s}});
    let rate = json!({"type": "number", "description": "(pass + passx + skip) / total_tasks * 100, two decimals, 0 without tasks; an integer when whole"});
    let counters = |with_rule: bool| {
        let mut p = Map::new();
        for k in [
            "applicable_tasks",
            "total_tasks",
            "unknown",
            "abort",
            "fail",
            "pass",
            "block",
            "passx",
            "skip",
            "error",
        ] {
            p.insert(k.into(), i.clone());
        }
        if with_rule {
            p.insert(
                "success_rate_rule".into(),
                json!({"type": "string", "enum": [SUCCESS_RATE_RULE]}),
            );
        }
        p.insert("success_rate".into(), rate.clone());
        Value::Object(p)
    };
    let mut all = Map::new();
    all.insert(
        "XpressoSubmitBody".into(),
        json!({"type": "object",
            "description": "A profile request (profile, with testbeds or topologies, not both, and parameters) or a bundle request (bundle: its testbeds, topologies and arguments cannot be overridden). Keys not listed are ignored; null is not given.",
            "properties": {
                "profile": {"type": "string", "format": "uuid"},
                "bundle": {"type": "string", "format": "uuid"},
                "testbeds": {"type": "array", "items": {"type": "string", "format": "uuid"}},
                "topologies": {"type": "array", "items": {"type": "string", "format": "uuid"}, "description": "One item per topology."},
                "submitted_for": {"type": "string", "description": "The answer's username; the caller when not given."},
                "compare_baseline": b, "is_baseline": b, "description": s, "clean": b,
                "max_request_runtime_seconds": {"type": "integer", "minimum": 0, "maximum": 604800},
                "tags": strings, "branch": {"type": "string", "description": "N/A when not given."},
                "parameters": {"type": "object", "properties": {
                    "env_vars": {"type": "object", "additionalProperties": {"type": "string"}},
                    "job_args": {"type": "object", "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "boolean"}]},
                        "description": "A flag's value, true for a bare flag, false to drop the profile's."},
                    "harness_args": {"type": "object", "additionalProperties": {"type": "string"}}}}}}),
    );
    all.insert(
        "XpressoStopBody".into(),
        json!({"type": "object", "properties": {"reason": {"type": "string", "description": "Optional; an empty body is no reason."}}}),
    );
    all.insert(
        "XpressoRequestSummary".into(),
        json!({"type": "object",
            "description": "What submitting (200, state PREPARING) or stopping (state STOPPED) answers; the stop answer's keys come in the order state, branch, request_url, request_id, username, service_url, submitter, items.",
            "properties": {
                "username": s, "request_id": {"type": "string", "example": "REQ0000426"},
                "state": state, "branch": s, "submitter": s, "request_url": s,
                "service_url": {"type": "string", "description": "request_url?share_key=<the request's uuid>"},
                "items": {"type": "array", "items": {"type": "string", "example": "REQ0000426-1"}}}}),
    );
    all.insert("XpressoSummary".into(), json!({"type": "object", "description": "A phase's or a script's counters; {} for a phase without results.", "properties": counters(false)}));
    all.insert(
        "XpressoConsolidatedSummary".into(),
        json!({"type": "object", "description": "The sum of the request's items' run results.", "properties": counters(true)}),
    );
    all.insert(
        "XpressoSection".into(),
        json!({"type": "object", "properties": {
            "section_id": s, "source_file": s, "sequence_number": i, "section_name": s,
            "result": s, "run_time": {"type": "string", "description": "seconds"}, "parent_id": sn,
            "log_start_line": i, "id": {"type": "string", "format": "uuid"}, "description": s,
            "log_size_line": i, "log_size": i, "script_id": i, "log_start": i,
            "section_type": s, "source_line": i, "stop_time": ts, "log_file": s, "start_time": ts}}),
    );
    all.insert(
        "XpressoScript".into(),
        json!({"type": "object", "properties": {
            "meta": {"type": "object", "properties": {"task_id": s, "name": s, "path": s}},
            "sections": {"type": "array", "items": reference("XpressoSection")},
            "summary": reference("XpressoSummary")}}),
    );
    all.insert(
        "XpressoPhaseResult".into(),
        json!({"type": "object", "description": "A phase's results (nulls and {} when it has none). scripts and results_meta: in the detail only.", "properties": {
            "scripts": {"type": "array", "items": reference("XpressoScript")},
            "start_time": tn, "completion_time": tn, "state": sn,
            "summary": reference("XpressoSummary"),
            "uid": {"type": "string", "nullable": true, "example": "REQ0001446-1-run"},
            "results_meta": {"type": "object", "additionalProperties": true, "description": "The results archive's metadata, as the runner reported it."}}}),
    );
    all.insert(
        "XpressoItem".into(),
        json!({"type": "object", "properties": {
            "call_stack_report": empty_list, "parent": sn, "priority_history": empty_list,
            "harness_config": {"type": "array", "items": obj},
            "results": {"type": "object", "properties": {
                "run": reference("XpressoPhaseResult"), "clean": reference("XpressoPhaseResult")}},
            "reservations": empty_list, "options": obj,
            "submitted_testbeds": {"type": "array", "items": {"type": "object", "properties": {
                "name": s, "uuid": s, "reservations": empty_list}}},
            "job": {"type": "object", "properties": {"name": s, "path": s, "uuid": s}},
            "completion_time": tn, "s3_reason": sn, "labels": empty_list, "state": state,
            "stop_requested": {"type": "object", "description": "{} or {reason, user, time}",
                "properties": {"reason": s, "user": s, "time": t}},
            "harness_instances": {"type": "array", "items": obj},
            "item_id": {"type": "string", "example": "REQ0001446-1"},
            "max_clean_runtime_seconds": i, "priority": i, "meta": obj, "rerun_root": sn,
            "selected_testbed": {"allOf": [named], "nullable": true, "description": "Once the runner chose it."},
            "children": empty_list, "error_detail": sn,
            "topology": {"type": "object", "description": "{} on testbeds, else {name, uuid}"},
            "engine": {"type": "object", "properties": {"name": s, "type": s, "uuid": s}},
            "bugs": empty_list, "profile": named, "max_runtime_seconds": i, "comparison": obj,
            "env": {"type": "object", "additionalProperties": {"type": "string"}},
            "start_time": tn, "selected_reservation": sn}}),
    );
    all.insert(
        "XpressoRequest".into(),
        json!({"type": "object", "description": "A request. The list leaves out tags and its results' scripts and results_meta.", "properties": {
            "source": {"type": "string", "enum": ["API"]}, "service_url": s,
            "instance_url": {"type": "string", "description": "The public base URL (--xpresso-public-url)."},
            "date_created": t, "name": s,
            "verdict": {"type": "string", "nullable": true, "enum": ["PASSED", "FAILED", null]},
            "interest_list": {"type": "string", "description": "A Python list repr: ['user@company.com']"},
            "schedule_id": sn, "consolidated_summary": reference("XpressoConsolidatedSummary"),
            "description": sn, "items": {"type": "array", "items": reference("XpressoItem")},
            "state": state, "max_request_runtime_seconds": i, "request_id": s,
            "date_completed": tn, "branch": s, "call_stack": sn, "submitter": s, "requeue": b,
            "meta": {"type": "string", "description": "JSON text: \"{}\""},
            "rerun_root": s, "children": empty_list,
            "instance_id": {"type": "string", "description": "The base URL's host[:port]."},
            "request_url": s,
            "postback_token": {"type": "string", "description": "Jwt <token>: what the request's runner reports with."},
            "parent_request": sn, "username": s, "uuid": {"type": "string", "format": "uuid"},
            "tags": strings}}),
    );
    all.insert(
        "XpressoRequestList".into(),
        json!({"type": "array", "items": reference("XpressoRequest"),
            "description": format!("Newest first; limit (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}) and offset page it.")}),
    );
    Value::Object(all)
}
