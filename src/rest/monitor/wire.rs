//! pytest-monitor's JSON shapes, key order as the legacy server serves them (seed 000 and the fact
//! sheet §1.3): sessions with `tags` as `{name, value}` pairs, metrics with float resource fields,
//! contexts, counts and the paged envelope.

use std::borrow::Cow;

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::{Map, Value, json};

use crate::service::monitor::{Context, Metric, Session};

// The shapes are borrowed structs rather than `serde_json::Value`s: a list of 100 rows built as
// `Value`s spent more time allocating maps than reading the rows. Field order is key order.

#[derive(Serialize)]
pub struct WireSession<'a> {
    session_h: &'a str,
    run_date: &'a str,
    scm_ref: &'a Option<String>,
    tags: Vec<Tag<'a>>,
}

#[derive(Serialize)]
struct Tag<'a> {
    name: Cow<'a, str>,
    value: Cow<'a, str>,
}

pub fn session(s: &Session) -> WireSession<'_> {
    WireSession {
        session_h: &s.h,
        run_date: &s.run_date,
        scm_ref: &s.scm_ref,
        tags: s
            .tags()
            .into_iter()
            .map(|(name, value)| Tag { name, value })
            .collect(),
    }
}

#[derive(Serialize)]
pub struct WireMetric<'a> {
    session_h: &'a str,
    context_h: &'a str,
    item_start_time: &'a str,
    item_path: &'a str,
    item: &'a str,
    item_variant: &'a str,
    item_fs_loc: &'a str,
    kind: &'a str,
    component: &'a Option<String>,
    total_time: f64,
    user_time: f64,
    kernel_time: f64,
    cpu_usage: f64,
    mem_usage: f64,
}

pub fn metric(m: &Metric) -> WireMetric<'_> {
    WireMetric {
        session_h: &m.session_h,
        context_h: &m.context_h,
        item_start_time: &m.item_start_time,
        item_path: &m.item_path,
        item: &m.item,
        item_variant: &m.item_variant,
        item_fs_loc: &m.item_fs_loc,
        kind: &m.kind,
        component: &m.component,
        total_time: m.total_time,
        user_time: m.user_time,
        kernel_time: m.kernel_time,
        cpu_usage: m.cpu_usage,
        mem_usage: m.mem_usage,
    }
}

#[derive(Serialize)]
pub struct WireContext<'a> {
    h: &'a str,
    cpu_count: i64,
    cpu_frequency: i64,
    cpu_type: &'a str,
    cpu_vendor: &'a str,
    ram_total: i64,
    machine_node: &'a str,
    machine_type: &'a str,
    machine_arch: &'a str,
    system_info: &'a str,
    python_info: &'a str,
}

pub fn context(c: &Context) -> WireContext<'_> {
    WireContext {
        h: &c.h,
        cpu_count: c.cpu_count,
        cpu_frequency: c.cpu_frequency,
        cpu_type: &c.cpu_type,
        cpu_vendor: &c.cpu_vendor,
        ram_total: c.ram_total,
        machine_node: &c.machine_node,
        machine_type: &c.machine_type,
        machine_arch: &c.machine_arch,
        system_info: &c.system_info,
        python_info: &c.python_info,
    }
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
pub struct Paged<'a, T> {
    pub key: &'a str,
    pub items: &'a [T],
    pub links: &'a PageLinks,
}

impl<T: Serialize> Serialize for Paged<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry(self.key, self.items)?;
        if let Some(p) = &self.links.prev_url {
            m.serialize_entry("prev_url", p)?;
        }
        if let Some(n) = &self.links.next_url {
            m.serialize_entry("next_url", n)?;
        }
        m.serialize_entry("total_page", &self.links.total_page)?;
        m.end()
    }
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
    let hash = json!({"type": "string", "minLength": 1, "maxLength": crate::service::monitor::MAX_HASH_LEN});
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
            "session_h": hash, "h": hash,
            "run_date": {"type": "string", "format": "date-time", "description": "ISO 8601; without an offset, UTC"},
            "scm_ref": {"type": "string", "nullable": true},
            "description": {"type": "object", "additionalProperties": s}}},
        "MonitorNewMetric": {"type": "object",
            "required": ["session_h", "context_h", "item_start_time", "item_path", "item", "item_variant",
                         "item_fs_loc", "kind", "component", "total_time", "user_time", "kernel_time",
                         "cpu_usage", "mem_usage"],
            "properties": {
                "session_h": hash, "context_h": hash, "item_start_time": s, "item_path": s, "item": s,
                "item_variant": s, "item_fs_loc": s, "kind": s, "component": {"type": "string", "nullable": true},
                "total_time": n, "user_time": n, "kernel_time": n, "cpu_usage": n, "mem_usage": n}},
        "MonitorNewContext": {"type": "object",
            "required": ["h", "cpu_count", "cpu_frequency", "cpu_type", "ram_total", "machine_node",
                         "machine_type", "machine_arch", "system_info", "python_info"],
            "properties": {
                "h": hash, "cpu_count": i, "cpu_frequency": i, "cpu_type": s,
                "cpu_vendor": {"type": "string", "nullable": true}, "ram_total": i, "machine_node": s,
                "machine_type": s, "machine_arch": s, "system_info": s, "python_info": s}},
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
