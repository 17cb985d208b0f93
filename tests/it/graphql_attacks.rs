//! The twelve classic GraphQL attacks, each tried against the server and each refused (or made
//! harmless) by the protection named in its test: alias overloading, array batching, directive
//! overloading, circular introspection, field suggestions, GET queries, GET mutations, the
//! playground and introspection in a locked-down mode, cross-site form posts, trace mode and
//! unhandled errors. Each test fails if its protection is removed.

use poem::http::StatusCode;
use serde_json::{Value, json};
use testgraph::config::Introspection;
use testgraph::service::tokens::Scope;

use crate::common::TestApp;
use crate::http::{Reply, reply};

fn code(v: &Value) -> &str {
    v["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

fn message(v: &Value) -> &str {
    v["errors"][0]["message"].as_str().unwrap_or("")
}

async fn session_count(app: &TestApp) -> u64 {
    testgraph::service::monitor::count_sessions(&app.state.db, &Default::default())
        .await
        .expect("count")
}

const CREATE_SESSION: &str = "mutation { createMonitorSession(input: {h: \"csrf\", runDate: \"2024-01-01T00:00:00Z\"}) { h } }";

/// Alias overloading: one field asked for again and again under other names, to multiply the
/// work of one request. Refused by the alias limit (30 by default) before anything runs.
#[tokio::test]
async fn alias_overloading_is_refused() {
    let app = TestApp::new().await;
    let aliases = |n: usize| {
        let fields: Vec<String> = (0..n).map(|i| format!("a{i}: totalCount")).collect();
        format!("{{ monitorSessions {{ {} }} }}", fields.join(" "))
    };
    let r = app.graphql(&aliases(30), json!({})).await;
    assert!(r.get("errors").is_none(), "{r}");
    app.reset_statements();
    let r = app.graphql(&aliases(500), json!({})).await;
    assert_eq!(code(&r), "GRAPHQL_VALIDATION_FAILED", "{r}");
    assert_eq!(
        message(&r),
        "the query uses 500 aliases; at most 30 are allowed"
    );
    assert!(r["data"].is_null(), "{r}");
    assert_eq!(app.statements(), 0, "{:?}", app.statement_log());
}

/// Array batching: many operations in one JSON array, to get around per-request limits (or to
/// try many passwords at once). A batch holds at most `--graphql-max-batch` (10) operations.
#[tokio::test]
async fn array_batching_is_bounded() {
    let app = TestApp::new().await;
    let one = json!({"query": "{ monitorSessions { totalCount } }"});
    let batch = |n: usize| Value::Array(vec![one.clone(); n]);
    let r = reply(
        app.client
            .post("/graphql")
            .body_json(&batch(10))
            .send()
            .await,
    )
    .await;
    r.expect(StatusCode::OK, "ten operations");
    assert_eq!(r.json().as_array().map(Vec::len), Some(10));

    app.reset_statements();
    let r = reply(
        app.client
            .post("/graphql")
            .body_json(&batch(1000))
            .send()
            .await,
    )
    .await;
    r.expect(StatusCode::BAD_REQUEST, "a thousand operations");
    let v = r.json();
    assert_eq!(code(&v), "BAD_USER_INPUT", "{v}");
    assert_eq!(
        message(&v),
        "a batch holds 1 to 10 operations; this one holds 1000"
    );
    assert_eq!(
        app.statements(),
        0,
        "nothing ran: {:?}",
        app.statement_log()
    );
}

/// Directive overloading: thousands of (even unknown) directives on one field, each of which
/// validation would report. Refused, with one error, by the directive limit (8 by default).
#[tokio::test]
async fn directive_overloading_is_refused() {
    let app = TestApp::new().await;
    let many = "@aa ".repeat(500);
    for q in [
        format!("{{ __typename {many} }}"),
        format!("{{ ...F {many} }} fragment F on QueryRoot {{ __typename }}"),
        format!("{{ ... on QueryRoot {many} {{ __typename }} }}"),
        format!("query Q {many} {{ __typename }}"),
    ] {
        let r = app.graphql(&q, json!({})).await;
        assert_eq!(code(&r), "GRAPHQL_VALIDATION_FAILED", "{r}");
        let errors = r["errors"].as_array().expect("errors");
        assert_eq!(errors.len(), 1, "one error, not one a directive: {r}");
        assert!(
            message(&r).contains("carries 500 directives; at most 8 are allowed"),
            "{r}"
        );
    }
    // Below the limit, directives work as ever.
    let r = app
        .graphql(
            "{ __typename @include(if: true) @skip(if: false) }",
            json!({}),
        )
        .await;
    assert_eq!(r["data"], json!({"__typename": "QueryRoot"}), "{r}");
}

/// Circular introspection: `__Type.fields.type.fields.type...` nested without end, to make the
/// server walk its schema exponentially. Refused by the depth limit (16 by default), which
/// counts introspection fields too; a plain introspection query still answers.
#[tokio::test]
async fn circular_introspection_is_refused_by_the_depth_limit() {
    let app = TestApp::new().await;
    let mut q = "name".to_owned();
    for _ in 0..12 {
        q = format!("fields {{ type {{ {q} }} }}");
    }
    let circular = format!("{{ __schema {{ types {{ {q} }} }} }}");
    let r = app.graphql(&circular, json!({})).await;
    assert_eq!(code(&r), "GRAPHQL_VALIDATION_FAILED", "{r}");
    assert_eq!(
        message(&r),
        "Query is nested too deep: at most 16 levels of selection are allowed"
    );
    assert!(r["data"].is_null(), "{r}");

    let r = app
        .graphql(
            "{ __schema { types { fields { type { name } } } } }",
            json!({}),
        )
        .await;
    assert!(r.get("errors").is_none(), "{r}");
}

/// Field suggestions: "Did you mean ...?" in validation errors tells the schema's field names
/// to someone guessing them, even with introspection off. With `--graphql-no-suggestions`
/// callers without a token get the error without the suggestion; callers with a token, and
/// everyone by default, get it.
#[tokio::test]
async fn field_suggestions_are_hidden_from_anonymous_callers_when_off() {
    let typo_field = "{ monitorSesions { totalCount } }";
    let typo_arg = "{ monitorSessions(firstt: 1) { totalCount } }";

    let app = TestApp::with_config(|c| c.exposure.suggestions = false).await;
    let r = app.graphql(typo_field, json!({})).await;
    assert_eq!(code(&r), "GRAPHQL_VALIDATION_FAILED", "{r}");
    assert_eq!(
        message(&r),
        "Unknown field \"monitorSesions\" on type \"QueryRoot\"."
    );
    let r = app.graphql(typo_arg, json!({})).await;
    assert_eq!(code(&r), "GRAPHQL_VALIDATION_FAILED", "{r}");
    assert!(!r.to_string().contains("Did you mean"), "{r}");
    assert!(!r.to_string().contains("\\\"first\\\""), "{r}");

    let token = app.token(&[Scope::Read]).await;
    let r = app.graphql_as(typo_field, json!({}), Some(&token)).await;
    assert!(
        message(&r).contains("Did you mean \"monitorSessions\""),
        "a caller with a token still gets suggestions: {r}"
    );

    let open = TestApp::new().await;
    let r = open.graphql(typo_field, json!({})).await;
    assert!(
        message(&r).contains("Did you mean \"monitorSessions\""),
        "suggestions are on by default: {r}"
    );
    let r = open.graphql(typo_arg, json!({})).await;
    assert!(message(&r).contains("Did you mean \"first\""), "{r}");
}

/// GET queries: served, read-only (a GET can be triggered cross-site, by a link or an image, so
/// it must never write).
#[tokio::test]
async fn get_queries_are_served() {
    let app = TestApp::new().await;
    let resp = app
        .client
        .get("/graphql")
        .query("query", &"{ monitorSessions { totalCount } __typename }")
        .send()
        .await;
    resp.assert_status_is_ok();
    resp.assert_json(
        json!({"data": {"monitorSessions": {"totalCount": 0}, "__typename": "QueryRoot"}}),
    )
    .await;
}

/// GET mutations: refused with 405 and `Allow: POST` before they run, even when mutations need
/// no token; nothing is written.
#[tokio::test]
async fn get_mutations_are_refused_with_405() {
    let app = TestApp::with_config(|c| c.auth.open_mutations = true).await;
    let resp = app
        .client
        .get("/graphql")
        .query("query", &CREATE_SESSION)
        .send()
        .await;
    let r = reply(resp).await;
    r.expect(StatusCode::METHOD_NOT_ALLOWED, "GET mutation");
    assert_eq!(code(&r.json()), "BAD_REQUEST");
    assert_eq!(session_count(&app).await, 0, "nothing written over GET");

    // The same mutation over POST writes: the refusal above is what stopped it.
    let r = app.graphql(CREATE_SESSION, json!({})).await;
    assert_eq!(r["data"]["createMonitorSession"]["h"], "csrf", "{r}");
    assert_eq!(session_count(&app).await, 1);
}

/// The introspection query GraphiQL sends to learn the schema (shortened).
const GRAPHIQL_INTROSPECTION: &str = "query IntrospectionQuery { __schema { queryType { name } mutationType { name } types { kind name fields(includeDeprecated: true) { name } } directives { name } } }";

/// The playground in a locked-down mode: `/graphiql` is a static page and still loads with
/// introspection off, but the schema it asks for is refused, so it shows no documentation and no
/// completion; queries typed in it still run.
#[tokio::test]
async fn graphiql_loads_when_introspection_is_off_but_cannot_introspect() {
    let app = TestApp::with_config(|c| c.exposure.introspection = Introspection::Off).await;
    let page = reply(app.client.get("/graphiql").send().await).await;
    page.expect(StatusCode::OK, "GraphiQL");
    assert!(page.text().contains("GraphiQL"), "{}", page.text());

    // What the page's fetcher sends: a JSON POST from the same origin.
    let r = reply(
        app.client
            .post("/graphql")
            .header("origin", "http://localhost")
            .body_json(
                &json!({"query": GRAPHIQL_INTROSPECTION, "operationName": "IntrospectionQuery"}),
            )
            .send()
            .await,
    )
    .await;
    let v = r.json();
    assert_eq!(code(&v), "GRAPHQL_VALIDATION_FAILED", "{v}");
    assert!(v["data"].is_null(), "no schema: {v}");
    let r = app
        .graphql("{ monitorSessions { totalCount } }", json!({}))
        .await;
    assert_eq!(r["data"]["monitorSessions"]["totalCount"], 0, "{r}");
}

/// Introspection in a locked-down mode. `off`: `__schema` and `__type` are refused for every
/// caller, token or not, however they are spelt (fragments, inline fragments); `__typename`
/// still answers. `authenticated`: refused without a token, answered with any live one.
#[tokio::test]
async fn introspection_is_refused_in_locked_down_modes() {
    let spellings = [
        "{ __schema { queryType { name } } }",
        "{ __type(name: \"QueryRoot\") { name } }",
        "{ ...F } fragment F on QueryRoot { __schema { queryType { name } } }",
        "{ ... on QueryRoot { s: __type(name: \"MonitorSession\") { name } } }",
        GRAPHIQL_INTROSPECTION,
    ];

    let off = TestApp::with_config(|c| c.exposure.introspection = Introspection::Off).await;
    let admin = off.token(&[Scope::Admin]).await;
    for q in spellings {
        for token in [None, Some(admin.as_str())] {
            let r = off.graphql_as(q, json!({}), token).await;
            assert_eq!(code(&r), "GRAPHQL_VALIDATION_FAILED", "{q}: {r}");
            assert!(message(&r).contains("introspection"), "{r}");
            assert!(r["data"].is_null(), "{q}: {r}");
        }
    }
    let r = off.graphql("{ __typename }", json!({})).await;
    assert_eq!(r["data"], json!({"__typename": "QueryRoot"}), "{r}");

    let auth =
        TestApp::with_config(|c| c.exposure.introspection = Introspection::Authenticated).await;
    let read = auth.token(&[Scope::Read]).await;
    for q in spellings {
        let r = auth.graphql(q, json!({})).await;
        assert_eq!(code(&r), "UNAUTHENTICATED", "{q}: {r}");
        assert!(r["data"].is_null(), "{q}: {r}");
        let r = auth.graphql_as(q, json!({}), Some(&read)).await;
        assert!(r.get("errors").is_none(), "{q}: {r}");
    }
    let r = auth
        .graphql_as(
            "{ __type(name: \"QueryRoot\") { name } }",
            json!({}),
            Some(&read),
        )
        .await;
    assert_eq!(r["data"]["__type"]["name"], "QueryRoot", "{r}");
    let r = auth.graphql("{ __typename }", json!({})).await;
    assert_eq!(r["data"], json!({"__typename": "QueryRoot"}), "{r}");

    // `on` (the default): everyone.
    let on = TestApp::new().await;
    let r = on
        .graphql("{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(r["data"]["__schema"]["queryType"]["name"], "QueryRoot");
}

/// `application/x-www-form-urlencoded`, as a browser encodes a form field.
fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn post_typed(app: &TestApp, content_type: Option<&str>, body: String) -> Reply {
    let mut req = app.client.post("/graphql");
    if let Some(t) = content_type {
        req = req.content_type(t);
    }
    reply(req.body(body).send().await).await
}

/// Cross-site form posts (CSRF): a page on any site can make its visitors' browsers POST a form
/// (`application/x-www-form-urlencoded`, `multipart/form-data`, `text/plain`), or a `Blob`
/// without a type, without asking the server first. Such a POST is refused with 415 before it
/// runs: here a mutation that would have written a session, with mutations open to all.
#[tokio::test]
async fn cross_site_form_posts_are_refused_and_run_nothing() {
    let app = TestApp::with_config(|c| c.auth.open_mutations = true).await;
    let json_body = json!({"query": CREATE_SESSION}).to_string();
    let form_body = format!("query={}", form_encode(CREATE_SESSION));
    let multipart = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"query\"\r\n\r\n{CREATE_SESSION}\r\n--XyZ--\r\n"
    );
    let cases = [
        (Some("application/x-www-form-urlencoded"), form_body.clone()),
        (Some("application/x-www-form-urlencoded"), json_body.clone()),
        (Some("multipart/form-data; boundary=XyZ"), multipart),
        (Some("text/plain"), json_body.clone()),
        (Some("text/plain;charset=UTF-8"), json_body.clone()),
        (None, json_body.clone()),
        (Some("application/jsonx"), json_body.clone()),
    ];
    app.reset_statements();
    for (content_type, body) in cases {
        let r = post_typed(&app, content_type, body).await;
        r.expect(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("{content_type:?}"),
        );
        let v = r.json();
        assert_eq!(code(&v), "UNSUPPORTED_MEDIA_TYPE", "{v}");
        assert!(message(&v).contains("application/json"), "{v}");
    }
    assert_eq!(
        app.statements(),
        0,
        "nothing ran: {:?}",
        app.statement_log()
    );
    assert_eq!(session_count(&app).await, 0, "nothing written");

    // The same mutation as JSON (any parameters) writes: the media type is what stopped it.
    let r = post_typed(&app, Some("Application/JSON; charset=utf-8"), json_body).await;
    r.expect(StatusCode::OK, "JSON");
    assert_eq!(r.json()["data"]["createMonitorSession"]["h"], "csrf");
    assert_eq!(session_count(&app).await, 1);
    // The other two types GraphQL clients send.
    let q = "{ monitorSessions { totalCount } }";
    let r = post_typed(&app, Some("application/graphql"), q.to_owned()).await;
    assert_eq!(
        r.json()["data"]["monitorSessions"]["totalCount"],
        1,
        "{}",
        r.text()
    );
    let r = post_typed(
        &app,
        Some("application/graphql-response+json"),
        json!({ "query": q }).to_string(),
    )
    .await;
    assert_eq!(
        r.json()["data"]["monitorSessions"]["totalCount"],
        1,
        "{}",
        r.text()
    );
}

/// Trace mode: no tracing or timing extension (Apollo tracing, cache control, query plans) is
/// installed, so no answer, good or bad, carries the resolvers' timings or any other
/// `extensions` beside each error's `code`.
#[tokio::test]
async fn answers_carry_no_tracing_or_timing() {
    let app = TestApp::new().await;
    for q in [
        "{ monitorSessions { totalCount } __typename }",
        "{ monitorSessions { nope } }",
        "{ monitorSessions(after: \"garbage\") { totalCount } }",
    ] {
        let resp = app
            .client
            .post("/graphql")
            .header("apollo-query-plan-experimental", "1")
            .header("x-apollo-tracing", "1")
            .body_json(&json!({"query": q, "extensions": {"tracing": true}}))
            .send()
            .await;
        assert!(resp.0.headers().get("server-timing").is_none());
        let v: Value = resp.0.into_body().into_json().await.expect("json");
        assert!(v.get("extensions").is_none(), "{q}: {v}");
        let text = v.to_string().to_lowercase();
        for word in [
            "tracing",
            "apollo",
            "duration",
            "startoffset",
            "cachecontrol",
        ] {
            assert!(!text.contains(word), "{q}: {word} in {v}");
        }
        for e in v["errors"].as_array().into_iter().flatten() {
            let keys: Vec<&String> = e["extensions"].as_object().expect("ext").keys().collect();
            assert_eq!(keys, ["code"], "{q}: {v}");
        }
    }
}

/// Unhandled errors: an internal failure (here the database gone) is answered with a generic
/// message and a code, never the database's or Rust's own words.
#[tokio::test]
async fn unhandled_errors_are_generic() {
    let app = TestApp::with_config(|c| c.auth.open_mutations = true).await;
    app.state.db.clone().close().await.expect("close");
    for q in [
        "{ monitorSessions { totalCount edges { node { h } } } }",
        CREATE_SESSION,
    ] {
        let r = app.graphql(q, json!({})).await;
        assert!(
            matches!(
                code(&r),
                "INTERNAL_SERVER_ERROR" | "TIMEOUT" | "DB_UNAVAILABLE"
            ),
            "{q}: {r}"
        );
        let text = r.to_string().to_lowercase();
        for leak in [
            "pool",
            "sql",
            "sqlx",
            "sea_orm",
            "connection",
            "closed",
            "panick",
            "src/",
            ".rs",
            "dberr",
            "select",
            "insert",
        ] {
            assert!(!text.contains(leak), "{q}: {leak} leaked in {r}");
        }
    }
}
