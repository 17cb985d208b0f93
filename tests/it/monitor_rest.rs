//! pytest-monitor's legacy REST API (seed 000) under `/api/v1`: the seed doc's examples, the
//! plugin's flow, every route of the table, legacy paging, both slash forms, the error dialect,
//! the session flag filters, `run_date` normalisation and the token policy. Data goes in through
//! the POST routes only, as a real client's would.

use poem::http::StatusCode;
use serde_json::{Value, json};
use testgraph::service::tokens::Scope;

use crate::common::TestApp;
use crate::http::{self, Rules, assert_shape, get, post, post_raw, reply};

/// flask-restx's 404 text, which also answers a page out of range.
const NOT_FOUND: &str = "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";

// ----------------------------------------------------------------------------------------------
// Helpers
// ----------------------------------------------------------------------------------------------

/// A GET that must answer 200; returns its JSON.
async fn get_ok(app: &TestApp, path: &str) -> Value {
    let r = get(app, path).await;
    r.expect(StatusCode::OK, &format!("GET {path}"));
    r.json()
}

/// A GET that must answer 204 with an empty body.
async fn get_no_content(app: &TestApp, path: &str) {
    let r = get(app, path).await;
    r.expect(StatusCode::NO_CONTENT, &format!("GET {path}"));
    assert!(
        r.raw.is_empty(),
        "GET {path}: 204 with a body: {}",
        r.text()
    );
}

/// A POST that must answer 201; returns the created object.
async fn create(app: &TestApp, path: &str, body: &Value) -> Value {
    let r = post(app, path, body).await;
    r.expect(StatusCode::CREATED, &format!("POST {path} {body}"));
    r.json()
}

fn fixture(name: &str) -> Value {
    http::fixture("monitor", name)
}

/// Keys and their order, nested, as the doc's example has them (its values are examples).
fn assert_keys(ours: &Value, doc: &Value, what: &str) {
    assert_shape(ours, doc, Rules::default(), what);
}

/// The document with every number as a float, so that the doc's `0` equals our `0.0`.
fn floats(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64().expect("finite")),
        Value::Array(a) => Value::Array(a.iter().map(floats).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), floats(x))).collect()),
        other => other.clone(),
    }
}

/// The `item_variant` of each metric of a metric page, in order.
fn variants(page: &Value) -> Vec<String> {
    page["metrics"]
        .as_array()
        .unwrap_or_else(|| panic!("no metrics list in {page}"))
        .iter()
        .map(|m| m["item_variant"].as_str().expect("variant").to_owned())
        .collect()
}

/// The `session_h` of each session of a session page, in order.
fn hashes(page: &Value) -> Vec<String> {
    page["sessions"]
        .as_array()
        .unwrap_or_else(|| panic!("no sessions list in {page}"))
        .iter()
        .map(|s| s["session_h"].as_str().expect("hash").to_owned())
        .collect()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

/// A context as the plugin posts it.
fn context(h: &str) -> Value {
    json!({
        "h": h,
        "cpu_count": 8,
        "cpu_frequency": 2400,
        "cpu_type": "x86_64",
        "cpu_vendor": "GenuineIntel",
        "ram_total": 16384,
        "machine_node": "ci-runner-1",
        "machine_type": "x86_64",
        "machine_arch": "64bit",
        "system_info": "Linux - 5.4.0",
        "python_info": "3.8.5"
    })
}

/// A session as the plugin posts it.
fn session(h: &str, scm_ref: Option<&str>, description: Value) -> Value {
    json!({
        "session_h": h,
        "run_date": "2020-12-04T23:18:15.661016",
        "scm_ref": scm_ref,
        "description": description
    })
}

/// A metric as the plugin posts it; the item is the variant up to its parameters.
fn metric(session_h: &str, context_h: &str, variant: &str) -> Value {
    let item = variant.split('[').next().unwrap_or(variant);
    json!({
        "session_h": session_h,
        "context_h": context_h,
        "item_start_time": "2020-12-04T23:18:16.000001",
        "item_path": "tests.test_file",
        "item": item,
        "item_variant": variant,
        "item_fs_loc": "tests/test_file.py",
        "kind": "function",
        "component": "server",
        "total_time": 1.0,
        "user_time": 1.0,
        "kernel_time": 1.0,
        "cpu_usage": 1.0,
        "mem_usage": 1.0
    })
}

/// `base` with the fields of `patch` replaced.
fn with(mut base: Value, patch: Value) -> Value {
    if let (Some(b), Some(p)) = (base.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            b.insert(k.clone(), v.clone());
        }
    }
    base
}

const CTX_A: &str = "ctx-a";
const CTX_B: &str = "ctx-b";
const S1: &str = "aaa111";
const S2: &str = "aaa222";
const S3: &str = "bbb333";

/// A small world for the read routes:
///
/// | metric | session | context | item (variant)        | kind     | component | total user kernel cpu mem |
/// |--------|---------|---------|-----------------------|----------|-----------|---------------------------|
/// | M1     | S1      | A       | test_alpha[1]         | function | server    | 1.0   0.5  0.2    0.3 10  |
/// | M2     | S1      | A       | test_beta[x]          | function | client    | 2.0   1.5  0.1    0.9 30  |
/// | M3     | S2      | B       | test_alpha[2]         | method   | server    | 3.0   0.2  0.4    0.1 20  |
/// | M4     | S3      | B       | test_gamma            | function | "" (none) | 0.5   0.4  0.3    0.5  5  |
///
/// S1: scm main-1, pipeline main build 1; S2: scm main-2, main build 2; S3: no scm, dev build 7.
/// Every resource has distinct values, so head and tail orders are fixed.
async fn seed(app: &TestApp) {
    for c in [CTX_A, CTX_B] {
        create(app, "/api/v1/contexts/", &context(c)).await;
    }
    let sessions = [
        (
            S1,
            Some("main-1"),
            json!({"pipeline_branch": "main", "pipeline_build_no": "1"}),
        ),
        (
            S2,
            Some("main-2"),
            json!({"pipeline_branch": "main", "pipeline_build_no": "2"}),
        ),
        (
            S3,
            None,
            json!({"pipeline_branch": "dev", "pipeline_build_no": "7"}),
        ),
    ];
    for (h, scm, d) in sessions {
        create(app, "/api/v1/sessions/", &session(h, scm, d)).await;
    }
    let metrics = [
        (
            S1,
            CTX_A,
            "test_alpha[1]",
            "function",
            "server",
            [1.0, 0.5, 0.2, 0.3, 10.0],
        ),
        (
            S1,
            CTX_A,
            "test_beta[x]",
            "function",
            "client",
            [2.0, 1.5, 0.1, 0.9, 30.0],
        ),
        (
            S2,
            CTX_B,
            "test_alpha[2]",
            "method",
            "server",
            [3.0, 0.2, 0.4, 0.1, 20.0],
        ),
        (
            S3,
            CTX_B,
            "test_gamma",
            "function",
            "",
            [0.5, 0.4, 0.3, 0.5, 5.0],
        ),
    ];
    for (s, c, v, kind, component, [total, user, kernel, cpu, mem]) in metrics {
        let body = with(
            metric(s, c, v),
            json!({
                "kind": kind, "component": component, "total_time": total, "user_time": user,
                "kernel_time": kernel, "cpu_usage": cpu, "mem_usage": mem
            }),
        );
        create(app, "/api/v1/metrics/", &body).await;
    }
}

/// A one-page list envelope: the items, no links, `total_page` 1.
fn assert_single_page(page: &Value, list_key: &str) {
    assert_eq!(
        keys(page),
        vec![list_key, "total_page"],
        "a single page has no links: {page}"
    );
    assert_eq!(page["total_page"], json!(1));
}

// ----------------------------------------------------------------------------------------------
// 1. The seed doc's examples
// ----------------------------------------------------------------------------------------------

#[tokio::test]
async fn session_list_matches_the_seed_example() {
    let app = TestApp::with_config(|c| c.monitor_page_size = 2).await;
    let example = fixture("session_list.json");
    let filler = |h: &str| session(h, Some("0000"), json!({}));
    create(&app, "/api/v1/sessions/", &filler("f1")).await;
    create(&app, "/api/v1/sessions/", &filler("f2")).await;
    // The doc's own POST body: `h` instead of `session_h`, `description` as a string of JSON.
    let first = create(&app, "/api/v1/sessions/", &fixture("session_post.json")).await;
    let second = create(
        &app,
        "/api/v1/sessions/",
        &session(
            "417204ff40e0adac62b70b4f810c79fc5ad8ba5b",
            Some("d1952425cf6b19c5a1610c555b46948ea1ba2bcd"),
            json!({"numpy": "1.17.2", "description": "Trying another numpy version."}),
        ),
    )
    .await;
    create(&app, "/api/v1/sessions/", &filler("f3")).await;

    // The created objects are the example's session objects, key for key and in order.
    assert_keys(&first, &example["sessions"][0], "shape");
    assert_eq!(first, example["sessions"][0]);
    assert_keys(&second, &example["sessions"][1], "shape");
    assert_eq!(second, example["sessions"][1]);

    // Page 2 of 3 holds them, with the example's links.
    let page = get_ok(&app, "/api/v1/sessions/?page=2").await;
    assert_keys(&page, &example, "shape");
    assert_eq!(page, example);
}

#[tokio::test]
async fn metric_list_matches_the_seed_example() {
    let app = TestApp::with_config(|c| c.monitor_page_size = 2).await;
    let example = fixture("metric_list.json");
    let s = "0041724ff4e0adac62b70b4f810c79fc5ad8ba5b";
    let c = "e9188c68dd9ddeccd0a2f59422d16a2bf7337683";
    create(&app, "/api/v1/contexts/", &context(c)).await;
    create(&app, "/api/v1/sessions/", &fixture("session_post.json")).await;
    create(&app, "/api/v1/metrics/", &metric(s, c, "filler_1[]")).await;
    create(&app, "/api/v1/metrics/", &metric(s, c, "filler_2[]")).await;
    for m in example["metrics"].as_array().expect("metrics") {
        // The example's metric objects are valid POST bodies; the answer echoes them with floats.
        let r = post(&app, "/api/v1/metrics/", m).await;
        r.expect(StatusCode::CREATED, "POST /api/v1/metrics/");
        assert_keys(&r.json(), m, "POST /api/v1/metrics/");
        assert_eq!(floats(&r.json()), floats(m));
        assert!(
            r.text().contains("\"total_time\":0.0"),
            "resource fields are floats: {}",
            r.text()
        );
    }
    create(&app, "/api/v1/metrics/", &metric(s, c, "filler_3[]")).await;

    let page = get_ok(&app, &format!("/api/v1/sessions/{s}/metrics?page=2")).await;
    assert_keys(&page, &example, "shape");
    assert_eq!(floats(&page["metrics"]), floats(&example["metrics"]));
    assert_eq!(page["total_page"], example["total_page"]);
    // The doc's links point at /contexts/<h>/metrics/ by a copy-paste error; the real server's
    // links name the route that was asked, without a slash before '?'.
    assert_eq!(
        page["prev_url"],
        json!(format!("/api/v1/sessions/{s}/metrics?page=1"))
    );
    assert_eq!(
        page["next_url"],
        json!(format!("/api/v1/sessions/{s}/metrics?page=3"))
    );
}

#[tokio::test]
async fn counts_match_the_seed_example() {
    let app = TestApp::new().await;
    seed(&app).await;
    let example = fixture("count.json");
    for path in [
        "/api/v1/sessions/count",
        "/api/v1/sessions/count/",
        "/api/v1/sessions/aaa111/metrics/count",
        "/api/v1/contexts/count",
        "/api/v1/contexts/ctx-a/metrics/count",
        "/api/v1/metrics/count",
        "/api/v1/items/test_alpha/metrics/count",
        "/api/v1/variants/test_gamma/metrics/count",
        "/api/v1/filters/scope/function/metrics/count",
        "/api/v1/filters/scm/main/metrics/count",
        "/api/v1/components/count",
    ] {
        let v = get_ok(&app, path).await;
        assert_keys(&v, &example, &format!("GET {path}: {v}"));
        assert!(v["count"].is_u64(), "GET {path}: count is an integer: {v}");
    }
}

// ----------------------------------------------------------------------------------------------
// 2. The plugin's flow
// ----------------------------------------------------------------------------------------------

#[tokio::test]
async fn plugin_flow_registers_context_session_and_metric() {
    let app = TestApp::new().await;
    let h = "e9188c68dd9ddeccd0a2f59422d16a2bf7337683";

    // Unknown context: 204 with an empty body, which the plugin reads as "unknown".
    get_no_content(&app, &format!("/api/v1/contexts/{h}")).await;

    let created = create(&app, "/api/v1/contexts/", &context(h)).await;
    assert_eq!(created["h"], json!(h));
    assert_eq!(created, context(h), "the context comes back as posted");
    assert_eq!(
        keys(&created),
        vec![
            "h",
            "cpu_count",
            "cpu_frequency",
            "cpu_type",
            "cpu_vendor",
            "ram_total",
            "machine_node",
            "machine_type",
            "machine_arch",
            "system_info",
            "python_info"
        ]
    );

    let known = get_ok(&app, &format!("/api/v1/contexts/{h}")).await;
    assert_eq!(known["contexts"][0]["h"], json!(h));

    let s = create(
        &app,
        "/api/v1/sessions/",
        &json!({
            "session_h": "5f3a",
            "run_date": "2021-03-01T10:00:00.123456",
            "scm_ref": "abcdef",
            "description": {"numpy": "1.19.0", "pipeline_branch": "main"}
        }),
    )
    .await;
    assert_eq!(
        s,
        json!({
            "session_h": "5f3a",
            "run_date": "2021-03-01T10:00:00.123456",
            "scm_ref": "abcdef",
            "tags": [
                {"name": "numpy", "value": "1.19.0"},
                {"name": "pipeline_branch", "value": "main"}
            ]
        })
    );
    assert_eq!(keys(&s), vec!["session_h", "run_date", "scm_ref", "tags"]);

    let body = with(
        metric("5f3a", h, "test_up[]"),
        json!({"total_time": 1, "user_time": 0.25, "mem_usage": 12}),
    );
    let r = post(&app, "/api/v1/metrics/", &body).await;
    r.expect(StatusCode::CREATED, "POST metric");
    assert_eq!(floats(&r.json()), floats(&body));
    for field in [
        "total_time",
        "user_time",
        "kernel_time",
        "cpu_usage",
        "mem_usage",
    ] {
        assert!(r.json()[field].is_f64(), "{field} is a float: {}", r.text());
    }
    assert_eq!(
        get_ok(&app, "/api/v1/sessions/5f3a/metrics/count").await,
        json!({"count": 1})
    );
}

// ----------------------------------------------------------------------------------------------
// 3. Every route of the table
// ----------------------------------------------------------------------------------------------

#[tokio::test]
async fn sessions_list_prefix_and_count() {
    let app = TestApp::new().await;
    get_no_content(&app, "/api/v1/sessions/").await;
    assert_eq!(
        get_ok(&app, "/api/v1/sessions/count").await,
        json!({"count": 0})
    );
    seed(&app).await;

    let all = get_ok(&app, "/api/v1/sessions/").await;
    assert_single_page(&all, "sessions");
    assert_eq!(hashes(&all), vec![S1, S2, S3]);
    assert_eq!(
        all["sessions"][2],
        json!({
            "session_h": S3,
            "run_date": "2020-12-04T23:18:15.661016",
            "scm_ref": null,
            "tags": [
                {"name": "pipeline_branch", "value": "dev"},
                {"name": "pipeline_build_no", "value": "7"}
            ]
        })
    );

    let by_prefix = get_ok(&app, "/api/v1/sessions/aaa").await;
    assert_single_page(&by_prefix, "sessions");
    assert_eq!(hashes(&by_prefix), vec![S1, S2]);
    assert_eq!(
        hashes(&get_ok(&app, "/api/v1/sessions/aaa111").await),
        vec![S1]
    );
    get_no_content(&app, "/api/v1/sessions/zzz").await;

    // COUNT(scm_ref): S3 has none.
    assert_eq!(
        get_ok(&app, "/api/v1/sessions/count").await,
        json!({"count": 2})
    );
}

#[tokio::test]
async fn session_can_be_created_under_its_path() {
    let app = TestApp::new().await;
    let body = json!({"run_date": "2020-12-04", "scm_ref": "x", "description": {}});
    let s = create(&app, "/api/v1/sessions/from-path", &body).await;
    assert_eq!(s["session_h"], json!("from-path"));
    // A hash in the body wins over the path.
    let s = create(
        &app,
        "/api/v1/sessions/ignored",
        &with(body, json!({"session_h": "from-body"})),
    )
    .await;
    assert_eq!(s["session_h"], json!("from-body"));
    assert_eq!(
        hashes(&get_ok(&app, "/api/v1/sessions/").await),
        vec!["from-path", "from-body"]
    );
}

#[tokio::test]
async fn session_metrics_count_and_singular_alias() {
    let app = TestApp::new().await;
    seed(&app).await;

    let page = get_ok(&app, "/api/v1/sessions/aaa111/metrics").await;
    assert_single_page(&page, "metrics");
    assert_eq!(variants(&page), vec!["test_alpha[1]", "test_beta[x]"]);
    assert_eq!(
        get_ok(&app, "/api/v1/sessions/aaa111/metrics/count").await,
        json!({"count": 2})
    );
    // Exact hash, not a prefix.
    get_no_content(&app, "/api/v1/sessions/aaa/metrics").await;
    get_no_content(&app, "/api/v1/sessions/unknown/metrics").await;
    assert_eq!(
        get_ok(&app, "/api/v1/sessions/unknown/metrics/count").await,
        json!({"count": 0})
    );

    // The doc's heading spells the route in the singular.
    assert_eq!(get_ok(&app, "/api/v1/session/aaa111/metrics").await, page);
    assert_eq!(
        get_ok(&app, "/api/v1/session/aaa111/metrics/count").await,
        json!({"count": 2})
    );
}

#[tokio::test]
async fn contexts_list_prefix_count_and_metrics() {
    let app = TestApp::new().await;
    get_no_content(&app, "/api/v1/contexts/").await;
    seed(&app).await;

    let all = get_ok(&app, "/api/v1/contexts/").await;
    assert_single_page(&all, "contexts");
    assert_eq!(all["contexts"], json!([context(CTX_A), context(CTX_B)]));
    assert_eq!(
        get_ok(&app, "/api/v1/contexts/count").await,
        json!({"count": 2})
    );
    let by_prefix = get_ok(&app, "/api/v1/contexts/ctx-").await;
    assert_eq!(by_prefix["contexts"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        get_ok(&app, "/api/v1/contexts/ctx-b").await["contexts"],
        json!([context(CTX_B)])
    );

    let metrics = get_ok(&app, "/api/v1/contexts/ctx-b/metrics").await;
    assert_single_page(&metrics, "metrics");
    assert_eq!(variants(&metrics), vec!["test_alpha[2]", "test_gamma"]);
    assert_eq!(
        get_ok(&app, "/api/v1/contexts/ctx-b/metrics/count").await,
        json!({"count": 2})
    );
    get_no_content(&app, "/api/v1/contexts/ctx-z/metrics").await;
    assert_eq!(
        get_ok(&app, "/api/v1/contexts/ctx-z/metrics/count").await,
        json!({"count": 0})
    );
}

#[tokio::test]
async fn metrics_list_and_count() {
    let app = TestApp::new().await;
    get_no_content(&app, "/api/v1/metrics/").await;
    assert_eq!(
        get_ok(&app, "/api/v1/metrics/count").await,
        json!({"count": 0})
    );
    seed(&app).await;
    let all = get_ok(&app, "/api/v1/metrics/").await;
    assert_single_page(&all, "metrics");
    assert_eq!(
        variants(&all),
        vec![
            "test_alpha[1]",
            "test_beta[x]",
            "test_alpha[2]",
            "test_gamma"
        ]
    );
    assert_eq!(
        floats(&all["metrics"][1]),
        floats(&json!({
            "session_h": S1,
            "context_h": CTX_A,
            "item_start_time": "2020-12-04T23:18:16.000001",
            "item_path": "tests.test_file",
            "item": "test_beta",
            "item_variant": "test_beta[x]",
            "item_fs_loc": "tests/test_file.py",
            "kind": "function",
            "component": "client",
            "total_time": 2.0,
            "user_time": 1.5,
            "kernel_time": 0.1,
            "cpu_usage": 0.9,
            "mem_usage": 30.0
        }))
    );
    assert_eq!(
        get_ok(&app, "/api/v1/metrics/count").await,
        json!({"count": 4})
    );
}

#[tokio::test]
async fn items_and_items_like() {
    let app = TestApp::new().await;
    seed(&app).await;
    let page = get_ok(&app, "/api/v1/items/test_alpha/metrics").await;
    assert_single_page(&page, "metrics");
    assert_eq!(variants(&page), vec!["test_alpha[1]", "test_alpha[2]"]);
    assert_eq!(
        get_ok(&app, "/api/v1/items/test_alpha/metrics/count").await,
        json!({"count": 2})
    );
    get_no_content(&app, "/api/v1/items/test_alp/metrics").await;
    assert_eq!(
        get_ok(&app, "/api/v1/items/nothing/metrics/count").await,
        json!({"count": 0})
    );

    // Substring match.
    let like = get_ok(&app, "/api/v1/items/like/alp/metrics").await;
    assert_single_page(&like, "metrics");
    assert_eq!(variants(&like), vec!["test_alpha[1]", "test_alpha[2]"]);
    assert_eq!(
        variants(&get_ok(&app, "/api/v1/items/like/bet/metrics").await),
        vec!["test_beta[x]"]
    );
    get_no_content(&app, "/api/v1/items/like/zeta/metrics").await;
}

#[tokio::test]
async fn variants_and_variants_like() {
    let app = TestApp::new().await;
    seed(&app).await;
    // pytest variants carry brackets, percent-encoded in the path.
    let page = get_ok(&app, "/api/v1/variants/test_alpha%5B2%5D/metrics").await;
    assert_single_page(&page, "metrics");
    assert_eq!(variants(&page), vec!["test_alpha[2]"]);
    assert_eq!(
        variants(&get_ok(&app, "/api/v1/variants/test_gamma/metrics").await),
        vec!["test_gamma"]
    );
    assert_eq!(
        get_ok(&app, "/api/v1/variants/test_beta%5Bx%5D/metrics/count").await,
        json!({"count": 1})
    );
    // Exact: the item alone is not a variant here.
    get_no_content(&app, "/api/v1/variants/test_alpha/metrics").await;

    let like = get_ok(&app, "/api/v1/variants/like/alpha/metrics").await;
    assert_single_page(&like, "metrics");
    assert_eq!(variants(&like), vec!["test_alpha[1]", "test_alpha[2]"]);
    get_no_content(&app, "/api/v1/variants/like/zeta/metrics").await;
}

/// Every list selected by a path segment links its pages under the path that was asked, with the
/// segment encoded again as it came.
#[tokio::test]
async fn segment_lists_link_their_own_pages() {
    let app = TestApp::with_config(|c| c.monitor_page_size = 1).await;
    seed(&app).await;
    // A second row of one variant, so that the exact variant list has two pages too.
    create(&app, "/api/v1/metrics/", &metric(S2, CTX_B, "test_beta[x]")).await;
    for (path, pages) in [
        (format!("/api/v1/sessions/{S1}/metrics"), 2),
        (format!("/api/v1/contexts/{CTX_B}/metrics"), 3),
        ("/api/v1/items/test_alpha/metrics".to_owned(), 2),
        ("/api/v1/items/like/alp/metrics".to_owned(), 2),
        ("/api/v1/variants/test_beta%5Bx%5D/metrics".to_owned(), 2),
        ("/api/v1/variants/like/alpha/metrics".to_owned(), 2),
        ("/api/v1/filters/scope/function/metrics".to_owned(), 4),
        ("/api/v1/filters/scm/main/metrics".to_owned(), 4),
    ] {
        let first = get_ok(&app, &path).await;
        assert_eq!(first["total_page"], json!(pages), "{path}");
        assert_eq!(first["prev_url"], Value::Null, "{path}");
        assert_eq!(first["next_url"], json!(format!("{path}?page=2")), "{path}");
        let last = get_ok(&app, &format!("{path}?page={pages}")).await;
        assert_eq!(
            last["prev_url"],
            json!(format!("{path}?page={}", pages - 1)),
            "{path}"
        );
        assert_eq!(last["next_url"], Value::Null, "{path}");
    }
}

#[tokio::test]
async fn filters_scope_and_scm() {
    let app = TestApp::new().await;
    seed(&app).await;

    let method = get_ok(&app, "/api/v1/filters/scope/method/metrics").await;
    assert_single_page(&method, "metrics");
    assert_eq!(variants(&method), vec!["test_alpha[2]"]);
    assert_eq!(
        get_ok(&app, "/api/v1/filters/scope/function/metrics/count").await,
        json!({"count": 3})
    );
    get_no_content(&app, "/api/v1/filters/scope/module/metrics").await;

    // scm is a prefix of the session's scm_ref.
    let scm = get_ok(&app, "/api/v1/filters/scm/main/metrics").await;
    assert_single_page(&scm, "metrics");
    assert_eq!(
        variants(&scm),
        vec!["test_alpha[1]", "test_beta[x]", "test_alpha[2]"]
    );
    assert_eq!(
        get_ok(&app, "/api/v1/filters/scm/main-2/metrics/count").await,
        json!({"count": 1})
    );
    assert_eq!(
        get_ok(&app, "/api/v1/filters/scm/other/metrics/count").await,
        json!({"count": 0})
    );

    let sessions = get_ok(&app, "/api/v1/filters/scm/main/sessions").await;
    assert_single_page(&sessions, "sessions");
    assert_eq!(hashes(&sessions), vec![S1, S2]);
    assert_eq!(
        keys(&sessions["sessions"][0]),
        vec!["session_h", "run_date", "scm_ref", "tags"]
    );
    assert_eq!(
        hashes(&get_ok(&app, "/api/v1/filters/scm/main-1/sessions").await),
        vec![S1]
    );
    get_no_content(&app, "/api/v1/filters/scm/other/sessions").await;
}

#[tokio::test]
async fn components_list_prefix_count_and_metrics() {
    let app = TestApp::new().await;
    get_no_content(&app, "/api/v1/components/").await;
    seed(&app).await;

    // Distinct names in first-seen order; the original lists the empty component too.
    let all = get_ok(&app, "/api/v1/components/").await;
    assert_eq!(
        all,
        json!({"components": ["server", "client", ""], "total_page": 1})
    );
    assert_eq!(
        get_ok(&app, "/api/v1/components/se").await,
        json!({"components": ["server"], "total_page": 1})
    );
    get_no_content(&app, "/api/v1/components/zz").await;
    assert_eq!(
        get_ok(&app, "/api/v1/components/count").await,
        json!({"count": 3})
    );

    // /components/metrics: the metrics whose component is empty.
    let none = get_ok(&app, "/api/v1/components/metrics").await;
    assert_single_page(&none, "metrics");
    assert_eq!(variants(&none), vec!["test_gamma"]);

    let server = get_ok(&app, "/api/v1/components/server/metrics").await;
    assert_single_page(&server, "metrics");
    assert_eq!(variants(&server), vec!["test_alpha[1]", "test_alpha[2]"]);
    get_no_content(&app, "/api/v1/components/nothing/metrics").await;
}

#[tokio::test]
async fn component_items_and_variants() {
    let app = TestApp::new().await;
    seed(&app).await;
    let items = get_ok(&app, "/api/v1/components/server/items/test_alpha/metrics").await;
    assert_single_page(&items, "metrics");
    assert_eq!(variants(&items), vec!["test_alpha[1]", "test_alpha[2]"]);
    get_no_content(&app, "/api/v1/components/client/items/test_alpha/metrics").await;
    // Without a component segment: metrics whose component is empty.
    assert_eq!(
        variants(&get_ok(&app, "/api/v1/components/items/test_gamma/metrics").await),
        vec!["test_gamma"]
    );
    get_no_content(&app, "/api/v1/components/items/test_alpha/metrics").await;

    let v = get_ok(
        &app,
        "/api/v1/components/client/variants/test_beta%5Bx%5D/metrics",
    )
    .await;
    assert_single_page(&v, "metrics");
    assert_eq!(variants(&v), vec!["test_beta[x]"]);
    get_no_content(
        &app,
        "/api/v1/components/server/variants/test_beta%5Bx%5D/metrics",
    )
    .await;
    assert_eq!(
        variants(&get_ok(&app, "/api/v1/components/variants/test_gamma/metrics").await),
        vec!["test_gamma"]
    );
}

#[tokio::test]
async fn component_pipelines_builds_and_sessions_envelopes() {
    let app = TestApp::new().await;
    seed(&app).await;
    assert_eq!(
        get_ok(&app, "/api/v1/components/server/pipelines").await,
        json!({
            "component": "server",
            "pipelines": ["main"],
            "prev_url": null,
            "next_url": null,
            "total_page": 1
        })
    );
    let builds = get_ok(&app, "/api/v1/components/server/pipelines/main/builds").await;
    assert_eq!(
        keys(&builds),
        vec![
            "component",
            "pipeline",
            "builds",
            "prev_url",
            "next_url",
            "total_page"
        ]
    );
    assert_eq!(
        builds,
        json!({
            "component": "server",
            "pipeline": "main",
            "builds": ["1", "2"],
            "prev_url": null,
            "next_url": null,
            "total_page": 1
        })
    );
    let sessions = get_ok(
        &app,
        "/api/v1/components/server/pipelines/main/builds/2/sessions",
    )
    .await;
    assert_eq!(
        keys(&sessions),
        vec![
            "component",
            "pipeline",
            "build",
            "sessions",
            "prev_url",
            "next_url",
            "total_page"
        ]
    );
    assert_eq!(
        sessions,
        json!({
            "component": "server",
            "pipeline": "main",
            "build": "2",
            "sessions": [S2],
            "prev_url": null,
            "next_url": null,
            "total_page": 1
        })
    );
    // client only ran in build 1.
    assert_eq!(
        get_ok(&app, "/api/v1/components/client/pipelines/main/builds").await["builds"],
        json!(["1"])
    );

    // The envelope is never empty, so these answer 200 even with nothing in them.
    assert_eq!(
        get_ok(&app, "/api/v1/components/nothing/pipelines").await,
        json!({
            "component": "nothing",
            "pipelines": [],
            "prev_url": null,
            "next_url": null,
            "total_page": 0
        })
    );
    assert_eq!(
        get_ok(&app, "/api/v1/components/server/pipelines/dev/builds").await["builds"],
        json!([])
    );
    assert_eq!(
        get_ok(
            &app,
            "/api/v1/components/client/pipelines/main/builds/2/sessions"
        )
        .await["sessions"],
        json!([])
    );
}

#[tokio::test]
async fn pipelines_builds_and_build_sessions() {
    let app = TestApp::new().await;
    get_no_content(&app, "/api/v1/pipelines/").await;
    seed(&app).await;

    assert_eq!(
        get_ok(&app, "/api/v1/pipelines/").await,
        json!({"pipelines": ["main", "dev"]})
    );
    assert_eq!(
        get_ok(&app, "/api/v1/pipelines/main/builds").await,
        json!({
            "pipeline": "main",
            "builds": ["1", "2"],
            "prev_url": null,
            "next_url": null,
            "total_page": 1
        })
    );
    let sessions = get_ok(&app, "/api/v1/pipelines/main/builds/1/sessions").await;
    assert_eq!(
        keys(&sessions),
        vec![
            "pipeline",
            "build",
            "sessions",
            "prev_url",
            "next_url",
            "total_page"
        ]
    );
    assert_eq!(
        sessions,
        json!({
            "pipeline": "main",
            "build": "1",
            "sessions": [S1],
            "prev_url": null,
            "next_url": null,
            "total_page": 1
        })
    );
    assert_eq!(
        get_ok(&app, "/api/v1/pipelines/dev/builds/7/sessions").await["sessions"],
        json!([S3])
    );
    assert_eq!(
        get_ok(&app, "/api/v1/pipelines/none/builds").await,
        json!({
            "pipeline": "none",
            "builds": [],
            "prev_url": null,
            "next_url": null,
            "total_page": 0
        })
    );
}

/// A resource page: `{metrics, prev_url: null, next_url: null, total_page: 1}`; returns the variants.
async fn resource(app: &TestApp, path: &str) -> Vec<String> {
    let page = get_ok(app, path).await;
    assert_eq!(
        keys(&page),
        vec!["metrics", "prev_url", "next_url", "total_page"],
        "GET {path}"
    );
    assert_eq!(page["prev_url"], Value::Null, "GET {path}");
    assert_eq!(page["next_url"], Value::Null, "GET {path}");
    assert_eq!(page["total_page"], json!(1), "GET {path}");
    variants(&page)
}

#[tokio::test]
async fn resources_head_and_tail_order_by_the_resource() {
    let app = TestApp::new().await;
    seed(&app).await;
    let (a1, b, a2, g) = (
        "test_alpha[1]",
        "test_beta[x]",
        "test_alpha[2]",
        "test_gamma",
    );
    let cases: [(&str, [&str; 4]); 5] = [
        ("memory", [b, a2, a1, g]),
        ("cpu", [b, g, a1, a2]),
        ("kernel_time", [a2, g, a1, b]),
        ("user_time", [b, a1, g, a2]),
        ("total_time", [a2, b, a1, g]),
    ];
    for (res, most_first) in cases {
        let head = resource(&app, &format!("/api/v1/resources/{res}/head/metrics")).await;
        assert_eq!(head, most_first, "{res} head");
        let mut least_first = most_first.to_vec();
        least_first.reverse();
        let tail = resource(&app, &format!("/api/v1/resources/{res}/tail/metrics")).await;
        assert_eq!(tail, least_first, "{res} tail");
        let head2 = resource(&app, &format!("/api/v1/resources/{res}/head/2/metrics")).await;
        assert_eq!(head2, most_first[..2], "{res} head 2");
        let tail1 = resource(&app, &format!("/api/v1/resources/{res}/tail/1/metrics")).await;
        assert_eq!(tail1, least_first[..1], "{res} tail 1");
    }
}

#[tokio::test]
async fn resources_by_pipeline_build_and_component() {
    let app = TestApp::new().await;
    seed(&app).await;
    let (a1, b, a2) = ("test_alpha[1]", "test_beta[x]", "test_alpha[2]");
    let r = "/api/v1/resources/memory";
    let cases: [(&str, &[&str]); 12] = [
        // Pipeline main: M1 (10), M2 (30), M3 (20).
        ("/pipelines/main/head/metrics", &[b, a2, a1]),
        ("/pipelines/main/head/1/metrics", &[b]),
        ("/pipelines/main/tail/metrics", &[a1, a2, b]),
        ("/pipelines/main/tail/2/metrics", &[a1, a2]),
        // Build main/1: M1, M2.
        ("/pipelines/main/builds/1/head/metrics", &[b, a1]),
        ("/pipelines/main/builds/1/head/1/metrics", &[b]),
        ("/pipelines/main/builds/1/tail/metrics", &[a1, b]),
        ("/pipelines/main/builds/1/tail/1/metrics", &[a1]),
        // Component server: M1, M3.
        ("/components/server/head/metrics", &[a2, a1]),
        ("/components/server/head/1/metrics", &[a2]),
        ("/components/server/tail/metrics", &[a1, a2]),
        ("/components/server/tail/1/metrics", &[a1]),
    ];
    for (path, expected) in cases {
        let path = format!("{r}{path}");
        assert_eq!(resource(&app, &path).await, expected, "GET {path}");
    }
    // Nothing matches: still 200 with an empty list.
    assert!(
        resource(&app, &format!("{r}/pipelines/none/head/metrics"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn unknown_resource_is_a_json_404() {
    let app = TestApp::new().await;
    seed(&app).await;
    for path in [
        "/api/v1/resources/disk/head/metrics",
        "/api/v1/resources/disk/tail/3/metrics",
        "/api/v1/resources/disk/pipelines/main/head/metrics",
    ] {
        let r = get(&app, path).await;
        r.expect(StatusCode::NOT_FOUND, path);
        assert_eq!(keys(&r.json()), vec!["message"], "GET {path}");
        assert!(r.json()["message"].is_string());
    }
    // A count that is not an integer: Flask's <int:> converter would not match the route.
    let r = get(&app, "/api/v1/resources/memory/head/ten/metrics").await;
    r.expect(StatusCode::NOT_FOUND, "non-integer n");
    assert_eq!(r.json(), json!({"message": NOT_FOUND}));
}

// ----------------------------------------------------------------------------------------------
// 4. Paging
// ----------------------------------------------------------------------------------------------

/// Five sessions s1..s5, each tagged `x=1`, on a server paging by 2.
async fn five_sessions() -> TestApp {
    let app = TestApp::with_config(|c| c.monitor_page_size = 2).await;
    for i in 1..=5 {
        create(
            &app,
            "/api/v1/sessions/",
            &session(&format!("s{i}"), Some("scm"), json!({"x": "1"})),
        )
        .await;
    }
    app
}

#[tokio::test]
async fn paging_links_and_total_pages() {
    let app = five_sessions().await;

    let p1 = get_ok(&app, "/api/v1/sessions/").await;
    assert_eq!(keys(&p1), vec!["sessions", "next_url", "total_page"]);
    assert_eq!(hashes(&p1), vec!["s1", "s2"]);
    assert_eq!(p1["next_url"], json!("/api/v1/sessions/?page=2"));
    assert_eq!(p1["total_page"], json!(3));
    assert_eq!(get_ok(&app, "/api/v1/sessions/?page=1").await, p1);

    let p2 = get_ok(&app, "/api/v1/sessions/?page=2").await;
    assert_eq!(
        keys(&p2),
        vec!["sessions", "prev_url", "next_url", "total_page"]
    );
    assert_eq!(hashes(&p2), vec!["s3", "s4"]);
    assert_eq!(p2["prev_url"], json!("/api/v1/sessions/?page=1"));
    assert_eq!(p2["next_url"], json!("/api/v1/sessions/?page=3"));

    let p3 = get_ok(&app, "/api/v1/sessions/?page=3").await;
    assert_eq!(keys(&p3), vec!["sessions", "prev_url", "total_page"]);
    assert_eq!(hashes(&p3), vec!["s5"]);
    assert_eq!(p3["prev_url"], json!("/api/v1/sessions/?page=2"));
    assert_eq!(p3["total_page"], json!(3));
}

#[tokio::test]
async fn paging_negative_pages_count_from_the_end() {
    let app = five_sessions().await;
    let last = get_ok(&app, "/api/v1/sessions/?page=-1").await;
    assert_eq!(hashes(&last), vec!["s5"]);
    // Links name the resolved page.
    assert_eq!(last, get_ok(&app, "/api/v1/sessions/?page=3").await);
    assert_eq!(
        get_ok(&app, "/api/v1/sessions/?page=-3").await,
        get_ok(&app, "/api/v1/sessions/?page=1").await
    );
}

#[tokio::test]
async fn paging_out_of_range_is_the_flask_404() {
    let app = five_sessions().await;
    for page in ["0", "4", "-4", "100"] {
        let path = format!("/api/v1/sessions/?page={page}");
        let r = get(&app, &path).await;
        r.expect(StatusCode::NOT_FOUND, &path);
        assert_eq!(r.json(), json!({"message": NOT_FOUND}), "{path}");
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
    }
    // A non-number is ignored: page 1.
    let p = get_ok(&app, "/api/v1/sessions/?page=abc").await;
    assert_eq!(hashes(&p), vec!["s1", "s2"]);
    assert_eq!(p["next_url"], json!("/api/v1/sessions/?page=2"));
}

#[tokio::test]
async fn paging_empty_lists_are_204_and_later_pages_404() {
    let app = TestApp::with_config(|c| c.monitor_page_size = 2).await;
    get_no_content(&app, "/api/v1/sessions/").await;
    get_no_content(&app, "/api/v1/sessions/?page=1").await;
    let r = get(&app, "/api/v1/sessions/?page=2").await;
    r.expect(StatusCode::NOT_FOUND, "page 2 of nothing");
    assert_eq!(r.json(), json!({"message": NOT_FOUND}));
}

#[tokio::test]
async fn paging_carries_other_query_parameters() {
    let app = five_sessions().await;
    let p = get_ok(&app, "/api/v1/sessions/?with_flags=x&page=2").await;
    assert_eq!(hashes(&p), vec!["s3", "s4"]);
    assert_eq!(
        p["prev_url"],
        json!("/api/v1/sessions/?with_flags=x&page=1")
    );
    assert_eq!(
        p["next_url"],
        json!("/api/v1/sessions/?with_flags=x&page=3")
    );
    // The order of the request is kept; page is added last when absent.
    let p = get_ok(&app, "/api/v1/sessions/?page=2&with_flags=x").await;
    assert_eq!(
        p["next_url"],
        json!("/api/v1/sessions/?page=3&with_flags=x")
    );
    let p = get_ok(&app, "/api/v1/sessions/?with_flags=x").await;
    assert_eq!(
        p["next_url"],
        json!("/api/v1/sessions/?with_flags=x&page=2")
    );
    // The first value of a repeated parameter.
    let p = get_ok(&app, "/api/v1/sessions/?with_flags=x&with_flags=y").await;
    assert_eq!(
        p["next_url"],
        json!("/api/v1/sessions/?with_flags=x&page=2")
    );
}

#[tokio::test]
async fn paging_links_name_the_route_asked() {
    let app = TestApp::with_config(|c| c.monitor_page_size = 2).await;
    for i in 1..=3 {
        create(&app, "/api/v1/contexts/", &context(&format!("c{i}"))).await;
        create(
            &app,
            "/api/v1/sessions/",
            &session(&format!("pfx-{i}"), Some("scm"), json!({})),
        )
        .await;
    }
    for i in 1..=3 {
        create(
            &app,
            "/api/v1/metrics/",
            &metric("pfx-1", "c1", &format!("t[{i}]")),
        )
        .await;
    }
    let cases = [
        ("/api/v1/sessions/pfx", "/api/v1/sessions/pfx?page=2"),
        (
            "/api/v1/sessions/pfx-1/metrics",
            "/api/v1/sessions/pfx-1/metrics?page=2",
        ),
        (
            "/api/v1/session/pfx-1/metrics",
            "/api/v1/sessions/pfx-1/metrics?page=2",
        ),
        ("/api/v1/contexts/", "/api/v1/contexts/?page=2"),
        ("/api/v1/contexts/c", "/api/v1/contexts/c?page=2"),
        (
            "/api/v1/contexts/c1/metrics",
            "/api/v1/contexts/c1/metrics?page=2",
        ),
        ("/api/v1/metrics/", "/api/v1/metrics/?page=2"),
        ("/api/v1/items/t/metrics", "/api/v1/items/t/metrics?page=2"),
        (
            "/api/v1/filters/scm/sc/sessions",
            "/api/v1/filters/scm/sc/sessions?page=2",
        ),
        (
            "/api/v1/components/server/metrics",
            "/api/v1/components/server/metrics?page=2",
        ),
    ];
    for (path, next) in cases {
        let page = get_ok(&app, path).await;
        assert_eq!(page["next_url"], json!(next), "GET {path}");
        assert_eq!(page["total_page"], json!(2), "GET {path}");
        let second = get_ok(&app, next).await;
        assert!(second.get("next_url").is_none(), "GET {next}: {second}");
        assert!(second["prev_url"].is_string(), "GET {next}: {second}");
    }
}

// ----------------------------------------------------------------------------------------------
// 5. Both slash forms
// ----------------------------------------------------------------------------------------------

#[tokio::test]
async fn both_slash_forms_answer_the_same_without_redirect() {
    let app = TestApp::new().await;
    seed(&app).await;
    for path in [
        "/api/v1/sessions",
        "/api/v1/sessions/count",
        "/api/v1/sessions/aaa",
        "/api/v1/sessions/aaa111/metrics",
        "/api/v1/sessions/aaa111/metrics/count",
        "/api/v1/session/aaa111/metrics",
        "/api/v1/contexts",
        "/api/v1/contexts/count",
        "/api/v1/contexts/ctx-a",
        "/api/v1/contexts/ctx-a/metrics",
        "/api/v1/metrics",
        "/api/v1/metrics/count",
        "/api/v1/items/test_alpha/metrics",
        "/api/v1/components",
        "/api/v1/components/count",
        "/api/v1/components/server/pipelines",
        "/api/v1/pipelines",
        "/api/v1/pipelines/main/builds",
        "/api/v1/resources/memory/head/metrics",
    ] {
        let bare = get(&app, path).await;
        bare.expect(StatusCode::OK, path);
        let slash_path = format!("{path}/");
        let slash = get(&app, &slash_path).await;
        slash.expect(StatusCode::OK, &slash_path);
        assert_eq!(bare.json(), slash.json(), "{path} and {path}/ differ");
    }
    // With a query string too.
    assert_eq!(
        get_ok(&app, "/api/v1/sessions?page=1").await,
        get_ok(&app, "/api/v1/sessions/?page=1").await
    );
}

#[tokio::test]
async fn posts_work_without_a_trailing_slash() {
    let app = TestApp::new().await;
    create(&app, "/api/v1/contexts", &context("c")).await;
    create(
        &app,
        "/api/v1/sessions",
        &session("s", Some("r"), json!({})),
    )
    .await;
    create(&app, "/api/v1/metrics", &metric("s", "c", "t[]")).await;
    assert_eq!(
        get_ok(&app, "/api/v1/metrics/count").await,
        json!({"count": 1})
    );
}

// ----------------------------------------------------------------------------------------------
// 6. Documented errors
// ----------------------------------------------------------------------------------------------

#[tokio::test]
async fn description_must_be_an_object() {
    let app = TestApp::new().await;
    for bad in [
        json!(12),
        json!(["numpy", "1.17.1"]),
        json!("not json"),
        json!("[1, 2]"),
        json!(null),
        json!({"nested": {"a": "b"}}),
    ] {
        let r = post(
            &app,
            "/api/v1/sessions/",
            &session("s", Some("r"), bad.clone()),
        )
        .await;
        r.expect(StatusCode::BAD_REQUEST, &format!("description {bad}"));
        assert_eq!(
            r.json(),
            json!({"message": "Bad description format"}),
            "{bad}"
        );
    }
    get_no_content(&app, "/api/v1/sessions/").await;

    // A string holding an object is what the doc's curl example sends.
    let s = create(
        &app,
        "/api/v1/sessions/",
        &session("s", Some("r"), json!("{\"numpy\": \"1.17.1\"}")),
    )
    .await;
    assert_eq!(s["tags"], json!([{"name": "numpy", "value": "1.17.1"}]));
}

#[tokio::test]
async fn metric_missing_field_is_a_validation_error() {
    let app = TestApp::new().await;
    create(&app, "/api/v1/contexts/", &context("c")).await;
    create(
        &app,
        "/api/v1/sessions/",
        &session("s", Some("r"), json!({})),
    )
    .await;
    for field in [
        "session_h",
        "context_h",
        "item_start_time",
        "item",
        "kind",
        "component",
        "total_time",
        "mem_usage",
    ] {
        let mut body = metric("s", "c", "t[]");
        body.as_object_mut().expect("object").remove(field);
        let r = post(&app, "/api/v1/metrics/", &body).await;
        r.expect(StatusCode::BAD_REQUEST, &format!("without {field}"));
        assert_eq!(
            r.json(),
            json!({
                "errors": {field: format!("'{field}' is a required property")},
                "message": "Input payload validation failed"
            })
        );
        assert_eq!(keys(&r.json()), vec!["errors", "message"]);
    }
    assert_eq!(
        get_ok(&app, "/api/v1/metrics/count").await,
        json!({"count": 0})
    );
}

/// `/openapi.json` promises what the server checks: a body without a field the document marks
/// required is refused, naming the field, and one without any other documented field is stored.
#[tokio::test]
async fn documented_required_fields_are_the_ones_refused_when_missing() {
    let app = TestApp::new().await;
    let doc = reply(app.client.get("/openapi.json").send().await)
        .await
        .json();
    create(
        &app,
        "/api/v1/sessions/",
        &session("s", Some("r"), json!({})),
    )
    .await;
    create(&app, "/api/v1/contexts/", &context("c")).await;
    let mut n = 0;
    // A valid body; the number makes each context's hash new.
    type Body = fn(usize) -> Value;
    let cases: [(&str, &str, Body); 2] = [
        ("MonitorNewContext", "/api/v1/contexts/", |n| {
            context(&format!("c{n}"))
        }),
        ("MonitorNewMetric", "/api/v1/metrics/", |_| {
            metric("s", "c", "t[1]")
        }),
    ];
    for (schema, path, body) in cases {
        let schema = &doc["components"]["schemas"][schema];
        let required: Vec<&str> = schema["required"]
            .as_array()
            .expect("required")
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let properties = schema["properties"].as_object().expect("properties");
        assert_eq!(
            properties.len(),
            body(0).as_object().unwrap().len(),
            "{path}: the document lists every field"
        );
        for field in properties.keys() {
            n += 1;
            let mut body = body(n);
            body.as_object_mut().unwrap().remove(field);
            let r = post(&app, path, &body).await;
            if required.contains(&field.as_str()) {
                r.expect(StatusCode::BAD_REQUEST, &format!("{path} without {field}"));
                assert!(
                    r.json()["errors"].get(field).is_some(),
                    "{path}: {}",
                    r.json()
                );
            } else {
                r.expect(StatusCode::CREATED, &format!("{path} without {field}"));
            }
        }
    }
}

#[tokio::test]
async fn metric_wrong_type_is_a_validation_error() {
    let app = TestApp::new().await;
    create(&app, "/api/v1/contexts/", &context("c")).await;
    create(
        &app,
        "/api/v1/sessions/",
        &session("s", Some("r"), json!({})),
    )
    .await;
    let r = post(
        &app,
        "/api/v1/metrics/",
        &with(metric("s", "c", "t[]"), json!({"mem_usage": "a lot"})),
    )
    .await;
    r.expect(StatusCode::BAD_REQUEST, "mem_usage as a string");
    assert_eq!(
        r.json(),
        json!({
            "errors": {"mem_usage": "'a lot' is not of type 'number'"},
            "message": "Input payload validation failed"
        })
    );
    let r = post(
        &app,
        "/api/v1/metrics/",
        &with(metric("s", "c", "t[]"), json!({"cpu_usage": null})),
    )
    .await;
    r.expect(StatusCode::BAD_REQUEST, "cpu_usage null");
    assert!(
        r.json()["errors"]["cpu_usage"]
            .as_str()
            .is_some_and(|m| m.ends_with("is not of type 'number'")),
        "{}",
        r.text()
    );
    let r = post(
        &app,
        "/api/v1/metrics/",
        &with(metric("s", "c", "t[]"), json!({"item": 3})),
    )
    .await;
    r.expect(StatusCode::BAD_REQUEST, "item as a number");
    assert_eq!(
        r.json()["errors"]["item"],
        json!("3 is not of type 'string'")
    );
    assert_eq!(
        get_ok(&app, "/api/v1/metrics/count").await,
        json!({"count": 0})
    );
}

#[tokio::test]
async fn metric_for_unknown_session_or_context_stores_nothing() {
    let app = TestApp::new().await;
    create(&app, "/api/v1/contexts/", &context("c")).await;
    create(
        &app,
        "/api/v1/sessions/",
        &session("s", Some("r"), json!({})),
    )
    .await;
    create(&app, "/api/v1/metrics/", &metric("s", "c", "t[1]")).await;

    let r = post(&app, "/api/v1/metrics/", &metric("nope", "c", "t[2]")).await;
    r.expect(StatusCode::BAD_REQUEST, "unknown session");
    assert_eq!(
        r.json()["message"],
        json!("Input payload validation failed")
    );
    assert!(r.json()["errors"]["session_h"].is_string(), "{}", r.text());

    let r = post(&app, "/api/v1/metrics/", &metric("s", "nope", "t[3]")).await;
    r.expect(StatusCode::BAD_REQUEST, "unknown context");
    assert!(r.json()["errors"]["context_h"].is_string(), "{}", r.text());

    assert_eq!(
        get_ok(&app, "/api/v1/metrics/count").await,
        json!({"count": 1})
    );
    get_no_content(&app, "/api/v1/sessions/nope/metrics").await;
}

#[tokio::test]
async fn invalid_json_bodies_are_400_with_a_message() {
    let app = TestApp::new().await;
    for path in ["/api/v1/sessions/", "/api/v1/contexts/", "/api/v1/metrics/"] {
        for body in ["{not json", "", "[1, 2]", "\"text\""] {
            let r = post_raw(&app, path, body, &[]).await;
            r.expect(StatusCode::BAD_REQUEST, &format!("POST {path} {body:?}"));
            assert!(
                r.json()["message"].is_string(),
                "POST {path} {body:?}: {}",
                r.text()
            );
            assert_eq!(r.content_type.as_deref(), Some("application/json"));
        }
    }
    get_no_content(&app, "/api/v1/sessions/").await;
}

#[tokio::test]
async fn run_date_must_be_iso_8601() {
    let app = TestApp::new().await;
    for bad in [
        "yesterday",
        "04/12/2020",
        "2020-13-04T00:00:00",
        "2020-12-04T25:00:00",
        "",
    ] {
        let body = with(session("s", Some("r"), json!({})), json!({"run_date": bad}));
        let r = post(&app, "/api/v1/sessions/", &body).await;
        r.expect(StatusCode::BAD_REQUEST, &format!("run_date {bad:?}"));
        assert!(r.json()["message"].is_string(), "{}", r.text());
        assert!(r.json()["errors"]["run_date"].is_string(), "{}", r.text());
    }
    let r = post(
        &app,
        "/api/v1/sessions/",
        &with(
            session("s", Some("r"), json!({})),
            json!({"run_date": 20201204}),
        ),
    )
    .await;
    r.expect(StatusCode::BAD_REQUEST, "run_date as a number");
    get_no_content(&app, "/api/v1/sessions/").await;
}

#[tokio::test]
async fn duplicate_session_is_idempotent_and_conflicting_one_is_409() {
    let app = TestApp::new().await;
    let body = session("dup", Some("r"), json!({"a": "1", "b": "2"}));
    let first = create(&app, "/api/v1/sessions/", &body).await;
    let again = create(&app, "/api/v1/sessions/", &body).await;
    assert_eq!(first, again);

    for other in [
        with(body.clone(), json!({"scm_ref": "other"})),
        with(body.clone(), json!({"description": {"a": "1"}})),
        with(body.clone(), json!({"run_date": "2021-01-01T00:00:00"})),
        with(body.clone(), json!({"scm_ref": null})),
    ] {
        let r = post(&app, "/api/v1/sessions/", &other).await;
        r.expect(StatusCode::CONFLICT, &format!("conflicting {other}"));
        assert_eq!(keys(&r.json()), vec!["message"]);
        assert!(r.json()["message"].is_string());
    }
    let all = get_ok(&app, "/api/v1/sessions/").await;
    assert_eq!(all["sessions"], json!([first]));
}

#[tokio::test]
async fn duplicate_context_is_idempotent_and_conflicting_one_is_409() {
    let app = TestApp::new().await;
    create(&app, "/api/v1/contexts/", &context("c")).await;
    create(&app, "/api/v1/contexts/", &context("c")).await;
    let r = post(
        &app,
        "/api/v1/contexts/",
        &with(context("c"), json!({"cpu_count": 2})),
    )
    .await;
    r.expect(StatusCode::CONFLICT, "conflicting context");
    assert!(r.json()["message"].is_string());
    assert_eq!(
        get_ok(&app, "/api/v1/contexts/count").await,
        json!({"count": 1})
    );
}

#[tokio::test]
async fn unknown_paths_are_json_404() {
    let app = TestApp::new().await;
    for path in [
        "/api/v1/nothing",
        "/api/v1/nothing/",
        "/api/v1/sessions/a/b/c",
        "/api/v1/metrics/x/y",
        "/api/v1",
    ] {
        let r = get(&app, path).await;
        r.expect(StatusCode::NOT_FOUND, path);
        assert_eq!(r.json(), json!({"message": NOT_FOUND}), "GET {path}");
        assert_eq!(
            r.content_type.as_deref(),
            Some("application/json"),
            "{path}"
        );
    }
}

/// As Werkzeug answers them: a JSON message, and the route's methods in `Allow` (RFC 9110 requires
/// the header on a 405).
#[tokio::test]
async fn wrong_methods_are_json_405_with_the_allowed_methods() {
    let app = TestApp::new().await;
    let cases = [
        (
            app.client.put("/api/v1/sessions").send().await,
            "GET, HEAD, OPTIONS, POST",
        ),
        (
            app.client.put("/api/v1/sessions/").send().await,
            "GET, HEAD, OPTIONS, POST",
        ),
        (
            app.client.delete("/api/v1/sessions/abc").send().await,
            "GET, HEAD, OPTIONS, POST",
        ),
        (
            app.client.patch("/api/v1/metrics/count").send().await,
            "GET, HEAD, OPTIONS",
        ),
    ];
    for (resp, allow) in cases {
        let allowed = resp.0.headers().get("allow").cloned();
        let r = reply(resp).await;
        r.expect(StatusCode::METHOD_NOT_ALLOWED, "wrong method");
        assert_eq!(keys(&r.json()), vec!["message"]);
        assert!(r.json()["message"].is_string());
        assert_eq!(allowed.as_ref().map(|v| v.to_str().unwrap()), Some(allow));
    }
}

/// Flask answers `OPTIONS` on every route itself: 200, no body, the methods in `Allow`.
#[tokio::test]
async fn options_lists_a_routes_methods() {
    let app = TestApp::new().await;
    for (path, allow) in [
        ("/api/v1/metrics/", "GET, HEAD, OPTIONS, POST"),
        ("/api/v1/metrics/count", "GET, HEAD, OPTIONS"),
        ("/api/v1/contexts/", "GET, HEAD, OPTIONS, POST"),
    ] {
        let resp = app.client.options(path).send().await;
        assert_eq!(resp.0.status(), StatusCode::OK, "{path}");
        assert_eq!(resp.0.headers().get("allow").unwrap(), allow, "{path}");
        let body = resp.0.into_body().into_vec().await.unwrap();
        assert!(body.is_empty(), "{path}");
    }
}

#[tokio::test]
async fn oversized_bodies_are_413_declared_or_chunked() {
    let app = TestApp::with_config(|c| c.limits.max_body_bytes = 2048).await;
    let big = session("s", Some("r"), json!({"blob": "x".repeat(4096)}));
    let text = big.to_string();

    // Declared with a content-length.
    let r = reply(
        app.client
            .post("/api/v1/sessions/")
            .content_type("application/json")
            .header("content-length", text.len().to_string())
            .body(text.clone())
            .send()
            .await,
    )
    .await;
    r.expect(StatusCode::PAYLOAD_TOO_LARGE, "declared body");
    assert_eq!(keys(&r.json()), vec!["message"]);
    assert!(r.json()["message"].is_string());

    // Streamed without a content-length.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = text
        .as_bytes()
        .chunks(512)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let body = poem::Body::from_bytes_stream(futures_util::stream::iter(chunks));
    let r = reply(
        app.client
            .post("/api/v1/sessions/")
            .content_type("application/json")
            .body(body)
            .send()
            .await,
    )
    .await;
    r.expect(StatusCode::PAYLOAD_TOO_LARGE, "chunked body");
    assert_eq!(keys(&r.json()), vec!["message"]);

    get_no_content(&app, "/api/v1/sessions/").await;
    // A body under the limit still works.
    create(
        &app,
        "/api/v1/sessions/",
        &session("s", Some("r"), json!({})),
    )
    .await;
}

// ----------------------------------------------------------------------------------------------
// 7. Session flag filters
// ----------------------------------------------------------------------------------------------

/// a: numpy 1.17.1 and gpu yes; b: numpy 1.17.2; c: gpu empty; d: no tags.
async fn flagged_sessions() -> TestApp {
    let app = TestApp::new().await;
    for (h, d) in [
        ("fa", json!({"numpy": "1.17.1", "gpu": "yes"})),
        ("fb", json!({"numpy": "1.17.2"})),
        ("fc", json!({"gpu": ""})),
        ("fd", json!({})),
    ] {
        create(&app, "/api/v1/sessions/", &session(h, Some("r"), d)).await;
    }
    app
}

async fn filtered(app: &TestApp, query: &str) -> Vec<String> {
    let r = get(app, &format!("/api/v1/sessions/?{query}")).await;
    match r.status {
        StatusCode::OK => hashes(&r.json()),
        StatusCode::NO_CONTENT => Vec::new(),
        other => panic!("?{query}: {other} {}", r.text()),
    }
}

#[tokio::test]
async fn with_flags_keeps_sessions_with_a_non_empty_tag() {
    let app = flagged_sessions().await;
    assert_eq!(filtered(&app, "with_flags=gpu").await, vec!["fa"]);
    assert_eq!(filtered(&app, "with_flags=numpy").await, vec!["fa", "fb"]);
    assert!(filtered(&app, "with_flags=missing").await.is_empty());
    // An empty with_flags is no filter.
    assert_eq!(
        filtered(&app, "with_flags=").await,
        vec!["fa", "fb", "fc", "fd"]
    );
    // The Python client's spelling.
    assert_eq!(filtered(&app, "with_tags=gpu").await, vec!["fa"]);
}

#[tokio::test]
async fn restrict_flags_match_values_by_position() {
    let app = flagged_sessions().await;
    assert_eq!(
        filtered(&app, "with_flags=numpy&restrict_flags=1.17.2").await,
        vec!["fb"]
    );
    assert_eq!(
        filtered(&app, "with_flags=numpy,gpu&restrict_flags=1.17.2,yes").await,
        vec!["fa", "fb"]
    );
    // An empty value means present and non-empty; missing values are empty.
    assert_eq!(
        filtered(&app, "with_flags=gpu,numpy&restrict_flags=,1.17.2").await,
        vec!["fa", "fb"]
    );
    assert_eq!(
        filtered(&app, "with_flags=numpy,gpu&restrict_flags=1.17.1").await,
        vec!["fa"]
    );
}

#[tokio::test]
async fn method_other_than_match_any_ands_the_conditions() {
    let app = flagged_sessions().await;
    assert_eq!(
        filtered(&app, "with_flags=numpy,gpu").await,
        vec!["fa", "fb"]
    );
    assert_eq!(
        filtered(&app, "with_flags=numpy,gpu&method=match_any").await,
        vec!["fa", "fb"]
    );
    assert_eq!(
        filtered(&app, "with_flags=numpy,gpu&method=match_all").await,
        vec!["fa"]
    );
    assert_eq!(
        filtered(
            &app,
            "with_flags=numpy,gpu&restrict_flags=1.17.2,yes&method=all"
        )
        .await,
        Vec::<String>::new()
    );
    // The prefix route filters too.
    let r = get(&app, "/api/v1/sessions/f?with_flags=numpy,gpu&method=all").await;
    r.expect(StatusCode::OK, "prefix route with flags");
    assert_eq!(hashes(&r.json()), vec!["fa"]);
}

// ----------------------------------------------------------------------------------------------
// 8. run_date normalisation
// ----------------------------------------------------------------------------------------------

#[tokio::test]
async fn run_date_is_reformatted_like_python_isoformat() {
    let app = TestApp::new().await;
    let cases = [
        ("2020-12-04T23:18:15.661016", "2020-12-04T23:18:15.661016"),
        ("2020-12-04T23:18:15.000000", "2020-12-04T23:18:15"),
        (
            "2020-12-04T23:18:15.661016+02:00",
            "2020-12-04T23:18:15.661016+02:00",
        ),
        ("2020-12-04T23:18:15-05:30", "2020-12-04T23:18:15-05:30"),
        ("2020-12-04T23:18:15Z", "2020-12-04T23:18:15+00:00"),
        ("2020-12-04", "2020-12-04T00:00:00"),
        ("2020-12-04 23:18:15", "2020-12-04T23:18:15"),
    ];
    for (i, (input, output)) in cases.iter().enumerate() {
        let h = format!("d{i}");
        let body = with(
            session(&h, Some("r"), json!({})),
            json!({"run_date": input}),
        );
        let created = create(&app, "/api/v1/sessions/", &body).await;
        assert_eq!(created["run_date"], json!(output), "POST run_date {input}");
        let listed = get_ok(&app, &format!("/api/v1/sessions/{h}")).await;
        assert_eq!(
            listed["sessions"][0]["run_date"],
            json!(output),
            "GET run_date {input}"
        );
    }
}

#[tokio::test]
async fn tags_keep_the_order_the_client_sent() {
    // PostgreSQL's jsonb would sort these keys (by length, then bytes); the legacy list keeps the
    // client's order.
    let app = TestApp::new().await;
    let d = json!({"zeta": "1", "a": "2", "mm": "3", "pipeline_branch": "x"});
    let created = create(&app, "/api/v1/sessions/", &session("ord", Some("r"), d)).await;
    let expected = json!([
        {"name": "zeta", "value": "1"},
        {"name": "a", "value": "2"},
        {"name": "mm", "value": "3"},
        {"name": "pipeline_branch", "value": "x"}
    ]);
    assert_eq!(created["tags"], expected);
    assert_eq!(
        get_ok(&app, "/api/v1/sessions/ord").await["sessions"][0]["tags"],
        expected
    );
}

// ----------------------------------------------------------------------------------------------
// 9. Tokens
// ----------------------------------------------------------------------------------------------

#[tokio::test]
async fn routes_are_open_by_default() {
    let app = TestApp::new().await;
    create(&app, "/api/v1/contexts/", &context("c")).await;
    create(
        &app,
        "/api/v1/sessions/",
        &session("s", Some("r"), json!({})),
    )
    .await;
    create(&app, "/api/v1/metrics/", &metric("s", "c", "t[]")).await;
    get_ok(&app, "/api/v1/sessions/").await;
    get_ok(&app, "/api/v1/metrics/count").await;
}

#[tokio::test]
async fn required_token_gates_reads_and_writes() {
    let app =
        TestApp::with_config(|c| c.auth.require_token = vec![testgraph::config::Surface::Monitor])
            .await;
    let read = app.token(&[Scope::Read]).await;
    let write = app.token(&[Scope::Write]).await;
    let bearer = |t: &str| format!("Bearer {t}");

    // No token: 401 in the dialect, for reads and writes.
    let r = get(&app, "/api/v1/sessions/").await;
    r.expect(StatusCode::UNAUTHORIZED, "anonymous read");
    assert_eq!(keys(&r.json()), vec!["message"]);
    let r = post(
        &app,
        "/api/v1/sessions/",
        &session("s", Some("r"), json!({})),
    )
    .await;
    r.expect(StatusCode::UNAUTHORIZED, "anonymous write");
    assert!(r.json()["message"].is_string());

    // A token that does not exist is refused too.
    let r = reply(
        app.client
            .get("/api/v1/sessions/count")
            .header("authorization", bearer("nope"))
            .send()
            .await,
    )
    .await;
    r.expect(StatusCode::UNAUTHORIZED, "unknown token");

    // Read token: reads work, writes are forbidden.
    let r = reply(
        app.client
            .get("/api/v1/sessions/count")
            .header("authorization", bearer(&read))
            .send()
            .await,
    )
    .await;
    r.expect(StatusCode::OK, "read with a read token");
    assert_eq!(r.json(), json!({"count": 0}));
    let r = reply(
        app.client
            .post("/api/v1/sessions/")
            .header("authorization", bearer(&read))
            .body_json(&session("s", Some("r"), json!({})))
            .send()
            .await,
    )
    .await;
    r.expect(StatusCode::FORBIDDEN, "write with a read token");
    assert_eq!(keys(&r.json()), vec!["message"]);

    // Write token: writes work.
    let r = reply(
        app.client
            .post("/api/v1/sessions/")
            .header("authorization", bearer(&write))
            .body_json(&session("s", Some("r"), json!({})))
            .send()
            .await,
    )
    .await;
    r.expect(StatusCode::CREATED, "write with a write token");
    let r = reply(
        app.client
            .get("/api/v1/sessions/count")
            .header("authorization", bearer(&read))
            .send()
            .await,
    )
    .await;
    assert_eq!(r.json(), json!({"count": 1}));
}

#[tokio::test]
async fn one_metric_post_is_one_statement_and_names_an_unknown_context() {
    let app = TestApp::new().await;
    create(&app, "/api/v1/contexts/", &context("ctx")).await;
    create(
        &app,
        "/api/v1/sessions/",
        &session("s1", Some("abc"), json!({})),
    )
    .await;
    app.reset_statements();
    create(&app, "/api/v1/metrics/", &metric("s1", "ctx", "v")).await;
    assert_eq!(app.statements(), 1, "{:#?}", app.statement_log());

    let r = post(&app, "/api/v1/metrics/", &metric("s1", "nope", "v")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json(),
        json!({"errors": {"context_h": "unknown context 'nope'"}, "message": "Input payload validation failed"})
    );
    let count = get_ok(&app, "/api/v1/metrics/count").await;
    assert_eq!(count, json!({"count": 1}));
}

/// Totals are reused between pages for a moment (`--count-cache-ms`), but a write made through
/// the server shows at once: a client that posts and then lists sees its own rows counted.
#[tokio::test]
async fn list_totals_follow_writes_at_once() {
    let app = TestApp::with_config(|c| {
        c.monitor_page_size = 2;
        c.monitor_count_cache = std::time::Duration::from_secs(3600);
    })
    .await;
    seed(&app).await;
    let first = get_ok(&app, "/api/v1/metrics/").await;
    assert_eq!(first["total_page"], json!(2), "{first}");
    for variant in ["test_delta[1]", "test_delta[2]", "test_delta[3]"] {
        let r = post(&app, "/api/v1/metrics/", &metric(S1, CTX_A, variant)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    }
    let again = get_ok(&app, "/api/v1/metrics/").await;
    assert_eq!(again["total_page"], json!(4), "{again}");
    let last = get_ok(&app, "/api/v1/metrics/?page=4").await;
    assert_eq!(variants(&last), vec!["test_delta[3]"]);
}

/// A NUL character is text SQLite stores and PostgreSQL refuses: on PostgreSQL the write is a 400 in
/// the route's own dialect (never a 500), on SQLite it is stored. Either way nothing is half-written.
#[tokio::test]
async fn text_with_a_nul_character_is_never_a_server_error() {
    let app = TestApp::new().await;
    create(&app, "/api/v1/contexts/", &context(CTX_A)).await;
    create(
        &app,
        "/api/v1/sessions/",
        &session(S1, Some("main-1"), json!({})),
    )
    .await;
    let expected = if app.db.is_postgres() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::CREATED
    };
    let bad_metric = with(
        metric(S1, CTX_A, "test_nul[1]"),
        json!({"item_path": "tests.\u{0}x"}),
    );
    let r = post(&app, "/api/v1/metrics/", &bad_metric).await;
    r.expect(expected, "POST /api/v1/metrics/ with a NUL");
    let bad_session = session("nul-session", Some("main\u{0}"), json!({"k": "v\u{0}"}));
    let r = post(&app, "/api/v1/sessions/", &bad_session).await;
    r.expect(expected, "POST /api/v1/sessions/ with a NUL");
    if app.db.is_postgres() {
        assert!(r.text().contains("NUL"), "{}", r.text());
        // The session row was not left behind without its tags.
        get_no_content(&app, "/api/v1/sessions/nul-session").await;
    }
}

// ----------------------------------------------------------------------------------------------
// Side by side with the original server
// ----------------------------------------------------------------------------------------------

/// The real monitor-server-api 1.1.0's answers, recorded by `tests/fixtures/monitor/capture_peer.py`
/// into `peer_answers.json`: the same writes replayed here, then each recorded request must get
/// the original's status and body, values, order and key order alike. The one deliberate
/// difference (docs/compat.md): `/filters/scm/<prefix>/sessions` sends each session's tags where
/// the original sends `"tags": null`.
#[tokio::test]
async fn answers_match_the_original_server() {
    let recorded = fixture("peer_answers.json");
    let page_size = recorded["page_size"].as_u64().expect("page_size");
    let app = TestApp::with_config(|c| c.monitor_page_size = page_size).await;
    let mut tags_of = std::collections::HashMap::new();
    for write in recorded["seed"].as_array().expect("seed") {
        let (method, path, body) = (&write[0], write[1].as_str().expect("path"), &write[2]);
        assert_eq!(method, "POST");
        if path == "/api/v1/sessions/" {
            let tags: Vec<Value> = body["description"]
                .as_object()
                .expect("description")
                .iter()
                .map(|(name, value)| json!({"name": name, "value": value}))
                .collect();
            tags_of.insert(body["session_h"].clone(), Value::Array(tags));
        }
        create(&app, path, body).await;
    }
    let answers = recorded["answers"].as_array().expect("answers");
    assert!(answers.len() >= 10, "the recording holds {}", answers.len());
    for a in answers {
        let path = a["path"].as_str().expect("path");
        let what = format!("{} {path} {}", a["method"], a["body"]);
        let got = match a["method"].as_str() {
            Some("GET") => get(&app, path).await,
            Some("POST") => post(&app, path, &a["body"]).await,
            other => panic!("method {other:?}"),
        };
        let status = a["status"].as_u64().expect("status");
        assert_eq!(
            u64::from(got.status.as_u16()),
            status,
            "{what}: {}",
            got.text()
        );
        let mut expected = a["answer"].clone();
        if path.starts_with("/api/v1/filters/scm/") {
            for s in expected["sessions"].as_array_mut().expect("sessions") {
                assert_eq!(s["tags"], Value::Null, "{what}: the recording changed");
                s["tags"] = tags_of[&s["session_h"]].clone();
            }
        }
        assert_eq!(got.json(), expected, "{what}");
        assert_keys(&got.json(), &expected, &format!("{what}: key order"));
    }
}

/// The three POST routes name every wrong field at once, as flask-restx validated a payload:
/// missing fields by name, then mistyped ones in the model's order. The original had no
/// validation on `/sessions/` and `/contexts/` (a 500); testgraph answers them in the same shape.
#[tokio::test]
async fn posts_report_every_wrong_field() {
    let app = TestApp::new().await;
    let r = post(&app, "/api/v1/contexts/", &json!({"cpu_count": "two"})).await;
    r.expect(StatusCode::BAD_REQUEST, "POST /contexts/ {}");
    assert_eq!(
        r.json(),
        json!({
            "errors": {
                "cpu_frequency": "'cpu_frequency' is a required property",
                "cpu_type": "'cpu_type' is a required property",
                "h": "'h' is a required property",
                "machine_arch": "'machine_arch' is a required property",
                "machine_node": "'machine_node' is a required property",
                "machine_type": "'machine_type' is a required property",
                "python_info": "'python_info' is a required property",
                "ram_total": "'ram_total' is a required property",
                "system_info": "'system_info' is a required property",
                "cpu_count": "'two' is not of type 'integer'"
            },
            "message": "Input payload validation failed"
        })
    );
    assert_eq!(
        keys(&r.json()["errors"])[..3],
        ["cpu_frequency", "cpu_type", "h"]
    );
    let r = post(&app, "/api/v1/sessions/", &json!({"scm_ref": 5})).await;
    r.expect(StatusCode::BAD_REQUEST, "POST /sessions/");
    assert_eq!(
        r.json(),
        json!({
            "errors": {
                "description": "'description' is a required property",
                "run_date": "'run_date' is a required property",
                "session_h": "'session_h' is a required property",
                "scm_ref": "5 is not of type 'string'"
            },
            "message": "Input payload validation failed"
        })
    );
    assert_eq!(
        keys(&r.json()["errors"]),
        ["description", "run_date", "session_h", "scm_ref"]
    );
    // Nothing was stored by either refusal.
    get_no_content(&app, "/api/v1/contexts/").await;
    get_no_content(&app, "/api/v1/sessions/").await;
}
