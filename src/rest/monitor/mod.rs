//! pytest-monitor's server (seed 000, monitor-server-api 1.1): every documented path, every path
//! the plugin and monitorlib use, and the original's other read routes, under `/api/v1`.
//!
//! Routes are open, as the original's were, unless the operator requires a token for the
//! `monitor` surface (reads then need `read`, writes `write`).

pub mod derived;
pub mod errors;
pub mod handlers;
pub mod paging;
pub mod payload;
pub mod wire;

use poem::http::Method;

use super::api::{Dialect, QueryParam, RestApi, Route, Takes, read_or_write};
use crate::config::Surface;
use crate::service::Direction;

pub use paging::PREFIX;

const SESSIONS: Option<&str> = Some("MonitorSessionPage");
const METRICS: Option<&str> = Some("MonitorMetricPage");
const CONTEXTS: Option<&str> = Some("MonitorContextPage");
const COUNT: Option<&str> = Some("MonitorCount");
const NAMES: Option<&str> = Some("MonitorNames");

/// The `page` parameter every GET route reads.
const PAGE: &[QueryParam] = &[QueryParam {
    name: "page",
    takes: Takes::PageNumber,
}];

/// pytest-monitor's API: every route, once, with its handler. Paths are given without a trailing
/// slash; both forms are served.
pub fn api() -> RestApi {
    use derived as d;
    use handlers::{self as h, MetricsBy as By};
    let routes = vec![
        Route::new(
            Method::GET,
            "/sessions",
            "sessions",
            "List all sessions (200, or 204 when there are none).",
            |st, req, _| Box::pin(h::list_sessions(st, req)),
        )
        .answers(SESSIONS)
        .query(PAGE),
        Route::new(
            Method::POST,
            "/sessions",
            "sessions",
            "Create a session (201).",
            |st, req, body| Box::pin(h::create_session(st, req, body)),
        )
        .answers(Some("MonitorSession"))
        .body("MonitorNewSession"),
        Route::new(
            Method::GET,
            "/sessions/count",
            "sessions",
            "Count sessions that have an SCM reference.",
            |st, req, _| Box::pin(h::count_sessions(st, req)),
        )
        .answers(COUNT)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/sessions/:h",
            "sessions",
            "List sessions whose hash starts with :h.",
            |st, req, _| Box::pin(h::sessions_by_prefix(st, req)),
        )
        .answers(SESSIONS)
        .query(PAGE),
        Route::new(
            Method::POST,
            "/sessions/:h",
            "sessions",
            "Create a session; :h is used when the body has no hash.",
            |st, req, body| Box::pin(h::create_session(st, req, body)),
        )
        .answers(Some("MonitorSession"))
        .body("MonitorNewSession"),
        Route::new(
            Method::GET,
            "/sessions/:h/metrics",
            "sessions",
            "List the metrics of session :h (exact hash).",
            |st, req, _| Box::pin(h::metrics_by(st, req, By::Session)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/sessions/:h/metrics/count",
            "sessions",
            "Count the metrics of session :h (0 when unknown).",
            |st, req, _| Box::pin(h::count_metrics_by(st, req, By::Session)),
        )
        .answers(COUNT)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/session/:h/metrics",
            "sessions",
            "Seed 000's singular spelling of /sessions/:h/metrics.",
            |st, req, _| Box::pin(h::metrics_by(st, req, By::Session)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/session/:h/metrics/count",
            "sessions",
            "Singular spelling of /sessions/:h/metrics/count.",
            |st, req, _| Box::pin(h::count_metrics_by(st, req, By::Session)),
        )
        .answers(COUNT)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/contexts",
            "contexts",
            "List all execution contexts.",
            |st, req, _| Box::pin(h::list_contexts(st, req)),
        )
        .answers(CONTEXTS)
        .query(PAGE),
        Route::new(
            Method::POST,
            "/contexts",
            "contexts",
            "Create an execution context (201).",
            |st, req, body| Box::pin(h::create_context(st, req, body)),
        )
        .answers(Some("MonitorContext"))
        .body("MonitorNewContext"),
        Route::new(
            Method::GET,
            "/contexts/count",
            "contexts",
            "Count execution contexts.",
            |st, req, _| Box::pin(h::count_contexts(st, req)),
        )
        .answers(COUNT)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/contexts/:h",
            "contexts",
            "List contexts whose hash starts with :h (204 when none).",
            |st, req, _| Box::pin(h::contexts_by_prefix(st, req)),
        )
        .answers(CONTEXTS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/contexts/:h/metrics",
            "contexts",
            "List the metrics of context :h (exact hash).",
            |st, req, _| Box::pin(h::metrics_by(st, req, By::Context)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/contexts/:h/metrics/count",
            "contexts",
            "Count the metrics of context :h.",
            |st, req, _| Box::pin(h::count_metrics_by(st, req, By::Context)),
        )
        .answers(COUNT)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/metrics",
            "metrics",
            "List all metrics.",
            |st, req, _| Box::pin(h::list_metrics(st, req)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::POST,
            "/metrics",
            "metrics",
            "Record one metric (201).",
            |st, req, body| Box::pin(h::create_metric(st, req, body)),
        )
        .answers(Some("MonitorMetric"))
        .body("MonitorNewMetric"),
        Route::new(
            Method::GET,
            "/metrics/count",
            "metrics",
            "Count all metrics.",
            |st, req, _| Box::pin(h::count_all_metrics(st, req)),
        )
        .answers(COUNT)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/items/:item/metrics",
            "items",
            "List the metrics of test item :item.",
            |st, req, _| Box::pin(h::metrics_by(st, req, By::Item)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/items/:item/metrics/count",
            "items",
            "Count the metrics of test item :item.",
            |st, req, _| Box::pin(h::count_metrics_by(st, req, By::Item)),
        )
        .answers(COUNT)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/items/like/:item/metrics",
            "items",
            "List the metrics whose item contains :item.",
            |st, req, _| Box::pin(h::metrics_by(st, req, By::ItemLike)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/variants/:variant/metrics",
            "variants",
            "List the metrics of variant :variant.",
            |st, req, _| Box::pin(h::metrics_by(st, req, By::Variant)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/variants/:variant/metrics/count",
            "variants",
            "Count the metrics of variant :variant.",
            |st, req, _| Box::pin(h::count_metrics_by(st, req, By::Variant)),
        )
        .answers(COUNT)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/variants/like/:variant/metrics",
            "variants",
            "List the metrics whose variant contains :variant.",
            |st, req, _| Box::pin(h::metrics_by(st, req, By::VariantLike)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/filters/scope/:kind/metrics",
            "filters",
            "List the metrics of items of kind :kind.",
            |st, req, _| Box::pin(h::metrics_by(st, req, By::Kind)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/filters/scope/:kind/metrics/count",
            "filters",
            "Count the metrics of items of kind :kind.",
            |st, req, _| Box::pin(h::count_metrics_by(st, req, By::Kind)),
        )
        .answers(COUNT)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/filters/scm/:scm/metrics",
            "filters",
            "List the metrics of sessions whose SCM reference starts with :scm.",
            |st, req, _| Box::pin(h::metrics_by(st, req, By::ScmPrefix)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/filters/scm/:scm/metrics/count",
            "filters",
            "Count the metrics of sessions whose SCM reference starts with :scm.",
            |st, req, _| Box::pin(h::count_metrics_by(st, req, By::ScmPrefix)),
        )
        .answers(COUNT)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/filters/scm/:scm/sessions",
            "filters",
            "List the sessions whose SCM reference starts with :scm.",
            |st, req, _| Box::pin(h::scm_sessions(st, req)),
        )
        .answers(SESSIONS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/components",
            "components",
            "List all component names.",
            |st, req, _| Box::pin(d::list_components(st, req)),
        )
        .answers(Some("MonitorComponentPage"))
        .query(PAGE),
        Route::new(
            Method::GET,
            "/components/count",
            "components",
            "Count component names.",
            |st, req, _| Box::pin(d::count_components(st, req)),
        )
        .answers(COUNT)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/components/metrics",
            "components",
            "List the metrics without a component.",
            |st, req, _| Box::pin(d::component_metrics(st, req)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/components/:component",
            "components",
            "List component names starting with :component.",
            |st, req, _| Box::pin(d::list_components(st, req)),
        )
        .answers(Some("MonitorComponentPage"))
        .query(PAGE),
        Route::new(
            Method::GET,
            "/components/:component/metrics",
            "components",
            "List the metrics of component :component.",
            |st, req, _| Box::pin(d::component_metrics(st, req)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/components/:component/pipelines",
            "components",
            "List the pipelines that ran component :component.",
            |st, req, _| Box::pin(d::component_pipelines(st, req)),
        )
        .answers(NAMES)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/components/:component/pipelines/:pipeline/builds",
            "components",
            "List the builds of :pipeline that ran :component.",
            |st, req, _| Box::pin(d::component_pipeline_builds(st, req)),
        )
        .answers(NAMES)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/components/:component/pipelines/:pipeline/builds/:build/sessions",
            "components",
            "List the sessions of a build that ran :component.",
            |st, req, _| Box::pin(d::component_build_sessions(st, req)),
        )
        .answers(NAMES)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/components/:component/items/:item/metrics",
            "components",
            "List the metrics of :item in :component.",
            |st, req, _| Box::pin(d::component_item_metrics(st, req)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/components/items/:item/metrics",
            "components",
            "List the metrics of :item without a component.",
            |st, req, _| Box::pin(d::component_item_metrics(st, req)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/components/:component/variants/:variant/metrics",
            "components",
            "List the metrics of :variant in :component.",
            |st, req, _| Box::pin(d::component_variant_metrics(st, req)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/components/variants/:variant/metrics",
            "components",
            "List the metrics of :variant without a component.",
            |st, req, _| Box::pin(d::component_variant_metrics(st, req)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/pipelines",
            "pipelines",
            "List all pipelines (204 when none).",
            |st, req, _| Box::pin(d::list_pipelines(st, req)),
        )
        .answers(Some("MonitorPipelines"))
        .query(PAGE),
        Route::new(
            Method::GET,
            "/pipelines/:pipeline/builds",
            "pipelines",
            "List the builds of :pipeline.",
            |st, req, _| Box::pin(d::pipeline_builds(st, req)),
        )
        .answers(NAMES)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/pipelines/:pipeline/builds/:build/sessions",
            "pipelines",
            "List the sessions of build :build of :pipeline.",
            |st, req, _| Box::pin(d::pipeline_build_sessions(st, req)),
        )
        .answers(NAMES)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/resources/:resource/head/metrics",
            "resources",
            "The 10 metrics using the most of :resource.",
            |st, req, _| Box::pin(d::resource_metrics(st, req, Direction::Desc)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/resources/:resource/head/:n/metrics",
            "resources",
            "The :n (at most 500) metrics using the most of :resource.",
            |st, req, _| Box::pin(d::resource_metrics(st, req, Direction::Desc)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/resources/:resource/tail/metrics",
            "resources",
            "The 10 metrics using the least of :resource.",
            |st, req, _| Box::pin(d::resource_metrics(st, req, Direction::Asc)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/resources/:resource/tail/:n/metrics",
            "resources",
            "The :n metrics using the least of :resource.",
            |st, req, _| Box::pin(d::resource_metrics(st, req, Direction::Asc)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/resources/:resource/pipelines/:pipeline/head/metrics",
            "resources",
            "Most of :resource on :pipeline.",
            |st, req, _| Box::pin(d::resource_metrics(st, req, Direction::Desc)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/resources/:resource/pipelines/:pipeline/head/:n/metrics",
            "resources",
            "Most of :resource on :pipeline, :n rows.",
            |st, req, _| Box::pin(d::resource_metrics(st, req, Direction::Desc)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/resources/:resource/pipelines/:pipeline/tail/metrics",
            "resources",
            "Least of :resource on :pipeline.",
            |st, req, _| Box::pin(d::resource_metrics(st, req, Direction::Asc)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/resources/:resource/pipelines/:pipeline/tail/:n/metrics",
            "resources",
            "Least of :resource on :pipeline, :n rows.",
            |st, req, _| Box::pin(d::resource_metrics(st, req, Direction::Asc)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/resources/:resource/pipelines/:pipeline/builds/:build/head/metrics",
            "resources",
            "Most of :resource in one build.",
            |st, req, _| Box::pin(d::resource_metrics(st, req, Direction::Desc)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/resources/:resource/pipelines/:pipeline/builds/:build/head/:n/metrics",
            "resources",
            "Most of :resource in one build, :n rows.",
            |st, req, _| Box::pin(d::resource_metrics(st, req, Direction::Desc)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/resources/:resource/pipelines/:pipeline/builds/:build/tail/metrics",
            "resources",
            "Least of :resource in one build.",
            |st, req, _| Box::pin(d::resource_metrics(st, req, Direction::Asc)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/resources/:resource/pipelines/:pipeline/builds/:build/tail/:n/metrics",
            "resources",
            "Least of :resource in one build, :n rows.",
            |st, req, _| Box::pin(d::resource_metrics(st, req, Direction::Asc)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/resources/:resource/components/:component/head/metrics",
            "resources",
            "Most of :resource in :component.",
            |st, req, _| Box::pin(d::resource_metrics(st, req, Direction::Desc)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/resources/:resource/components/:component/head/:n/metrics",
            "resources",
            "Most of :resource in :component, :n rows.",
            |st, req, _| Box::pin(d::resource_metrics(st, req, Direction::Desc)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/resources/:resource/components/:component/tail/metrics",
            "resources",
            "Least of :resource in :component.",
            |st, req, _| Box::pin(d::resource_metrics(st, req, Direction::Asc)),
        )
        .answers(METRICS)
        .query(PAGE),
        Route::new(
            Method::GET,
            "/resources/:resource/components/:component/tail/:n/metrics",
            "resources",
            "Least of :resource in :component, :n rows.",
            |st, req, _| Box::pin(d::resource_metrics(st, req, Direction::Asc)),
        )
        .answers(METRICS)
        .query(PAGE),
    ];
    RestApi {
        name: "pytest-monitor server (monitor-server-api 1.1)",
        prefix: PREFIX,
        also_at: &[],
        surface: Surface::Monitor,
        token_form: crate::auth::TokenForm::Bearer,
        scope: read_or_write,
        routes,
        schemas: wire::schemas,
        dialect: Dialect {
            render: errors::render,
            not_found: errors::not_found,
            wrong_method: |_, allow| errors::method_not_allowed(allow),
            options: Some(super::api::options_allow),
            head_as_get: true,
        },
        finish: None,
        paths_note: None,
    }
}
