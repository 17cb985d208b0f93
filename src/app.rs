//! Assembles the HTTP application: `/graphql`, `/graphiql`, `/docs` and their `/assets`,
//! `/openapi.json`, `/healthz`, `/readyz`,
//! every legacy REST family and the bulk-ingestion routes, behind the request guards (body limit,
//! time limit), and runs it on a listener until shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use poem::http::StatusCode;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::middleware::{NormalizePath, TrailingSlash};
use poem::{
    Body, Endpoint, EndpointExt, IntoResponse, Request, Response, Route, Server, get, handler,
};
use serde_json::json;

use crate::config::{Config, Limits};
use crate::error::AppError;
use crate::graphql::{self, AppSchema};
use crate::rest;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database: {0}")]
    Connect(#[source] sea_orm::DbErr),
    #[error("cannot apply migrations: {0}")]
    Migrate(#[source] sea_orm::DbErr),
    #[error(
        "migrations are pending ({0}); run `testgraph migrate up` or start without --no-migrate"
    )]
    Pending(String),
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    #[error("StackTach trigger definitions or pipelines: {0}")]
    Triggers(String),
}

/// Opens the database and brings its schema up to date (or refuses, with `--no-migrate`).
pub async fn prepare(config: Config) -> Result<AppState, StartError> {
    let db = crate::db::connect(&config.database_url, config.db_max_connections)
        .await
        .map_err(StartError::Connect)?;
    if config.migrate_on_start {
        crate::db::migrate_up(&db)
            .await
            .map_err(StartError::Migrate)?;
    } else {
        let pending = crate::db::pending_migrations(&db)
            .await
            .map_err(StartError::Migrate)?;
        if !pending.is_empty() {
            return Err(StartError::Pending(pending.join(", ")));
        }
    }
    let triggers = match &config.stacktach.triggers_file {
        None => Vec::new(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| StartError::Triggers(format!("{}: {e}", path.display())))?;
            crate::service::stacktach::definitions::load(&text)
                .map_err(|e| StartError::Triggers(format!("{}: {e}", path.display())))?
        }
    };
    let pipelines = match &config.stacktach.pipelines_file {
        None => crate::service::stacktach::Pipelines::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| StartError::Triggers(format!("{}: {e}", path.display())))?;
            crate::service::stacktach::load_pipelines(&text)
                .map_err(|e| StartError::Triggers(format!("{}: {e}", path.display())))?
        }
    };
    Ok(AppState::new(db, config, triggers, pipelines))
}

/// Bounds every request: bodies larger than the limit (declared or streamed) are refused with
/// 413 before a handler runs, and a request that outlives the time limit gets 503. Errors are
/// rendered by `render`, in the dialect of the surface the guard protects.
fn guarded<E: Endpoint + 'static>(
    ep: E,
    limits: &Limits,
    render: fn(AppError) -> Response,
) -> impl Endpoint<Output = Response> + use<E> {
    let max = limits.max_body_bytes;
    let timeout = limits.request_timeout;
    ep.around(move |ep, mut req: Request| async move {
        let declared = req
            .header(poem::http::header::CONTENT_LENGTH)
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max as u64) {
            return Ok(render(AppError::PayloadTooLarge(max)));
        }
        let body = req.take_body();
        match body.into_bytes_limit(max).await {
            Ok(bytes) => req.set_body(Body::from(bytes)),
            Err(poem::error::ReadBodyError::PayloadTooLarge) => {
                return Ok(render(AppError::PayloadTooLarge(max)));
            }
            Err(e) => {
                return Ok(render(AppError::bad_request(format!(
                    "could not read the body: {e}"
                ))));
            }
        }
        match tokio::time::timeout(timeout, ep.call(req)).await {
            Ok(Ok(resp)) => Ok(resp.into_response()),
            Ok(Err(e)) => Ok(e.into_response()),
            Err(_) => {
                tracing::warn!(timeout_ms = timeout.as_millis() as u64, "request timed out");
                Ok(render(AppError::Timeout))
            }
        }
    })
    .map_to_response()
}

#[handler]
fn healthz() -> impl IntoResponse {
    poem::web::Json(json!({"status": "ok"}))
}

#[handler]
async fn readyz(state: poem::web::Data<&AppState>) -> Response {
    let limit = state.config.limits.ready_timeout;
    let (status, body) = match tokio::time::timeout(limit, crate::db::ping(&state.db)).await {
        Ok(Ok(())) => (StatusCode::OK, json!({"status": "ready"})),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"status": "database unavailable"}),
            )
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status": "database did not answer in time"}),
        ),
    };
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(body.to_string())
}

/// The OpenAPI document of every REST route: the legacy families and the bulk routes.
pub fn openapi_document() -> serde_json::Value {
    rest::openapi::document(&rest::apis())
}

/// `/`: where a newcomer lands. A browser (`Accept: text/html`) gets a page of links, any other
/// client the same as a JSON index. Links are relative, so the page also works behind a reverse
/// proxy that mounts testgraph under a path prefix.
#[handler]
fn index(req: &Request) -> Response {
    let apis: Vec<(&str, &str)> = rest::apis().iter().map(|a| (a.name, a.prefix)).collect();
    let wants_html = req
        .header(poem::http::header::ACCEPT)
        .is_some_and(|a| a.contains("text/html"));
    if !wants_html {
        let apis: Vec<serde_json::Value> = apis
            .iter()
            .map(|(name, prefix)| json!({"name": name, "prefix": prefix}))
            .collect();
        let body = json!({
            "name": "testgraph",
            "version": env!("CARGO_PKG_VERSION"),
            "graphql": "graphql",
            "graphiql": "graphiql",
            "openapi": "openapi.json",
            "docs": "docs",
            "health": "healthz",
            "ready": "readyz",
            "rest": apis,
        });
        return Response::builder()
            .content_type("application/json")
            .header("Vary", "Accept")
            .body(body.to_string());
    }
    // Names and prefixes are the route tables' own constants: nothing here comes from the request.
    let items: String = apis
        .iter()
        .map(|(name, prefix)| {
            format!(
                "<li>{name}: <code>{prefix}</code></li>",
                prefix = prefix.trim_start_matches('/')
            )
        })
        .collect();
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>testgraph</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 42rem; margin: 2rem auto; line-height: 1.5">
<h1>testgraph {version}</h1>
<p>Test and CI results from five legacy systems in one store.</p>
<ul>
<li><a href="graphiql">GraphiQL</a>: explore the GraphQL API (<code>POST graphql</code>)</li>
<li><a href="docs">REST reference</a> of the legacy APIs (<a href="openapi.json">OpenAPI document</a>)</li>
<li><a href="healthz">healthz</a> and <a href="readyz">readyz</a></li>
</ul>
<h2>Legacy REST APIs</h2>
<ul>{items}</ul>
</body></html>
"#,
        version = env!("CARGO_PKG_VERSION"),
    );
    Response::builder()
        .content_type("text/html; charset=utf-8")
        .header("Vary", "Accept")
        .body(html)
}

#[handler]
fn openapi() -> impl IntoResponse {
    poem::web::Json(openapi_document())
}

fn graphql_error(e: AppError) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    graphql::endpoint::error_response(status, &e)
}

/// The whole application for `state`.
pub fn build(state: AppState) -> impl Endpoint<Output = Response> {
    let shared = Arc::new(state.clone());
    let schema: AppSchema = graphql::build_schema(state.clone());
    let limits = state.config.limits.clone();
    let cors_origins = Arc::new(state.config.cors_origins.clone());

    let graphql_route = guarded(
        poem::RouteMethod::new()
            .get(graphql::endpoint::graphql)
            .post(graphql::endpoint::graphql)
            .data(schema)
            .catch_error(|_: poem::error::MethodNotAllowedError| async {
                graphql::endpoint::method_not_allowed()
            }),
        &limits,
        graphql_error,
    );

    let mut route = Route::new()
        .at("/", get(index))
        .at("/graphql", graphql_route)
        .at("/graphiql", get(crate::web::graphiql))
        .at("/docs", get(crate::web::docs))
        .at("/assets/:name", get(crate::web::asset))
        .at("/openapi.json", get(openapi))
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz));
    for api in rest::apis() {
        let (render, api) = (api.dialect.render, Arc::new(api));
        for prefix in std::iter::once(&api.prefix).chain(api.also_at) {
            let router = api.clone().router(shared.clone());
            route = route.nest(*prefix, guarded(router, &limits, render));
        }
    }
    route
        .with(NormalizePath::new(TrailingSlash::Trim))
        .data(state)
        .map_to_response()
        .around(move |ep, req| {
            let origins = cors_origins.clone();
            async move { crate::cors::handle(&origins, ep.as_ref(), req).await }
        })
}

/// Serves the application on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish (up to 10 s). The StackTach worker runs beside it unless turned off, and stops with it.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), StartError> {
    let acceptor = TcpAcceptor::from_tokio(listener)?;
    let addr = acceptor
        .local_addr()
        .into_iter()
        .next()
        .map(|a| a.to_string())
        .unwrap_or_default();
    tracing::info!(graphiql = %format!("http://{}/graphiql", addr.trim_start_matches("socket://")), "testgraph listening");
    let (stop, stopped) = crate::worker::stop_signal();
    let worker = state
        .config
        .stacktach
        .worker
        .then(|| tokio::spawn(crate::worker::run(state.clone(), stopped)));
    let result = Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(build(state), shutdown, Some(Duration::from_secs(10)))
        .await;
    // The worker ends its pass; a claimed stream it did not finish stays claimed in the database.
    let _ = stop.send(true);
    if let Some(w) = worker {
        let _ = tokio::time::timeout(crate::worker::STOP_GRACE, w).await;
    }
    result?;
    Ok(())
}
