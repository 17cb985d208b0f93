//! GraphQL over the pytest-monitor domain: connections, filters, ordering, cursors, relations
//! through dataloaders (with a statement count), mutations and their authorisation.

use serde_json::{Value, json};
use testgraph::service::monitor::{self as svc, NewContext, NewMetric, NewSession};
use testgraph::service::tokens::Scope;

use crate::common::TestApp;

pub(crate) fn context(h: &str) -> NewContext {
    NewContext {
        h: h.into(),
        cpu_count: 8,
        cpu_frequency: 2400,
        cpu_type: "x86_64".into(),
        cpu_vendor: "GenuineIntel".into(),
        ram_total: 16384,
        machine_node: "ci-runner-1".into(),
        machine_type: "x86_64".into(),
        machine_arch: "64bit".into(),
        system_info: "Linux - 6.1".into(),
        python_info: "3.11.7".into(),
    }
}

pub(crate) fn metric(session: &str, ctx: &str, item: &str, total: f64) -> NewMetric {
    NewMetric {
        session_h: session.into(),
        context_h: ctx.into(),
        item_start_time: "2024-05-01T10:00:00.123456".into(),
        item_path: "tests.test_mod".into(),
        item: item.into(),
        item_variant: format!("{item}[a, b]"),
        item_fs_loc: "tests/test_mod.py".into(),
        kind: "function".into(),
        component: Some("core".into()),
        total_time: total,
        user_time: total / 2.0,
        kernel_time: 0.01,
        cpu_usage: 1.25,
        mem_usage: -0.5,
    }
}

/// `n` sessions, each with `per` metrics on context "ctx".
async fn seed(app: &TestApp, n: usize, per: usize) {
    svc::create_context(&app.state.db, context("ctx"))
        .await
        .expect("context");
    for i in 0..n {
        let h = format!("sess{i:03}");
        svc::create_session(
            &app.state.db,
            NewSession {
                h: h.clone(),
                run_date: format!("2024-05-{:02}T10:00:00", 1 + i % 28),
                scm_ref: Some(if i % 2 == 0 {
                    "4914d195".into()
                } else {
                    "d1952425".into()
                }),
                tags: vec![
                    ("numpy".into(), format!("1.{}", i % 3)),
                    ("pipeline_branch".into(), "main".into()),
                ],
            },
        )
        .await
        .expect("session");
        let batch = (0..per)
            .map(|j| metric(&h, "ctx", &format!("test_{j}"), j as f64 + i as f64 / 100.0))
            .collect();
        svc::add_metrics(&app.state.db, batch)
            .await
            .expect("metrics");
    }
}

fn edges(v: &Value) -> &Vec<Value> {
    v["edges"].as_array().expect("edges")
}

const NESTED: &str = "query($n: Int!) { monitorSessions(first: $n) { edges { node { h contexts { h } metrics(first: 50) { totalCount edges { node { item context { h cpuCount } session { h } } } } } } } }";

#[tokio::test]
async fn nested_query_costs_a_constant_number_of_statements() {
    // No batching window: each level must be one statement because of how the request runs
    // (see `graphql::endpoint`), not because a timer happened to outlast a level.
    let app = TestApp::with_config(|c| c.limits.dataloader_delay = std::time::Duration::ZERO).await;
    seed(&app, 50, 3).await;

    app.reset_statements();
    let small = app.graphql(NESTED, json!({"n": 5})).await;
    let small_count = app.statements();
    assert!(small.get("errors").is_none(), "{small}");
    assert_eq!(edges(&small["data"]["monitorSessions"]).len(), 5);

    app.reset_statements();
    let big = app.graphql(NESTED, json!({"n": 50})).await;
    let big_count = app.statements();
    assert!(big.get("errors").is_none(), "{big}");
    let sessions = edges(&big["data"]["monitorSessions"]);
    assert_eq!(sessions.len(), 50);
    for s in sessions {
        assert_eq!(edges(&s["node"]["metrics"]).len(), 3);
        assert_eq!(s["node"]["metrics"]["totalCount"], 3);
        assert_eq!(s["node"]["contexts"], json!([{"h": "ctx"}]));
    }
    // sessions, metrics per session, their totals, contexts per session, Metric.context,
    // Metric.session.
    assert_eq!(
        big_count,
        6,
        "one statement per level: {:#?}",
        app.statement_log()
    );
    assert_eq!(
        small_count, big_count,
        "statement count must not grow with rows"
    );
}

#[tokio::test]
async fn nested_metrics_apply_limit_and_order_per_session() {
    let app = TestApp::new().await;
    seed(&app, 3, 6).await;
    let q = "{ monitorSessions { edges { node { h metrics(first: 2, orderBy: {field: TOTAL_TIME, direction: DESC}) { totalCount pageInfo { hasNextPage } edges { node { item totalTime } } } } } } }";
    let r = app.graphql(q, json!({})).await;
    assert!(r.get("errors").is_none(), "{r}");
    for s in edges(&r["data"]["monitorSessions"]) {
        let m = &s["node"]["metrics"];
        let items: Vec<&str> = edges(m)
            .iter()
            .map(|e| e["node"]["item"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(
            items,
            vec!["test_5", "test_4"],
            "top two by total time, per session"
        );
        assert_eq!(m["pageInfo"]["hasNextPage"], json!(true));
        assert_eq!(m["totalCount"], json!(6));
    }
}

#[tokio::test]
async fn cursors_walk_a_filtered_ordered_list_without_gaps() {
    let app = TestApp::new().await;
    seed(&app, 7, 1).await;
    let q = "query($after: String) { monitorSessions(first: 3, after: $after, filter: {scmRefPrefix: \"4914\"}, orderBy: {field: RUN_DATE, direction: DESC}) { totalCount pageInfo { hasNextPage endCursor } edges { node { h runDate } } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let r = app.graphql(q, json!({"after": after})).await;
        assert!(r.get("errors").is_none(), "{r}");
        let conn = &r["data"]["monitorSessions"];
        assert_eq!(conn["totalCount"], json!(4));
        seen.extend(
            edges(conn)
                .iter()
                .map(|e| e["node"]["h"].as_str().unwrap_or("").to_owned()),
        );
        if conn["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, vec!["sess006", "sess004", "sess002", "sess000"]);
}

#[tokio::test]
async fn filters_by_tag_item_kind_component_and_time_window() {
    let app = TestApp::new().await;
    seed(&app, 6, 2).await;
    let r = app
        .graphql(
            "{ a: monitorSessions(filter: {tags: [{name: \"numpy\", value: \"1.1\"}]}) { totalCount }
               b: monitorSessions(filter: {runFrom: \"2024-05-02T00:00:00Z\", runTo: \"2024-05-04T00:00:00Z\"}) { edges { node { h } } }
               c: monitorMetrics(filter: {item: \"test_1\", kind: \"function\", component: \"core\"}) { totalCount }
               d: monitorMetrics(filter: {sessionH: \"sess001\"}) { edges { node { sessionH contextH memUsage cpuUsage } } }
               e: monitorSessions(filter: {component: \"nope\"}) { totalCount } }",
            json!({}),
        )
        .await;
    assert!(r.get("errors").is_none(), "{r}");
    let d = &r["data"];
    assert_eq!(d["a"]["totalCount"], json!(2));
    let b: Vec<&str> = edges(&d["b"])
        .iter()
        .map(|e| e["node"]["h"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(b, vec!["sess001", "sess002"]);
    assert_eq!(d["c"]["totalCount"], json!(6));
    assert_eq!(edges(&d["d"]).len(), 2);
    assert_eq!(
        edges(&d["d"])[0]["node"],
        json!({"sessionH": "sess001", "contextH": "ctx", "memUsage": -0.5, "cpuUsage": 1.25})
    );
    assert_eq!(d["e"]["totalCount"], json!(0));
}

#[tokio::test]
async fn mutations_need_a_write_token_by_default() {
    let app = TestApp::new().await;
    let q = "mutation { createMonitorContext(input: {h: \"c1\", cpuCount: 2, cpuFrequency: 3000, cpuType: \"arm\", ramTotal: 1024, machineNode: \"n\", machineType: \"t\", machineArch: \"64bit\", systemInfo: \"s\", pythonInfo: \"p\"}) { h cpuVendor } }";
    let r = app.graphql(q, json!({})).await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"],
        json!("UNAUTHENTICATED"),
        "{r}"
    );

    let read = app.token(&[Scope::Read]).await;
    let r = app.graphql_as(q, json!({}), Some(&read)).await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"],
        json!("FORBIDDEN"),
        "{r}"
    );

    let write = app.token(&[Scope::Write]).await;
    let r = app.graphql_as(q, json!({}), Some(&write)).await;
    assert_eq!(
        r["data"]["createMonitorContext"],
        json!({"h": "c1", "cpuVendor": ""}),
        "{r}"
    );

    let r = app
        .graphql_as(
            "{ monitorContexts { totalCount } }",
            json!({}),
            Some("tg_not_a_token"),
        )
        .await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"],
        json!("UNAUTHENTICATED"),
        "{r}"
    );
}

#[tokio::test]
async fn open_mutations_and_required_read_tokens_are_configurable() {
    let open = TestApp::with_config(|c| c.auth.open_mutations = true).await;
    let r = open
        .graphql("mutation { createMonitorSession(input: {h: \"s\", runDate: \"2024-01-01T00:00:00.500000Z\", tags: [{name: \"k\", value: \"v\"}]}) { h runDate runAt tags { name value } } }", json!({}))
        .await;
    assert_eq!(
        r["data"]["createMonitorSession"],
        json!({"h": "s", "runDate": "2024-01-01T00:00:00.500000+00:00", "runAt": "2024-01-01T00:00:00.500+00:00", "tags": [{"name": "k", "value": "v"}]}),
        "{r}"
    );

    let closed =
        TestApp::with_config(|c| c.auth.require_token = vec![testgraph::config::Surface::Graphql])
            .await;
    let r = closed
        .graphql("{ monitorSessions { totalCount } }", json!({}))
        .await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"],
        json!("UNAUTHENTICATED"),
        "{r}"
    );
    let read = closed.token(&[Scope::Read]).await;
    let r = closed
        .graphql_as("{ monitorSessions { totalCount } }", json!({}), Some(&read))
        .await;
    assert_eq!(r["data"]["monitorSessions"]["totalCount"], json!(0), "{r}");
}

#[tokio::test]
async fn add_metrics_writes_the_whole_batch_or_nothing() {
    let app = TestApp::with_config(|c| c.auth.open_mutations = true).await;
    seed(&app, 1, 0).await;
    let good = json!({"sessionH": "sess000", "contextH": "ctx", "itemStartTime": "2024-01-01T00:00:00", "itemPath": "p", "item": "i", "itemFsLoc": "f.py", "kind": "function", "totalTime": 1.0, "userTime": 0.5, "kernelTime": 0.1, "cpuUsage": 0.9, "memUsage": 12.0});
    let mut bad = good.clone();
    bad["sessionH"] = json!("no-such-session");
    let q = "mutation($m: [MonitorMetricInput!]!) { addMonitorMetrics(input: $m) { inserted } }";

    let r = app
        .graphql(q, json!({"m": [good.clone(), good.clone(), bad]}))
        .await;
    assert_eq!(
        r["errors"][0]["extensions"]["code"],
        json!("BAD_USER_INPUT"),
        "{r}"
    );
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("no-such-session"),
        "{r}"
    );
    let count = svc::count_metrics(&app.state.db, &Default::default())
        .await
        .expect("count");
    assert_eq!(count, 0, "a failed batch leaves nothing behind");

    let batch: Vec<Value> = (0..2500).map(|_| good.clone()).collect();
    let r = app.graphql(q, json!({"m": batch})).await;
    assert_eq!(
        r["data"]["addMonitorMetrics"]["inserted"],
        json!(2500),
        "{r}"
    );
    let count = svc::count_metrics(&app.state.db, &Default::default())
        .await
        .expect("count");
    assert_eq!(count, 2500);
}

#[tokio::test]
async fn conflicting_resubmissions_are_conflicts_and_identical_ones_are_idempotent() {
    let app = TestApp::with_config(|c| c.auth.open_mutations = true).await;
    let q = "mutation($d: String!) { createMonitorSession(input: {h: \"dup\", runDate: $d}) { h runDate } }";
    let first = app.graphql(q, json!({"d": "2024-01-01T10:00:00"})).await;
    assert!(first.get("errors").is_none(), "{first}");
    let again = app.graphql(q, json!({"d": "2024-01-01T10:00:00"})).await;
    assert_eq!(again["data"], first["data"]);
    let other = app.graphql(q, json!({"d": "2024-01-02T10:00:00"})).await;
    assert_eq!(
        other["errors"][0]["extensions"]["code"],
        json!("CONFLICT"),
        "{other}"
    );
    let bad = app.graphql(q, json!({"d": "yesterday"})).await;
    assert_eq!(
        bad["errors"][0]["extensions"]["code"],
        json!("BAD_USER_INPUT"),
        "{bad}"
    );
}

#[tokio::test]
async fn single_lookups_and_context_metrics() {
    let app = TestApp::new().await;
    seed(&app, 2, 2).await;
    let r = app
        .graphql(
            "{ monitorSession(h: \"sess001\") { h scmRef tag(name: \"numpy\") } missing: monitorSession(h: \"nope\") { h }
               monitorContext(h: \"ctx\") { ramTotal metrics(first: 1) { totalCount edges { node { sessionH } } } } }",
            json!({}),
        )
        .await;
    assert!(r.get("errors").is_none(), "{r}");
    assert_eq!(
        r["data"]["monitorSession"],
        json!({"h": "sess001", "scmRef": "d1952425", "tag": "1.1"})
    );
    assert_eq!(r["data"]["missing"], Value::Null);
    assert_eq!(r["data"]["monitorContext"]["ramTotal"], json!(16384));
    assert_eq!(
        r["data"]["monitorContext"]["metrics"]["totalCount"],
        json!(4)
    );
    assert_eq!(edges(&r["data"]["monitorContext"]["metrics"]).len(), 1);
}

#[tokio::test]
async fn prefix_matches_ignore_ascii_case_and_wildcards_on_every_backend() {
    let app = TestApp::new().await;
    seed(&app, 3, 1).await;
    let r = app
        .graphql(
            "{ a: monitorSessions(filter: {hPrefix: \"SESS00\"}) { totalCount } b: monitorSessions(filter: {hPrefix: \"sess_\"}) { totalCount }
               c: monitorMetrics(filter: {itemLike: \"%TEST_%\"}) { totalCount } }",
            json!({}),
        )
        .await;
    assert!(r.get("errors").is_none(), "{r}");
    assert_eq!(r["data"]["a"]["totalCount"], json!(3));
    assert_eq!(
        r["data"]["b"]["totalCount"],
        json!(0),
        "'_' in a prefix is literal"
    );
    assert_eq!(r["data"]["c"]["totalCount"], json!(3));
}

/// `metrics` pages of plain fields are written in one pass (`graphql::onepass`); a page that
/// asks for a metric's session or context goes through the resolvers. Both must give the same
/// answer: every field, cursors and page info in every order, aliases, fragments, variables,
/// totals and strings that need escaping. A response key given twice (which GraphQL merges)
/// sends a query to the resolvers, which makes the reference answer.
#[tokio::test]
async fn one_pass_metric_pages_answer_exactly_as_the_resolvers() {
    let app = TestApp::new().await;
    seed(&app, 3, 4).await;
    let mut odd = metric("sess001", "ctx", "test_\"odd\"\\é\u{1}", 0.1);
    odd.component = None;
    odd.item_start_time = "not a date".into();
    svc::add_metrics(&app.state.db, vec![odd])
        .await
        .expect("odd metric");

    // The writer covers every scalar field the schema gives `Metric`.
    let names = app.one_pass_scalar_fields("MonitorMetric").await;
    let all = names.join(" ");

    let compare = |q: String, vars: Value, one_pass: u64| {
        let app = &app;
        async move { app.one_pass_matches_resolvers(&q, vars, one_pass).await }
    };

    // Every field, through edges and nodes, walked page by page under a filter and an order.
    let full = format!(
        "query($after: String, $n: Int) {{ page: monitorMetrics(first: $n, after: $after, filter: {{kind: \"function\"}},
           orderBy: {{field: TOTAL_TIME, direction: DESC}}) {{ __typename totalCount
           pageInfo {{ __typename hasPreviousPage hasNextPage startCursor endCursor }}
           edges {{ __typename cursor node {{ __typename {all} }} }} nodes {{ ...M }} }} }}
         fragment M on MonitorMetric {{ id ... on MonitorMetric {{ item component itemStartTime }} }}"
    );
    let mut after = Value::Null;
    let mut seen = 0;
    loop {
        let d = compare(full.clone(), json!({"after": after, "n": 5}), 1).await;
        let page = &d["data"]["page"];
        assert_eq!(page["totalCount"], json!(13));
        seen += edges(page).len();
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, 13);
    let d = compare(full.clone(), json!({"n": 20}), 1).await;
    let odd = edges(&d["data"]["page"])
        .iter()
        .find(|e| e["node"]["component"].is_null())
        .expect("the metric without a component");
    assert_eq!(odd["node"]["item"], json!("test_\"odd\"\\é\u{1}"));
    assert_eq!(odd["node"]["itemStartTime"], json!("not a date"));

    // Aliases, an empty page, a page with no rows asked for.
    compare(
        "{ m: monitorMetrics(first: 3) { __typename n: nodes { t: totalTime mem: memUsage } } }"
            .into(),
        json!({}),
        1,
    )
    .await;
    compare(
        "{ monitorMetrics(first: 0) { __typename pageInfo { hasNextPage startCursor endCursor } edges { cursor } } }".into(),
        json!({}),
        1,
    )
    .await;
    compare(
        "{ monitorMetrics(filter: {item: \"none\"}) { __typename totalCount nodes { id } } }"
            .into(),
        json!({}),
        1,
    )
    .await;
    // A metric's session or context leaves the flat list: the resolvers answer.
    compare(
        "{ monitorMetrics(first: 2) { __typename nodes { id session { h } context { h } } } }"
            .into(),
        json!({}),
        0,
    )
    .await;
}

/// A `metrics` connection asked only for its total counts and reads no page; a bad cursor is
/// still refused.
#[tokio::test]
async fn a_total_alone_reads_no_metrics() {
    let app = TestApp::new().await;
    seed(&app, 2, 3).await;
    app.reset_statements();
    let d = app
        .graphql(
            "{ monitorMetrics(filter: {kind: \"function\"}) { totalCount } }",
            json!({}),
        )
        .await;
    assert!(d.get("errors").is_none(), "{d}");
    assert_eq!(d["data"]["monitorMetrics"]["totalCount"], json!(6));
    assert_eq!(app.statements(), 1, "{:#?}", app.statement_log());
    let d = app
        .graphql(
            "{ monitorMetrics(after: \"nope\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        d["errors"][0]["extensions"]["code"],
        json!("BAD_USER_INPUT"),
        "{d}"
    );
}

/// `sessions` pages of plain fields and tags are written in one pass (`graphql::onepass`);
/// `tag(name)`, a session's metrics or contexts send the page to the resolvers. Both must give
/// the same answer.
#[tokio::test]
async fn one_pass_session_pages_answer_exactly_as_the_resolvers() {
    let app = TestApp::new().await;
    seed(&app, 4, 1).await;
    svc::create_session(
        &app.state.db,
        NewSession {
            h: "odd".into(),
            run_date: "2024-05-09T10:00:00+02:00".into(),
            scm_ref: None,
            tags: vec![
                ("quote\"d".into(), "tab\there, é, \u{1}".into()),
                ("empty".into(), String::new()),
            ],
        },
    )
    .await
    .expect("odd session");

    // The writer covers every scalar field without arguments the schema gives `Session`.
    let names = app.one_pass_scalar_fields("MonitorSession").await;
    let all = names.join(" ");

    let compare = |q: String, vars: Value, one_pass: u64| {
        let app = &app;
        async move { app.one_pass_matches_resolvers(&q, vars, one_pass).await }
    };
    let full = format!(
        "query($after: String) {{ monitorSessions(first: 2, after: $after, orderBy: {{field: RUN_DATE, direction: DESC}}) {{
           __typename totalCount pageInfo {{ __typename hasPreviousPage hasNextPage startCursor endCursor }}
           edges {{ __typename cursor node {{ __typename {all} tags {{ __typename name value }} t2: tags {{ value }} }} }}
           nodes {{ ...S }} }} }}
         fragment S on MonitorSession {{ h ... on MonitorSession {{ tags {{ name }} }} }}"
    );
    let mut after = Value::Null;
    let mut seen = Vec::new();
    loop {
        let d = compare(full.clone(), json!({"after": after}), 1).await;
        let page = &d["data"]["monitorSessions"];
        assert_eq!(page["totalCount"], json!(5));
        seen.extend(edges(page).iter().map(|e| e["node"].clone()));
        if page["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len(), 5);
    let odd = seen.iter().find(|s| s["h"] == json!("odd")).expect("odd");
    assert_eq!(odd["scmRef"], Value::Null);
    assert_eq!(
        odd["tags"],
        json!([{"__typename": "MonitorTag", "name": "quote\"d", "value": "tab\there, é, \u{1}"},
               {"__typename": "MonitorTag", "name": "empty", "value": ""}])
    );

    compare(
        "{ monitorSessions(filter: {tags: [{name: \"numpy\", value: \"1.1\"}]}) { __typename nodes { h tags { value } } } }".into(),
        json!({}),
        1,
    )
    .await;
    // Fields the writer leaves to the resolvers.
    for sel in [
        "h tag(name: \"numpy\")",
        "h metrics(first: 1) { totalCount }",
        "h contexts { h }",
    ] {
        compare(
            format!("{{ monitorSessions(first: 3) {{ __typename nodes {{ {sel} }} }} }}"),
            json!({}),
            0,
        )
        .await;
    }
}
