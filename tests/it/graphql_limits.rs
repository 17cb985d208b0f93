//! Every GraphQL bound, crossed: page size, depth, complexity, aliases, root fields, directives,
//! tokens, batch size, body size (declared and chunked), mutations over GET, and error codes
//! without internal detail. Each bound is tried at its value (answered) and one above (refused).

use poem::http::{Method, StatusCode};
use serde_json::json;

use crate::common::TestApp;

fn code(v: &serde_json::Value) -> &str {
    v["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn first_above_the_maximum_is_refused() {
    let app = TestApp::with_config(|c| c.limits.page_max = 50).await;
    let r = app
        .graphql("{ monitorSessions(first: 51) { totalCount } }", json!({}))
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    let r = app
        .graphql("{ monitorSessions(first: 50) { totalCount } }", json!({}))
        .await;
    assert!(r.get("errors").is_none(), "{r}");
    let r = app
        .graphql("{ monitorSessions(first: -1) { totalCount } }", json!({}))
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
}

#[tokio::test]
async fn depth_limit() {
    let app = TestApp::with_config(|c| c.limits.graphql_max_depth = 6).await;
    let deep =
        "{ monitorSessions { edges { node { metrics { edges { node { session { h } } } } } } } }";
    let r = app.graphql(deep, json!({})).await;
    assert_eq!(code(&r), "GRAPHQL_VALIDATION_FAILED", "{r}");
    assert_eq!(
        r["errors"][0]["message"],
        "Query is nested too deep: at most 6 levels of selection are allowed"
    );
    let shallow = "{ monitorSessions { edges { node { h } } } }";
    assert!(
        app.graphql(shallow, json!({}))
            .await
            .get("errors")
            .is_none()
    );
}

#[tokio::test]
async fn complexity_limit_counts_requested_rows() {
    let app = TestApp::with_config(|c| c.limits.graphql_max_complexity = 500).await;
    let heavy = "{ monitorSessions(first: 100) { edges { node { metrics(first: 100) { edges { node { item } } } } } } }";
    let r = app.graphql(heavy, json!({})).await;
    assert_eq!(code(&r), "GRAPHQL_VALIDATION_FAILED", "{r}");
    let message = r["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Query is too complex: at most 500 is allowed")
            && message.contains("`first`, or 20 without it"),
        "{message}"
    );
    let light = "{ monitorSessions(first: 5) { edges { node { metrics(first: 5) { edges { node { item } } } } } } }";
    let r = app.graphql(light, json!({})).await;
    assert!(r.get("errors").is_none(), "{r}");
}

#[tokio::test]
async fn alias_limit_counts_fragments_too() {
    let app = TestApp::with_config(|c| c.limits.graphql_max_aliases = 3).await;
    let ok = "{ a: monitorSessions { totalCount } b: monitorSessions { totalCount } c: monitorSessions { totalCount } }";
    assert!(app.graphql(ok, json!({})).await.get("errors").is_none());
    let too_many = "{ a: monitorSessions { ...F } b: monitorSessions { totalCount } } fragment F on MonitorSessionConnection { x: totalCount y: totalCount }";
    let r = app.graphql(too_many, json!({})).await;
    assert_eq!(code(&r), "GRAPHQL_VALIDATION_FAILED", "{r}");
}

/// Fields at the root of one operation, counted through fragments and inline fragments; each
/// operation of a document on its own.
#[tokio::test]
async fn root_field_limit_counts_fragments_too() {
    let app = TestApp::with_config(|c| c.limits.graphql_max_root_fields = 3).await;
    let at_limit = [
        "{ monitorSessions { totalCount } a: __typename b: __typename }",
        "{ a: __typename ...F } fragment F on QueryRoot { b: __typename ... on QueryRoot { c: __typename } }",
        // Two operations of three each: the limit is per operation.
        "query A { a: __typename b: __typename c: __typename } query B { a: __typename b: __typename c: __typename }",
    ];
    for q in at_limit {
        let operation = q.starts_with("query A").then_some("A");
        let r = app
            .client
            .post("/graphql")
            .body_json(&json!({"query": q, "operationName": operation}))
            .send()
            .await;
        let v: serde_json::Value = r.0.into_body().into_json().await.expect("json");
        assert!(v.get("errors").is_none(), "{q}: {v}");
    }
    let above = [
        (
            "{ a: __typename b: __typename c: __typename d: __typename }",
            "the operation asks for 4 fields at its root",
        ),
        (
            "{ a: __typename ...F } fragment F on QueryRoot { b: __typename ... on QueryRoot { c: __typename d: __typename } }",
            "the operation asks for 4 fields at its root",
        ),
        (
            "query A { a: __typename } query B { a: __typename b: __typename c: __typename d: __typename }",
            "the operation `B` asks for 4 fields at its root",
        ),
    ];
    for (q, want) in above {
        let r = app.graphql(q, json!({})).await;
        assert_eq!(code(&r), "GRAPHQL_VALIDATION_FAILED", "{q}: {r}");
        let message = r["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.starts_with(want) && message.contains("at most 3 are allowed"),
            "{q}: {message}"
        );
    }
}

/// Directives on one field, fragment spread, inline fragment, fragment or operation.
#[tokio::test]
async fn directive_limit_per_field_and_fragment() {
    let app = TestApp::with_config(|c| c.limits.graphql_max_directives = 2).await;
    let two = "@include(if: true) @skip(if: false)";
    let three = "@include(if: true) @skip(if: false) @include(if: true)";
    for q in [
        format!("{{ __typename {two} }}"),
        format!("{{ ...F {two} }} fragment F on QueryRoot {{ __typename {two} }}"),
        format!("{{ ... on QueryRoot {two} {{ __typename }} }}"),
    ] {
        let r = app.graphql(&q, json!({})).await;
        assert_eq!(r["data"], json!({"__typename": "QueryRoot"}), "{q}: {r}");
    }
    for (q, site) in [
        (
            format!("{{ __typename {three} }}"),
            "the field `__typename`",
        ),
        (
            format!("{{ ...F {three} }} fragment F on QueryRoot {{ __typename }}"),
            "the spread of the fragment `F`",
        ),
        (
            format!("{{ ... on QueryRoot {three} {{ __typename }} }}"),
            "an inline fragment",
        ),
        (
            format!("{{ monitorSessions {{ edges {{ node {{ h {three} }} }} }} }}"),
            "the field `h`",
        ),
    ] {
        let r = app.graphql(&q, json!({})).await;
        assert_eq!(code(&r), "GRAPHQL_VALIDATION_FAILED", "{q}: {r}");
        assert_eq!(
            r["errors"][0]["message"],
            format!(
                "{site} carries 3 directives; at most 2 are allowed on one field, fragment or \
                 operation"
            ),
            "{q}"
        );
    }
}

/// Lexical tokens, counted before the document is parsed: names, punctuators, numbers and
/// strings count one each (a long string or block string too); whitespace, commas and comments
/// count nothing.
#[tokio::test]
async fn token_limit_is_checked_before_parsing() {
    // `{ monitorSessions(first: 1) { totalCount } }`: 11 tokens.
    let app = TestApp::with_config(|c| c.limits.graphql_max_tokens = 11).await;
    let long = "x".repeat(2000);
    let at_limit = [
        "{ monitorSessions(first: 1) { totalCount } }".to_owned(),
        format!("# {long}\n{{ monitorSessions(first: 1,,,,) {{ totalCount }} }} # {long}"),
        format!("{{ monitorSessions(after: \"{long}\") {{ totalCount }} }}"),
        format!("{{ monitorSessions(after: \"\"\"{long} \\\"\"\" {{ }}\"\"\") {{ totalCount }} }}"),
    ];
    for q in &at_limit {
        let r = app.graphql(q, json!({})).await;
        assert_ne!(code(&r), "GRAPHQL_VALIDATION_FAILED", "{q}: {r}");
        assert_ne!(code(&r), "GRAPHQL_PARSE_FAILED", "{q}: {r}");
    }
    let r = app.graphql(&at_limit[0], json!({})).await;
    assert_eq!(r["data"]["monitorSessions"]["totalCount"], 0, "{r}");

    let refusal = "the document holds more than 11 tokens (names, values and punctuation; \
                   whitespace, commas and comments do not count); at most 11 are allowed";
    for q in [
        "{ monitorSessions(first: 1) { totalCount __typename } }".to_owned(),
        // Refused before parsing: this would not parse.
        format!("{{ {} ", "{ ".repeat(5000)),
    ] {
        let r = app.graphql(&q, json!({})).await;
        assert_eq!(code(&r), "GRAPHQL_VALIDATION_FAILED", "{r}");
        assert_eq!(r["errors"][0]["message"], refusal);
    }
}

/// A fragment bomb: each fragment spreads the next twice, so 32 short fragments stand for four
/// billion fields, which validation would visit one by one for minutes. Each fragment is
/// measured once, and the operation is refused by the complexity limit at once (every field
/// counts at least 1), below a field as at the root.
#[tokio::test]
async fn fragment_bombs_are_refused_without_expanding_them() {
    let app = TestApp::new().await;
    let bomb = |on: &str, leaf: &str| {
        let mut q = String::new();
        for i in 0..32 {
            q.push_str(&format!(
                " fragment F{i} on {on} {{ ...F{n} ...F{n} }}",
                n = i + 1
            ));
        }
        q.push_str(&format!(" fragment F32 on {on} {{ {leaf} }}"));
        q
    };
    let started = std::time::Instant::now();
    let nested = format!(
        "{{ monitorSessions {{ ...F0 }} }}{}",
        bomb("MonitorSessionConnection", "totalCount")
    );
    let r = app.graphql(&nested, json!({})).await;
    assert_eq!(code(&r), "GRAPHQL_VALIDATION_FAILED", "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Query is too complex: at most 50000 is allowed"),
        "{r}"
    );
    let root = format!("{{ ...F0 }}{}", bomb("QueryRoot", "__typename"));
    let r = app.graphql(&root, json!({})).await;
    assert_eq!(code(&r), "GRAPHQL_VALIDATION_FAILED", "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Query is too complex: at most 50000 is allowed"),
        "{r}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn batch_limit() {
    let app = TestApp::with_config(|c| c.limits.graphql_max_batch = 2).await;
    let one = json!({"query": "{ monitorSessions { totalCount } }"});
    let resp = app
        .client
        .post("/graphql")
        .body_json(&json!([one, one]))
        .send()
        .await;
    resp.assert_status_is_ok();
    let v: serde_json::Value = resp.0.into_body().into_json().await.expect("json");
    assert_eq!(v.as_array().map(Vec::len), Some(2));
    let resp = app
        .client
        .post("/graphql")
        .body_json(&json!([one, one, one]))
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    let v: serde_json::Value = resp.0.into_body().into_json().await.expect("json");
    assert_eq!(code(&v), "BAD_USER_INPUT");
}

#[tokio::test]
async fn body_limit_applies_to_declared_and_chunked_bodies() {
    let app = TestApp::with_config(|c| c.limits.max_body_bytes = 2048).await;
    let big =
        json!({"query": format!("{{ monitorSessions {{ totalCount }} }} # {}", "x".repeat(4096))});
    let resp = app.client.post("/graphql").body_json(&big).send().await;
    resp.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    let v: serde_json::Value = resp.0.into_body().into_json().await.expect("json");
    assert_eq!(code(&v), "PAYLOAD_TOO_LARGE");

    // No content-length: the body arrives as a stream of chunks.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..8).map(|_| Ok(vec![b' '; 512])).collect();
    let body = poem::Body::from_bytes_stream(futures_util::stream::iter(chunks));
    let resp = app
        .client
        .post("/graphql")
        .content_type("application/json")
        .body(body)
        .send()
        .await;
    resp.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn get_serves_queries_and_refuses_mutations() {
    let app = TestApp::with_config(|c| c.auth.open_mutations = true).await;
    let resp = app
        .client
        .get("/graphql")
        .query("query", &"{ monitorSessions { totalCount } }")
        .send()
        .await;
    resp.assert_status_is_ok();
    resp.assert_json(json!({"data": {"monitorSessions": {"totalCount": 0}}}))
        .await;

    let m = "mutation { createMonitorSession(input: {h: \"x\", runDate: \"2024-01-01\"}) { h } }";
    let resp = app.client.get("/graphql").query("query", &m).send().await;
    // GraphQL over HTTP: a mutation over GET is answered 405, with the method that would work.
    assert_eq!(resp.0.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(resp.0.headers().get("allow").unwrap(), "POST");
    let v: serde_json::Value = resp.0.into_body().into_json().await.expect("json");
    assert_eq!(code(&v), "BAD_REQUEST", "{v}");
    let count = testgraph::service::monitor::count_sessions(&app.state.db, &Default::default())
        .await
        .expect("count");
    assert_eq!(count, 0, "nothing written over GET");
}

#[tokio::test]
async fn malformed_requests_get_codes_not_internals() {
    let app = TestApp::new().await;
    let resp = app
        .client
        .post("/graphql")
        .content_type("application/json")
        .body("{not json")
        .send()
        .await;
    resp.assert_status(StatusCode::BAD_REQUEST);
    let v: serde_json::Value = resp.0.into_body().into_json().await.expect("json");
    assert_eq!(code(&v), "BAD_USER_INPUT");

    let r = app
        .graphql("{ monitorSessions { edges { node { nope } } } }", json!({}))
        .await;
    assert_eq!(code(&r), "GRAPHQL_VALIDATION_FAILED", "{r}");
    let r = app.graphql("{ monitorSessions(", json!({})).await;
    assert_eq!(code(&r), "GRAPHQL_PARSE_FAILED", "{r}");
    let r = app
        .graphql(
            "{ monitorSessions(after: \"garbage\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");

    // A database failure is reported as an internal error without its detail.
    app.state.db.clone().close().await.expect("close");
    let r = app
        .graphql("{ monitorSessions { totalCount } }", json!({}))
        .await;
    let msg = r["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        matches!(
            code(&r),
            "INTERNAL_SERVER_ERROR" | "TIMEOUT" | "DB_UNAVAILABLE"
        ),
        "{r}"
    );
    assert!(
        !msg.to_lowercase().contains("pool") && !msg.to_lowercase().contains("sql"),
        "leaked: {msg}"
    );
}

#[tokio::test]
async fn other_methods_are_refused_clearly() {
    let app = TestApp::new().await;
    for method in [Method::PUT, Method::DELETE, Method::PATCH] {
        let resp = app.client.request(method.clone(), "/graphql").send().await;
        assert_eq!(resp.0.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(resp.0.headers().get("allow").unwrap(), "GET, POST");
        let v: serde_json::Value = resp.0.into_body().into_json().await.expect("json");
        assert_eq!(code(&v), "BAD_USER_INPUT", "{v}");
        assert!(
            v["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("POST for queries and mutations"),
            "{v}"
        );
    }
}

/// A query text seen before reuses its parsed document (`graphql::limits`); each request still
/// applies its own variables, `@skip`/`@include` among them (a variable used only there, given
/// or defaulted, is accepted), and a bad text is still refused.
#[tokio::test]
async fn repeated_query_texts_keep_their_own_variables() {
    let app = TestApp::new().await;
    let q = "query($s: Boolean!) { a: __typename @skip(if: $s) b: __typename }";
    for skip in [true, false, true, false] {
        let r = app.graphql(q, json!({"s": skip})).await;
        let want = if skip {
            json!({"b": "QueryRoot"})
        } else {
            json!({"a": "QueryRoot", "b": "QueryRoot"})
        };
        assert_eq!(r["data"], want, "skip = {skip}: {r}");
    }
    let defaulted =
        "query($s: Boolean = true) { a: __typename @skip(if: $s) b: __typename @include(if: $s) }";
    for _ in 0..2 {
        let r = app.graphql(defaulted, json!({})).await;
        assert_eq!(r["data"], json!({"b": "QueryRoot"}), "{r}");
    }
    let r = app.graphql(defaulted, json!({"s": false})).await;
    assert_eq!(r["data"], json!({"a": "QueryRoot"}), "{r}");
    // Required and missing: still refused.
    let r = app.graphql(q, json!({})).await;
    assert_eq!(code(&r), "GRAPHQL_VALIDATION_FAILED", "{r}");
    for _ in 0..2 {
        let r = app.graphql("{ __typename ", json!({})).await;
        assert_eq!(code(&r), "GRAPHQL_PARSE_FAILED", "{r}");
    }
}

/// GraphQL over HTTP: a client that prefers `application/graphql-response+json` gets it, and an
/// operation that failed before execution is then a 400 without `data`; a resolver's error is
/// still a 200. A client of `application/json` keeps getting 200 for every GraphQL result.
#[tokio::test]
async fn graphql_response_json_is_negotiated_and_sets_request_error_statuses() {
    let app = TestApp::new().await;
    let send = |accept: &'static str, query: &'static str, variables: serde_json::Value| {
        app.client
            .post("/graphql")
            .header("accept", accept)
            .body_json(&json!({"query": query, "variables": variables}))
            .send()
    };
    let modern = "application/graphql-response+json, application/json;q=0.9";
    let cases = [
        (
            "{ monitorSessions { totalCount } }",
            json!({}),
            200,
            "",
            true,
        ),
        (
            "{ monitorSessions { totalCount ",
            json!({}),
            400,
            "GRAPHQL_PARSE_FAILED",
            false,
        ),
        (
            "{ monitorSessions { nope } }",
            json!({}),
            400,
            "GRAPHQL_VALIDATION_FAILED",
            false,
        ),
        (
            "query($n: Int) { monitorSessions(first: $n) { totalCount } }",
            json!({"n": "ten"}),
            400,
            "GRAPHQL_VALIDATION_FAILED",
            false,
        ),
        // A resolver's error has a path: the operation ran.
        (
            "{ monitorSessions(after: \"garbage\") { totalCount } }",
            json!({}),
            200,
            "BAD_USER_INPUT",
            true,
        ),
    ];
    for (query, variables, status, error_code, has_data) in cases {
        let resp = send(modern, query, variables.clone()).await;
        assert_eq!(resp.0.status().as_u16(), status, "{query}");
        assert_eq!(
            resp.0.content_type(),
            Some("application/graphql-response+json; charset=utf-8"),
            "{query}"
        );
        assert_eq!(resp.0.headers().get("vary").unwrap(), "Accept");
        let v: serde_json::Value = resp.0.into_body().into_json().await.expect("json");
        assert_eq!(code(&v), error_code, "{query}: {v}");
        assert_eq!(v.get("data").is_some(), has_data, "{query}: {v}");

        // The same operation for a client of application/json (or of anything).
        for accept in ["application/json", "*/*"] {
            let resp = send(accept, query, variables.clone()).await;
            assert_eq!(resp.0.status(), StatusCode::OK, "{accept} {query}");
            assert_eq!(resp.0.content_type(), Some("application/json"));
            let v: serde_json::Value = resp.0.into_body().into_json().await.expect("json");
            assert_eq!(code(&v), error_code, "{accept} {query}: {v}");
            assert!(v.get("data").is_some(), "{accept} {query}: {v}");
        }
    }
    // Ranked below application/json, the new type is not chosen.
    let resp = send(
        "application/json, application/graphql-response+json;q=0.5",
        "{ monitorSessions { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(resp.0.content_type(), Some("application/json"));
}
