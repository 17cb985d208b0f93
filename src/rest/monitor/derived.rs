//! Handlers of pytest-monitor's derived lists: component names, the pipelines and builds their
//! sessions' tags name, and the `/resources/...` orderings.

use poem::{Request, Response};
use serde_json::{Map, Value, json};

use super::errors;
use super::handlers::{Listing, list_page, metrics_page, no_content, ok, param};
use super::paging::{self, PREFIX, encode_segment, query_pairs};
use super::wire;
use crate::error::{AppError, AppResult};
use crate::service::Direction;
use crate::service::monitor::{
    self as svc, MetricFilter, MetricOrderField, SessionFilter, TagCondition, TagValues,
};
use crate::state::AppState;

/// Most rows `/pipelines/` returns (the legacy route is not paged).
pub const PIPELINES_CAP: u64 = 10_000;
/// Most rows a `/resources/...` route returns (the legacy cap).
pub const RESOURCE_CAP: u64 = 500;

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
