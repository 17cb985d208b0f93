//! Handlers of pytest-monitor's routes. Each parses the path and query into a service filter,
//! calls the service, and shapes the answer with `wire` and `paging`. No handler touches the
//! database itself.

use poem::http::StatusCode;
use poem::{Request, Response};
use serde_json::Value;

use super::errors::{self, json as respond};
use super::paging::{self, PREFIX, encode_segment, query_pairs, query_value};
use super::payload::Payload;
use super::wire::{self, PageLinks};
use crate::error::AppResult;
use crate::service::Slice;
use crate::service::monitor::{
    self as svc, ContextFilter, MetricFilter, MetricOrder, NewContext, NewMetric, NewSession,
    SessionFilter, SessionOrder, TagCondition,
};
use crate::state::AppState;

pub(super) fn param(req: &Request, name: &str) -> String {
    req.raw_path_param(name).unwrap_or_default().to_owned()
}

pub(super) fn ok(body: impl serde::Serialize) -> Response {
    respond(StatusCode::OK, body)
}

pub(super) fn no_content() -> Response {
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
