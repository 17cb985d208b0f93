//! Evergreen REST v1 (seed 001) under `/rest/v1`: every route against the doc's example
//! (`tests/fixtures/evergreen/`) for key order and value types, Go's byte-level formatting, every
//! documented error, both slash forms, gorilla's plain-text 404, a version's lifecycle seen
//! through every route, the PATCH activation cascade, the recent-versions window, the OpenAPI
//! document and the token policy. Data goes in through the Evergreen service's ingestion
//! functions only, with explicit times so ids and times are deterministic.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use poem::http::StatusCode;
use serde_json::{Value, json};
use testgraph::service::evergreen::{
    self as svc, NewArtifact, NewTestResult, NewVersion, ProjectInput, TaskDef, TaskEnd, VariantDef,
};
use testgraph::service::tokens::Scope;

use crate::common::TestApp;
use crate::http::{self, Reply, Rules, assert_shape, get, patch, reply};

const JSON_TYPE: &str = "application/json; charset=UTF-8";
const GORILLA_404: &str = "404 page not found\n";
const ZERO: &str = "0001-01-01T00:00:00Z";

/// The doc's examples' revisions.
const REV_D477: &str = "d477da53e119b207de45880434ccef1e47084652";
const REV_7FFA: &str = "7ffac7f351b80f84589349e44693a94d5cc5e14c";
const REV_3585: &str = "3585388b1591dfca47ac26a5b9a564ec8f138a5e";

// ----------------------------------------------------------------------------------------------
// Helpers
// ----------------------------------------------------------------------------------------------

/// Evergreen's dialect on a reply.
trait GoReply {
    fn expect_json(&self, status: StatusCode, what: &str) -> Value;
    fn expect_gorilla_404(&self, what: &str);
}

impl GoReply for Reply {
    /// Asserts a status and the Go JSON content type; returns the body.
    fn expect_json(&self, status: StatusCode, what: &str) -> Value {
        assert_eq!(self.status, status, "{what}: body {}", self.text());
        assert_eq!(
            self.content_type.as_deref(),
            Some(JSON_TYPE),
            "{what}: content type"
        );
        self.json()
    }

    /// Asserts gorilla/mux's plain-text not-found answer.
    fn expect_gorilla_404(&self, what: &str) {
        assert_eq!(
            self.status,
            StatusCode::NOT_FOUND,
            "{what}: {}",
            self.text()
        );
        assert_eq!(
            self.content_type.as_deref(),
            Some("text/plain; charset=utf-8"),
            "{what}"
        );
        assert_eq!(self.text(), GORILLA_404, "{what}");
    }
}

/// A GET that must answer 200 in the dialect; returns its JSON.
async fn get_ok(app: &TestApp, path: &str) -> Value {
    get(app, path)
        .await
        .expect_json(StatusCode::OK, &format!("GET {path}"))
}

/// Asserts an error answer `{"message": text}`, rendered as Go does.
fn assert_message(r: &Reply, status: StatusCode, text: &str, what: &str) {
    let body = r.expect_json(status, what);
    assert_eq!(body, json!({ "message": text }), "{what}");
    // Go escapes `<`, `>` and `&` in strings.
    let quoted = serde_json::to_string(text)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    assert_eq!(
        r.text(),
        format!("{{\n  \"message\": {quoted}\n}}"),
        "{what}: Go's indented form"
    );
}

fn fixture(name: &str) -> Value {
    http::fixture("evergreen", name)
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, ms: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|d| d.and_hms_milli_opt(h, mi, s, ms))
        .expect("valid time")
}

/// The instant of an RFC 3339 time, whatever its offset.
fn instant(s: &str) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s:?} is not RFC 3339: {e}"))
}

/// Go's RFC3339Nano text of a UTC time: the fraction's trailing zeros stripped, none when zero.
fn utc(t: NaiveDateTime) -> String {
    use chrono::Timelike;
    let base = t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let frac = format!("{:09}", t.nanosecond());
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{base}Z")
    } else {
        format!("{base}.{frac}Z")
    }
}

/// Asserts that `ours` has the documented shape of `doc` as Go wrote it: keys in struct order,
/// typed values (integers stay integers), times in UTC; `maps` names the members that are Go
/// maps and their levels (`http::Rules`).
fn assert_go_shape(ours: &Value, doc: &Value, maps: &[(&str, usize)], at: &str) {
    let rules = Rules {
        maps,
        types: true,
        utc_times: true,
    };
    assert_shape(ours, doc, rules, at);
}

/// Go's `json.MarshalIndent(v, "", "  ")` of a body without `<`, `>`, `&` or floats is what
/// serde_json's pretty printer writes (two-space indent, `"key": value`, `{}`/`[]`), and neither
/// adds a trailing newline: an independent check of the bytes.
fn assert_go_indent(r: &Reply, what: &str) {
    let text = r.text();
    assert!(!text.ends_with('\n'), "{what}: no trailing newline");
    let pretty = serde_json::to_string_pretty(&r.json()).unwrap_or_default();
    assert_eq!(text, pretty, "{what}: Go's two-space indentation");
}

// ---- data, through the service only ----------------------------------------------------------

fn project_input(identifier: &str, variants: &[(&str, &str, &[&str])]) -> ProjectInput {
    let mut names: Vec<&str> = Vec::new();
    for (_, _, tasks) in variants {
        for t in tasks.iter() {
            if !names.contains(t) {
                names.push(t);
            }
        }
    }
    ProjectInput {
        identifier: identifier.into(),
        display_name: identifier.into(),
        owner_name: "mongodb".into(),
        repo_name: "mongo".into(),
        branch_name: "master".into(),
        repo_kind: "github".into(),
        batch_time: 0,
        remote: false,
        remote_path: String::new(),
        enabled: true,
        private: false,
        tasks: names
            .iter()
            .map(|n| TaskDef {
                name: (*n).into(),
                depends_on: if *n == "compile" || !names.contains(&"compile") {
                    vec![]
                } else {
                    vec!["compile".into()]
                },
            })
            .collect(),
        variants: variants
            .iter()
            .map(|(name, display, tasks)| VariantDef {
                name: (*name).into(),
                display_name: (*display).into(),
                tasks: tasks.iter().map(|t| (*t).to_owned()).collect(),
            })
            .collect(),
    }
}

async fn upsert(app: &TestApp, input: ProjectInput) {
    svc::upsert_project(&app.state.db, input)
        .await
        .expect("project");
}

async fn version(
    app: &TestApp,
    project: &str,
    revision: &str,
    created: NaiveDateTime,
    requester: Option<&str>,
) -> svc::Version {
    svc::create_version(
        &app.state.db,
        NewVersion {
            project: project.into(),
            revision: revision.into(),
            author: "Eric Milkie".into(),
            author_email: "milkie@10gen.com".into(),
            message: "SERVER-14613 corrections for gcc".into(),
            create_time: Some(created),
            activated: None,
            requester: requester.map(str::to_owned),
        },
    )
    .await
    .expect("version")
}

fn build_id(project: &str, variant: &str, revision: &str, created: NaiveDateTime) -> String {
    svc::build_id(project, variant, revision, created)
}

fn task_id(
    project: &str,
    variant: &str,
    revision: &str,
    created: NaiveDateTime,
    task: &str,
) -> String {
    svc::task_id(
        &build_id(project, variant, revision, created),
        task,
        variant,
    )
}

/// Dispatches a task to `host` (of `distro`) at `dispatched` and starts it at `start`.
async fn dispatch_and_start(
    app: &TestApp,
    task_id: &str,
    (host, distro): (&str, &str),
    dispatched: Option<NaiveDateTime>,
    start: NaiveDateTime,
) {
    let db = &app.state.db;
    svc::dispatch_task(db, task_id, host, distro, dispatched)
        .await
        .expect("dispatch");
    svc::start_task(db, task_id, Some(start))
        .await
        .expect("start");
}

/// Dispatches, starts and finishes a task at the given times.
async fn run_task(
    app: &TestApp,
    task_id: &str,
    start: NaiveDateTime,
    finish: NaiveDateTime,
    status: &str,
) {
    dispatch_and_start(
        app,
        task_id,
        ("i-58e6e573", "rhel55-test"),
        Some(start - chrono::Duration::seconds(3)),
        start,
    )
    .await;
    finish_task(app, task_id, finish, status).await;
}

async fn finish_task(app: &TestApp, task_id: &str, finish: NaiveDateTime, status: &str) {
    svc::finish_task(
        &app.state.db,
        task_id,
        TaskEnd {
            status: status.into(),
            kind: if status == "failed" { "test" } else { "" }.into(),
            desc: String::new(),
            timed_out: false,
        },
        Some(finish),
    )
    .await
    .expect("finish");
}

fn ns(from: NaiveDateTime, to: NaiveDateTime) -> i64 {
    (to - from).num_nanoseconds().expect("fits")
}

/// The doc's project: `mongodb-mongo-master` with the variants its examples name.
async fn mongo_project(app: &TestApp) {
    upsert(
        app,
        project_input(
            "mongodb-mongo-master",
            &[
                ("linux-64", "Linux 64-bit", &["compile", "aggregation"]),
                (
                    "linux-64-debug",
                    "Linux 64-bit DEBUG",
                    &["compile", "aggregation"],
                ),
                (
                    "amazon",
                    "Amazon 64-bit",
                    &["compile", "aggregation", "jsCore"],
                ),
            ],
        ),
    )
    .await;
}

/// The doc's version d477da53: created 2014-07-22T13:02:09.162-04:00, one task started at
/// 13:03:18.151-04:00, so the version is `started`.
const D477_CREATED: (u32, u32, u32) = (17, 2, 9);

fn d477_created() -> NaiveDateTime {
    at(
        2014,
        7,
        22,
        D477_CREATED.0,
        D477_CREATED.1,
        D477_CREATED.2,
        162,
    )
}

async fn doc_version(app: &TestApp) -> String {
    mongo_project(app).await;
    let v = version(app, "mongodb-mongo-master", REV_D477, d477_created(), None).await;
    let compile = task_id(
        "mongodb-mongo-master",
        "linux-64",
        REV_D477,
        d477_created(),
        "compile",
    );
    dispatch_and_start(
        app,
        &compile,
        ("i-1", "rhel55-test"),
        None,
        at(2014, 7, 22, 17, 3, 18, 151),
    )
    .await;
    v.version_id
}

// ----------------------------------------------------------------------------------------------
// Each route against the doc's example
// ----------------------------------------------------------------------------------------------

#[tokio::test]
async fn recent_versions_match_the_doc_example() {
    let app = TestApp::new().await;
    let vid = doc_version(&app).await;
    let r = get(&app, "/rest/v1/projects/mongodb-mongo-master/versions").await;
    let body = r.expect_json(StatusCode::OK, "recent versions");
    assert_go_indent(&r, "recent versions");
    let doc = fixture("recent_versions.json");
    assert_go_shape(&body, &doc, &[("builds", 1), ("tasks", 1)], "recent");
    assert_eq!(body["project"], json!("mongodb-mongo-master"));
    let v = &body["versions"][0];
    assert_eq!(v["version_id"], json!(vid));
    assert_eq!(v["version_id"], doc["versions"][0]["version_id"]);
    // The doc's amazon build and task ids are exactly Evergreen's id formats.
    let doc_amazon = &doc["versions"][0]["builds"]["amazon"];
    assert_eq!(v["builds"]["amazon"]["build_id"], doc_amazon["build_id"]);
    assert_eq!(v["builds"]["amazon"]["name"], doc_amazon["name"]);
    assert_eq!(
        v["builds"]["amazon"]["tasks"]["aggregation"],
        doc_amazon["tasks"]["aggregation"]
    );
    assert_eq!(
        v["builds"]
            .as_object()
            .map(|b| b.keys().cloned().collect::<Vec<_>>()),
        Some(vec![
            "amazon".to_owned(),
            "linux-64".to_owned(),
            "linux-64-debug".to_owned()
        ])
    );
    assert_eq!(
        v["builds"]["amazon"]["tasks"]
            .as_object()
            .map(|t| t.keys().cloned().collect::<Vec<_>>()),
        Some(vec![
            "aggregation".to_owned(),
            "compile".to_owned(),
            "jsCore".to_owned()
        ])
    );
    assert_eq!(
        v["builds"]["linux-64"]["tasks"]["compile"]["status"],
        json!("started")
    );

    // An unknown project is a 200 with no versions, the identifier echoed as given.
    let r = get(&app, "/rest/v1/projects/no-such-project/versions").await;
    r.expect_json(StatusCode::OK, "unknown project");
    assert_eq!(
        r.text(),
        "{\n  \"project\": \"no-such-project\",\n  \"versions\": []\n}"
    );
}

#[tokio::test]
async fn recent_versions_are_the_ten_newest_commits() {
    let app = TestApp::new().await;
    upsert(
        &app,
        project_input("proj", &[("ubuntu", "Ubuntu", &["compile"])]),
    )
    .await;
    for i in 0..12u32 {
        version(
            &app,
            "proj",
            &format!("{i:040x}"),
            at(2015, 1, 1, 0, i, 0, 0),
            None,
        )
        .await;
    }
    // A patch is newer than every commit but never listed.
    version(
        &app,
        "proj",
        "patchrev",
        at(2015, 2, 1, 0, 0, 0, 0),
        Some("patch_request"),
    )
    .await;
    let body = get_ok(&app, "/rest/v1/projects/proj/versions").await;
    let revisions: Vec<String> = body["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["revision"].as_str().unwrap_or_default().to_owned())
        .collect();
    let expected: Vec<String> = (2..12u32).rev().map(|i| format!("{i:040x}")).collect();
    assert_eq!(revisions, expected, "the 10 newest commits, newest first");
}

#[tokio::test]
async fn version_by_id_and_by_revision_match_the_doc_example() {
    let app = TestApp::new().await;
    let vid = doc_version(&app).await;
    let doc = fixture("version.json");
    let by_id = get(&app, &format!("/rest/v1/versions/{vid}")).await;
    let body = by_id.expect_json(StatusCode::OK, "version");
    assert_go_indent(&by_id, "version");
    assert_go_shape(&body, &doc, &[], "version");
    for key in [
        "id",
        "finish_time",
        "project",
        "revision",
        "author",
        "author_email",
        "message",
        "status",
        "activated",
        "owner_name",
        "repo_name",
        "branch_name",
        "repo_kind",
        "batch_time",
        "identifier",
        "remote",
        "remote_path",
        "requester",
    ] {
        assert_eq!(body[key], doc[key], "version.{key}");
    }
    // The same instants as the doc, written in UTC.
    for key in ["create_time", "start_time"] {
        let ours = body[key].as_str().unwrap_or_default();
        assert!(ours.ends_with('Z'), "{key} in UTC");
        assert_eq!(
            instant(ours),
            instant(doc[key].as_str().unwrap_or_default()),
            "{key}"
        );
    }
    // The doc's two builds are our first two (variant order), with display names.
    assert_eq!(body["builds"][0], doc["builds"][0]);
    assert_eq!(body["builds"][1], doc["builds"][1]);
    assert_eq!(body["build_variants"][0], doc["build_variants"][0]);
    assert_eq!(body["build_variants"][1], doc["build_variants"][1]);
    assert_eq!(body["build_variants"][2], json!("Amazon 64-bit"));
    assert_eq!(body["order"], json!(1));

    let by_rev = get(
        &app,
        &format!("/rest/v1/projects/mongodb-mongo-master/revisions/{REV_D477}"),
    )
    .await;
    by_rev.expect_json(StatusCode::OK, "by revision");
    assert_eq!(
        by_rev.raw, by_id.raw,
        "the revision route answers the same object"
    );

    assert_message(
        &get(&app, "/rest/v1/versions/nope").await,
        StatusCode::NOT_FOUND,
        "Error finding version 'nope'",
        "unknown version",
    );
    assert_message(
        &get(
            &app,
            "/rest/v1/projects/mongodb-mongo-master/revisions/d477da53",
        )
        .await,
        StatusCode::NOT_FOUND,
        "Error finding revision 'd477da53' for project 'mongodb-mongo-master'",
        "a short revision is not a revision",
    );
    assert_message(
        &get(
            &app,
            &format!("/rest/v1/projects/nope/revisions/{REV_D477}"),
        )
        .await,
        StatusCode::NOT_FOUND,
        &format!("Error finding revision '{REV_D477}' for project 'nope'"),
        "unknown project",
    );
}

#[tokio::test]
async fn a_version_without_builds_has_null_lists_and_patches_are_not_revisions() {
    let app = TestApp::new().await;
    upsert(&app, project_input("empty", &[])).await;
    let v = version(&app, "empty", "abc", at(2015, 1, 1, 0, 0, 0, 0), None).await;
    let body = get_ok(&app, &format!("/rest/v1/versions/{}", v.version_id)).await;
    assert_eq!(body["builds"], Value::Null, "Go's nil slice");
    assert_eq!(body["build_variants"], Value::Null);
    assert_eq!(body["start_time"], json!(ZERO));

    version(
        &app,
        "empty",
        "patched",
        at(2015, 1, 2, 0, 0, 0, 0),
        Some("patch_request"),
    )
    .await;
    assert_message(
        &get(&app, "/rest/v1/projects/empty/revisions/patched").await,
        StatusCode::NOT_FOUND,
        "Error finding revision 'patched' for project 'empty'",
        "a patch version is not found by revision",
    );
    // By id it is found, as the original's version look-up had no requester filter.
    let patch = get_ok(&app, "/rest/v1/versions/empty_patched").await;
    assert_eq!(patch["requester"], json!("patch_request"));
}

#[tokio::test]
async fn version_status_matches_the_doc_examples() {
    let app = TestApp::new().await;
    let vid = doc_version(&app).await;
    let amazon_aggregation = task_id(
        "mongodb-mongo-master",
        "amazon",
        REV_D477,
        d477_created(),
        "aggregation",
    );

    for path in [
        format!("/rest/v1/versions/{vid}/status"),
        format!("/rest/v1/versions/{vid}/status?groupby=tasks"),
    ] {
        let r = get(&app, &path).await;
        let body = r.expect_json(StatusCode::OK, &path);
        assert_go_indent(&r, &path);
        let doc = fixture("version_status_tasks.json");
        assert_go_shape(&body, &doc, &[("tasks", 2)], "status by tasks");
        assert_eq!(body["version_id"], doc["version_id"]);
        assert_eq!(
            body["tasks"]["aggregation"]["amazon"],
            doc["tasks"]["aggregation"]["amazon"]
        );
        assert_eq!(
            body["tasks"]["aggregation"]["amazon"]["task_id"],
            json!(amazon_aggregation)
        );
        assert_eq!(
            body["tasks"]["compile"]
                .as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>()),
            Some(vec![
                "amazon".to_owned(),
                "linux-64".to_owned(),
                "linux-64-debug".to_owned()
            ])
        );
        assert_eq!(
            body["tasks"]["compile"]["linux-64"]["status"],
            json!("started")
        );
        assert!(body["tasks"]["jsCore"]["linux-64"].is_null());
    }

    let r = get(
        &app,
        &format!("/rest/v1/versions/{vid}/status?groupby=builds"),
    )
    .await;
    let body = r.expect_json(StatusCode::OK, "status by builds");
    let doc = fixture("version_status_builds.json");
    assert_go_shape(&body, &doc, &[("builds", 2)], "status by builds");
    assert_eq!(
        body["builds"]["amazon"]["aggregation"],
        doc["builds"]["amazon"]["aggregation"]
    );
    assert_eq!(
        body["builds"]["amazon"]
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>()),
        Some(vec![
            "aggregation".to_owned(),
            "compile".to_owned(),
            "jsCore".to_owned()
        ])
    );

    assert_message(
        &get(
            &app,
            &format!("/rest/v1/versions/{vid}/status?groupby=variants"),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "Invalid groupby parameter 'variants'",
        "bad groupby",
    );
    assert_message(
        &get(
            &app,
            &format!("/rest/v1/versions/{vid}/status?groupby=a%3Cb"),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "Invalid groupby parameter 'a<b'",
        "groupby is decoded",
    );
    // Go's FormValue takes the first value.
    let first = get_ok(
        &app,
        &format!("/rest/v1/versions/{vid}/status?groupby=builds&groupby=x"),
    )
    .await;
    assert!(first["builds"].is_object());

    // No existence check: an unknown version has empty maps.
    let r = get(&app, "/rest/v1/versions/nope/status").await;
    r.expect_json(StatusCode::OK, "unknown version status");
    assert_eq!(
        r.text(),
        "{\n  \"version_id\": \"nope\",\n  \"tasks\": {}\n}"
    );
    let r = get(&app, "/rest/v1/versions/nope/status?groupby=builds").await;
    assert_eq!(
        r.text(),
        "{\n  \"version_id\": \"nope\",\n  \"builds\": {}\n}"
    );
}

#[tokio::test]
async fn build_and_build_status_match_the_doc_examples() {
    let app = TestApp::new().await;
    let vid = doc_version(&app).await;
    let bid = build_id("mongodb-mongo-master", "linux-64", REV_D477, d477_created());
    let r = get(&app, &format!("/rest/v1/builds/{bid}")).await;
    let body = r.expect_json(StatusCode::OK, "build");
    assert_go_indent(&r, "build");

    let mut doc = fixture("build.json");
    // The doc's `requested` is the code's `requester` (fact sheet §2.3 item 1).
    if let Some(o) = doc.as_object_mut() {
        let v = o.shift_remove("requested").unwrap_or(Value::Null);
        o.insert("requester".into(), v);
    }
    assert_go_shape(&body, &doc, &[("tasks", 1)], "build");
    for key in [
        "id",
        "finish_time",
        "version",
        "project",
        "revision",
        "variant",
        "status",
        "activated",
        "time_taken",
        "name",
        "requester",
    ] {
        assert_eq!(body[key], doc[key], "build.{key}");
    }
    assert_eq!(body["id"], json!(bid));
    assert_eq!(body["version"], json!(vid));
    assert_eq!(body["number"], json!("1"), "a string, per-variant counter");
    for key in ["create_time", "start_time", "push_time"] {
        assert_eq!(
            instant(body[key].as_str().unwrap_or_default()),
            instant(doc[key].as_str().unwrap_or_default()),
            "build.{key}"
        );
    }
    assert_eq!(body["activated_time"], json!(utc(d477_created())));
    assert_eq!(
        body["tasks"]
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["aggregation".to_owned(), "compile".to_owned()])
    );
    assert_eq!(
        body["tasks"]["aggregation"],
        json!({
            "task_id": task_id("mongodb-mongo-master", "linux-64", REV_D477, d477_created(), "aggregation"),
            "status": "undispatched",
            "time_taken": 0
        })
    );

    let r = get(&app, &format!("/rest/v1/builds/{bid}/status")).await;
    let status = r.expect_json(StatusCode::OK, "build status");
    assert_go_indent(&r, "build status");
    assert_go_shape(
        &status,
        &fixture("build_status.json"),
        &[("tasks", 1)],
        "build status",
    );
    assert_eq!(status["build_id"], json!(bid));
    assert_eq!(status["build_variant"], json!("linux-64"));
    assert_eq!(status["tasks"], body["tasks"]);

    for path in ["/rest/v1/builds/nope", "/rest/v1/builds/nope/status"] {
        assert_message(
            &get(&app, path).await,
            StatusCode::NOT_FOUND,
            "Error finding build 'nope'",
            path,
        );
    }
}

/// The doc's task example: aggregation on linux-64 of revision 7ffac7f3, created
/// 2014-07-22T09:27:06.913-04:00, ran from 10:44:15.783 to 10:49:02.796 (-04:00) and passed.
#[tokio::test]
async fn task_and_task_status_match_the_doc_examples() {
    let app = TestApp::new().await;
    mongo_project(&app).await;
    let created = at(2014, 7, 22, 13, 27, 6, 913);
    version(&app, "mongodb-mongo-master", REV_7FFA, created, None).await;
    let tid = task_id(
        "mongodb-mongo-master",
        "linux-64",
        REV_7FFA,
        created,
        "aggregation",
    );
    let compile = task_id(
        "mongodb-mongo-master",
        "linux-64",
        REV_7FFA,
        created,
        "compile",
    );
    let db = &app.state.db;
    let dispatched = at(2014, 7, 22, 14, 44, 12, 95);
    let start = at(2014, 7, 22, 14, 44, 15, 783);
    let heartbeat = at(2014, 7, 22, 14, 48, 43, 761);
    let finish = at(2014, 7, 22, 14, 49, 2, 796);
    dispatch_and_start(
        &app,
        &tid,
        ("i-58e6e573", "rhel55-test"),
        Some(dispatched),
        start,
    )
    .await;
    svc::heartbeat_task(db, &tid, Some(heartbeat))
        .await
        .expect("heartbeat");
    svc::add_test_results(
        db,
        &tid,
        vec![
            NewTestResult {
                test_file: "jstests/aggregation/mongos_slaveok.js".into(),
                status: "pass".into(),
                url: "http://buildlogs.mongodb.org/build/53ce78d7d2a60f5fac000970/test/53ce78d9d2a60f5f72000a23/".into(),
                log_id: String::new(),
                line_num: 0,
                exit_code: 0,
                start_s: 1406040256.5,
                end_s: 1406040282.0,
            },
            NewTestResult {
                test_file: "jstests/aggregation/testSlave.js".into(),
                status: "fail".into(),
                url: "http://buildlogs.mongodb.org/x".into(),
                log_id: "l1".into(),
                line_num: 12,
                exit_code: 1,
                start_s: 1406040282.0,
                end_s: 1406040282.25,
            },
        ],
    )
    .await
    .expect("results");
    finish_task(&app, &tid, finish, "success").await;

    let r = get(&app, &format!("/rest/v1/tasks/{tid}")).await;
    let body = r.expect_json(StatusCode::OK, "task");
    assert_go_indent(&r, "task");
    let doc = fixture("task.json");
    assert_go_shape(&body, &doc, &[("test_results", 1)], "task");
    // Ids follow Evergreen's formats exactly.
    for key in [
        "id",
        "version",
        "project",
        "revision",
        "priority",
        "activated",
        "build_id",
        "distro",
        "build_variant",
        "depends_on",
        "display_name",
        "host_id",
        "restarts",
        "execution",
        "archived",
        "requester",
        "status",
        "status_details",
        "aborted",
        "expected_duration",
        "min_queue_pos",
        "files",
    ] {
        assert_eq!(body[key], doc[key], "task.{key}");
    }
    assert_eq!(body["depends_on"], json!([compile]));
    for key in [
        "create_time",
        "dispatch_time",
        "start_time",
        "finish_time",
        "push_time",
        "last_heartbeat",
    ] {
        assert_eq!(
            instant(body[key].as_str().unwrap_or_default()),
            instant(doc[key].as_str().unwrap_or_default()),
            "task.{key}"
        );
    }
    // Scheduling and dispatching are one step here.
    assert_eq!(body["scheduled_time"], body["dispatch_time"]);
    assert_eq!(body["time_taken"], json!(ns(start, finish)));
    assert_eq!(body["time_taken"], json!(287_013_000_000_i64));
    let tests = &body["test_results"];
    assert_eq!(
        tests["jstests/aggregation/mongos_slaveok.js"],
        json!({
            "status": "pass",
            "time_taken": 25_500_000_000_i64,
            "logs": {"url": "http://buildlogs.mongodb.org/build/53ce78d7d2a60f5fac000970/test/53ce78d9d2a60f5f72000a23/"}
        })
    );
    assert_eq!(
        tests["jstests/aggregation/testSlave.js"]["time_taken"],
        json!(250_000_000)
    );

    let r = get(&app, &format!("/rest/v1/tasks/{tid}/status")).await;
    let status = r.expect_json(StatusCode::OK, "task status");
    assert_go_indent(&r, "task status");
    let doc = fixture("task_status.json");
    assert_go_shape(&status, &doc, &[("tests", 1)], "task status");
    for key in ["task_id", "task_name", "status", "status_details"] {
        assert_eq!(status[key], doc[key], "task status.{key}");
    }
    assert_eq!(status["tests"], body["test_results"]);

    // An unfinished task: zero times and no duration; files listed once attached.
    let agg_amazon = task_id(
        "mongodb-mongo-master",
        "amazon",
        REV_7FFA,
        created,
        "aggregation",
    );
    svc::add_artifacts(
        db,
        &agg_amazon,
        vec![NewArtifact {
            name: "mongodb-binaries.tgz".into(),
            url: "https://s3.amazonaws.com/mciuploads/binaries.tgz".into(),
        }],
    )
    .await
    .expect("artifacts");
    let other = get_ok(&app, &format!("/rest/v1/tasks/{agg_amazon}")).await;
    for key in [
        "scheduled_time",
        "dispatch_time",
        "start_time",
        "finish_time",
        "last_heartbeat",
    ] {
        assert_eq!(other[key], json!(ZERO), "unfinished task.{key}");
    }
    assert_eq!(other["status"], json!("undispatched"));
    assert_eq!(other["time_taken"], json!(0));
    assert_eq!(other["test_results"], json!({}));
    assert_eq!(
        other["files"],
        json!([{"name": "mongodb-binaries.tgz", "url": "https://s3.amazonaws.com/mciuploads/binaries.tgz"}])
    );

    for path in ["/rest/v1/tasks/nope", "/rest/v1/tasks/nope/status"] {
        assert_message(
            &get(&app, path).await,
            StatusCode::NOT_FOUND,
            "Error finding task 'nope'",
            path,
        );
    }
}

/// A restarted task keeps its earlier executions' results; the task and task status routes show
/// the current execution's only, and the history's failed tests only its failures.
#[tokio::test]
async fn a_restarted_task_shows_its_current_executions_results() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::new().await;
    upsert(&app, project_input("p", &[("linux", "Linux", &["test"])])).await;
    let created = at(2015, 3, 1, 10, 0, 0, 0);
    version(&app, "p", "abcd", created, None).await;
    let tid = task_id("p", "linux", "abcd", created, "test");
    let db = &app.state.db;
    let result = |file: &str, status: &str| NewTestResult {
        test_file: file.into(),
        status: status.into(),
        url: String::new(),
        log_id: String::new(),
        line_num: 0,
        exit_code: 0,
        start_s: 1.0,
        end_s: 2.0,
    };
    let started = at(2015, 3, 1, 10, 1, 0, 0);
    dispatch_and_start(&app, &tid, ("h1", "d1"), Some(started), started).await;
    svc::add_test_results(db, &tid, vec![result("old.js", "fail")])
        .await
        .expect("first execution");
    // A restart: Evergreen bumps the execution and the next run's results attach to it.
    db.execute_unprepared(&format!(
        "UPDATE evg_tasks SET execution = 1 WHERE task_id = '{tid}'"
    ))
    .await
    .expect("restart");
    svc::add_test_results(
        db,
        &tid,
        vec![result("new_fail.js", "fail"), result("new_pass.js", "pass")],
    )
    .await
    .expect("second execution");
    finish_task(&app, &tid, at(2015, 3, 1, 10, 5, 0, 0), "failed").await;

    let t = get_ok(&app, &format!("/rest/v1/tasks/{tid}")).await;
    let files = |tests: &Value| {
        tests
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert_eq!(files(&t["test_results"]), ["new_fail.js", "new_pass.js"]);
    let s = get_ok(&app, &format!("/rest/v1/tasks/{tid}/status")).await;
    assert_eq!(files(&s["tests"]), ["new_fail.js", "new_pass.js"]);
    let h = get_ok(&app, "/rest/v1/tasks/test/history?project=p").await;
    let failed: Vec<&Value> = h["FailedTests"][tid.as_str()]
        .as_array()
        .map(|a| a.iter().map(|r| &r["test_file"]).collect())
        .unwrap_or_default();
    assert_eq!(failed, [&json!("new_fail.js")], "{h}");
}

/// The doc's history example: project `sample`, revision 3585388b is the 4th commit, its compile
/// tasks undispatched.
#[tokio::test]
async fn task_history_matches_the_doc_example() {
    let app = TestApp::new().await;
    upsert(
        &app,
        project_input(
            "sample",
            &[
                ("osx-108", "OSX 10.8", &["compile"]),
                ("ubuntu", "Ubuntu", &["compile", "unit"]),
            ],
        ),
    )
    .await;
    for (i, rev) in ["1111", "2222", "3333"].iter().enumerate() {
        version(
            &app,
            "sample",
            rev,
            at(2014, 8, 10 + i as u32, 0, 0, 0, 0),
            None,
        )
        .await;
    }
    let created = at(2014, 8, 12, 21, 23, 53, 555);
    let v = version(&app, "sample", REV_3585, created, None).await;
    let r = get(&app, "/rest/v1/tasks/compile/history?project=sample").await;
    let body = r.expect_json(StatusCode::OK, "history");
    assert_go_indent(&r, "history");
    let doc = fixture("task_history.json");
    assert_go_shape(&body, &doc, &[("FailedTests", 1)], "history");
    assert_eq!(
        body.as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec![
            "Tasks".to_owned(),
            "Versions".to_owned(),
            "FailedTests".to_owned(),
            "Exhausted".to_owned()
        ]),
        "Go field names"
    );
    // The doc's first group, task and version, ids and all (the doc's id carries the version's
    // create time as Evergreen formatted it).
    assert_eq!(body["Tasks"][0]["_id"], doc["Tasks"][0]["_id"]);
    assert_eq!(body["Tasks"][0]["order"], doc["Tasks"][0]["order"]);
    assert_eq!(body["Tasks"][0]["tasks"][0], doc["Tasks"][0]["tasks"][0]);
    assert_eq!(
        body["Tasks"][0]["tasks"][1]["build_variant"],
        json!("ubuntu")
    );
    assert_eq!(body["Versions"][0]["id"], json!(v.version_id));
    assert_eq!(body["Versions"][0]["id"], doc["Versions"][0]["id"]);
    for key in ["start_time", "finish_time", "revision", "order"] {
        assert_eq!(body["Versions"][0][key], doc["Versions"][0][key], "{key}");
    }
    assert_eq!(body["Versions"][0]["create_time"], json!(utc(created)));
    let orders: Vec<i64> = body["Tasks"]
        .as_array()
        .expect("Tasks")
        .iter()
        .map(|g| g["order"].as_i64().unwrap_or_default())
        .collect();
    assert_eq!(orders, [4, 3, 2, 1], "newest first");
    assert_eq!(
        body["Versions"].as_array().map(Vec::len),
        Some(4),
        "every version"
    );
    assert_eq!(body["FailedTests"], json!({}));
    assert_eq!(body["Exhausted"], doc["Exhausted"]);

    // A task no variant runs: no groups, versions still listed.
    let none = get_ok(&app, "/rest/v1/tasks/lint/history?project=sample").await;
    assert_eq!(none["Tasks"], json!([]));
    assert_eq!(none["Versions"].as_array().map(Vec::len), Some(4));
    // A task only ubuntu runs.
    let unit = get_ok(&app, "/rest/v1/tasks/unit/history?project=sample").await;
    assert_eq!(unit["Tasks"][0]["tasks"].as_array().map(Vec::len), Some(1));

    assert_message(
        &get(&app, "/rest/v1/tasks/compile/history").await,
        StatusCode::NOT_FOUND,
        "Error finding project ''",
        "history without project",
    );
    assert_message(
        &get(&app, "/rest/v1/tasks/compile/history?project=").await,
        StatusCode::NOT_FOUND,
        "Error finding project ''",
        "history with an empty project",
    );
    assert_message(
        &get(&app, "/rest/v1/tasks/compile/history?project=nope").await,
        StatusCode::NOT_FOUND,
        "Error finding project 'nope'",
        "history of an unknown project",
    );
}

#[tokio::test]
async fn task_history_is_bounded_to_ten_versions() {
    let app = TestApp::new().await;
    upsert(
        &app,
        project_input("p", &[("ubuntu", "Ubuntu", &["compile"])]),
    )
    .await;
    for i in 0..11u32 {
        version(
            &app,
            "p",
            &format!("r{i:02}"),
            at(2015, 1, 1, 0, i, 0, 0),
            None,
        )
        .await;
    }
    let body = get_ok(&app, "/rest/v1/tasks/compile/history?project=p").await;
    assert_eq!(body["Tasks"].as_array().map(Vec::len), Some(10));
    assert_eq!(body["Versions"].as_array().map(Vec::len), Some(10));
    assert_eq!(body["Versions"][0]["revision"], json!("r10"));
    assert_eq!(body["Exhausted"], json!({"Before": false, "After": true}));
}

// ----------------------------------------------------------------------------------------------
// Lifecycle through every route
// ----------------------------------------------------------------------------------------------

#[tokio::test]
async fn lifecycle_statuses_and_times_through_every_route() {
    let app = TestApp::new().await;
    upsert(
        &app,
        project_input(
            "life",
            &[
                ("linux", "Linux", &["compile", "test"]),
                ("windows", "Windows", &["compile"]),
            ],
        ),
    )
    .await;
    let c1 = at(2015, 3, 1, 10, 0, 0, 0);
    let c2 = at(2015, 3, 2, 10, 0, 0, 0);
    let good = version(&app, "life", "aaaa", c1, None).await.version_id;
    let bad = version(&app, "life", "bbbb", c2, None).await.version_id;
    let tid = |rev: &str, created, variant: &str, task: &str| {
        task_id("life", variant, rev, created, task)
    };
    let linux_build = build_id("life", "linux", "aaaa", c1);
    let windows_build = build_id("life", "windows", "aaaa", c1);

    // created
    let v = get_ok(&app, &format!("/rest/v1/versions/{good}")).await;
    assert_eq!(v["status"], json!("created"));
    assert_eq!(v["start_time"], json!(ZERO));
    assert_eq!(v["finish_time"], json!(ZERO));
    let b = get_ok(&app, &format!("/rest/v1/builds/{linux_build}")).await;
    assert_eq!(b["status"], json!("created"));
    assert_eq!(b["tasks"]["compile"]["status"], json!("undispatched"));

    // started
    let t1 = at(2015, 3, 1, 10, 1, 0, 250);
    let f1 = at(2015, 3, 1, 10, 3, 30, 500);
    let db = &app.state.db;
    let compile = tid("aaaa", c1, "linux", "compile");
    dispatch_and_start(&app, &compile, ("h1", "d1"), Some(t1), t1).await;
    let v = get_ok(&app, &format!("/rest/v1/versions/{good}")).await;
    assert_eq!(v["status"], json!("started"));
    assert_eq!(v["start_time"], json!("2015-03-01T10:01:00.25Z"));
    assert_eq!(v["finish_time"], json!(ZERO));
    let b = get_ok(&app, &format!("/rest/v1/builds/{linux_build}")).await;
    assert_eq!(b["status"], json!("started"));
    assert_eq!(b["start_time"], json!(utc(t1)));
    let w = get_ok(&app, &format!("/rest/v1/builds/{windows_build}")).await;
    assert_eq!(w["status"], json!("created"));
    let s = get_ok(&app, &format!("/rest/v1/versions/{good}/status")).await;
    assert_eq!(s["tasks"]["compile"]["linux"]["status"], json!("started"));
    assert_eq!(
        s["tasks"]["compile"]["windows"]["status"],
        json!("undispatched")
    );

    // success: every task of both builds
    finish_task(&app, &compile, f1, "success").await;
    let t2 = at(2015, 3, 1, 10, 4, 0, 0);
    let f2 = at(2015, 3, 1, 10, 9, 0, 1);
    run_task(&app, &tid("aaaa", c1, "linux", "test"), t2, f2, "success").await;
    let t3 = at(2015, 3, 1, 10, 2, 0, 0);
    let f3 = at(2015, 3, 1, 10, 12, 0, 999);
    run_task(
        &app,
        &tid("aaaa", c1, "windows", "compile"),
        t3,
        f3,
        "success",
    )
    .await;

    let v = get_ok(&app, &format!("/rest/v1/versions/{good}")).await;
    assert_eq!(v["status"], json!("success"));
    assert_eq!(v["start_time"], json!(utc(t1)));
    assert_eq!(v["finish_time"], json!("2015-03-01T10:12:00.999Z"));
    let b = get_ok(&app, &format!("/rest/v1/builds/{linux_build}")).await;
    assert_eq!(b["status"], json!("success"));
    assert_eq!(b["finish_time"], json!(utc(f2)));
    assert_eq!(b["time_taken"], json!(ns(t1, f2)));
    assert_eq!(b["tasks"]["compile"]["time_taken"], json!(ns(t1, f1)));
    assert_eq!(b["tasks"]["test"]["time_taken"], json!(ns(t2, f2)));
    let w = get_ok(&app, &format!("/rest/v1/builds/{windows_build}/status")).await;
    assert_eq!(w["tasks"]["compile"]["status"], json!("success"));
    assert_eq!(w["tasks"]["compile"]["time_taken"], json!(ns(t3, f3)));
    let t = get_ok(&app, &format!("/rest/v1/tasks/{compile}")).await;
    assert_eq!(t["status"], json!("success"));
    assert_eq!(t["start_time"], json!(utc(t1)));
    assert_eq!(t["finish_time"], json!(utc(f1)));
    assert_eq!(t["time_taken"], json!(ns(t1, f1)));
    assert_eq!(t["time_taken"], json!(150_250_000_000_i64));
    let ts = get_ok(&app, &format!("/rest/v1/tasks/{compile}/status")).await;
    assert_eq!(ts["status"], json!("success"));

    // failed: one task of the second version fails
    let bcompile = tid("bbbb", c2, "linux", "compile");
    let btest = tid("bbbb", c2, "linux", "test");
    let bwin = tid("bbbb", c2, "windows", "compile");
    let u1 = at(2015, 3, 2, 11, 0, 0, 0);
    let g1 = at(2015, 3, 2, 11, 1, 0, 0);
    run_task(&app, &bcompile, u1, g1, "success").await;
    let u2 = at(2015, 3, 2, 11, 2, 0, 0);
    let g2 = at(2015, 3, 2, 11, 3, 0, 0);
    dispatch_and_start(&app, &btest, ("h1", "d1"), Some(u2), u2).await;
    svc::add_test_results(
        db,
        &btest,
        vec![
            NewTestResult {
                test_file: "a.js".into(),
                status: "fail".into(),
                url: "http://logs/a".into(),
                log_id: "la".into(),
                line_num: 7,
                exit_code: 1,
                start_s: 1425294120.0,
                end_s: 1425294121.5,
            },
            NewTestResult {
                test_file: "b.js".into(),
                status: "pass".into(),
                url: "http://logs/b".into(),
                log_id: String::new(),
                line_num: 0,
                exit_code: 0,
                start_s: 1425294121.5,
                end_s: 1425294122.0,
            },
        ],
    )
    .await
    .expect("results");
    finish_task(&app, &btest, g2, "failed").await;
    let bb = get_ok(
        &app,
        &format!("/rest/v1/builds/{}", build_id("life", "linux", "bbbb", c2)),
    )
    .await;
    assert_eq!(
        bb["status"],
        json!("failed"),
        "a failed task fails its build"
    );
    let v = get_ok(&app, &format!("/rest/v1/versions/{bad}")).await;
    assert_eq!(v["status"], json!("started"), "windows is still to run");
    assert_eq!(v["finish_time"], json!(ZERO));
    let u3 = at(2015, 3, 2, 11, 0, 30, 0);
    let g3 = at(2015, 3, 2, 11, 5, 0, 0);
    run_task(&app, &bwin, u3, g3, "success").await;
    let v = get_ok(&app, &format!("/rest/v1/versions/{bad}")).await;
    assert_eq!(v["status"], json!("failed"));
    assert_eq!(v["finish_time"], json!(utc(g3)));
    assert_eq!(bb["time_taken"], json!(ns(u1, g2)));

    let t = get_ok(&app, &format!("/rest/v1/tasks/{btest}/status")).await;
    assert_eq!(t["status"], json!("failed"));
    assert_eq!(t["tests"]["a.js"]["status"], json!("fail"));
    assert_eq!(t["tests"]["a.js"]["time_taken"], json!(1_500_000_000));

    // Recent versions: the failed one first, statuses and durations in every build.
    let recent = get_ok(&app, "/rest/v1/projects/life/versions").await;
    let first = &recent["versions"][0];
    assert_eq!(first["version_id"], json!(bad));
    assert_eq!(
        first["builds"]["linux"]["tasks"]["test"],
        json!({"task_id": btest, "status": "failed", "time_taken": ns(u2, g2)})
    );
    assert_eq!(
        recent["versions"][1]["builds"]["windows"]["tasks"]["compile"]["time_taken"],
        json!(ns(t3, f3))
    );

    // Status by builds of the failed version.
    let s = get_ok(
        &app,
        &format!("/rest/v1/versions/{bad}/status?groupby=builds"),
    )
    .await;
    assert_eq!(s["builds"]["linux"]["test"]["status"], json!("failed"));
    assert_eq!(s["builds"]["linux"]["compile"]["status"], json!("success"));
    assert_eq!(
        s["builds"]["windows"]["compile"]["status"],
        json!("success")
    );

    // History of `test`: both versions, newest first, real version times, failed tests.
    let h = get_ok(&app, "/rest/v1/tasks/test/history?project=life").await;
    assert_eq!(h["Tasks"][0]["_id"], json!("bbbb"));
    assert_eq!(h["Tasks"][0]["order"], json!(2));
    let failed_task = &h["Tasks"][0]["tasks"][0];
    assert_eq!(failed_task["_id"], json!(btest));
    assert_eq!(failed_task["status"], json!("failed"));
    assert_eq!(failed_task["time_taken"], json!(ns(u2, g2)));
    assert_eq!(
        failed_task["status_details"],
        json!({"status": "failed", "type": "test"})
    );
    assert_eq!(h["Tasks"][1]["_id"], json!("aaaa"));
    assert_eq!(
        h["Tasks"][1]["tasks"][0]["status_details"],
        json!({"status": "success"})
    );
    assert_eq!(h["Versions"][0]["start_time"], json!(utc(u1)));
    assert_eq!(h["Versions"][0]["finish_time"], json!(utc(g3)));
    assert_eq!(h["Versions"][1]["finish_time"], json!(utc(f3)));
    assert_eq!(
        h["FailedTests"],
        json!({ btest.as_str(): [{
            "status": "fail", "test_file": "a.js", "url": "http://logs/a", "log_id": "la",
            "line_num": 7, "exit_code": 1, "start": 1425294120, "end": 1425294121.5
        }]})
    );
    let raw = get(&app, "/rest/v1/tasks/test/history?project=life")
        .await
        .text();
    assert!(
        raw.contains("\"start\": 1425294120,"),
        "Go prints a whole float bare"
    );
    assert!(raw.contains("\"end\": 1425294121.5\n"));
}

// ----------------------------------------------------------------------------------------------
// PATCH
// ----------------------------------------------------------------------------------------------

#[tokio::test]
async fn patch_activation_cascades_and_answers_like_get() {
    let app = TestApp::new().await;
    upsert(
        &app,
        project_input(
            "act",
            &[
                ("linux", "Linux", &["compile", "test"]),
                ("windows", "Windows", &["compile"]),
            ],
        ),
    )
    .await;
    let created = at(2015, 4, 1, 0, 0, 0, 0);
    let vid = version(&app, "act", "cafe", created, None).await.version_id;
    let dispatched = task_id("act", "linux", "cafe", created, "compile");
    let waiting = task_id("act", "linux", "cafe", created, "test");
    let windows = task_id("act", "windows", "cafe", created, "compile");
    svc::dispatch_task(&app.state.db, &dispatched, "h", "d", None)
        .await
        .expect("dispatch");
    let path = format!("/rest/v1/versions/{vid}");

    let r = patch(&app, &path, r#"{"activated": false}"#).await;
    let body = r.expect_json(StatusCode::OK, "deactivate");
    assert_go_indent(&r, "patch");
    assert_eq!(body["activated"], json!(false));
    let after = get(&app, &path).await;
    assert_eq!(r.raw, after.raw, "PATCH answers exactly like GET");
    for variant in ["linux", "windows"] {
        let b = get_ok(
            &app,
            &format!(
                "/rest/v1/builds/{}",
                build_id("act", variant, "cafe", created)
            ),
        )
        .await;
        assert_eq!(b["activated"], json!(false), "build {variant} deactivated");
    }
    for (t, expected) in [(&waiting, false), (&windows, false), (&dispatched, true)] {
        let task = get_ok(&app, &format!("/rest/v1/tasks/{t}")).await;
        assert_eq!(
            task["activated"],
            json!(expected),
            "{t}: undispatched tasks follow, dispatched ones keep theirs"
        );
    }

    // A malformed or empty body changes nothing and answers like GET.
    for body in [
        "",
        "not json",
        r#"{"activated": "no"}"#,
        "{}",
        r#"{"other": true}"#,
    ] {
        let r = patch(&app, &path, body).await;
        r.expect_json(StatusCode::OK, body);
        assert_eq!(r.raw, get(&app, &path).await.raw, "{body:?}");
        assert_eq!(r.json()["activated"], json!(false), "{body:?}");
    }

    // Re-activation stamps the builds' activation time.
    let r = patch(&app, &path, r#"{"activated": true}"#).await;
    assert_eq!(
        r.expect_json(StatusCode::OK, "activate")["activated"],
        json!(true)
    );
    let b = get_ok(
        &app,
        &format!(
            "/rest/v1/builds/{}",
            build_id("act", "windows", "cafe", created)
        ),
    )
    .await;
    assert_eq!(b["activated"], json!(true));
    assert_ne!(b["activated_time"], json!(utc(created)), "re-stamped");
    let task = get_ok(&app, &format!("/rest/v1/tasks/{waiting}")).await;
    assert_eq!(task["activated"], json!(true));

    assert_message(
        &patch(&app, "/rest/v1/versions/nope", r#"{"activated": true}"#).await,
        StatusCode::NOT_FOUND,
        "Error finding version 'nope'",
        "PATCH of an unknown version",
    );
}

#[tokio::test]
async fn bodies_are_bounded_in_the_dialect() {
    let app = TestApp::with_config(|c| c.limits.max_body_bytes = 64).await;
    let big = format!("{{\"activated\": true, \"pad\": \"{}\"}}", "x".repeat(200));
    let r = patch(&app, "/rest/v1/versions/any", &big).await;
    let body = r.expect_json(StatusCode::PAYLOAD_TOO_LARGE, "too large");
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains("64")),
        "{body}"
    );
    assert_eq!(body.as_object().map(|o| o.len()), Some(1));
}

// ----------------------------------------------------------------------------------------------
// Formatting, paths, methods
// ----------------------------------------------------------------------------------------------

#[tokio::test]
async fn go_formatting_byte_for_byte() {
    let app = TestApp::new().await;
    upsert(
        &app,
        project_input("fmt", &[("u", "Ubuntu <x64> & co", &["compile"])]),
    )
    .await;
    let created = at(2015, 5, 1, 12, 0, 0, 0);
    let v = svc::create_version(
        &app.state.db,
        NewVersion {
            project: "fmt".into(),
            revision: "beef".into(),
            author: "A <a@b>".into(),
            author_email: "a@b".into(),
            message: "fix <b> & \"quote\"\nline2 \u{2028}".into(),
            create_time: Some(created),
            activated: None,
            requester: None,
        },
    )
    .await
    .expect("version");
    let r = get(&app, &format!("/rest/v1/versions/{}", v.version_id)).await;
    r.expect_json(StatusCode::OK, "version");
    let text = r.text();
    assert!(
        text.starts_with(
            "{\n  \"id\": \"fmt_beef\",\n  \"create_time\": \"2015-05-01T12:00:00Z\",\n"
        )
    );
    assert!(
        text.ends_with("\n  \"requester\": \"gitter_request\"\n}"),
        "no trailing newline"
    );
    assert!(text.contains(
        "  \"message\": \"fix \\u003cb\\u003e \\u0026 \\\"quote\\\"\\nline2 \\u2028\",\n"
    ));
    assert!(text.contains("  \"author\": \"A \\u003ca@b\\u003e\",\n"));
    assert!(
        text.contains(
            "  \"build_variants\": [\n    \"Ubuntu \\u003cx64\\u003e \\u0026 co\"\n  ],\n"
        )
    );
    assert!(text.contains("  \"start_time\": \"0001-01-01T00:00:00Z\",\n"));
    assert!(text.contains("  \"batch_time\": 0,\n"));
    // Empty map and array, nested indentation.
    let t = get(
        &app,
        &format!(
            "/rest/v1/tasks/{}",
            task_id("fmt", "u", "beef", created, "compile")
        ),
    )
    .await
    .text();
    assert!(t.contains("\n  \"depends_on\": [],\n"));
    assert!(t.contains(
        "\n  \"status_details\": {\n    \"timed_out\": false,\n    \"timeout_stage\": \"\"\n  },\n"
    ));
    assert!(t.contains("\n  \"test_results\": {},\n"));
    assert!(t.ends_with("\n  \"files\": []\n}"));
}

#[tokio::test]
async fn both_slash_forms_answer_without_redirect() {
    let app = TestApp::new().await;
    let vid = doc_version(&app).await;
    let bid = build_id("mongodb-mongo-master", "linux-64", REV_D477, d477_created());
    let tid = task_id(
        "mongodb-mongo-master",
        "linux-64",
        REV_D477,
        d477_created(),
        "compile",
    );
    let paths = [
        "/rest/v1/projects/mongodb-mongo-master/versions".to_owned(),
        format!("/rest/v1/projects/mongodb-mongo-master/revisions/{REV_D477}"),
        format!("/rest/v1/versions/{vid}"),
        format!("/rest/v1/versions/{vid}/status"),
        format!("/rest/v1/builds/{bid}"),
        format!("/rest/v1/builds/{bid}/status"),
        format!("/rest/v1/tasks/{tid}"),
        format!("/rest/v1/tasks/{tid}/status"),
        "/rest/v1/tasks/compile/history?project=mongodb-mongo-master".to_owned(),
        format!("/rest/v1/versions/{vid}/status?groupby=builds"),
    ];
    for path in &paths {
        let plain = get(&app, path).await;
        plain.expect_json(StatusCode::OK, path);
        let slashed_path = match path.split_once('?') {
            Some((p, q)) => format!("{p}/?{q}"),
            None => format!("{path}/"),
        };
        let slashed = get(&app, &slashed_path).await;
        slashed.expect_json(StatusCode::OK, &slashed_path);
        assert_eq!(plain.raw, slashed.raw, "{slashed_path}");
    }
    let r = patch(
        &app,
        &format!("/rest/v1/versions/{vid}/"),
        r#"{"activated": false}"#,
    )
    .await;
    assert_eq!(
        r.expect_json(StatusCode::OK, "PATCH with slash")["activated"],
        json!(false)
    );
    assert_message(
        &get(&app, "/rest/v1/versions/nope/").await,
        StatusCode::NOT_FOUND,
        "Error finding version 'nope'",
        "404 with a slash",
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_get_gorillas_plain_404() {
    let app = TestApp::new().await;
    let vid = doc_version(&app).await;
    for path in [
        "/rest/v1",
        "/rest/v1/",
        "/rest/v1/nope",
        "/rest/v1/versions",
        "/rest/v1/projects/mongodb-mongo-master",
        "/rest/v1/projects/mongodb-mongo-master/versions/extra",
        "/rest/v1/tasks/x/status/extra",
        "/rest/v1/builds",
    ] {
        get(&app, path).await.expect_gorilla_404(path);
    }
    let version = format!("/rest/v1/versions/{vid}");
    reply(app.client.post(&version).body("{}").send().await)
        .await
        .expect_gorilla_404("POST version");
    reply(app.client.put(&version).body("{}").send().await)
        .await
        .expect_gorilla_404("PUT version");
    reply(app.client.delete(&version).send().await)
        .await
        .expect_gorilla_404("DELETE version");
    patch(&app, &format!("{version}/status"), "{}")
        .await
        .expect_gorilla_404("PATCH status");
    patch(&app, "/rest/v1/builds/x", "{}")
        .await
        .expect_gorilla_404("PATCH build");
    let head = reply(app.client.head(&version).send().await).await;
    assert_eq!(
        head.status,
        StatusCode::NOT_FOUND,
        "HEAD is not GET for gorilla"
    );
    // The version is untouched by the refused methods.
    assert_eq!(get_ok(&app, &version).await["activated"], json!(true));
}

#[tokio::test]
async fn openapi_lists_the_ten_routes() {
    let app = TestApp::new().await;
    let resp = app.client.get("/openapi.json").send().await;
    resp.assert_status_is_ok();
    let doc: Value = resp.0.into_body().into_json().await.expect("json");
    let expected = [
        ("get", "/rest/v1/projects/{project_id}/versions"),
        ("get", "/rest/v1/projects/{project_id}/revisions/{revision}"),
        ("get", "/rest/v1/versions/{version_id}"),
        ("patch", "/rest/v1/versions/{version_id}"),
        ("get", "/rest/v1/versions/{version_id}/status"),
        ("get", "/rest/v1/builds/{build_id}"),
        ("get", "/rest/v1/builds/{build_id}/status"),
        ("get", "/rest/v1/tasks/{task_id}"),
        ("get", "/rest/v1/tasks/{task_id}/status"),
        ("get", "/rest/v1/tasks/{task_name}/history"),
    ];
    let paths = doc["paths"].as_object().expect("paths");
    let mut listed: Vec<(String, String)> = paths
        .iter()
        .filter(|(p, _)| p.starts_with("/rest/v1"))
        .flat_map(|(p, ops)| {
            ops.as_object()
                .into_iter()
                .flat_map(|o| o.keys())
                .map(move |m| (m.clone(), p.clone()))
        })
        .collect();
    listed.sort();
    let mut want: Vec<(String, String)> = expected
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    want.sort();
    assert_eq!(listed, want, "exactly the ten documented routes");
    assert_eq!(testgraph::rest::evergreen::api().routes.len(), 10);
    let status = &paths["/rest/v1/versions/{version_id}/status"]["get"];
    assert!(status["parameters"].as_array().is_some_and(|ps| {
        ps.iter()
            .any(|p| p["name"] == "groupby" && p["in"] == "query")
    }));
    let history = &paths["/rest/v1/tasks/{task_name}/history"]["get"];
    assert!(history["parameters"].as_array().is_some_and(|ps| {
        ps.iter()
            .any(|p| p["name"] == "project" && p["in"] == "query")
    }));
    assert!(paths["/rest/v1/versions/{version_id}"]["patch"]["requestBody"].is_object());
    // Every referenced schema is defined.
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
async fn routes_are_open_unless_a_token_is_required() {
    let open = TestApp::new().await;
    open.client
        .get("/rest/v1/projects/p/versions")
        .send()
        .await
        .assert_status_is_ok();

    let app = TestApp::with_config(|c| {
        c.auth.require_token = vec![testgraph::config::Surface::Evergreen]
    })
    .await;
    let vid = doc_version(&app).await;
    let read = app.token(&[Scope::Read]).await;
    let write = app.token(&[Scope::Write]).await;
    let path = format!("/rest/v1/versions/{vid}");

    let r = get(&app, &path).await;
    let body = r.expect_json(StatusCode::UNAUTHORIZED, "GET without a token");
    assert!(body["message"].is_string());
    let r = reply(
        app.client
            .get(&path)
            .header("authorization", format!("Bearer {read}"))
            .send()
            .await,
    )
    .await;
    r.expect_json(StatusCode::OK, "GET with read");
    let r = reply(
        app.client
            .patch(&path)
            .header("authorization", format!("Bearer {read}"))
            .body(r#"{"activated": false}"#)
            .send()
            .await,
    )
    .await;
    r.expect_json(StatusCode::FORBIDDEN, "PATCH with read");
    let r = reply(
        app.client
            .patch(&path)
            .header("authorization", format!("Bearer {write}"))
            .body(r#"{"activated": false}"#)
            .send()
            .await,
    )
    .await;
    assert_eq!(
        r.expect_json(StatusCode::OK, "PATCH with write")["activated"],
        json!(false)
    );
    // Unknown paths stay gorilla's, token or not.
    get(&app, "/rest/v1/nope")
        .await
        .expect_gorilla_404("unknown path");
}
