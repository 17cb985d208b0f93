//! KernelCI's answers: the `{code, count, limit, skip, result}` envelope, documents in MongoDB's
//! extended JSON (`{"$oid": ...}` ids, `{"$date": ms}` times), the `field`/`nfield` projection,
//! compact JSON as `json.dumps(separators=(",", ":"), ensure_ascii=False)` wrote it, gzip when
//! asked, and the CORS headers Tornado's handlers set (fact sheet §4.1).

use chrono::NaiveDateTime;
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Request, Response};
use serde_json::{Map, Value, json};

use super::query::Projection;
use crate::service::kernelci::{Job, LogSummary, log_lines};

/// The content type of every answer.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=UTF-8";

fn oid(s: &str) -> Value {
    json!({ "$oid": s })
}

fn date(t: NaiveDateTime) -> Value {
    json!({ "$date": t.and_utc().timestamp_millis() })
}

/// A job document, keys in the order of `JOB_FIELDS`.
pub fn job(j: &Job) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("_id".into(), oid(&j.oid));
    m.insert("job".into(), json!(j.job));
    m.insert("kernel".into(), json!(j.kernel));
    m.insert("git_branch".into(), json!(j.git_branch));
    m.insert("git_commit".into(), json!(j.git_commit));
    m.insert("git_describe".into(), json!(j.git_describe));
    m.insert("git_describe_v".into(), json!(j.git_describe_v));
    m.insert("git_url".into(), json!(j.git_url));
    m.insert("kernel_version".into(), json!(j.kernel_version));
    m.insert("compiler".into(), json!(j.compiler));
    m.insert("compiler_version".into(), json!(j.compiler_version));
    m.insert("compiler_version_ext".into(), json!(j.compiler_version_ext));
    m.insert(
        "compiler_version_full".into(),
        json!(j.compiler_version_full),
    );
    m.insert("cross_compile".into(), json!(j.cross_compile));
    m.insert("private".into(), json!(j.private));
    m.insert("status".into(), json!(j.status));
    m.insert("created_on".into(), date(j.created_on));
    m.insert("version".into(), json!(j.version));
    m
}

fn lines(stored: &str) -> Value {
    Value::Array(
        log_lines(stored)
            .into_iter()
            .map(|l| json!([l.count, l.line]))
            .collect(),
    )
}

/// A build-log summary document (`errors_summary`).
pub fn summary(s: &LogSummary) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("_id".into(), oid(&s.oid));
    m.insert("job_id".into(), oid(&s.job_oid));
    m.insert("job".into(), json!(s.job));
    m.insert("kernel".into(), json!(s.kernel));
    m.insert("git_branch".into(), json!(s.git_branch));
    m.insert("created_on".into(), date(s.created_on));
    m.insert("errors".into(), lines(&s.errors));
    m.insert("warnings".into(), lines(&s.warnings));
    m.insert("mismatches".into(), lines(&s.mismatches));
    m.insert("version".into(), json!(s.version));
    m
}

/// `doc` with only the keys the projection keeps.
pub fn project(mut doc: Map<String, Value>, p: &Projection) -> Value {
    if *p != Projection::All {
        doc.retain(|k, _| p.keeps(k));
    }
    Value::Object(doc)
}

/// A list answer: `{code, count, limit, skip, result}`; `count` is every match, skip and limit
/// aside (the documented era's `cursor.count()`).
pub fn list(count: u64, limit: u64, skip: u64, result: Vec<Value>) -> Value {
    json!({"code": 200, "count": count, "limit": limit, "skip": skip, "result": result})
}

/// One document's answer: `{code, result: [doc]}`.
pub fn one(doc: Value) -> Value {
    json!({"code": 200, "result": [doc]})
}

/// `distinct/<field>`'s answer: `{code, count, result}`.
pub fn distinct(values: Vec<Option<String>>) -> Value {
    json!({"code": 200, "count": values.len(), "result": values})
}

/// `{code, reason}`, and `errors` when there are any.
pub fn reason(status: StatusCode, reason: &str, errors: &[String]) -> Value {
    let mut v = json!({"code": status.as_u16(), "reason": reason});
    if !errors.is_empty() {
        v["errors"] = json!(errors);
    }
    v
}

/// The body of `v` as the backend wrote it: compact, non-ASCII kept.
pub fn text(v: &Value) -> String {
    v.to_string()
}

/// `v` with `status`, gzip-compressed when the client takes it and it is large enough to gain.
pub fn respond(req: &Request, status: StatusCode, v: &Value) -> Response {
    let body = text(v);
    let builder = Response::builder()
        .status(status)
        .content_type(JSON_CONTENT_TYPE);
    if body.len() >= crate::gzip::MIN_LENGTH && crate::gzip::accepted(req) {
        return builder
            .header(header::CONTENT_ENCODING, "gzip")
            .body(crate::gzip::compress(body.as_bytes()));
    }
    builder.body(body)
}

/// The headers every answer of a route gets, errors included: `Vary: Accept-Encoding`, and the
/// backend's CORS (`Access-Control-Allow-Origin` echoing the request's `Origin`,
/// `Access-Control-Allow-Headers: authorization`).
pub fn finish(req: &Request, mut resp: Response) -> Response {
    let headers = resp.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization"),
    );
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    }
    resp
}

/// The OpenAPI schemas of the answers.
pub fn schemas() -> Value {
    let oid = json!({"type": "object", "properties": {"$oid": {"type": "string", "pattern": "^[0-9a-f]{24}$"}}, "required": ["$oid"]});
    let date = json!({"type": "object", "properties": {"$date": {"type": "integer", "description": "milliseconds since the epoch, UTC"}}, "required": ["$date"]});
    let text_null = json!({"type": "string", "nullable": true});
    let lines = json!({"type": "array", "items": {"type": "array", "description": "[count, line]", "items": {}}});
    let job = json!({
        "type": "object",
        "description": "A job. `field`/`nfield` leave keys out.",
        "properties": {
            "_id": oid, "job": {"type": "string"}, "kernel": {"type": "string"},
            "git_branch": {"type": "string"}, "git_commit": text_null, "git_describe": text_null,
            "git_describe_v": text_null, "git_url": text_null, "kernel_version": text_null,
            "compiler": text_null, "compiler_version": text_null, "compiler_version_ext": text_null,
            "compiler_version_full": text_null, "cross_compile": text_null,
            "private": {"type": "boolean"},
            "status": {"type": "string", "enum": ["BUILD", "FAIL", "PASS", "UNKNOWN"]},
            "created_on": date, "version": {"type": "string"}
        }
    });
    let summary = json!({
        "type": "object",
        "properties": {
            "_id": oid, "job_id": oid, "job": {"type": "string"}, "kernel": {"type": "string"},
            "git_branch": {"type": "string"}, "created_on": date,
            "errors": lines, "warnings": lines, "mismatches": lines, "version": {"type": "string"}
        }
    });
    let envelope = |item: Value| {
        json!({"type": "object", "required": ["code", "result"], "properties": {
            "code": {"type": "integer"}, "count": {"type": "integer"},
            "limit": {"type": "integer"}, "skip": {"type": "integer"},
            "result": {"type": "array", "items": item}
        }})
    };
    json!({
        "KernelciJobList": envelope(job.clone()),
        "KernelciLogSummaryList": envelope(summary),
        "KernelciDistinct": envelope(json!({"type": "string", "nullable": true})),
        "KernelciReason": {"type": "object", "required": ["code"], "properties": {
            "code": {"type": "integer"}, "reason": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "string"}}
        }},
        "KernelciJobStatusUpdate": {"type": "object", "required": ["job", "kernel", "git_branch"], "properties": {
            "job": {"type": "string"}, "kernel": {"type": "string"}, "git_branch": {"type": "string"},
            "git_commit": {"type": "string"}, "git_describe": {"type": "string"},
            "kernel_version": {"type": "string"},
            "status": {"type": "string", "enum": ["BUILD", "FAIL", "PASS", "UNKNOWN"], "default": "PASS"}
        }},
    })
}
