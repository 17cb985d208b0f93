//! pytest-monitor's server (seed 000, monitor-server-api 1.1): every documented path, every path
//! the plugin and monitorlib use, and the original's other read routes, under `/api/v1`.
//!
//! Routes are open, as the original's were, unless the operator requires a token for the
//! `monitor` surface (reads then need `read`, writes `write`).

pub mod errors;
pub mod handlers;
pub mod paging;
pub mod payload;
pub mod wire;

use std::collections::BTreeMap;
use std::sync::Arc;

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, EndpointExt, IntoEndpoint, Request, Response, Route, RouteMethod};

use super::{QueryParam, RouteDoc, Takes};
use crate::auth;
use crate::config::Surface;
use crate::error::AppError;
use crate::service::Direction;
use crate::service::tokens::Scope;
use crate::state::AppState;

pub const PREFIX: &str = "/api/v1";

/// What a route does; `dispatch` maps it to its handler.
#[derive(Clone, Copy, Debug)]
enum Op {
    ListSessions,
    CreateSession,
    CountSessions,
    SessionsByPrefix,
    CreateSessionAt,
    SessionMetrics,
    CountSessionMetrics,
    ListContexts,
    CreateContext,
    CountContexts,
    ContextsByPrefix,
    ContextMetrics,
    CountContextMetrics,
    ListMetrics,
    CreateMetric,
    CountMetrics,
    ItemMetrics,
    CountItemMetrics,
    ItemLikeMetrics,
    VariantMetrics,
    CountVariantMetrics,
    VariantLikeMetrics,
    KindMetrics,
    CountKindMetrics,
    ScmMetrics,
    CountScmMetrics,
    ScmSessions,
    ListComponents,
    CountComponents,
    ComponentMetrics,
    ComponentPipelines,
    ComponentPipelineBuilds,
    ComponentBuildSessions,
    ComponentItemMetrics,
    ComponentVariantMetrics,
    ListPipelines,
    PipelineBuilds,
    PipelineBuildSessions,
    ResourceHead,
    ResourceTail,
}

macro_rules! route {
    ($m:ident, $path:expr, $op:ident, $tag:expr, $resp:expr, $summary:expr) => {
        (
            RouteDoc {
                method: Method::$m,
                path: $path,
                summary: $summary,
                tag: $tag,
                response: $resp,
                query: &[QueryParam {
                    name: "page",
                    takes: Takes::PageNumber,
                }],
                body: None,
            },
            Op::$op,
        )
    };
    ($m:ident, $path:expr, $op:ident, $tag:expr, $resp:expr, $summary:expr, body = $body:expr) => {
        (
            RouteDoc {
                method: Method::$m,
                path: $path,
                summary: $summary,
                tag: $tag,
                response: $resp,
                query: &[],
                body: Some($body),
            },
            Op::$op,
        )
    };
}

const SESSIONS: Option<&str> = Some("MonitorSessionPage");
const METRICS: Option<&str> = Some("MonitorMetricPage");
const CONTEXTS: Option<&str> = Some("MonitorContextPage");
const COUNT: Option<&str> = Some("MonitorCount");
const NAMES: Option<&str> = Some("MonitorNames");

/// Every route, once. Paths are given without a trailing slash; both forms are served.
fn table() -> Vec<(RouteDoc, Op)> {
    vec![
        route!(
            GET,
            "/sessions",
            ListSessions,
            "sessions",
            SESSIONS,
            "List all sessions (200, or 204 when there are none)."
        ),
        route!(
            POST,
            "/sessions",
            CreateSession,
            "sessions",
            Some("MonitorSession"),
            "Create a session (201).",
            body = "MonitorNewSession"
        ),
        route!(
            GET,
            "/sessions/count",
            CountSessions,
            "sessions",
            COUNT,
            "Count sessions that have an SCM reference."
        ),
        route!(
            GET,
            "/sessions/:h",
            SessionsByPrefix,
            "sessions",
            SESSIONS,
            "List sessions whose hash starts with :h."
        ),
        route!(
            POST,
            "/sessions/:h",
            CreateSessionAt,
            "sessions",
            Some("MonitorSession"),
            "Create a session; :h is used when the body has no hash.",
            body = "MonitorNewSession"
        ),
        route!(
            GET,
            "/sessions/:h/metrics",
            SessionMetrics,
            "sessions",
            METRICS,
            "List the metrics of session :h (exact hash)."
        ),
        route!(
            GET,
            "/sessions/:h/metrics/count",
            CountSessionMetrics,
            "sessions",
            COUNT,
            "Count the metrics of session :h (0 when unknown)."
        ),
        route!(
            GET,
            "/session/:h/metrics",
            SessionMetrics,
            "sessions",
            METRICS,
            "Seed 000's singular spelling of /sessions/:h/metrics."
        ),
        route!(
            GET,
            "/session/:h/metrics/count",
            CountSessionMetrics,
            "sessions",
            COUNT,
            "Singular spelling of /sessions/:h/metrics/count."
        ),
        route!(
            GET,
            "/contexts",
            ListContexts,
            "contexts",
            CONTEXTS,
            "List all execution contexts."
        ),
        route!(
            POST,
            "/contexts",
            CreateContext,
            "contexts",
            Some("MonitorContext"),
            "Create an execution context (201).",
            body = "MonitorNewContext"
        ),
        route!(
            GET,
            "/contexts/count",
            CountContexts,
            "contexts",
            COUNT,
            "Count execution contexts."
        ),
        route!(
            GET,
            "/contexts/:h",
            ContextsByPrefix,
            "contexts",
            CONTEXTS,
            "List contexts whose hash starts with :h (204 when none)."
        ),
        route!(
            GET,
            "/contexts/:h/metrics",
            ContextMetrics,
            "contexts",
            METRICS,
            "List the metrics of context :h (exact hash)."
        ),
        route!(
            GET,
            "/contexts/:h/metrics/count",
            CountContextMetrics,
            "contexts",
            COUNT,
            "Count the metrics of context :h."
        ),
        route!(
            GET,
            "/metrics",
            ListMetrics,
            "metrics",
            METRICS,
            "List all metrics."
        ),
        route!(
            POST,
            "/metrics",
            CreateMetric,
            "metrics",
            Some("MonitorMetric"),
            "Record one metric (201).",
            body = "MonitorNewMetric"
        ),
        route!(
            GET,
            "/metrics/count",
            CountMetrics,
            "metrics",
            COUNT,
            "Count all metrics."
        ),
        route!(
            GET,
            "/items/:item/metrics",
            ItemMetrics,
            "items",
            METRICS,
            "List the metrics of test item :item."
        ),
        route!(
            GET,
            "/items/:item/metrics/count",
            CountItemMetrics,
            "items",
            COUNT,
            "Count the metrics of test item :item."
        ),
        route!(
            GET,
            "/items/like/:item/metrics",
            ItemLikeMetrics,
            "items",
            METRICS,
            "List the metrics whose item contains :item."
        ),
        route!(
            GET,
            "/variants/:variant/metrics",
            VariantMetrics,
            "variants",
            METRICS,
            "List the metrics of variant :variant."
        ),
        route!(
            GET,
            "/variants/:variant/metrics/count",
            CountVariantMetrics,
            "variants",
            COUNT,
            "Count the metrics of variant :variant."
        ),
        route!(
            GET,
            "/variants/like/:variant/metrics",
            VariantLikeMetrics,
            "variants",
            METRICS,
            "List the metrics whose variant contains :variant."
        ),
        route!(
            GET,
            "/filters/scope/:kind/metrics",
            KindMetrics,
            "filters",
            METRICS,
            "List the metrics of items of kind :kind."
        ),
        route!(
            GET,
            "/filters/scope/:kind/metrics/count",
            CountKindMetrics,
            "filters",
            COUNT,
            "Count the metrics of items of kind :kind."
        ),
        route!(
            GET,
            "/filters/scm/:scm/metrics",
            ScmMetrics,
            "filters",
            METRICS,
            "List the metrics of sessions whose SCM reference starts with :scm."
        ),
        route!(
            GET,
            "/filters/scm/:scm/metrics/count",
            CountScmMetrics,
            "filters",
            COUNT,
            "Count the metrics of sessions whose SCM reference starts with :scm."
        ),
        route!(
            GET,
            "/filters/scm/:scm/sessions",
            ScmSessions,
            "filters",
            SESSIONS,
            "List the sessions whose SCM reference starts with :scm."
        ),
        route!(
            GET,
            "/components",
            ListComponents,
            "components",
            Some("MonitorComponentPage"),
            "List all component names."
        ),
        route!(
            GET,
            "/components/count",
            CountComponents,
            "components",
            COUNT,
            "Count component names."
        ),
        route!(
            GET,
            "/components/metrics",
            ComponentMetrics,
            "components",
            METRICS,
            "List the metrics without a component."
        ),
        route!(
            GET,
            "/components/:component",
            ListComponents,
            "components",
            Some("MonitorComponentPage"),
            "List component names starting with :component."
        ),
        route!(
            GET,
            "/components/:component/metrics",
            ComponentMetrics,
            "components",
            METRICS,
            "List the metrics of component :component."
        ),
        route!(
            GET,
            "/components/:component/pipelines",
            ComponentPipelines,
            "components",
            NAMES,
            "List the pipelines that ran component :component."
        ),
        route!(
            GET,
            "/components/:component/pipelines/:pipeline/builds",
            ComponentPipelineBuilds,
            "components",
            NAMES,
            "List the builds of :pipeline that ran :component."
        ),
        route!(
            GET,
            "/components/:component/pipelines/:pipeline/builds/:build/sessions",
            ComponentBuildSessions,
            "components",
            NAMES,
            "List the sessions of a build that ran :component."
        ),
        route!(
            GET,
            "/components/:component/items/:item/metrics",
            ComponentItemMetrics,
            "components",
            METRICS,
            "List the metrics of :item in :component."
        ),
        route!(
            GET,
            "/components/items/:item/metrics",
            ComponentItemMetrics,
            "components",
            METRICS,
            "List the metrics of :item without a component."
        ),
        route!(
            GET,
            "/components/:component/variants/:variant/metrics",
            ComponentVariantMetrics,
            "components",
            METRICS,
            "List the metrics of :variant in :component."
        ),
        route!(
            GET,
            "/components/variants/:variant/metrics",
            ComponentVariantMetrics,
            "components",
            METRICS,
            "List the metrics of :variant without a component."
        ),
        route!(
            GET,
            "/pipelines",
            ListPipelines,
            "pipelines",
            Some("MonitorPipelines"),
            "List all pipelines (204 when none)."
        ),
        route!(
            GET,
            "/pipelines/:pipeline/builds",
            PipelineBuilds,
            "pipelines",
            NAMES,
            "List the builds of :pipeline."
        ),
        route!(
            GET,
            "/pipelines/:pipeline/builds/:build/sessions",
            PipelineBuildSessions,
            "pipelines",
            NAMES,
            "List the sessions of build :build of :pipeline."
        ),
        route!(
            GET,
            "/resources/:resource/head/metrics",
            ResourceHead,
            "resources",
            METRICS,
            "The 10 metrics using the most of :resource."
        ),
        route!(
            GET,
            "/resources/:resource/head/:n/metrics",
            ResourceHead,
            "resources",
            METRICS,
            "The :n (at most 500) metrics using the most of :resource."
        ),
        route!(
            GET,
            "/resources/:resource/tail/metrics",
            ResourceTail,
            "resources",
            METRICS,
            "The 10 metrics using the least of :resource."
        ),
        route!(
            GET,
            "/resources/:resource/tail/:n/metrics",
            ResourceTail,
            "resources",
            METRICS,
            "The :n metrics using the least of :resource."
        ),
        route!(
            GET,
            "/resources/:resource/pipelines/:pipeline/head/metrics",
            ResourceHead,
            "resources",
            METRICS,
            "Most of :resource on :pipeline."
        ),
        route!(
            GET,
            "/resources/:resource/pipelines/:pipeline/head/:n/metrics",
            ResourceHead,
            "resources",
            METRICS,
            "Most of :resource on :pipeline, :n rows."
        ),
        route!(
            GET,
            "/resources/:resource/pipelines/:pipeline/tail/metrics",
            ResourceTail,
            "resources",
            METRICS,
            "Least of :resource on :pipeline."
        ),
        route!(
            GET,
            "/resources/:resource/pipelines/:pipeline/tail/:n/metrics",
            ResourceTail,
            "resources",
            METRICS,
            "Least of :resource on :pipeline, :n rows."
        ),
        route!(
            GET,
            "/resources/:resource/pipelines/:pipeline/builds/:build/head/metrics",
            ResourceHead,
            "resources",
            METRICS,
            "Most of :resource in one build."
        ),
        route!(
            GET,
            "/resources/:resource/pipelines/:pipeline/builds/:build/head/:n/metrics",
            ResourceHead,
            "resources",
            METRICS,
            "Most of :resource in one build, :n rows."
        ),
        route!(
            GET,
            "/resources/:resource/pipelines/:pipeline/builds/:build/tail/metrics",
            ResourceTail,
            "resources",
            METRICS,
            "Least of :resource in one build."
        ),
        route!(
            GET,
            "/resources/:resource/pipelines/:pipeline/builds/:build/tail/:n/metrics",
            ResourceTail,
            "resources",
            METRICS,
            "Least of :resource in one build, :n rows."
        ),
        route!(
            GET,
            "/resources/:resource/components/:component/head/metrics",
            ResourceHead,
            "resources",
            METRICS,
            "Most of :resource in :component."
        ),
        route!(
            GET,
            "/resources/:resource/components/:component/head/:n/metrics",
            ResourceHead,
            "resources",
            METRICS,
            "Most of :resource in :component, :n rows."
        ),
        route!(
            GET,
            "/resources/:resource/components/:component/tail/metrics",
            ResourceTail,
            "resources",
            METRICS,
            "Least of :resource in :component."
        ),
        route!(
            GET,
            "/resources/:resource/components/:component/tail/:n/metrics",
            ResourceTail,
            "resources",
            METRICS,
            "Least of :resource in :component, :n rows."
        ),
    ]
}

/// The documented routes, for the OpenAPI document.
pub fn routes() -> Vec<RouteDoc> {
    table().into_iter().map(|(doc, _)| doc).collect()
}

async fn dispatch(op: Op, st: &AppState, req: &Request, body: &[u8]) -> Result<Response, AppError> {
    use handlers::{self as h, MetricsBy as By};
    match op {
        Op::ListSessions => h::list_sessions(st, req).await,
        Op::CreateSession | Op::CreateSessionAt => h::create_session(st, req, body).await,
        Op::CountSessions => h::count_sessions(st, req).await,
        Op::SessionsByPrefix => h::sessions_by_prefix(st, req).await,
        Op::SessionMetrics => h::metrics_by(st, req, By::Session).await,
        Op::CountSessionMetrics => h::count_metrics_by(st, req, By::Session).await,
        Op::ListContexts => h::list_contexts(st, req).await,
        Op::CreateContext => h::create_context(st, req, body).await,
        Op::CountContexts => h::count_contexts(st, req).await,
        Op::ContextsByPrefix => h::contexts_by_prefix(st, req).await,
        Op::ContextMetrics => h::metrics_by(st, req, By::Context).await,
        Op::CountContextMetrics => h::count_metrics_by(st, req, By::Context).await,
        Op::ListMetrics => h::list_metrics(st, req).await,
        Op::CreateMetric => h::create_metric(st, req, body).await,
        Op::CountMetrics => h::count_all_metrics(st, req).await,
        Op::ItemMetrics => h::metrics_by(st, req, By::Item).await,
        Op::CountItemMetrics => h::count_metrics_by(st, req, By::Item).await,
        Op::ItemLikeMetrics => h::metrics_by(st, req, By::ItemLike).await,
        Op::VariantMetrics => h::metrics_by(st, req, By::Variant).await,
        Op::CountVariantMetrics => h::count_metrics_by(st, req, By::Variant).await,
        Op::VariantLikeMetrics => h::metrics_by(st, req, By::VariantLike).await,
        Op::KindMetrics => h::metrics_by(st, req, By::Kind).await,
        Op::CountKindMetrics => h::count_metrics_by(st, req, By::Kind).await,
        Op::ScmMetrics => h::metrics_by(st, req, By::ScmPrefix).await,
        Op::CountScmMetrics => h::count_metrics_by(st, req, By::ScmPrefix).await,
        Op::ScmSessions => h::scm_sessions(st, req).await,
        Op::ListComponents => h::list_components(st, req).await,
        Op::CountComponents => h::count_components(st, req).await,
        Op::ComponentMetrics => h::component_metrics(st, req).await,
        Op::ComponentPipelines => h::component_pipelines(st, req).await,
        Op::ComponentPipelineBuilds => h::component_pipeline_builds(st, req).await,
        Op::ComponentBuildSessions => h::component_build_sessions(st, req).await,
        Op::ComponentItemMetrics => h::component_item_metrics(st, req).await,
        Op::ComponentVariantMetrics => h::component_variant_metrics(st, req).await,
        Op::ListPipelines => h::list_pipelines(st, req).await,
        Op::PipelineBuilds => h::pipeline_builds(st, req).await,
        Op::PipelineBuildSessions => h::pipeline_build_sessions(st, req).await,
        Op::ResourceHead => h::resource_metrics(st, req, Direction::Desc).await,
        Op::ResourceTail => h::resource_metrics(st, req, Direction::Asc).await,
    }
}

/// Runs one route: authorisation on the `monitor` surface, then the handler, errors rendered in
/// this API's dialect.
async fn run(op: Op, st: Arc<AppState>, mut req: Request) -> Response {
    let need = if req.method() == Method::GET {
        Scope::Read
    } else {
        Scope::Write
    };
    let principal = match auth::principal_from_header(&st.db, req.header("authorization")).await {
        Ok(p) => p,
        Err(e) => return errors::render(e),
    };
    if let Err(e) = auth::check(&st.config.auth, Surface::Monitor, &principal, need) {
        return errors::render(e);
    }
    // The body limit middleware has already bounded and buffered it.
    let body = match req.take_body().into_bytes().await {
        Ok(b) => b,
        Err(e) => {
            return errors::render(AppError::bad_request(format!(
                "could not read the body: {e}"
            )));
        }
    };
    match dispatch(op, &st, &req, &body).await {
        Ok(resp) => resp,
        Err(e) => errors::render(e),
    }
}

/// The router for `/api/v1`: every route of the table, each path with all its methods.
pub fn router(state: Arc<AppState>) -> Route {
    let mut by_path: BTreeMap<&'static str, (RouteMethod, Vec<Method>)> = BTreeMap::new();
    for (doc, op) in table() {
        let st = state.clone();
        let ep = poem::endpoint::make(move |req: Request| {
            let st = st.clone();
            async move { run(op, st, req).await }
        });
        let (entry, mut methods) = by_path.remove(doc.path).unwrap_or_default();
        let entry = match doc.method {
            Method::POST => entry.post(ep),
            _ => entry.get(ep),
        };
        methods.push(doc.method.clone());
        by_path.insert(doc.path, (entry, methods));
    }
    let mut route = Route::new();
    for (path, (entry, methods)) in by_path {
        let allow = allow_header(&methods);
        let options = {
            let allow = allow.clone();
            poem::endpoint::make_sync(move |_| {
                let mut resp = Response::builder().status(StatusCode::OK).finish();
                resp.headers_mut().insert(header::ALLOW, allow.clone());
                resp
            })
        };
        let ep = entry.options(options).after(move |r| {
            let allow = allow.clone();
            async move { method_dialect(r, allow) }
        });
        route = route.at(path, ep.into_endpoint());
    }
    route
}

/// The `Allow` header Flask sends for a route: its own methods, `HEAD` with `GET`, and the
/// `OPTIONS` Flask answers for every route.
fn allow_header(methods: &[Method]) -> HeaderValue {
    let mut names: Vec<&str> = methods.iter().map(Method::as_str).collect();
    if methods.contains(&Method::GET) {
        names.push("HEAD");
    }
    names.push("OPTIONS");
    names.sort_unstable();
    names.dedup();
    HeaderValue::from_str(&names.join(", ")).expect("method names are header-safe")
}

/// poem answers unmatched methods with an empty 405; flask-restx sends a JSON message, with the
/// route's methods in `Allow` as Werkzeug does.
fn method_dialect(r: poem::Result<Response>, allow: HeaderValue) -> poem::Result<Response> {
    match r {
        Ok(resp) => Ok(resp),
        Err(e) if e.status() == StatusCode::METHOD_NOT_ALLOWED => {
            let mut resp = errors::json(
                StatusCode::METHOD_NOT_ALLOWED,
                serde_json::json!({"message": "The method is not allowed for the requested URL."}),
            );
            resp.headers_mut().insert(header::ALLOW, allow);
            Ok(resp)
        }
        Err(e) if e.status() == StatusCode::NOT_FOUND => Ok(errors::not_found()),
        Err(e) => Err(e),
    }
}

/// Unknown paths under `/api/v1`, in the dialect.
pub fn not_found_endpoint() -> impl Endpoint<Output = Response> {
    poem::endpoint::make_sync(|_| errors::not_found())
}
