//! pytest-monitor's JSON shapes, key order as the legacy server serves them (seed 000 and the fact
//! sheet §1.3): sessions with `tags` as `{name, value}` pairs, metrics with float resource fields,
//! contexts, counts and the paged envelope.

use serde_json::{Map, Value, json};

use crate::service::monitor::{Context, Metric, Session};

pub fn session(s: &Session) -> Value {
    let tags: Vec<Value> = s
        .tags
        .iter()
        .map(|(k, v)| json!({ "name": k, "value": v }))
        .collect();
    json!({
        "session_h": s.h,
        "run_date": s.run_date,
        "scm_ref": s.scm_ref,
        "tags": tags,
    })
}

pub fn metric(m: &Metric) -> Value {
    json!({
        "session_h": m.session_h,
        "context_h": m.context_h,
        "item_start_time": m.item_start_time,
        "item_path": m.item_path,
        "item": m.item,
        "item_variant": m.item_variant,
        "item_fs_loc": m.item_fs_loc,
        "kind": m.kind,
        "component": m.component,
        "total_time": m.total_time,
        "user_time": m.user_time,
        "kernel_time": m.kernel_time,
        "cpu_usage": m.cpu_usage,
        "mem_usage": m.mem_usage,
    })
}

pub fn context(c: &Context) -> Value {
    json!({
        "h": c.h,
        "cpu_count": c.cpu_count,
        "cpu_frequency": c.cpu_frequency,
        "cpu_type": c.cpu_type,
        "cpu_vendor": c.cpu_vendor,
        "ram_total": c.ram_total,
        "machine_node": c.machine_node,
        "machine_type": c.machine_type,
        "machine_arch": c.machine_arch,
        "system_info": c.system_info,
        "python_info": c.python_info,
    })
}

pub fn count(n: u64) -> Value {
    json!({ "count": n })
}

/// Where a page sits among its siblings, as the envelope reports it.
pub struct PageLinks {
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
    pub total_page: u64,
}

/// `{key: items, prev_url?, next_url?, total_page}`: absent links are left out (skip_none).
pub fn paged(key: &str, items: Vec<Value>, links: &PageLinks) -> Value {
    let mut m = Map::new();
    m.insert(key.to_owned(), Value::Array(items));
    if let Some(p) = &links.prev_url {
        m.insert("prev_url".into(), Value::String(p.clone()));
    }
    if let Some(n) = &links.next_url {
        m.insert("next_url".into(), Value::String(n.clone()));
    }
    m.insert("total_page".into(), json!(links.total_page));
    Value::Object(m)
}

/// The envelope of the derived-list routes (pipelines, builds, their sessions): the legacy server
/// marshals them without skip_none, so absent links are `null`.
pub fn paged_with_nulls(mut head: Map<String, Value>, links: &PageLinks) -> Value {
    head.insert("prev_url".into(), json!(links.prev_url));
    head.insert("next_url".into(), json!(links.next_url));
    head.insert("total_page".into(), json!(links.total_page));
    Value::Object(head)
}

/// The OpenAPI schemas of these shapes.
pub fn schemas() -> Value {
    let s = json!({"type": "string"});
    let n = json!({"type": "number"});
    let i = json!({"type": "integer"});
    let links = json!({"prev_url": s, "next_url": s, "total_page": i});
    let page_of = |key: &str, item: Value| {
        let mut props = links.as_object().cloned().unwrap_or_default();
        props.insert(key.to_owned(), json!({"type": "array", "items": item}));
        json!({"type": "object", "properties": props})
    };
    json!({
        "MonitorSession": {"type": "object", "properties": {
            "session_h": s, "run_date": s, "scm_ref": {"type": "string", "nullable": true},
            "tags": {"type": "array", "items": {"type": "object", "properties": {"name": s, "value": s}}}}},
        "MonitorNewSession": {"type": "object", "required": ["session_h", "run_date", "description"], "properties": {
            "session_h": s, "h": s, "run_date": s, "scm_ref": {"type": "string", "nullable": true},
            "description": {"type": "object", "additionalProperties": s}}},
        "MonitorMetric": {"type": "object", "properties": {
            "session_h": s, "context_h": s, "item_start_time": s, "item_path": s, "item": s, "item_variant": s,
            "item_fs_loc": s, "kind": s, "component": {"type": "string", "nullable": true},
            "total_time": n, "user_time": n, "kernel_time": n, "cpu_usage": n, "mem_usage": n}},
        "MonitorContext": {"type": "object", "properties": {
            "h": s, "cpu_count": i, "cpu_frequency": i, "cpu_type": s, "cpu_vendor": s, "ram_total": i,
            "machine_node": s, "machine_type": s, "machine_arch": s, "system_info": s, "python_info": s}},
        "MonitorCount": {"type": "object", "properties": {"count": i}},
        "MonitorSessionPage": page_of("sessions", json!({"$ref": "#/components/schemas/MonitorSession"})),
        "MonitorMetricPage": page_of("metrics", json!({"$ref": "#/components/schemas/MonitorMetric"})),
        "MonitorContextPage": page_of("contexts", json!({"$ref": "#/components/schemas/MonitorContext"})),
        "MonitorComponentPage": page_of("components", s.clone()),
        "MonitorPipelines": {"type": "object", "properties": {"pipelines": {"type": "array", "items": s}}},
        "MonitorNames": {"type": "object", "description": "component/pipeline/build heads and the list of builds, pipelines or sessions, with paging links"},
    })
}
