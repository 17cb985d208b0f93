//! XPRESSO's answers (seed 002, fact sheet §3.2), every object's keys in the order of the seed's
//! examples: the submit and stop summaries, the request object (the list's projection, or the
//! detail with `tags`, scripts, sections and `results_meta`) and its items.
//!
//! Quirks kept from the examples: `interest_list` is a string holding a Python list repr,
//! `meta` is the JSON text `"{}"` on a request and an object on an item, `postback_token` is
//! `"Jwt <token>"`, times have microseconds and `Z` (sections' whole seconds), and
//! `success_rate` is an integer when whole (`0`).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::service::xpresso::{
    Item, ItemSpec, Phase, PhaseResult, Request, SUCCESS_RATE_RULE, Script, Section, Summary,
    iso_seconds_z, iso_z, item_id, json_or, request_id,
};

/// Where the answers say the server is: the public base URL (with its trailing slash) and the
/// instance id made from it.
#[derive(Clone, Debug)]
pub struct Site {
    base: String,
    instance_id: String,
}

impl Site {
    /// From the public base URL (`http://xpresso-server/`); a missing trailing slash is added.
    pub fn new(base_url: &str) -> Site {
        let mut base = base_url.trim().to_owned();
        if !base.ends_with('/') {
            base.push('/');
        }
        Site {
            instance_id: authority(&base).to_owned(),
            base,
        }
    }

    /// `<base>services/request-detail/REQ0000426`.
    pub fn request_url(&self, number: i64) -> String {
        format!(
            "{}services/request-detail/{}",
            self.base,
            request_id(number)
        )
    }

    /// The request URL with the request's UUID as its share key.
    pub fn service_url(&self, r: &Request) -> String {
        format!("{}?share_key={}", self.request_url(r.id), r.uuid)
    }
}

/// The host (and port, if the URL names one) of a URL, without user information:
/// `xpresso-server` for `http://xpresso-server/`.
fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let auth = rest.split(['/', '?', '#']).next().unwrap_or_default();
    auth.rsplit_once('@').map_or(auth, |(_, host)| host)
}

/// Python's `repr()` of a list of strings: `['user@company.com']`.
pub fn python_list_repr(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| python_str_repr(s)).collect();
    format!("[{}]", parts.join(", "))
}

/// Python 3's `repr()` of a string: single quotes unless the text holds a single quote and no
/// double quote; backslashes, the quote, `\n`, `\r`, `\t` escaped; other characters Python does
/// not print (controls, separators, format characters) as `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
pub fn python_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if !python_printable(c) => {
                let n = c as u32;
                if n < 0x100 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n < 0x10000 {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Whether Python's `str.isprintable` holds for `c`, for the characters that matter here: not a
/// control, not a separator other than the space, not a common format character.
fn python_printable(c: char) -> bool {
    let n = c as u32;
    !(c.is_control()
        || matches!(n,
            0xa0 | 0xad | 0x1680 | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064
            | 0x2066..=0x206f | 0x3000 | 0xfeff | 0xfff9..=0xfffb | 0xe000..=0xf8ff
            | 0xf0000..=0x10ffff | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e)
        || (n & 0xfffe) == 0xfffe)
}

/// A success rate: an integer when whole (`0`, `100`), else a float (`66.67`).
fn rate(s: &Summary) -> Value {
    let r = s.success_rate();
    if r.fract() == 0.0 && r.abs() < 1e15 {
        json!(r as i64)
    } else {
        json!(r)
    }
}

/// A result's or a script's counters with their success rate.
pub fn summary(s: &Summary) -> Value {
    json!({
        "applicable_tasks": s.applicable_tasks,
        "total_tasks": s.total_tasks,
        "unknown": s.unknown,
        "abort": s.abort,
        "fail": s.fail,
        "pass": s.pass,
        "block": s.block,
        "passx": s.passx,
        "skip": s.skip,
        "error": s.error,
        "success_rate": rate(s),
    })
}

/// A request's consolidated summary, in the seed's order, with the rule.
pub fn consolidated(s: &Summary) -> Value {
    json!({
        "applicable_tasks": s.applicable_tasks,
        "abort": s.abort,
        "passx": s.passx,
        "success_rate_rule": SUCCESS_RATE_RULE,
        "fail": s.fail,
        "block": s.block,
        "total_tasks": s.total_tasks,
        "skip": s.skip,
        "error": s.error,
        "pass": s.pass,
        "unknown": s.unknown,
        "success_rate": rate(s),
    })
}

fn time(t: Option<chrono::NaiveDateTime>) -> Value {
    t.map_or(Value::Null, |t| Value::String(iso_z(t)))
}

fn seconds_time(t: Option<chrono::NaiveDateTime>) -> Value {
    t.map_or(Value::Null, |t| Value::String(iso_seconds_z(t)))
}

fn item_ids(r: &Request, items: &[&Item]) -> Value {
    items
        .iter()
        .map(|i| Value::String(item_id(r.id, i.position)))
        .collect()
}

/// The submit answer: `username, request_id, state, branch, submitter, request_url,
/// service_url, items`.
pub fn submitted(site: &Site, r: &Request, items: &[&Item]) -> Value {
    json!({
        "username": r.username,
        "request_id": request_id(r.id),
        "state": r.state,
        "branch": r.branch,
        "submitter": r.submitter,
        "request_url": site.request_url(r.id),
        "service_url": site.service_url(r),
        "items": item_ids(r, items),
    })
}

/// The stop answer: the same keys in the seed's stop example's order.
pub fn stopped(site: &Site, r: &Request, items: &[&Item]) -> Value {
    json!({
        "state": r.state,
        "branch": r.branch,
        "request_url": site.request_url(r.id),
        "request_id": request_id(r.id),
        "username": r.username,
        "service_url": site.service_url(r),
        "submitter": r.submitter,
        "items": item_ids(r, items),
    })
}

/// What lies below a page of requests, read in a fixed number of statements and indexed here.
#[derive(Default)]
pub struct Below<'a> {
    /// Each request's items, in position order.
    pub items: HashMap<i64, Vec<&'a Item>>,
    /// Each item's phase results.
    pub results: HashMap<(i64, Phase), &'a PhaseResult>,
    /// Each request's consolidated summary (absent: nothing ran).
    pub summaries: HashMap<i64, Summary>,
    /// For the detail: each phase result's scripts and each script's sections.
    pub scripts: Option<Scripts<'a>>,
}

/// The detail's scripts and sections, by parent, in order.
#[derive(Default)]
pub struct Scripts<'a> {
    pub of_result: HashMap<i64, Vec<&'a Script>>,
    pub of_script: HashMap<i64, Vec<&'a Section>>,
}

impl<'a> Below<'a> {
    pub fn new(
        items: &'a [Item],
        results: &'a [PhaseResult],
        summaries: HashMap<i64, Summary>,
    ) -> Self {
        let mut b = Below {
            summaries,
            ..Below::default()
        };
        for i in items {
            b.items.entry(i.request_id).or_default().push(i);
        }
        for r in results {
            if let Some(p) = Phase::parse(&r.phase) {
                b.results.insert((r.item_id, p), r);
            }
        }
        b
    }

    /// Adds the detail's scripts and sections.
    pub fn with_scripts(mut self, scripts: &'a [Script], sections: &'a [Section]) -> Self {
        let mut s = Scripts::default();
        for x in scripts {
            s.of_result.entry(x.result_id).or_default().push(x);
        }
        for x in sections {
            s.of_script.entry(x.script_id).or_default().push(x);
        }
        self.scripts = Some(s);
        self
    }
}

/// A section, in the seed's order.
pub fn section(x: &Section) -> Value {
    json!({
        "section_id": x.section_id,
        "source_file": x.source_file,
        "sequence_number": x.sequence_number,
        "section_name": x.section_name,
        "result": x.result,
        "run_time": x.run_time,
        "parent_id": x.parent_id,
        "log_start_line": x.log_start_line,
        "id": x.uuid,
        "description": x.description,
        "log_size_line": x.log_size_line,
        "log_size": x.log_size,
        "script_id": x.script_id,
        "log_start": x.log_start,
        "section_type": x.section_type,
        "source_line": x.source_line,
        "stop_time": seconds_time(x.stop_time),
        "log_file": x.log_file,
        "start_time": seconds_time(x.start_time),
    })
}

fn script(x: &Script, scripts: &Scripts<'_>) -> Value {
    let stored: Summary = serde_json::from_str(&x.summary).unwrap_or_default();
    let sections: Vec<Value> = scripts
        .of_script
        .get(&x.id)
        .map(|v| v.iter().map(|s| section(s)).collect())
        .unwrap_or_default();
    json!({
        "meta": {"task_id": x.task_id, "name": x.name, "path": x.path},
        "sections": sections,
        "summary": summary(&stored),
    })
}

/// One phase's results: `{start_time, completion_time, state, summary, uid}`, with `scripts`
/// first and `results_meta` last in the detail; nulls and `{}` when the phase has none.
fn phase(item: &Item, number: i64, p: Phase, below: &Below<'_>) -> Value {
    let found = below.results.get(&(item.id, p)).copied();
    let mut m = Map::new();
    if let Some(scripts) = &below.scripts {
        let list: Vec<Value> = found
            .and_then(|r| scripts.of_result.get(&r.id))
            .map(|v| v.iter().map(|x| script(x, scripts)).collect())
            .unwrap_or_default();
        m.insert("scripts".into(), Value::Array(list));
    }
    match found {
        Some(r) => {
            m.insert("start_time".into(), time(r.start_time));
            m.insert("completion_time".into(), time(r.completion_time));
            m.insert("state".into(), json!(r.state));
            m.insert("summary".into(), summary(&Summary::of_result(r)));
            m.insert(
                "uid".into(),
                json!(format!("{}-{}", item_id(number, item.position), p.as_str())),
            );
        }
        None => {
            m.insert("start_time".into(), Value::Null);
            m.insert("completion_time".into(), Value::Null);
            m.insert("state".into(), Value::Null);
            m.insert("summary".into(), json!({}));
            m.insert("uid".into(), Value::Null);
        }
    }
    if below.scripts.is_some() {
        let meta = found.map_or(json!({}), |r| json_or(&r.results_meta, json!({})));
        m.insert("results_meta".into(), meta);
    }
    Value::Object(m)
}

/// `v`, or `empty` when it is null (a spec stored without that member).
fn or_empty(v: Value, empty: Value) -> Value {
    if v.is_null() { empty } else { v }
}

/// An item, in the seed's order.
pub fn item(i: &Item, number: i64, below: &Below<'_>) -> Value {
    let spec: ItemSpec = serde_json::from_str(&i.spec).unwrap_or_default();
    let submitted: Vec<Value> = spec
        .submitted_testbeds
        .iter()
        .map(|t| json!({"name": t.name, "uuid": t.uuid, "reservations": []}))
        .collect();
    json!({
        "call_stack_report": [],
        "parent": null,
        "priority_history": [],
        "harness_config": or_empty(spec.harness_config, json!([])),
        "results": {
            "run": phase(i, number, Phase::Run, below),
            "clean": phase(i, number, Phase::Clean, below),
        },
        "reservations": [],
        "options": spec.options,
        "submitted_testbeds": submitted,
        "job": {"name": spec.job.name, "path": spec.job.path, "uuid": spec.job.uuid},
        "completion_time": time(i.completion_time),
        "s3_reason": null,
        "labels": [],
        "state": i.state,
        "stop_requested": json_or(&i.stop_requested, json!({})),
        "harness_instances": spec.harness_instances,
        "item_id": item_id(number, i.position),
        "max_clean_runtime_seconds": i.max_clean_runtime_seconds,
        "priority": i.priority,
        "meta": {},
        "rerun_root": null,
        "selected_testbed": i.selected_testbed.as_deref().map_or(Value::Null, |t| json_or(t, Value::Null)),
        "children": [],
        "error_detail": i.error_detail,
        "topology": or_empty(spec.topology, json!({})),
        "engine": or_empty(spec.engine, json!({})),
        "bugs": [],
        "profile": {"name": spec.profile.name, "uuid": spec.profile.uuid},
        "max_runtime_seconds": i.max_runtime_seconds,
        "comparison": {},
        "env": spec.env,
        "start_time": time(i.start_time),
        "selected_reservation": null,
    })
}

/// A request object in the seed's order: the list's projection, or with `tags` last and the
/// scripts and results metadata of its items when `below` holds them (the detail).
pub fn request(site: &Site, r: &Request, below: &Below<'_>) -> Value {
    let items: Vec<Value> = below
        .items
        .get(&r.id)
        .map(|v| v.iter().map(|i| item(i, r.id, below)).collect())
        .unwrap_or_default();
    let interest: Vec<String> = serde_json::from_str(&r.interest_list).unwrap_or_default();
    let total = below.summaries.get(&r.id).copied().unwrap_or_default();
    let number = request_id(r.id);
    let mut v = json!({
        "source": r.source,
        "service_url": site.service_url(r),
        "instance_url": site.base,
        "date_created": iso_z(r.date_created),
        "name": r.name,
        "verdict": r.verdict,
        "interest_list": python_list_repr(&interest),
        "schedule_id": null,
        "consolidated_summary": consolidated(&total),
        "description": r.description,
        "items": items,
        "state": r.state,
        "max_request_runtime_seconds": r.max_request_runtime_seconds,
        "request_id": number,
        "date_completed": time(r.date_completed),
        "branch": r.branch,
        "call_stack": null,
        "submitter": r.submitter,
        "requeue": false,
        "meta": r.meta,
        "rerun_root": number,
        "children": [],
        "instance_id": site.instance_id,
        "request_url": site.request_url(r.id),
        "postback_token": format!("Jwt {}", r.postback_token),
        "parent_request": null,
        "username": r.username,
        "uuid": r.uuid,
    });
    if below.scripts.is_some()
        && let Value::Object(m) = &mut v
    {
        let tags: Vec<String> = serde_json::from_str(&r.tags).unwrap_or_default();
        m.insert("tags".into(), json!(tags));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_reprs() {
        let l =
            |v: &[&str]| python_list_repr(&v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(l(&["user@company.com"]), "['user@company.com']");
        assert_eq!(l(&[]), "[]");
        assert_eq!(l(&["a", "b"]), "['a', 'b']");
        // Python: repr("it's") == "\"it's\"", repr("a'b\"c") == "'a\\'b\"c'".
        assert_eq!(python_str_repr("it's"), "\"it's\"");
        assert_eq!(python_str_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(python_str_repr("say \"hi\""), "'say \"hi\"'");
        assert_eq!(python_str_repr("back\\slash"), "'back\\\\slash'");
        assert_eq!(python_str_repr("tab\there\nnl\r"), "'tab\\there\\nnl\\r'");
        assert_eq!(python_str_repr("\u{7}\u{7f}\u{a0}"), "'\\x07\\x7f\\xa0'");
        assert_eq!(python_str_repr("\u{2028}"), "'\\u2028'");
        assert_eq!(python_str_repr("é ü 日本 🎉"), "'é ü 日本 🎉'");
    }

    #[test]
    fn site_urls() {
        let s = Site::new("http://xpresso-server/");
        assert_eq!(s.instance_id, "xpresso-server");
        assert_eq!(
            s.request_url(1446),
            "http://xpresso-server/services/request-detail/REQ0001446"
        );
        let s = Site::new("https://user:pw@host.example:8443/base");
        assert_eq!(s.base, "https://user:pw@host.example:8443/base/");
        assert_eq!(s.instance_id, "host.example:8443");
    }

    #[test]
    fn rates_are_integers_when_whole() {
        assert_eq!(rate(&Summary::default()).to_string(), "0");
        let all = Summary {
            total_tasks: 2,
            pass: 2,
            ..Summary::default()
        };
        assert_eq!(rate(&all).to_string(), "100");
        let some = Summary {
            total_tasks: 3,
            pass: 2,
            ..Summary::default()
        };
        assert_eq!(rate(&some).to_string(), "66.67");
        let keys: Vec<String> = match consolidated(&some) {
            Value::Object(m) => m.keys().cloned().collect(),
            _ => Vec::new(),
        };
        assert_eq!(
            keys,
            [
                "applicable_tasks",
                "abort",
                "passx",
                "success_rate_rule",
                "fail",
                "block",
                "total_tasks",
                "skip",
                "error",
                "pass",
                "unknown",
                "success_rate"
            ]
        );
    }
}
