//! The server's protective bounds: rate budgets per client address and per token (429 with
//! `Retry-After`, in each API's own error shape), the time a client may take to send a request's
//! head, PostgreSQL's statement time-out, and graceful shutdown on a real listener.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use poem::http::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{LiveServer, TestApp};
use crate::http::{Reply, reply};

/// A GraphQL request in process, with an optional `Authorization` header value.
async fn graphql(app: &TestApp, authorization: Option<&str>) -> (Reply, Option<String>) {
    let mut req = app
        .client
        .post("/graphql")
        .body_json(&json!({"query": "{ __typename }"}));
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    send(req).await
}

async fn send(
    req: poem::test::TestRequestBuilder<'_, impl poem::Endpoint>,
) -> (Reply, Option<String>) {
    let resp = req.send().await;
    let retry_after = resp
        .0
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (reply(resp).await, retry_after)
}

/// Asserts a 429 whose `Retry-After` is a whole number of seconds, at least one and at most a
/// minute; returns its body as JSON.
fn limited(r: &(Reply, Option<String>), what: &str) -> Value {
    let (reply, retry_after) = r;
    reply.expect(StatusCode::TOO_MANY_REQUESTS, what);
    let secs: u64 = retry_after
        .as_deref()
        .unwrap_or_else(|| panic!("{what}: no Retry-After"))
        .parse()
        .unwrap_or_else(|e| panic!("{what}: Retry-After {retry_after:?}: {e}"));
    assert!((1..=60).contains(&secs), "{what}: Retry-After {secs}");
    reply.json()
}

#[tokio::test]
async fn an_address_over_its_budget_gets_429_in_each_apis_own_words() {
    let app = TestApp::with_config(|c| c.rate_limits.per_address = 3).await;
    // The in-process client has no socket address: all its requests share one bucket, whichever
    // API they call.
    for i in 0..3 {
        let (r, _) = graphql(&app, None).await;
        r.expect(StatusCode::OK, &format!("request {i} within the budget"));
    }

    let body = limited(&graphql(&app, None).await, "GraphQL");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("too many requests")),
        "{body}"
    );

    // pytest-monitor (Flask): {"message": ...}.
    let body = limited(&send(app.client.get("/api/v1/sessions/")).await, "monitor");
    assert!(body["message"].as_str().is_some(), "{body}");
    // StackTach (Falcon): {"error": ...}.
    let body = limited(&send(app.client.get("/v1/streams")).await, "stacktach");
    assert!(body["error"].as_str().is_some(), "{body}");
    // XPRESSO: {"Error": ...}, before the token it requires is even looked at.
    let body = limited(&send(app.client.get("/api/v1/requests")).await, "xpresso");
    assert!(body["Error"].as_str().is_some(), "{body}");
    // KernelCI (Tornado): {"code": 429, "reason": ...}.
    let body = limited(&send(app.client.get("/job")).await, "kernelci");
    assert_eq!(body["code"], 429, "{body}");
    assert!(body["reason"].as_str().is_some(), "{body}");
    // Evergreen: {"message": ...}.
    let body = limited(
        &send(app.client.get("/rest/v1/projects")).await,
        "evergreen",
    );
    assert!(body["message"].as_str().is_some(), "{body}");

    // Health, readiness and the browser pages are not counted.
    for path in ["/healthz", "/readyz", "/graphiql", "/openapi.json"] {
        let (r, _) = send(app.client.get(path)).await;
        r.expect(StatusCode::OK, path);
    }
}

#[tokio::test]
async fn tokens_have_budgets_of_their_own_whatever_their_scheme() {
    use testgraph::service::tokens::Scope;
    let app = TestApp::with_config(|c| c.rate_limits.per_token = 2).await;
    let (a, b) = (
        app.token(&[Scope::Read]).await,
        app.token(&[Scope::Read]).await,
    );

    for _ in 0..2 {
        graphql(&app, Some(&format!("Bearer {a}")))
            .await
            .0
            .expect(StatusCode::OK, "a within its budget");
    }
    let body = limited(&graphql(&app, Some(&format!("Bearer {a}"))).await, "a");
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");

    // b is untouched by a's use; its bare form (KernelCI's) is the same token.
    graphql(&app, Some(&format!("Bearer {b}")))
        .await
        .0
        .expect(StatusCode::OK, "b's first");
    let (r, _) = send(app.client.get("/job").header("authorization", b.as_str())).await;
    assert_ne!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "b's second: {}",
        r.text()
    );
    let body = limited(
        &send(app.client.get("/job").header("authorization", b.as_str())).await,
        "b bare",
    );
    assert_eq!(body["code"], 429, "{body}");

    // Without a token there is no token budget (and the address budget is off).
    for _ in 0..5 {
        graphql(&app, None)
            .await
            .0
            .expect(StatusCode::OK, "anonymous");
    }
}

#[tokio::test]
async fn no_request_is_limited_by_default() {
    let app = TestApp::new().await;
    let token = app.token(&[testgraph::service::tokens::Scope::Read]).await;
    for i in 0..120 {
        let (r, _) = graphql(&app, Some(&format!("Bearer {token}"))).await;
        r.expect(StatusCode::OK, &format!("GraphQL {i}"));
        let (r, _) = send(app.client.get("/v1/streams")).await;
        r.expect(StatusCode::OK, &format!("stacktach {i}"));
    }
}

#[tokio::test]
async fn a_real_client_is_counted_by_its_address_across_connections() {
    let app = TestApp::with_config(|c| {
        c.rate_limits.per_address = 2;
        c.stacktach.worker = false;
    })
    .await;
    let server = LiveServer::start(app.state.clone()).await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        // A client each time: a new connection, a new source port, the same address.
        let client = reqwest::Client::new();
        let resp = client
            .get(server.url("/v1/streams"))
            .send()
            .await
            .expect("request");
        statuses.push(resp.status().as_u16());
        if resp.status().as_u16() == 429 {
            assert!(resp.headers().get("retry-after").is_some());
        }
    }
    assert_eq!(statuses, [200, 200, 429]);
}

/// A real server on 127.0.0.1:0 for `app`, stopped when the returned sender fires (or is
/// dropped); the handle answers what `serve` returned.
async fn start(
    app: &TestApp,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), testgraph::app::StartError>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let state = app.state.clone();
    let server = tokio::spawn(testgraph::app::serve(state, listener, async {
        let _ = rx.await;
    }));
    (addr, tx, server)
}

/// Everything the server sends until it closes the connection (a reset counts as closed), or
/// `None` if it is still open after `limit`.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| out)
}

fn quick_server(c: &mut testgraph::config::Config) {
    c.limits.header_timeout = Duration::from_secs(1);
    c.stacktach.worker = false;
}

#[tokio::test]
async fn a_client_that_stalls_in_its_request_head_is_disconnected() {
    let app = TestApp::with_config(quick_server).await;
    let (addr, _stop, _server) = start(&app).await;

    // Half a request line, then nothing.
    let mut stalled = TcpStream::connect(addr).await.expect("connect");
    stalled.write_all(b"GET /heal").await.expect("write");
    // Connected, and nothing sent at all.
    let mut silent = TcpStream::connect(addr).await.expect("connect");

    for (what, stream) in [("half a line", &mut stalled), ("nothing", &mut silent)] {
        let answer = read_until_closed(stream, Duration::from_secs(8))
            .await
            .unwrap_or_else(|| panic!("{what}: still open long after the header time limit"));
        let text = String::from_utf8_lossy(&answer);
        // hyper answers 408 before it closes; closing without a word is as good.
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 408"),
            "{what}: {text}"
        );
    }
}

#[tokio::test]
async fn a_slow_client_within_the_header_time_limit_is_served() {
    let app = TestApp::with_config(|c| {
        quick_server(c);
        c.limits.header_timeout = Duration::from_secs(3);
    })
    .await;
    let (addr, _stop, _server) = start(&app).await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    for part in [
        "GET /heal",
        "thz HTTP/1.1\r\n",
        "Host: test\r\n",
        "Connection: close\r\n\r\n",
    ] {
        stream.write_all(part.as_bytes()).await.expect("write");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let answer = read_until_closed(&mut stream, Duration::from_secs(10))
        .await
        .expect("answered and closed");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains(r#"{"status":"ok"}"#), "{text}");
}

#[tokio::test]
async fn shutdown_lets_the_request_in_flight_finish_and_takes_no_new_one() {
    let grace = Duration::from_secs(2);
    let app = TestApp::with_config(|c| {
        quick_server(c);
        c.limits.header_timeout = Duration::from_secs(10);
        c.limits.shutdown_grace = grace;
    })
    .await;
    let (addr, stop, server) = start(&app).await;

    let body = br#"{"query": "{ __typename }"}"#;
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    // A request in flight: its head and half its body sent; the handler waits for the rest.
    let mut in_flight = TcpStream::connect(addr).await.expect("connect");
    in_flight.write_all(head.as_bytes()).await.expect("write");
    in_flight.write_all(&body[..10]).await.expect("write");
    // A request that never ends: its body stops halfway for good.
    let mut stuck = TcpStream::connect(addr).await.expect("connect");
    stuck.write_all(head.as_bytes()).await.expect("write");
    stuck.write_all(&body[..5]).await.expect("write");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let began = Instant::now();
    stop.send(()).expect("server running");
    tokio::time::sleep(Duration::from_millis(200)).await;

    // A new connection is refused, or gets no answer.
    if let Ok(mut late) = TcpStream::connect(addr).await {
        let _ = late
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
            .await;
        let answer = read_until_closed(&mut late, Duration::from_secs(5)).await;
        assert!(
            answer.as_ref().is_none_or(|a| a.is_empty()),
            "served after shutdown began: {:?}",
            answer.map(|a| String::from_utf8_lossy(&a).into_owned())
        );
    }

    // The request in flight completes, and its connection closes after it.
    in_flight
        .write_all(&body[10..])
        .await
        .expect("write the rest");
    let answer = read_until_closed(&mut in_flight, Duration::from_secs(10))
        .await
        .expect("answered and closed");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains(r#""__typename":"QueryRoot""#), "{text}");

    // serve returns once the grace is over, the stuck request cut off.
    let result = tokio::time::timeout(grace + Duration::from_secs(8), server)
        .await
        .expect("serve returned within the grace and a margin")
        .expect("serve did not panic");
    assert!(result.is_ok(), "{result:?}");
    assert!(
        began.elapsed() >= grace - Duration::from_millis(100),
        "it waited for the stuck request: {:?}",
        began.elapsed()
    );
    let rest = read_until_closed(&mut stuck, Duration::from_secs(5)).await;
    assert!(rest.is_some(), "the stuck connection is closed");
}

#[tokio::test]
async fn a_statement_over_the_statement_timeout_is_cancelled_on_postgresql() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = TestApp::with_config(|c| c.limits.statement_timeout = Duration::from_secs(1)).await;
    if !app.db.is_postgres() {
        // SQLite has no statement time-out; the request time limit bounds a request there.
        return;
    }
    let began = Instant::now();
    let err = app
        .state
        .db
        .execute_raw(Statement::from_string(
            app.state.db.get_database_backend(),
            "SELECT pg_sleep(3)",
        ))
        .await
        .expect_err("cancelled");
    let code = match &err {
        sea_orm::DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
        | sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(e)) => e
            .as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.into_owned()),
        _ => None,
    };
    assert_eq!(code.as_deref(), Some("57014"), "{err:?}");
    assert!(began.elapsed() < Duration::from_secs(3), "cancelled early");
    // The connection stays usable.
    testgraph::db::ping(&app.state.db).await.expect("ping");
}

/// A client that sends its body a little at a time cannot hold a request open past the request
/// time limit: the body's arrival counts against it, and the answer is a 408 in the API's own
/// dialect (here GraphQL's, and StackTach's `{"error": ...}`); nothing of the body runs.
#[tokio::test]
async fn a_body_that_trickles_in_past_the_request_time_limit_is_refused() {
    let app = TestApp::with_config(|c| {
        quick_server(c);
        c.limits.header_timeout = Duration::from_secs(10);
        c.limits.request_timeout = Duration::from_secs(1);
    })
    .await;
    let (addr, _stop, _server) = start(&app).await;
    for (path, body, error_key) in [
        (
            "/graphql",
            r#"{"query": "{ __typename }"}"#.to_owned(),
            "errors",
        ),
        (
            "/v1/events",
            r#"[{"message_id": "m1", "event_type": "t", "timestamp": "2015-01-01T00:00:00"}]"#
                .to_owned(),
            "error",
        ),
    ] {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
             Connection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.expect("write");
        // Half the body, then a byte every 300 ms: never the whole of it within the second.
        stream
            .write_all(&body.as_bytes()[..body.len() / 2])
            .await
            .expect("write");
        let trickle = async {
            for b in &body.as_bytes()[body.len() / 2..body.len() - 1] {
                tokio::time::sleep(Duration::from_millis(300)).await;
                if stream.write_all(&[*b]).await.is_err() {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(4), trickle).await;
        let answer = read_until_closed(&mut stream, Duration::from_secs(8))
            .await
            .unwrap_or_else(|| panic!("{path}: still open"));
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 408"), "{path}: {text}");
        assert!(text.contains(error_key), "{path}: {text}");
    }
    // The event never arrived whole, so nothing was stored.
    assert!(
        testgraph::service::stacktach::event_by_message_id(&app.state.db, "m1")
            .await
            .expect("look-up")
            .is_none()
    );
}
