//! Assembles the HTTP application: `/graphql`, `/graphiql`, `/docs` and their `/assets`,
//! `/openapi.json`, `/healthz`, `/readyz`,
//! every legacy REST family and the bulk-ingestion routes, behind the request guards (rate
//! budgets, body limit, time limit), and runs it on a listener (with a time limit on request
//! heads) until shutdown, then drains it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use poem::endpoint::BoxEndpoint;
use poem::http::StatusCode;
use poem::middleware::{NormalizePath, TrailingSlash};
use poem::{Body, Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, handler};
use serde_json::json;

use crate::config::{Config, Limits};
use crate::error::AppError;
use crate::graphql::{self, AppSchema};
use crate::ratelimit::RateLimiter;
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
    let url = &config.database_url;
    // An in-memory SQLite database exists only in its own pool: it migrates there.
    let in_memory =
        !crate::db::is_postgres(url) && (url.contains(":memory:") || url.contains("mode=memory"));
    if config.migrate_on_start && !in_memory {
        // Migrations run on a connection of their own, closed before the pool opens: a
        // migration may rewrite a whole table, longer than a request's statement time-out
        // allows; and a SQLite connection that read the schema before a migration altered a
        // table would prepare statements against the old one (SQLite re-prepares them when they
        // run, with columns sqlx no longer expects).
        let admin = crate::db::connect(url, 1)
            .await
            .map_err(StartError::Connect)?;
        crate::db::migrate_up(&admin)
            .await
            .map_err(StartError::Migrate)?;
        let _ = admin.close().await;
    }
    let statement_timeout = Some(config.limits.statement_timeout);
    let db = crate::db::connect_with(url, config.db_max_connections, statement_timeout)
        .await
        .map_err(StartError::Connect)?;
    if config.migrate_on_start {
        if in_memory {
            crate::db::migrate_up(&db)
                .await
                .map_err(StartError::Migrate)?;
        }
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

/// Bounds every request: a token or client address over its rate budget gets 429 with
/// `Retry-After` (see `ratelimit`), bodies larger than the limit (declared or streamed) are
/// refused with 413 before a handler runs, and a request that outlives the time limit gets 503.
/// Errors are rendered by `render`, in the dialect of the surface the guard protects.
fn guarded<E: Endpoint + 'static>(
    ep: E,
    limits: &Limits,
    limiter: Option<Arc<RateLimiter>>,
    render: fn(AppError) -> Response,
) -> impl Endpoint<Output = Response> + use<E> {
    let max = limits.max_body_bytes;
    let timeout = limits.request_timeout;
    ep.around(move |ep, mut req: Request| {
        let limiter = limiter.clone();
        async move {
            if let Some(secs) = limiter.and_then(|l| l.check(&req).retry_after_secs()) {
                let mut resp = render(AppError::TooManyRequests(secs));
                resp.headers_mut()
                    .insert(poem::http::header::RETRY_AFTER, secs.into());
                return Ok(resp);
            }
            let declared = req
                .header(poem::http::header::CONTENT_LENGTH)
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|n| n > max as u64) {
                return Ok(render(AppError::PayloadTooLarge(max)));
            }
            // The body's arrival counts against the request's time limit: a client that sends it
            // a byte at a time cannot hold a request open past it.
            let started = tokio::time::Instant::now();
            let body = req.take_body();
            match tokio::time::timeout(timeout, body.into_bytes_limit(max)).await {
                Ok(Ok(bytes)) => req.set_body(Body::from(bytes)),
                Ok(Err(poem::error::ReadBodyError::PayloadTooLarge)) => {
                    return Ok(render(AppError::PayloadTooLarge(max)));
                }
                Ok(Err(e)) => {
                    return Ok(render(AppError::bad_request(format!(
                        "could not read the body: {e}"
                    ))));
                }
                Err(_) => return Ok(render(AppError::BodyTimeout)),
            }
            let left = timeout.saturating_sub(started.elapsed());
            match tokio::time::timeout(left, ep.call(req)).await {
                Ok(Ok(resp)) => Ok(resp.into_response()),
                Ok(Err(e)) => Ok(e.into_response()),
                Err(_) => {
                    tracing::warn!(timeout_ms = timeout.as_millis() as u64, "request timed out");
                    Ok(render(AppError::Timeout))
                }
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
        Ok(Ok(())) => {
            // The database answers again: a pool time-out is an overload from now on.
            crate::error::note_reachable();
            (StatusCode::OK, json!({"status": "ready"}))
        }
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
    // One limiter for every API: a client's budget is the same whichever API it calls.
    let limiter = RateLimiter::new(state.config.rate_limits).map(Arc::new);

    let graphql_route = guarded(
        poem::RouteMethod::new()
            .get(graphql::endpoint::graphql)
            .post(graphql::endpoint::graphql)
            .data(schema)
            .catch_error(|_: poem::error::MethodNotAllowedError| async {
                graphql::endpoint::method_not_allowed()
            }),
        &limits,
        limiter.clone(),
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
            route = route.nest(*prefix, guarded(router, &limits, limiter.clone(), render));
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

/// Serves the application on `listener` until `shutdown` resolves, then stops accepting (new
/// connections are refused), closes idle connections and lets in-flight requests finish, up to
/// `limits.shutdown_grace`; connections still open then are dropped. The StackTach worker runs
/// beside it unless turned off, and stops with it.
///
/// Connections are served by hyper directly rather than by poem's `Server`, which sets no time
/// limit on reading a request's head: here a client must send its request line and headers
/// within `limits.header_timeout`, else hyper closes the connection (with a 408 if it had begun).
/// The limit also covers the wait for the next request on a kept-alive HTTP/1 connection, so idle
/// connections close after it too, and a connection that sends nothing at all. HTTP/2
/// (cleartext, prior knowledge) is served as before; its preface must come within the limit.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), StartError> {
    let local = listener.local_addr()?;
    tracing::info!(graphiql = %format!("http://{local}/graphiql"), "testgraph listening");
    let limits = state.config.limits.clone();
    let (stop, stopped) = crate::worker::stop_signal();
    let worker = state
        .config
        .stacktach
        .worker
        .then(|| tokio::spawn(crate::worker::run(state.clone(), stopped)));

    let ep = Arc::new(build(state).boxed());
    let protocols = Arc::new(Protocols::new(&limits));
    let (draining, drain) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            // Finished connections are reaped as they end.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let conn = serve_connection(
                        protocols.clone(),
                        ep.clone(),
                        socket,
                        (local, peer),
                        drain.clone(),
                    );
                    connections.spawn(conn);
                }
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted: wait
                    // a moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    let grace = limits.shutdown_grace;
    tracing::info!(
        connections = connections.len(),
        grace_secs = grace.as_secs_f32(),
        "shutting down: no new connections, in-flight requests finish"
    );
    let _ = draining.send(true);
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "shutdown grace over: closing the connections still open"
        );
        connections.shutdown().await;
    }
    // The worker ends its pass; a claimed stream it did not finish stays claimed in the database.
    let _ = stop.send(true);
    if let Some(w) = worker {
        let _ = tokio::time::timeout(crate::worker::STOP_GRACE, w).await;
    }
    Ok(())
}

/// How a connection is served once its first bytes tell its protocol.
struct Protocols {
    h1: auto::Builder<TokioExecutor>,
    h2: auto::Builder<TokioExecutor>,
    /// How long a client may take to send a request's head (and, before it, the bytes that tell
    /// the protocol).
    header_timeout: Duration,
}

impl Protocols {
    fn new(limits: &Limits) -> Protocols {
        let mut h1 = auto::Builder::new(TokioExecutor::new()).http1_only();
        h1.http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout);
        Protocols {
            h1,
            h2: auto::Builder::new(TokioExecutor::new()).http2_only(),
            header_timeout: limits.header_timeout,
        }
    }
}

/// HTTP/2's connection preface, which a cleartext HTTP/2 client sends first.
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether the connection speaks HTTP/2 (its first bytes are the preface) or HTTP/1 (anything
/// else); `None` when it closed first. Looks without consuming: hyper reads the bytes again.
async fn sniff_http2(socket: &tokio::net::TcpStream) -> std::io::Result<Option<bool>> {
    let mut buf = [0u8; H2_PREFACE.len()];
    loop {
        let n = socket.peek(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        if buf[..n] != H2_PREFACE[..n] {
            return Ok(Some(false));
        }
        if n == H2_PREFACE.len() {
            return Ok(Some(true));
        }
        // A part of the preface: `peek` answers at once while those bytes wait, so look again
        // in a moment (the caller's deadline bounds the wait).
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Serves one connection until it ends or the server drains; draining lets the request in flight
/// finish and closes the connection after it (at once when idle). A connection that has not
/// told its protocol within the header time limit is closed without an answer.
async fn serve_connection(
    protocols: Arc<Protocols>,
    ep: Arc<BoxEndpoint<'static, Response>>,
    socket: tokio::net::TcpStream,
    (local, peer): (std::net::SocketAddr, std::net::SocketAddr),
    mut drain: tokio::sync::watch::Receiver<bool>,
) {
    let sniffed = tokio::select! {
        s = tokio::time::timeout(protocols.header_timeout, sniff_http2(&socket)) => s,
        _ = drain.wait_for(|d| *d) => return,
    };
    let http = match sniffed {
        Ok(Ok(Some(true))) => &protocols.h2,
        Ok(Ok(Some(false))) => &protocols.h1,
        Ok(Ok(None)) | Ok(Err(_)) => return,
        Err(_) => {
            tracing::debug!(peer = %peer, "connection sent nothing in time: closed");
            return;
        }
    };
    let local_addr = poem::web::LocalAddr(poem::Addr::SocketAddr(local));
    let remote_addr = poem::web::RemoteAddr(poem::Addr::SocketAddr(peer));
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let ep = ep.clone();
        let req = Request::from((
            req,
            local_addr.clone(),
            remote_addr.clone(),
            poem::http::uri::Scheme::HTTP,
        ));
        async move {
            let resp = ep.get_response(req).await;
            Ok::<_, std::convert::Infallible>(hyper::Response::from(resp))
        }
    });
    let conn = http.serve_connection(TokioIo::new(socket), service);
    tokio::pin!(conn);
    tokio::select! {
        res = conn.as_mut() => {
            if let Err(e) = res {
                tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
            }
            return;
        }
        _ = drain.wait_for(|d| *d) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}
