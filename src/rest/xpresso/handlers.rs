//! XPRESSO's request handlers (seed 002, "Request(s) and Bundle Requests REST APIs"; the server
//! is closed source, so the doc's examples and the fact sheet §3 are the reference). Each reads
//! the caller from the token (`Principal`, put there by `RestApi::run`) and the `X-Group` header,
//! calls the XPRESSO service and writes the answer with `wire`; errors are rendered by
//! `errors::render`.

use poem::http::StatusCode;
use poem::{Request, Response};
use serde_json::{Map, Value};

use super::errors::respond;
use super::wire::{self, Below, Site};
use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use crate::service::xpresso::{
    self as svc, Caller, DEFAULT_LIMIT, MAX_LIMIT, NewRequest, Parameters, RequestFilter,
    RequestOrder, State, parse_request_id,
};
use crate::service::{Direction, Slice};
use crate::state::AppState;

/// The header naming the caller's group ("Group: retrieved from headers").
pub const GROUP_HEADER: &str = "x-group";

/// Who is calling: the token's user and group. An `X-Group` header, when sent, must name the
/// token's group (a token acts in one group only).
fn caller(req: &Request) -> AppResult<Caller> {
    let token = req
        .extensions()
        .get::<Principal>()
        .and_then(|p| p.token.as_ref())
        .ok_or_else(|| {
            AppError::Unauthenticated(
                "Authentication required: send 'Authorization: Jwt <token>'.".into(),
            )
        })?;
    if let Some(value) = req.headers().get(GROUP_HEADER) {
        // A value that is not text names no group a token can belong to.
        let named = value.to_str().ok().map(str::trim);
        if named != Some(token.group.as_str()) {
            return Err(AppError::Forbidden(format!(
                "The token does not belong to group '{}'.",
                truncated(named.unwrap_or("?"))
            )));
        }
    }
    Ok(Caller {
        group: token.group.clone(),
        user: token.user.clone(),
    })
}

/// At most 64 characters of `s`, for messages that quote input.
fn truncated(s: &str) -> String {
    let mut out: String = s.chars().take(64).collect();
    if s.chars().count() > 64 {
        out.push('…');
    }
    out
}

fn site(st: &AppState) -> Site {
    Site::new(&st.config.xpresso_base_url())
}

/// The request number in the path; `None` (a 404) when it is not a request id.
fn path_number(req: &Request) -> AppResult<i64> {
    req.raw_path_param("request_id")
        .and_then(parse_request_id)
        .ok_or_else(|| AppError::not_found("no such request"))
}

fn refuse(msg: impl Into<String>) -> AppError {
    AppError::BadRequest(msg.into())
}

/// The body as a JSON object; an empty body is `empty` (`None`: refused).
fn object_body(body: &[u8], empty: Option<Map<String, Value>>) -> AppResult<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return empty.ok_or_else(|| refuse("A JSON object is required in the request body."));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(refuse("The request body must be a JSON object.")),
        Err(e) => Err(refuse(format!("The request body is not valid JSON: {e}."))),
    }
}

/// Typed reads of a body's optional keys, XPRESSO-worded: a key that is absent or `null` is not
/// given; one of the wrong type is a 400 naming it.
struct Body<'a>(&'a Map<String, Value>);

impl Body<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    fn wrong(key: &str, want: &str) -> AppError {
        refuse(format!("Provided {key} must be {want}."))
    }

    fn text(&self, key: &str) -> AppResult<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Self::wrong(key, "a string")),
        }
    }

    fn flag(&self, key: &str) -> AppResult<bool> {
        match self.get(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(Self::wrong(key, "true or false")),
        }
    }

    fn integer(&self, key: &str) -> AppResult<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| Self::wrong(key, "an integer")),
            Some(_) => Err(Self::wrong(key, "an integer")),
        }
    }

    fn texts(&self, key: &str) -> AppResult<Option<Vec<String>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(Self::wrong(key, "a list of strings")),
                })
                .collect::<AppResult<Vec<_>>>()
                .map(Some),
            Some(_) => Err(Self::wrong(key, "a list of strings")),
        }
    }

    fn object(&self, key: &str) -> AppResult<Option<&Map<String, Value>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(Self::wrong(key, "an object")),
        }
    }
}

/// The submit body as a `NewRequest`. Keys it does not know are ignored; the service checks what
/// the values mean (profile or bundle, testbeds or topologies, bounds).
pub fn new_request(body: &[u8]) -> AppResult<NewRequest> {
    let doc = object_body(body, None)?;
    let b = Body(&doc);
    let parameters = match b.object("parameters")? {
        None => None,
        Some(p) => {
            let p = Body(p);
            let part = |key: &str| -> AppResult<Map<String, Value>> {
                Ok(p.object(key)
                    .map_err(|_| refuse(format!("Provided parameters.{key} must be an object.")))?
                    .cloned()
                    .unwrap_or_default())
            };
            Some(Parameters {
                env_vars: part("env_vars")?,
                job_args: part("job_args")?,
                harness_args: part("harness_args")?,
            })
        }
    };
    Ok(NewRequest {
        profile: b.text("profile")?,
        bundle: b.text("bundle")?,
        testbeds: b.texts("testbeds")?,
        topologies: b.texts("topologies")?,
        submitted_for: b.text("submitted_for")?,
        compare_baseline: b.flag("compare_baseline")?,
        is_baseline: b.flag("is_baseline")?,
        description: b.text("description")?,
        clean: b.flag("clean")?,
        max_request_runtime_seconds: b.integer("max_request_runtime_seconds")?,
        tags: b.texts("tags")?.unwrap_or_default(),
        branch: b.text("branch")?,
        parameters,
    })
}

/// `POST /api/v1/requests` (Submit Request, Submit Bundle Request): a profile or a bundle request
/// for the caller's group. 200 with `username, request_id, state, branch, submitter,
/// request_url, service_url, items`; 400 `{"Error": ...}` with XPRESSO's sentences.
pub async fn submit(st: &AppState, req: &Request, body: &[u8]) -> AppResult<Response> {
    let caller = caller(req)?;
    let input = new_request(body)?;
    let (r, items) = svc::submit_request(&st.db, &caller, &input).await?;
    let items: Vec<_> = items.iter().collect();
    Ok(respond(
        StatusCode::OK,
        &wire::submitted(&site(st), &r, &items),
    ))
}

/// The list's query string: paging and filters.
#[derive(Debug, PartialEq)]
pub struct ListQuery {
    pub filter: RequestFilter,
    pub offset: u64,
    pub limit: u64,
}

/// Reads `limit` (default `DEFAULT_LIMIT`, at most `MAX_LIMIT`; 0 or not a number is a 400),
/// `offset` (default 0), `state` (repeated or comma-separated), `submitter` and `branch`
/// (repeated) and one `tag`. Other parameters are ignored.
pub fn list_query(query: &str) -> AppResult<ListQuery> {
    let mut q = ListQuery {
        filter: RequestFilter::default(),
        offset: 0,
        limit: DEFAULT_LIMIT,
    };
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        let v = v.trim();
        match k.as_ref() {
            "limit" => {
                q.limit = match v.parse::<u64>() {
                    Ok(n) if n > 0 => n.min(MAX_LIMIT),
                    _ => {
                        return Err(refuse(format!(
                            "Provided limit must be a whole number from 1 to {MAX_LIMIT}."
                        )));
                    }
                }
            }
            "offset" => {
                q.offset =
                    v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                        refuse("Provided offset must be a whole number, 0 or more.")
                    })? as u64
            }
            "state" => {
                for s in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let state = State::parse(s).ok_or_else(|| {
                        let all: Vec<&str> = State::ALL.iter().map(|s| s.as_str()).collect();
                        refuse(format!(
                            "Provided state '{}' is not one of {}.",
                            truncated(s),
                            all.join(", ")
                        ))
                    })?;
                    if !q.filter.states.contains(&state) {
                        q.filter.states.push(state);
                    }
                }
            }
            "submitter" if !v.is_empty() => q.filter.submitters.push(v.to_owned()),
            "branch" if !v.is_empty() => q.filter.branches.push(v.to_owned()),
            "tag" if !v.is_empty() => {
                if q.filter.tag.as_deref().is_some_and(|t| t != v) {
                    return Err(refuse("Provide one tag at most."));
                }
                q.filter.tag = Some(v.to_owned());
            }
            _ => {}
        }
    }
    Ok(q)
}

/// `GET /api/v1/requests` (Retrieve Requests): the caller's group's requests, newest first, a bare
/// array in the list's shape. Four statements whatever the page holds: the requests, their
/// items and their consolidated summaries (together), the items' results.
pub async fn list(st: &AppState, req: &Request) -> AppResult<Response> {
    let caller = caller(req)?;
    let q = list_query(req.uri().query().unwrap_or_default())?;
    let rows = svc::list_requests(
        &st.db,
        &caller.group,
        &q.filter,
        RequestOrder::Number,
        Direction::Desc,
        &Slice::Offset {
            offset: q.offset,
            limit: q.limit,
        },
    )
    .await?;
    let numbers: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let (items, summaries) = tokio::try_join!(
        svc::items_of_requests(&st.db, &numbers),
        svc::summaries_of_requests(&st.db, &numbers),
    )?;
    let item_ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let results = svc::results_of_items(&st.db, &item_ids).await?;
    let below = Below::new(&items, &results, summaries);
    let site = site(st);
    let body: Vec<Value> = rows
        .iter()
        .map(|r| wire::request(&site, r, &below))
        .collect();
    Ok(respond(StatusCode::OK, &Value::Array(body)))
}

/// `GET /api/v1/requests/<request_id>` (Retrieve Request): one request of the caller's group with
/// `tags` and its items' scripts, sections and results metadata. 404 `{}` for an unknown id, a
/// malformed one, or another group's request.
pub async fn detail(st: &AppState, req: &Request) -> AppResult<Response> {
    let caller = caller(req)?;
    let number = path_number(req)?;
    let r = svc::request(&st.db, &caller.group, number)
        .await?
        .ok_or_else(|| AppError::not_found("no such request"))?;
    let numbers = [number];
    let (items, summaries) = tokio::try_join!(
        svc::items_of_requests(&st.db, &numbers),
        svc::summaries_of_requests(&st.db, &numbers),
    )?;
    let item_ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    let results = svc::results_of_items(&st.db, &item_ids).await?;
    let result_ids: Vec<i64> = results.iter().map(|r| r.id).collect();
    let scripts = svc::scripts_of_results(&st.db, &result_ids).await?;
    let script_ids: Vec<i64> = scripts.iter().map(|s| s.id).collect();
    let sections = svc::sections_of_scripts(&st.db, &script_ids).await?;
    let below = Below::new(&items, &results, summaries).with_scripts(&scripts, &sections);
    Ok(respond(
        StatusCode::OK,
        &wire::request(&site(st), &r, &below),
    ))
}

/// `PATCH /api/v1/requests/<request_id>/stop` (Stop Request): `{"reason": str}` (optional; an
/// empty body is no reason). Every unfinished item becomes STOPPED. 200 with the request's summary
/// in the seed's stop order; 404 `{}` for an unknown request or another group's; 400
/// `{"Error": ...}` for a request that already ended.
pub async fn stop(st: &AppState, req: &Request, body: &[u8]) -> AppResult<Response> {
    let caller = caller(req)?;
    let number = path_number(req)?;
    let doc = object_body(body, Some(Map::new()))?;
    let reason = Body(&doc).text("reason")?.unwrap_or_default();
    let (r, items) = svc::stop_request(&st.db, &caller, number, &reason).await?;
    let items: Vec<_> = items.iter().collect();
    Ok(respond(
        StatusCode::OK,
        &wire::stopped(&site(st), &r, &items),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submit_bodies_are_typed_and_lenient() {
        let r = new_request(
            br#"{"profile": "p", "testbeds": ["t"], "clean": true, "tags": ["a"],
                 "max_request_runtime_seconds": 60, "unknown": 1, "description": null,
                 "parameters": {"env_vars": {"A": "1"}, "job_args": {"--x": true}}}"#,
        )
        .unwrap();
        assert_eq!(r.profile.as_deref(), Some("p"));
        assert_eq!(r.testbeds, Some(vec!["t".to_owned()]));
        assert!(r.clean && !r.is_baseline);
        assert_eq!(r.description, None);
        assert_eq!(r.max_request_runtime_seconds, Some(60));
        let p = r.parameters.unwrap();
        assert_eq!(p.env_vars["A"], "1");
        assert!(p.harness_args.is_empty());
        let msg = |b: &[u8]| match new_request(b) {
            Err(AppError::BadRequest(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            msg(br#"{"clean": "yes"}"#),
            "Provided clean must be true or false."
        );
        assert_eq!(
            msg(br#"{"tags": "a"}"#),
            "Provided tags must be a list of strings."
        );
        assert_eq!(
            msg(br#"{"tags": [1]}"#),
            "Provided tags must be a list of strings."
        );
        assert_eq!(
            msg(br#"{"max_request_runtime_seconds": 1.5}"#),
            "Provided max_request_runtime_seconds must be an integer."
        );
        assert_eq!(
            msg(br#"{"parameters": {"env_vars": []}}"#),
            "Provided parameters.env_vars must be an object."
        );
        assert_eq!(msg(b"[1]"), "The request body must be a JSON object.");
        assert_eq!(msg(b""), "A JSON object is required in the request body.");
        assert!(msg(b"{nope").starts_with("The request body is not valid JSON"));
    }

    #[test]
    fn list_queries() {
        let q = list_query("").unwrap();
        assert_eq!((q.offset, q.limit), (0, DEFAULT_LIMIT));
        let q = list_query("limit=5000&offset=3&state=running,FAILED&state=RUNNING&submitter=u&tag=x&tag=x&branch=b&other=1").unwrap();
        assert_eq!((q.offset, q.limit), (3, MAX_LIMIT));
        assert_eq!(q.filter.states, vec![State::Running, State::Failed]);
        assert_eq!(q.filter.submitters, vec!["u".to_owned()]);
        assert_eq!(q.filter.tag.as_deref(), Some("x"));
        assert_eq!(q.filter.branches, vec!["b".to_owned()]);
        for bad in [
            "limit=0",
            "limit=x",
            "limit=-1",
            "limit=",
            "offset=-1",
            "offset=x",
            "state=DONE",
            "tag=a&tag=b",
        ] {
            assert!(list_query(bad).is_err(), "{bad}");
        }
    }
}
