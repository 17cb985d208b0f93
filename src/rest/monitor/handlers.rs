//! Handlers of pytest-monitor's routes. Each parses the path and query into a service filter,
//! calls the service, and shapes the answer with `wire` and `paging`. No handler touches the
//! database itself.

use poem::http::StatusCode;
use poem::{Request, Response};
use serde_json::{Map, Value, json};

use super::errors::{self, json as respond};
use super::paging::{self, encode_segment, query_pairs, query_value};
use super::payload::Payload;
use super::wire::{self, PageLinks};
use crate::error::{AppError, AppResult};
use crate::service::monitor::{
    self as svc, ContextFilter, MetricFilter, MetricOrder, MetricOrderField, NewContext, NewMetric,
    NewSession, SessionFilter, SessionOrder, TagCondition, TagValues,
};
use crate::service::{Direction, Slice};
use crate::state::AppState;

const PREFIX: &str = "/api/v1";
/// Most rows `/pipelines/` returns (the legacy route is not paged).
pub const PIPELINES_CAP: u64 = 10_000;
/// Most rows a `/resources/...` route returns (the legacy cap).
pub const RESOURCE_CAP: u64 = 500;

fn param(req: &Request, name: &str) -> String {
    req.raw_path_param(name).unwrap_or_default().to_owned()
}

fn ok(body: impl serde::Serialize) -> Response {
    respond(StatusCode::OK, body)
}

fn no_content() -> Response {
    Response::builder().status(StatusCode::NO_CONTENT).finish()
}

// ----------------------------------------------------------------------------------------------
// Paged lists
// ----------------------------------------------------------------------------------------------

/// What a paged list route lists.
#[derive(Debug)]
pub enum Listing {
    Metrics(MetricFilter),
    Sessions(SessionFilter),
    Contexts(ContextFilter),
    /// Component names, optionally by prefix.
    Components(Option<String>),
}

impl Listing {
    fn key(&self) -> &'static str {
        match self {
            Listing::Metrics(_) => "metrics",
            Listing::Sessions(_) => "sessions",
            Listing::Contexts(_) => "contexts",
            Listing::Components(_) => "components",
        }
    }

    /// The list's total, possibly reused for a moment (`service::counts`).
    async fn count(&self, st: &AppState) -> AppResult<u64> {
        st.counts
            .total(&svc::WRITES, format!("{self:?}"), || self.count_now(st))
            .await
    }

    async fn count_now(&self, st: &AppState) -> AppResult<u64> {
        match self {
            Listing::Metrics(f) => svc::count_metrics(&st.db, f).await,
            Listing::Sessions(f) => svc::count_sessions(&st.db, f).await,
            Listing::Contexts(f) => svc::count_contexts(&st.db, f).await,
            Listing::Components(p) => Ok(svc::list_components(&st.db, p.as_deref(), 0, 0)
                .await?
                .total),
        }
    }

    /// A page of items: how many, and the whole answer written in the envelope.
    async fn page(
        &self,
        st: &AppState,
        offset: u64,
        limit: u64,
        links: &PageLinks,
    ) -> AppResult<(usize, Vec<u8>)> {
        let key = self.key();
        let slice = Slice::Offset { offset, limit };
        Ok(match self {
            Listing::Metrics(f) => {
                let rows = svc::list_metrics(&st.db, f, MetricOrder::default(), &slice).await?;
                paged(
                    key,
                    &rows.iter().map(wire::metric).collect::<Vec<_>>(),
                    links,
                )
            }
            Listing::Sessions(f) => {
                let rows = svc::list_sessions(&st.db, f, SessionOrder::default(), &slice).await?;
                paged(
                    key,
                    &rows.iter().map(wire::session).collect::<Vec<_>>(),
                    links,
                )
            }
            Listing::Contexts(f) => {
                let rows = svc::list_contexts(&st.db, f, &slice).await?;
                paged(
                    key,
                    &rows.iter().map(wire::context).collect::<Vec<_>>(),
                    links,
                )
            }
            Listing::Components(p) => {
                let names = svc::list_components(&st.db, p.as_deref(), offset, limit)
                    .await?
                    .items;
                paged(key, &names, links)
            }
        })
    }
}

/// A page in its envelope, written in one pass into a buffer sized for it up front: a page of
/// 100 metrics is about 43 kB, and growing the buffer from empty (then copying the items into an
/// envelope) was a tenth of a list request's CPU.
fn paged<T: serde::Serialize>(key: &str, items: &[T], links: &PageLinks) -> (usize, Vec<u8>) {
    const ITEM_BYTES: usize = 512;
    let mut body = Vec::with_capacity(256 + items.len() * ITEM_BYTES);
    // Serialising plain data into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut body, &wire::Paged { key, items, links });
    (items.len(), body)
}

/// `GET` of a paged list: 200 with the envelope, 204 when the page is empty, 404 when the page
/// does not exist.
pub async fn list_page(
    st: &AppState,
    req: &Request,
    listing: Listing,
    base_url: String,
) -> AppResult<Response> {
    let pairs = query_pairs(req);
    let size = st.config.monitor_page_size;
    let total = listing.count(st).await?;
    let Some(page) = paging::resolve(&pairs, &base_url, total, size) else {
        return Ok(errors::not_found());
    };
    let (n, body) = listing.page(st, page.offset, size, &page.links).await?;
    if n == 0 {
        return Ok(no_content());
    }
    Ok(Response::builder()
        .status(StatusCode::OK)
        .content_type("application/json")
        .body(body))
}

pub async fn metrics_page(
    st: &AppState,
    req: &Request,
    filter: MetricFilter,
    base_url: String,
) -> AppResult<Response> {
    list_page(st, req, Listing::Metrics(filter), base_url).await
}

/// Session lists also honour the legacy flag filter of the query string.
pub async fn sessions_page(
    st: &AppState,
    req: &Request,
    mut filter: SessionFilter,
    base_url: String,
) -> AppResult<Response> {
    apply_flag_filter(&query_pairs(req), &mut filter);
    list_page(st, req, Listing::Sessions(filter), base_url).await
}

pub async fn contexts_page(
    st: &AppState,
    req: &Request,
    filter: ContextFilter,
    base_url: String,
) -> AppResult<Response> {
    list_page(st, req, Listing::Contexts(filter), base_url).await
}

/// The undocumented session filter: `with_flags` (or the Python client's `with_tags`) names
/// description keys, `restrict_flags` their values by position (empty: present and non-empty),
/// `method=match_any` (default) ORs them, anything else ANDs them.
fn apply_flag_filter(pairs: &[(String, String)], filter: &mut SessionFilter) {
    let flags = query_value(pairs, "with_flags")
        .or_else(|| query_value(pairs, "with_tags"))
        .unwrap_or("");
    if flags.is_empty() {
        return;
    }
    let values: Vec<&str> = query_value(pairs, "restrict_flags")
        .unwrap_or("")
        .split(',')
        .collect();
    filter.tags = flags
        .split(',')
        .enumerate()
        .map(|(i, name)| TagCondition {
            name: name.to_owned(),
            value: values
                .get(i)
                .filter(|v| !v.is_empty())
                .map(|v| (*v).to_owned()),
        })
        .collect();
    filter.tags_match_all = query_value(pairs, "method").unwrap_or("match_any") != "match_any";
}

// ----------------------------------------------------------------------------------------------
// Route handlers
// ----------------------------------------------------------------------------------------------

/// GET /api/v1/sessions/
pub async fn list_sessions(st: &AppState, req: &Request) -> AppResult<Response> {
    sessions_page(
        st,
        req,
        SessionFilter::default(),
        format!("{PREFIX}/sessions/"),
    )
    .await
}

/// GET /api/v1/sessions/<prefix>: every session whose hash starts with the prefix.
pub async fn sessions_by_prefix(st: &AppState, req: &Request) -> AppResult<Response> {
    let h = param(req, "h");
    let base = format!("{PREFIX}/sessions/{}", encode_segment(&h));
    sessions_page(
        st,
        req,
        SessionFilter {
            h_prefix: Some(h),
            ..Default::default()
        },
        base,
    )
    .await
}

/// GET /api/v1/sessions/count: the legacy server counts `COUNT(scm_ref)`.
pub async fn count_sessions(st: &AppState, _req: &Request) -> AppResult<Response> {
    Ok(ok(wire::count(svc::count_sessions_with_scm(&st.db).await?)))
}

/// POST /api/v1/sessions/ (and /sessions/<h>, where the path is the fallback hash). The
/// original had no validation here (a missing key was a 500); testgraph reports every wrong field
/// as `POST /metrics/` does, in the session model's order.
pub async fn create_session(st: &AppState, req: &Request, body: &[u8]) -> AppResult<Response> {
    let mut p = Payload::parse(body)?;
    let h = if p.get("session_h").is_none() && p.get("h").is_some() {
        p.string("h")
    } else if p.get("session_h").is_none() && req.raw_path_param("h").is_some() {
        param(req, "h")
    } else {
        p.string("session_h")
    };
    let run_date = p.string("run_date");
    let scm_ref = p.optional_string("scm_ref");
    if p.get("description").is_none() {
        p.missing("description");
    }
    let body = p.finish()?;
    let tags = svc::parse_description(body.get("description").unwrap_or(&Value::Null))?;
    let session = svc::create_session(
        &st.db,
        NewSession {
            h,
            run_date,
            scm_ref,
            tags,
        },
    )
    .await?;
    Ok(respond(StatusCode::CREATED, wire::session(&session)))
}

/// GET /api/v1/contexts/
pub async fn list_contexts(st: &AppState, req: &Request) -> AppResult<Response> {
    contexts_page(
        st,
        req,
        ContextFilter::default(),
        format!("{PREFIX}/contexts/"),
    )
    .await
}

/// GET /api/v1/contexts/<prefix>: the plugin asks this with a full hash to learn if it is known.
pub async fn contexts_by_prefix(st: &AppState, req: &Request) -> AppResult<Response> {
    let h = param(req, "h");
    let base = format!("{PREFIX}/contexts/{}", encode_segment(&h));
    contexts_page(
        st,
        req,
        ContextFilter {
            h_prefix: Some(h),
            h: None,
        },
        base,
    )
    .await
}

/// GET /api/v1/contexts/count
pub async fn count_contexts(st: &AppState, _req: &Request) -> AppResult<Response> {
    Ok(ok(wire::count(
        svc::count_contexts(&st.db, &ContextFilter::default()).await?,
    )))
}

/// POST /api/v1/contexts/ (the original 500s on a missing key; every wrong field is reported
/// here, in the context model's order).
pub async fn create_context(st: &AppState, _req: &Request, body: &[u8]) -> AppResult<Response> {
    let mut p = Payload::parse(body)?;
    let new = NewContext {
        h: p.string("h"),
        cpu_count: p.int("cpu_count"),
        cpu_frequency: p.int("cpu_frequency"),
        cpu_type: p.string("cpu_type"),
        cpu_vendor: p.optional_string("cpu_vendor").unwrap_or_default(),
        ram_total: p.int("ram_total"),
        machine_node: p.string("machine_node"),
        machine_type: p.string("machine_type"),
        machine_arch: p.string("machine_arch"),
        system_info: p.string("system_info"),
        python_info: p.string("python_info"),
    };
    p.finish()?;
    let stored = svc::create_context(&st.db, new).await?;
    Ok(respond(StatusCode::CREATED, wire::context(&stored)))
}

/// GET /api/v1/metrics/
pub async fn list_metrics(st: &AppState, req: &Request) -> AppResult<Response> {
    metrics_page(
        st,
        req,
        MetricFilter::default(),
        format!("{PREFIX}/metrics/"),
    )
    .await
}

/// GET /api/v1/metrics/count
pub async fn count_all_metrics(st: &AppState, _req: &Request) -> AppResult<Response> {
    count_metrics(st, MetricFilter::default()).await
}

/// POST /api/v1/metrics/: one metric, validated like flask-restx's `validate=True` model (every
/// wrong field in one 400). `component` may be `null`, which the original refused.
pub async fn create_metric(st: &AppState, _req: &Request, body: &[u8]) -> AppResult<Response> {
    let mut p = Payload::parse(body)?;
    let new = NewMetric {
        session_h: p.string("session_h"),
        context_h: p.string("context_h"),
        item_start_time: p.string("item_start_time"),
        item_path: p.string("item_path"),
        item: p.string("item"),
        item_variant: p.string("item_variant"),
        item_fs_loc: p.string("item_fs_loc"),
        kind: p.string("kind"),
        component: p.nullable_string("component"),
        total_time: p.number("total_time"),
        user_time: p.number("user_time"),
        kernel_time: p.number("kernel_time"),
        cpu_usage: p.number("cpu_usage"),
        mem_usage: p.number("mem_usage"),
    };
    p.finish()?;
    let echo = new.clone();
    svc::add_metric(&st.db, new).await?;
    let shown = svc::Metric {
        id: 0,
        session_id: 0,
        context_id: 0,
        session_h: echo.session_h,
        context_h: echo.context_h,
        item_start_time: echo.item_start_time,
        item_path: echo.item_path,
        item: echo.item,
        item_variant: echo.item_variant,
        item_fs_loc: echo.item_fs_loc,
        kind: echo.kind,
        component: echo.component,
        total_time: echo.total_time,
        user_time: echo.user_time,
        kernel_time: echo.kernel_time,
        cpu_usage: echo.cpu_usage,
        mem_usage: echo.mem_usage,
    };
    Ok(respond(StatusCode::CREATED, wire::metric(&shown)))
}

/// The metric lists selected by one path segment: alike but for the filter and their own path.
#[derive(Clone, Copy, Debug)]
pub enum MetricsBy {
    /// `/sessions/<h>/metrics` (also the doc's singular `/session/<h>/metrics`).
    Session,
    /// `/contexts/<h>/metrics`.
    Context,
    /// `/items/<item>/metrics`: exactly that item.
    Item,
    /// `/items/like/<item>/metrics`: items containing it (SQL wildcards honoured, as in the
    /// original).
    ItemLike,
    /// `/variants/<variant>/metrics`.
    Variant,
    /// `/variants/like/<variant>/metrics`.
    VariantLike,
    /// `/filters/scope/<kind>/metrics`.
    Kind,
    /// `/filters/scm/<scm_prefix>/metrics`: sessions whose SCM reference starts with it.
    ScmPrefix,
}

impl MetricsBy {
    /// The path parameter holding the segment.
    fn param(self) -> &'static str {
        match self {
            MetricsBy::Session | MetricsBy::Context => "h",
            MetricsBy::Item | MetricsBy::ItemLike => "item",
            MetricsBy::Variant | MetricsBy::VariantLike => "variant",
            MetricsBy::Kind => "kind",
            MetricsBy::ScmPrefix => "scm",
        }
    }

    /// The list's own path, which its paging links repeat.
    fn path(self, segment: &str) -> String {
        let s = encode_segment(segment);
        match self {
            MetricsBy::Session => format!("{PREFIX}/sessions/{s}/metrics"),
            MetricsBy::Context => format!("{PREFIX}/contexts/{s}/metrics"),
            MetricsBy::Item => format!("{PREFIX}/items/{s}/metrics"),
            MetricsBy::ItemLike => format!("{PREFIX}/items/like/{s}/metrics"),
            MetricsBy::Variant => format!("{PREFIX}/variants/{s}/metrics"),
            MetricsBy::VariantLike => format!("{PREFIX}/variants/like/{s}/metrics"),
            MetricsBy::Kind => format!("{PREFIX}/filters/scope/{s}/metrics"),
            MetricsBy::ScmPrefix => format!("{PREFIX}/filters/scm/{s}/metrics"),
        }
    }

    fn filter(self, segment: String) -> MetricFilter {
        let mut f = MetricFilter::default();
        match self {
            MetricsBy::Session => f.session_h = Some(segment),
            MetricsBy::Context => f.context_h = Some(segment),
            MetricsBy::Item => f.item = Some(segment),
            MetricsBy::ItemLike => f.item_like = Some(format!("%{segment}%")),
            MetricsBy::Variant => f.variant = Some(segment),
            MetricsBy::VariantLike => f.variant_like = Some(format!("%{segment}%")),
            MetricsBy::Kind => f.kind = Some(segment),
            MetricsBy::ScmPrefix => f.scm_ref_prefix = Some(segment),
        }
        f
    }
}

/// GET one of the `MetricsBy` lists.
pub async fn metrics_by(st: &AppState, req: &Request, by: MetricsBy) -> AppResult<Response> {
    let segment = param(req, by.param());
    let base = by.path(&segment);
    metrics_page(st, req, by.filter(segment), base).await
}

/// GET the `/count` of one of the `MetricsBy` lists: 0 where nothing matches, an unknown session
/// or context included, not 404.
pub async fn count_metrics_by(st: &AppState, req: &Request, by: MetricsBy) -> AppResult<Response> {
    count_metrics(st, by.filter(param(req, by.param()))).await
}

/// GET /api/v1/filters/scm/<scm_prefix>/sessions
pub async fn scm_sessions(st: &AppState, req: &Request) -> AppResult<Response> {
    let s = param(req, "scm");
    let base = format!("{PREFIX}/filters/scm/{}/sessions", encode_segment(&s));
    sessions_page(
        st,
        req,
        SessionFilter {
            scm_ref_prefix: Some(s),
            ..Default::default()
        },
        base,
    )
    .await
}

async fn count_metrics(st: &AppState, filter: MetricFilter) -> AppResult<Response> {
    Ok(ok(wire::count(svc::count_metrics(&st.db, &filter).await?)))
}

// ----------------------------------------------------------------------------------------------
// Components and pipelines
// ----------------------------------------------------------------------------------------------

/// GET /api/v1/components/ and /components/<prefix>: distinct component names.
pub async fn list_components(st: &AppState, req: &Request) -> AppResult<Response> {
    let prefix = req.raw_path_param("component").map(str::to_owned);
    let base = match &prefix {
        Some(p) => format!("{PREFIX}/components/{}", encode_segment(p)),
        None => format!("{PREFIX}/components/"),
    };
    list_page(st, req, Listing::Components(prefix), base).await
}

/// GET /api/v1/components/count
pub async fn count_components(st: &AppState, _req: &Request) -> AppResult<Response> {
    Ok(ok(wire::count(svc::count_components(&st.db).await?)))
}

/// GET /api/v1/components/<component>/metrics (a LIKE match, as the original) and
/// /components/metrics (metrics with an empty component).
pub async fn component_metrics(st: &AppState, req: &Request) -> AppResult<Response> {
    let (filter, base) = match req.raw_path_param("component") {
        Some(c) => (
            MetricFilter {
                component_like: Some(c.to_owned()),
                ..Default::default()
            },
            format!("{PREFIX}/components/{}/metrics", encode_segment(c)),
        ),
        None => (
            MetricFilter {
                component: Some(String::new()),
                ..Default::default()
            },
            format!("{PREFIX}/components/metrics"),
        ),
    };
    metrics_page(st, req, filter, base).await
}

/// GET /api/v1/components/<component>/items/<item>/metrics and /components/items/<item>/metrics
pub async fn component_item_metrics(st: &AppState, req: &Request) -> AppResult<Response> {
    let component = req
        .raw_path_param("component")
        .unwrap_or_default()
        .to_owned();
    let item = param(req, "item");
    let base = if component.is_empty() {
        format!(
            "{PREFIX}/components/items/{}/metrics",
            encode_segment(&item)
        )
    } else {
        format!(
            "{PREFIX}/components/{}/items/{}/metrics",
            encode_segment(&component),
            encode_segment(&item)
        )
    };
    metrics_page(
        st,
        req,
        MetricFilter {
            component: Some(component),
            item: Some(item),
            ..Default::default()
        },
        base,
    )
    .await
}

/// GET /api/v1/components/<component>/variants/<variant>/metrics and /components/variants/<variant>/metrics
pub async fn component_variant_metrics(st: &AppState, req: &Request) -> AppResult<Response> {
    let component = req
        .raw_path_param("component")
        .unwrap_or_default()
        .to_owned();
    let v = param(req, "variant");
    let base = if component.is_empty() {
        format!(
            "{PREFIX}/components/variants/{}/metrics",
            encode_segment(&v)
        )
    } else {
        format!(
            "{PREFIX}/components/{}/variants/{}/metrics",
            encode_segment(&component),
            encode_segment(&v)
        )
    };
    metrics_page(
        st,
        req,
        MetricFilter {
            component: Some(component),
            variant: Some(v),
            ..Default::default()
        },
        base,
    )
    .await
}

/// A derived list of names (pipelines, builds, sessions) in the legacy "collector" envelope:
/// always 200 (even when empty), links as null when absent.
async fn names_page(
    st: &AppState,
    req: &Request,
    head: Map<String, Value>,
    list_key: &str,
    base: String,
    source: NameSource,
) -> AppResult<Response> {
    let pairs = query_pairs(req);
    let size = st.config.monitor_page_size;
    let total = source.fetch(st, 0, 0).await?.total;
    let Some(page) = paging::resolve(&pairs, &base, total, size) else {
        return Ok(errors::not_found());
    };
    let names = source.fetch(st, page.offset, size).await?.items;
    let mut head = head;
    head.insert(
        list_key.to_owned(),
        Value::Array(
            names
                .into_iter()
                .map(|n| n.map_or(Value::Null, Value::String))
                .collect(),
        ),
    );
    Ok(ok(wire::paged_with_nulls(head, &page.links)))
}

/// Where the names of a derived list come from.
enum NameSource {
    /// Distinct values of a description tag over matching sessions.
    TagValues(&'static str, TagValues, SessionFilter),
    /// Hashes of matching sessions.
    SessionHashes(SessionFilter),
}

impl NameSource {
    /// A page of names; `None` stands for a session without the tag (shown as `null`).
    async fn fetch(
        &self,
        st: &AppState,
        offset: u64,
        limit: u64,
    ) -> AppResult<svc::Page<Option<String>>> {
        match self {
            NameSource::TagValues(tag, which, filter) => {
                svc::list_tag_values(&st.db, tag, *which, filter, offset, limit).await
            }
            NameSource::SessionHashes(filter) => {
                let page = svc::list_session_hashes(&st.db, filter, offset, limit).await?;
                Ok(svc::Page {
                    items: page.items.into_iter().map(Some).collect(),
                    total: page.total,
                })
            }
        }
    }
}

fn head(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
        .collect()
}

/// GET /api/v1/components/<component>/pipelines: every `pipeline_branch` of the sessions with
/// metrics of the component, `null` and `""` included (the original does not filter them here).
pub async fn component_pipelines(st: &AppState, req: &Request) -> AppResult<Response> {
    let c = param(req, "component");
    let base = format!("{PREFIX}/components/{}/pipelines", encode_segment(&c));
    let filter = SessionFilter {
        component: Some(c.clone()),
        ..Default::default()
    };
    names_page(
        st,
        req,
        head(&[("component", &c)]),
        "pipelines",
        base,
        NameSource::TagValues("pipeline_branch", TagValues::All, filter),
    )
    .await
}

/// GET /api/v1/components/<component>/pipelines/<pipeline>/builds
pub async fn component_pipeline_builds(st: &AppState, req: &Request) -> AppResult<Response> {
    let (c, p) = (param(req, "component"), param(req, "pipeline"));
    let base = format!(
        "{PREFIX}/components/{}/pipelines/{}/builds",
        encode_segment(&c),
        encode_segment(&p)
    );
    let filter = SessionFilter {
        component: Some(c.clone()),
        tags: vec![TagCondition {
            name: "pipeline_branch".into(),
            value: Some(p.clone()),
        }],
        tags_match_all: true,
        ..Default::default()
    };
    names_page(
        st,
        req,
        head(&[("component", &c), ("pipeline", &p)]),
        "builds",
        base,
        NameSource::TagValues("pipeline_build_no", TagValues::NonEmpty, filter),
    )
    .await
}

/// GET /api/v1/components/<component>/pipelines/<pipeline>/builds/<build>/sessions
pub async fn component_build_sessions(st: &AppState, req: &Request) -> AppResult<Response> {
    let (c, p, b) = (
        param(req, "component"),
        param(req, "pipeline"),
        param(req, "build"),
    );
    let base = format!(
        "{PREFIX}/components/{}/pipelines/{}/builds/{}/sessions",
        encode_segment(&c),
        encode_segment(&p),
        encode_segment(&b)
    );
    let filter = SessionFilter {
        component: Some(c.clone()),
        tags: build_tags(&p, &b),
        tags_match_all: true,
        ..Default::default()
    };
    names_page(
        st,
        req,
        head(&[("component", &c), ("pipeline", &p), ("build", &b)]),
        "sessions",
        base,
        NameSource::SessionHashes(filter),
    )
    .await
}

fn build_tags(pipeline: &str, build: &str) -> Vec<TagCondition> {
    vec![
        TagCondition {
            name: "pipeline_branch".into(),
            value: Some(pipeline.to_owned()),
        },
        TagCondition {
            name: "pipeline_build_no".into(),
            value: Some(build.to_owned()),
        },
    ]
}

/// GET /api/v1/pipelines/: every pipeline name (not paged in the original; capped here).
pub async fn list_pipelines(st: &AppState, _req: &Request) -> AppResult<Response> {
    let names: Vec<String> = svc::list_tag_values(
        &st.db,
        "pipeline_branch",
        TagValues::NonEmpty,
        &SessionFilter::default(),
        0,
        PIPELINES_CAP,
    )
    .await?
    .items
    .into_iter()
    .flatten()
    .collect();
    if names.is_empty() {
        return Ok(no_content());
    }
    Ok(ok(json!({ "pipelines": names })))
}

/// GET /api/v1/pipelines/<pipeline>/builds
pub async fn pipeline_builds(st: &AppState, req: &Request) -> AppResult<Response> {
    let p = param(req, "pipeline");
    let base = format!("{PREFIX}/pipelines/{}/builds", encode_segment(&p));
    let filter = SessionFilter {
        tags: vec![TagCondition {
            name: "pipeline_branch".into(),
            value: Some(p.clone()),
        }],
        tags_match_all: true,
        ..Default::default()
    };
    names_page(
        st,
        req,
        head(&[("pipeline", &p)]),
        "builds",
        base,
        NameSource::TagValues("pipeline_build_no", TagValues::NonEmpty, filter),
    )
    .await
}

/// GET /api/v1/pipelines/<pipeline>/builds/<build>/sessions
pub async fn pipeline_build_sessions(st: &AppState, req: &Request) -> AppResult<Response> {
    let (p, b) = (param(req, "pipeline"), param(req, "build"));
    let base = format!(
        "{PREFIX}/pipelines/{}/builds/{}/sessions",
        encode_segment(&p),
        encode_segment(&b)
    );
    let filter = SessionFilter {
        tags: build_tags(&p, &b),
        tags_match_all: true,
        ..Default::default()
    };
    names_page(
        st,
        req,
        head(&[("pipeline", &p), ("build", &b)]),
        "sessions",
        base,
        NameSource::SessionHashes(filter),
    )
    .await
}

// ----------------------------------------------------------------------------------------------
// Resources
// ----------------------------------------------------------------------------------------------

/// GET /api/v1/resources/<resource>/[pipelines/<p>/[builds/<b>/]|components/<c>/](head|tail)[/<n>]/metrics:
/// the metrics using the most (head) or least (tail) of a resource, 10 by default, 500 at most.
pub async fn resource_metrics(
    st: &AppState,
    req: &Request,
    direction: Direction,
) -> AppResult<Response> {
    let resource = param(req, "resource");
    let field = match resource.as_str() {
        "memory" => MetricOrderField::MemUsage,
        "cpu" => MetricOrderField::CpuUsage,
        "kernel_time" => MetricOrderField::KernelTime,
        "user_time" => MetricOrderField::UserTime,
        "total_time" => MetricOrderField::TotalTime,
        _ => {
            return Err(AppError::not_found(format!(
                "unknown resource '{resource}': use memory, cpu, kernel_time, user_time or total_time"
            )));
        }
    };
    let n = match req.raw_path_param("n") {
        None => 10,
        Some(s) => match s.parse::<u64>() {
            Ok(n) => n.min(RESOURCE_CAP),
            // Flask's <int:> converter would not match, so the route does not exist.
            Err(_) => return Ok(errors::not_found()),
        },
    };
    let filter = MetricFilter {
        pipeline: req.raw_path_param("pipeline").map(str::to_owned),
        build: req.raw_path_param("build").map(str::to_owned),
        component: req.raw_path_param("component").map(str::to_owned),
        ..Default::default()
    };
    let rows = svc::metrics_by_resource(&st.db, &filter, field, direction, n).await?;
    Ok(ok(json!({
        "metrics": rows.iter().map(wire::metric).collect::<Vec<_>>(),
        "prev_url": null,
        "next_url": null,
        "total_page": 1,
    })))
}
