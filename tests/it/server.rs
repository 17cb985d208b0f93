//! The server's own routes and artefacts: health, readiness, the OpenAPI document, the committed
//! GraphQL schema, GraphiQL, and cross-origin requests (CORS).

use poem::http::StatusCode;

use crate::common::TestApp;

#[tokio::test]
async fn healthz_and_readyz_answer() {
    let app = TestApp::new().await;
    let resp = app.client.get("/healthz").send().await;
    resp.assert_status_is_ok();
    resp.assert_json(serde_json::json!({"status": "ok"})).await;
    let resp = app.client.get("/readyz").send().await;
    resp.assert_status_is_ok();
    resp.assert_json(serde_json::json!({"status": "ready"}))
        .await;
}

#[tokio::test]
async fn readyz_reports_a_closed_database() {
    let app = TestApp::new().await;
    app.state.db.clone().close().await.expect("close pool");
    let resp = app.client.get("/readyz").send().await;
    resp.assert_status(StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn schema_graphql_is_up_to_date() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql");
    let current = testgraph::graphql::sdl();
    assert!(
        committed == current,
        "schema.graphql is stale: run `cargo run -- export-schema` and commit the result"
    );
}

#[tokio::test]
async fn openapi_lists_every_monitor_route() {
    let app = TestApp::new().await;
    let resp = app.client.get("/openapi.json").send().await;
    resp.assert_status_is_ok();
    let doc: serde_json::Value = resp.0.into_body().into_json().await.expect("json");
    let paths = doc["paths"].as_object().expect("paths");
    let api = testgraph::rest::monitor::api();
    for route in api.docs() {
        let path = route
            .path
            .split('/')
            .map(|s| match s.strip_prefix(':') {
                Some(p) => format!("{{{p}}}"),
                None => s.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("/");
        let full = format!("/api/v1{path}");
        let method = route.method.as_str().to_lowercase();
        assert!(
            paths.get(&full).and_then(|p| p.get(&method)).is_some(),
            "{method} {full} missing from /openapi.json"
        );
    }
    // The document references only schemas it defines.
    let text = doc.to_string();
    for (i, _) in text.match_indices("#/components/schemas/") {
        let name: String = text[i + 21..]
            .chars()
            .take_while(|c| c.is_alphanumeric())
            .collect();
        assert!(
            doc["components"]["schemas"].get(&name).is_some(),
            "schema {name} referenced but not defined"
        );
    }
}

#[tokio::test]
async fn the_front_page_leads_browsers_and_clients_to_every_surface() {
    let app = TestApp::new().await;
    let resp = app
        .client
        .get("/")
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await;
    resp.assert_status_is_ok();
    resp.assert_content_type("text/html; charset=utf-8");
    resp.assert_header("vary", "Accept");
    let html = resp.0.into_body().into_string().await.expect("body");
    // Relative links: the page also works under a reverse proxy's path prefix.
    for link in [
        r#"href="graphiql""#,
        r#"href="docs""#,
        r#"href="openapi.json""#,
        r#"href="healthz""#,
    ] {
        assert!(html.contains(link), "{link} in {html}");
    }
    for api in testgraph::rest::apis() {
        let prefix = api.prefix.trim_start_matches('/');
        assert!(html.contains(prefix), "{prefix} in {html}");
    }

    let resp = app.client.get("/").send().await;
    resp.assert_status_is_ok();
    resp.assert_content_type("application/json");
    let index: serde_json::Value = resp.0.into_body().into_json().await.expect("json");
    assert_eq!(index["graphql"], "graphql");
    assert_eq!(index["openapi"], "openapi.json");
    assert_eq!(index["docs"], "docs");
    let prefixes: Vec<&str> = index["rest"]
        .as_array()
        .expect("rest")
        .iter()
        .filter_map(|a| a["prefix"].as_str())
        .collect();
    assert_eq!(
        prefixes,
        [
            "/api/v1",
            "/rest/v1",
            "/job",
            "/v1",
            "/api/v1/requests",
            "/bulk/v1"
        ]
    );
}

/// The `src`/`href` values of a page.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            out.push(part.split('"').next().unwrap_or_default().to_owned());
        }
    }
    out
}

#[tokio::test]
async fn graphiql_and_the_rest_reference_are_served_offline_from_relative_urls() {
    let app = TestApp::new().await;
    for (page, marker) in [
        ("/graphiql", "GraphiQL.createFetcher"),
        ("/docs", "Redoc.init"),
    ] {
        let resp = app.client.get(page).send().await;
        resp.assert_status_is_ok();
        resp.assert_content_type("text/html; charset=utf-8");
        let body = resp.0.into_body().into_string().await.expect("body");
        assert!(body.contains(marker), "{page}: {body}");
        assert!(
            !body.contains("://"),
            "{page} must load nothing from another host"
        );
        let found = links(&body);
        assert!(!found.is_empty(), "{page} loads its bundles");
        for link in found {
            assert!(
                link.starts_with("assets/"),
                "{page}: {link} must be relative"
            );
            let asset = app.client.get(format!("/{link}")).send().await;
            asset.assert_status_is_ok();
        }
    }
    // The examples: one tab per domain, and the endpoint relative to the page.
    let body = app
        .client
        .get("/graphiql")
        .send()
        .await
        .0
        .into_body()
        .into_string()
        .await
        .unwrap();
    for root in [
        "monitorSessions",
        "evergreenVersions",
        "kernelciJobs",
        "stacktachStreams",
    ] {
        assert!(body.contains(root), "an example of {root}");
    }
    assert!(body.contains(r#"new URL("graphql", window.location.href)"#));
}

#[tokio::test]
async fn bundles_are_cacheable_and_compressed_when_asked() {
    let app = TestApp::new().await;
    let path = "/assets/graphiql-4.1.2.min.js";
    let resp = app.client.get(path).send().await;
    resp.assert_status_is_ok();
    resp.assert_content_type("text/javascript; charset=utf-8");
    let headers = resp.0.headers().clone();
    let etag = headers
        .get("etag")
        .expect("an ETag")
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        headers.get("cache-control").unwrap(),
        "public, max-age=31536000, immutable"
    );
    assert!(headers.get("content-encoding").is_none());
    let plain = resp.0.into_body().into_vec().await.unwrap();
    // gzip when asked, the same bytes once decompressed.
    let resp = app
        .client
        .get(path)
        .header("Accept-Encoding", "gzip, br")
        .send()
        .await;
    assert_eq!(resp.0.headers().get("content-encoding").unwrap(), "gzip");
    assert_eq!(resp.0.headers().get("vary").unwrap(), "Accept-Encoding");
    let packed = resp.0.into_body().into_vec().await.unwrap();
    assert!(packed.len() < plain.len() / 2);
    let mut unpacked = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&packed[..]),
        &mut unpacked,
    )
    .unwrap();
    assert_eq!(unpacked, plain);
    // Revalidation: 304 without a body.
    let resp = app
        .client
        .get(path)
        .header("If-None-Match", etag.as_str())
        .send()
        .await;
    resp.assert_status(poem::http::StatusCode::NOT_MODIFIED);
    assert!(resp.0.into_body().into_vec().await.unwrap().is_empty());
    // Pages are revalidated on every load; unknown assets are 404.
    let page = app.client.get("/graphiql").send().await;
    assert_eq!(page.0.headers().get("cache-control").unwrap(), "no-cache");
    let tag = page
        .0
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    app.client
        .get("/graphiql")
        .header("If-None-Match", tag.as_str())
        .send()
        .await
        .assert_status(poem::http::StatusCode::NOT_MODIFIED);
    app.client
        .get("/assets/nothing.js")
        .send()
        .await
        .assert_status(poem::http::StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn no_migrate_refuses_a_database_with_pending_migrations() {
    let db = crate::common::TestDb::new().await;
    let mut config = testgraph::config::Config::with_database(db.url.clone());
    config.migrate_on_start = false;
    match testgraph::app::prepare(config).await {
        Err(testgraph::app::StartError::Pending(names)) => assert!(names.contains("monitor")),
        Err(other) => panic!("expected pending migrations, got {other}"),
        Ok(_) => panic!("a fresh database must have pending migrations"),
    }
}

#[tokio::test]
async fn migrations_roll_back_and_reapply() {
    let app = TestApp::new().await;
    // One connection, as `testgraph migrate` opens: an SQLite connection of a pool that sat idle
    // while another dropped the tables keeps its cached schema until its next transaction, and
    // preparing `CREATE INDEX` against that stale schema fails with "already exists".
    let db = testgraph::db::connect(&app.db.url, 1)
        .await
        .expect("connect");
    let all = testgraph::db::migration_status(&db)
        .await
        .expect("status")
        .len() as u32;
    testgraph::db::migrate_down(&db, all).await.expect("down");
    let status = testgraph::db::migration_status(&db).await.expect("status");
    assert!(
        status.iter().all(|(_, applied)| !applied),
        "all rolled back: {status:?}"
    );
    testgraph::db::migrate_up(&db).await.expect("up again");
    let status = testgraph::db::migration_status(&db).await.expect("status");
    assert!(status.iter().all(|(_, applied)| *applied));
}

/// Rolls `db` back to just before the migration `name`, whatever came after it.
async fn migrate_down_to_before(db: &sea_orm::DatabaseConnection, name: &str) {
    use migration::MigratorTrait;
    let names: Vec<String> = migration::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let at = names
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("no migration {name}"));
    testgraph::db::migrate_down(db, (names.len() - at) as u32)
        .await
        .unwrap_or_else(|e| panic!("down past {name}: {e}"));
}

/// The migration that copies session and context hashes onto metrics fills in the rows stored
/// before it.
#[tokio::test]
async fn metric_hash_migration_fills_stored_rows() {
    use sea_orm::ConnectionTrait;
    use testgraph::service::monitor::{self as mon, NewSession};
    let app = TestApp::new().await;
    // One connection for the whole test, as in `migrations_roll_back_and_reapply`.
    let db = &testgraph::db::connect(&app.db.url, 1)
        .await
        .expect("connect");
    let ctx = mon::create_context(db, crate::graphql_monitor::context("c0ffee"))
        .await
        .expect("context");
    let session = mon::create_session(
        db,
        NewSession {
            h: "5e55".into(),
            run_date: "2024-01-01T00:00:00".into(),
            scm_ref: None,
            tags: vec![],
        },
    )
    .await
    .expect("session");
    migrate_down_to_before(db, "m20261124_000004_metric_hashes").await;
    db.execute_unprepared(&format!(
        "INSERT INTO monitor_metrics (session_id, context_id, item_start_time, item_path, item, \
         item_variant, item_fs_loc, kind, total_time, user_time, kernel_time, cpu_usage, mem_usage) \
         VALUES ({}, {}, '2024-01-01T00:00:00', 'p', 'old', '', 'f.py', 'function', 1, 1, 0, 0.5, 1)",
        session.id, ctx.id
    ))
    .await
    .expect("a metric stored before the migration");
    testgraph::db::migrate_up(db).await.expect("up again");
    let stored = mon::list_metrics(
        db,
        &Default::default(),
        Default::default(),
        &testgraph::service::Slice::Offset {
            offset: 0,
            limit: 10,
        },
    )
    .await
    .expect("list");
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].session_h.as_str(), stored[0].context_h.as_str()),
        ("5e55", "c0ffee")
    );
}

/// The `Access-Control-Allow-Origin` of an answer, if it has one.
fn allowed_origin(resp: &poem::test::TestResponse) -> Option<&str> {
    resp.0
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap())
}

/// Every `Vary` header of an answer, in order.
fn vary(resp: &poem::test::TestResponse) -> Vec<&str> {
    resp.0
        .headers()
        .get_all("vary")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect()
}

fn cors(origins: &[&str]) -> testgraph::cors::CorsOrigins {
    let values: Vec<String> = origins.iter().map(|s| s.to_string()).collect();
    testgraph::cors::CorsOrigins::parse(&values).expect("origins")
}

/// A dashboard on another origin can call `/graphql` once the operator names its origin: the
/// preflight is answered before routing and every answer names the origin. Other origins are
/// served as without CORS (the browser withholds the answer), never refused.
#[tokio::test]
async fn cors_lets_named_origins_read_answers() {
    let dash = "https://dash.example.com";
    let app = TestApp::with_config(|c| c.cors_origins = cors(&[dash])).await;

    let pre = app
        .client
        .options("/graphql")
        .header("origin", dash)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, authorization",
        )
        .send()
        .await;
    assert_eq!(pre.0.status(), StatusCode::NO_CONTENT);
    let h = pre.0.headers();
    assert_eq!(allowed_origin(&pre), Some(dash));
    assert!(
        h.get("access-control-allow-methods")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("POST")
    );
    assert_eq!(
        h.get("access-control-allow-headers").unwrap(),
        "content-type, authorization"
    );
    assert!(h.get("access-control-allow-credentials").is_none());

    let query = serde_json::json!({"query": "{ monitorSessions { totalCount } }"});
    let resp = app
        .client
        .post("/graphql")
        .header("origin", dash)
        .body_json(&query)
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(allowed_origin(&resp), Some(dash));
    assert_eq!(vary(&resp), ["Accept", "Origin"]);

    // The legacy routes too, errors included.
    let resp = app
        .client
        .get("/api/v1/sessions/nope")
        .header("origin", dash)
        .send()
        .await;
    assert_eq!(allowed_origin(&resp), Some(dash));

    // Another origin: answered, without the header.
    let resp = app
        .client
        .post("/graphql")
        .header("origin", "https://elsewhere.example")
        .body_json(&query)
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(allowed_origin(&resp), None);
    // Its answer still varies with `Origin`, so that no cache hands it to the dashboard.
    assert_eq!(vary(&resp), ["Accept", "Origin"]);
}

#[tokio::test]
async fn cors_is_off_by_default_and_a_star_allows_any_origin() {
    let app = TestApp::new().await;
    let resp = app
        .client
        .get("/healthz")
        .header("origin", "https://dash.example.com")
        .send()
        .await;
    resp.assert_status_is_ok();
    assert_eq!(allowed_origin(&resp), None);
    assert!(
        vary(&resp).is_empty(),
        "no CORS, nothing varies with Origin"
    );

    let app = TestApp::with_config(|c| c.cors_origins = cors(&["*"])).await;
    let resp = app
        .client
        .get("/healthz")
        .header("origin", "http://localhost:5173")
        .send()
        .await;
    assert_eq!(allowed_origin(&resp), Some("http://localhost:5173"));
}

/// The migration that keeps StackTach's string traits as rows on SQLite (000010) copies in the
/// traits of the events and streams stored before it: the filters find them afterwards. (On
/// PostgreSQL it makes nothing and the filters read the JSON: the same answers.)
#[tokio::test]
async fn stacktach_string_migration_fills_stored_rows() {
    use std::collections::BTreeMap;
    use testgraph::service::stacktach::{self as stt, EventFilter, StreamFilter, TraitValue};
    let app = TestApp::new().await;
    let db = &testgraph::db::connect(&app.db.url, 1)
        .await
        .expect("connect");
    let triggers = stt::definitions::load(
        "- name: by_host\n  distinguished_by: [host]\n  expiration: \"$first + 1d\"\n  \
         expire_pipeline: p\n  match_criteria: [{event_type: compute.*}]\n  \
         fire_criteria: [{event_type: compute.instance.delete.end}]\n",
    )
    .expect("a trigger");
    let at = chrono::NaiveDate::from_ymd_opt(2015, 3, 3)
        .and_then(|d| d.and_hms_opt(10, 0, 0))
        .expect("a time");
    let events: Vec<stt::NewEvent> = ["compute-01", "compute-02"]
        .iter()
        .enumerate()
        .map(|(i, host)| stt::NewEvent {
            message_id: format!("m-{i}"),
            event_type: "compute.instance.create.end".into(),
            generated: at,
            traits: BTreeMap::from([
                ("host".to_owned(), TraitValue::Text((*host).to_owned())),
                ("memory_mb".to_owned(), TraitValue::Int(512)),
            ]),
        })
        .collect();
    stt::ingest(db, &events, &triggers, at)
        .await
        .expect("ingest");

    migrate_down_to_before(db, "m20261206_000010_stacktach_sqlite_trait_strings").await;
    testgraph::db::migrate_up(db).await.expect("up again");

    let traits = vec![("host".to_owned(), "compute-02".to_owned())];
    let found = stt::list_events(
        db,
        &EventFilter {
            traits: traits.clone(),
            ..EventFilter::default()
        },
        10,
    )
    .await
    .expect("events");
    assert_eq!(
        found
            .iter()
            .map(|e| e.message_id.as_str())
            .collect::<Vec<_>>(),
        ["m-1"]
    );
    let streams = stt::list_streams(
        db,
        &StreamFilter {
            dist_traits: traits,
            ..StreamFilter::default()
        },
        10,
    )
    .await
    .expect("streams");
    assert_eq!(streams.len(), 1);
    assert_eq!(streams[0].dist_traits, r#"{"host":"compute-02"}"#);
}
