//! XPRESSO's requests API over HTTP (seed 002, fact sheet §3): every route against the seed's
//! example (`tests/fixtures/xpresso/`, keys and their order), with a catalog built like the
//! example's through the service and items driven through the runner's service functions; every
//! documented error; the token and group matrix of every route; both slash forms; paging and
//! filters over more requests than a page, in a constant number of statements; and that
//! pytest-monitor, mounted at `/api/v1`, still answers beside it.

use chrono::NaiveDateTime;
use poem::http::{Method, StatusCode};
use serde_json::{Map, Value, json};
use testgraph::service::tokens::Scope;
use testgraph::service::xpresso::{
    self as svc, BundleEntry, Caller, ItemMove, NewBundle, NewJob, NewPhaseResult, NewProfile,
    NewRequest, NewScript, NewSection, NewTestbed, NewTopology, Phase, State, Summary,
};

use crate::common::TestApp;
use crate::http::{Reply, Rules, assert_shape, fixture, reply};

const BASE: &str = "http://xpresso-server/";
const GROUP: &str = "Kazaam";
const OTHER: &str = "Elsewhere";
const ROOT: &str = "/api/v1/requests";

async fn app() -> TestApp {
    TestApp::with_config(|c| c.xpresso.public_url = Some(BASE.into())).await
}

fn jwt(token: &str) -> String {
    format!("Jwt {token}")
}

/// A request with an `Authorization` value, an optional `X-Group` and an optional JSON body.
async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    auth: Option<&str>,
    group: Option<&str>,
    body: Option<&str>,
) -> Reply {
    let mut req = app.client.request(method, path);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    if let Some(g) = group {
        req = req.header("x-group", g);
    }
    if let Some(b) = body {
        req = req.content_type("application/json").body(b.to_owned());
    }
    reply(req.send().await).await
}

async fn get_as(app: &TestApp, path: &str, token: &str) -> Reply {
    call(app, Method::GET, path, Some(&jwt(token)), None, None).await
}

async fn post_as(app: &TestApp, token: &str, body: &Value) -> Reply {
    let text = body.to_string();
    call(
        app,
        Method::POST,
        ROOT,
        Some(&jwt(token)),
        None,
        Some(&text),
    )
    .await
}

async fn stop_as(app: &TestApp, token: &str, id: &str, body: &str) -> Reply {
    let path = format!("{ROOT}/{id}/stop");
    call(
        app,
        Method::PATCH,
        &path,
        Some(&jwt(token)),
        None,
        Some(body),
    )
    .await
}

/// Submits as `token` and returns the answer, which must be a 200.
async fn submit(app: &TestApp, token: &str, body: &Value) -> Value {
    let r = post_as(app, token, body).await;
    r.expect(StatusCode::OK, "submit");
    r.json()
}

/// Asserts `{"Error": sentence}` with `status`.
fn assert_error(r: &Reply, status: StatusCode, sentence: &str) {
    r.expect(status, sentence);
    assert_eq!(r.json(), json!({ "Error": sentence }));
}

/// Asserts a 404 with the body `{}`.
fn assert_missing(r: &Reply, what: &str) {
    r.expect(StatusCode::NOT_FOUND, what);
    assert_eq!(r.text(), "{}", "{what}");
    assert_eq!(
        r.content_type.as_deref(),
        Some("application/json"),
        "{what}"
    );
}

/// Asserts an `{"Error": ...}` answer with `status`, whatever the sentence.
fn assert_some_error(r: &Reply, status: StatusCode, what: &str) -> String {
    r.expect(status, what);
    let v = r.json();
    let keys: Vec<&String> = v
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys, ["Error"], "{what}: {v}");
    let text = v["Error"].as_str().unwrap_or_default().to_owned();
    assert!(!text.is_empty(), "{what}");
    text
}

fn object(v: &Value) -> Map<String, Value> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .clone()
}

fn text(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.fZ").expect("a seed time")
}

/// The seed's example with what testgraph deliberately answers otherwise: no callback services
/// run, so `call_stack_report` is `[]` (docs/compat.md).
fn seed_example(name: &str) -> Value {
    let mut doc = fixture("xpresso", name);
    let strip = |r: &mut Value| {
        for item in r["items"].as_array_mut().expect("items") {
            item["call_stack_report"] = json!([]);
        }
    };
    match &mut doc {
        Value::Array(list) => list.iter_mut().for_each(strip),
        one => strip(one),
    }
    doc
}

/// The catalog of a group, built like the seed's example: two testbeds, two topologies, the
/// profile `DEFAULT` (the example's job, harness instance, engine, options and env, on both
/// testbeds) and a bundle of two entries of it.
struct Catalog {
    profile: String,
    bundle: String,
    testbeds: Vec<(String, String)>,
    topologies: Vec<String>,
}

async fn catalog(app: &TestApp, group: &str) -> Catalog {
    catalog_with(app, group, vec!["user@company.com".into()]).await
}

async fn catalog_with(app: &TestApp, group: &str, interest_list: Vec<String>) -> Catalog {
    let db = &app.state.db;
    let doc = fixture("xpresso", "detail.json");
    let item = &doc["items"][0];
    let mut testbeds = Vec::new();
    for t in item["submitted_testbeds"].as_array().expect("testbeds") {
        let name = text(&t["name"]);
        let tb = svc::create_testbed(
            db,
            group,
            &NewTestbed {
                name: name.clone(),
                definition: format!("testbed:\n  name: {name}\n"),
            },
        )
        .await
        .expect("testbed");
        testbeds.push((tb.name, tb.uuid));
    }
    let mut topologies = Vec::new();
    for name in ["topo-a", "topo-b"] {
        let t = svc::create_topology(
            db,
            group,
            &NewTopology {
                name: name.into(),
                definition: "devices: {}\n".into(),
            },
        )
        .await
        .expect("topology");
        topologies.push(t.uuid);
    }
    let profile = svc::create_profile(
        db,
        group,
        &NewProfile {
            name: "DEFAULT".into(),
            job: NewJob {
                name: text(&item["job"]["name"]),
                path: text(&item["job"]["path"]),
                uuid: Some(text(&item["job"]["uuid"])),
            },
            harness: object(&item["harness_instances"][0]),
            engine: object(&item["engine"]),
            testbeds: testbeds.iter().map(|(_, u)| u.clone()).collect(),
            topology: None,
            options: object(&item["options"]),
            env: object(&item["env"]),
            interest_list,
            ..NewProfile::default()
        },
    )
    .await
    .expect("profile");
    let bundle = svc::create_bundle(
        db,
        group,
        &NewBundle {
            name: "nightly".into(),
            entries: vec![
                BundleEntry {
                    profile: profile.uuid.clone(),
                    ..BundleEntry::default()
                },
                BundleEntry {
                    profile: profile.uuid.clone(),
                    testbeds: vec![testbeds[1].1.clone()],
                    ..BundleEntry::default()
                },
            ],
        },
    )
    .await
    .expect("bundle");
    Catalog {
        profile: profile.uuid,
        bundle: bundle.uuid,
        testbeds,
        topologies,
    }
}

/// Moves an item as its runner would.
async fn move_to(app: &TestApp, postback: &str, item: &str, to: State, testbed: Option<&str>) {
    svc::move_item(
        &app.state.db,
        postback,
        item,
        &ItemMove {
            to,
            selected_testbed: testbed.map(str::to_owned),
            error_detail: None,
        },
    )
    .await
    .unwrap_or_else(|e| panic!("move {item} to {to:?}: {e}"));
}

fn counters(total: i64, pass: i64, fail: i64, skip: i64) -> Summary {
    Summary {
        applicable_tasks: total,
        total_tasks: total,
        pass,
        fail,
        skip,
        ..Summary::default()
    }
}

/// The run results of the seed's example (its script, section and results metadata), with
/// these counters, for `item`.
fn seed_results(item: &str, summary: Summary) -> NewPhaseResult {
    let doc = fixture("xpresso", "detail.json");
    let run = &doc["items"][0]["results"]["run"];
    let script = &run["scripts"][0];
    let x = &script["sections"][0];
    let mut meta = object(&run["results_meta"]);
    // In place: the keys keep the example's order.
    meta.insert("result_id".into(), json!(format!("{item}-run")));
    meta.insert("related_id".into(), json!(item));
    let int = |v: &Value| v.as_i64().expect("an integer");
    NewPhaseResult {
        state: Some(text(&run["state"])),
        start_time: Some(at(&text(&run["start_time"]))),
        completion_time: Some(at(&text(&run["completion_time"]))),
        summary,
        scripts: vec![NewScript {
            task_id: text(&script["meta"]["task_id"]),
            name: text(&script["meta"]["name"]),
            path: text(&script["meta"]["path"]),
            summary,
            sections: vec![NewSection {
                uuid: Some(text(&x["id"])),
                section_id: text(&x["section_id"]),
                parent_id: None,
                sequence_number: int(&x["sequence_number"]),
                section_name: text(&x["section_name"]),
                section_type: text(&x["section_type"]),
                result: text(&x["result"]),
                source_file: text(&x["source_file"]),
                source_line: int(&x["source_line"]),
                run_time: text(&x["run_time"]),
                start_time: Some(at(&text(&x["start_time"]))),
                stop_time: Some(at(&text(&x["stop_time"]))),
                log_file: text(&x["log_file"]),
                log_start: int(&x["log_start"]),
                log_start_line: int(&x["log_start_line"]),
                log_size: int(&x["log_size"]),
                log_size_line: int(&x["log_size_line"]),
                description: text(&x["description"]),
            }],
        }],
        results_meta: meta,
    }
}

/// Runs `item` to its end: queued, running on `testbed`, `results` attached, finalizing, `end`.
async fn run_item(
    app: &TestApp,
    postback: &str,
    item: &str,
    testbed: &str,
    results: &NewPhaseResult,
    end: State,
) {
    move_to(app, postback, item, State::Queued, None).await;
    move_to(app, postback, item, State::Running, Some(testbed)).await;
    svc::attach_results(&app.state.db, postback, item, Phase::Run, results)
        .await
        .expect("results");
    move_to(app, postback, item, State::Finalizing, None).await;
    move_to(app, postback, item, end, None).await;
}

fn is_micro_z(s: &str) -> bool {
    s.len() == 27
        && NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.6fZ").is_ok()
        && s.as_bytes()[19] == b'.'
}

#[tokio::test]
async fn submitting_answers_the_seed_shape() {
    let app = app().await;
    let c = catalog(&app, GROUP).await;
    let token = app
        .member_token(GROUP, "my_cec", &[Scope::RunRequest])
        .await;
    let doc = fixture("xpresso", "submit.json");

    // The seed's payload as it is, with this catalog's UUIDs.
    let mut body = fixture("xpresso", "submit_body.json");
    body["profile"] = json!(c.profile);
    body["testbeds"] = json!([c.testbeds[0].1, c.testbeds[1].1]);
    let r = post_as(&app, &token, &body).await;
    r.expect(StatusCode::OK, "submit");
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    let v = r.json();
    assert_shape(&v, &doc, Rules::default(), "submit");
    let id = text(&v["request_id"]);
    assert!(svc::parse_request_id(&id).is_some(), "{id}");
    assert_eq!(v["username"], "some_cec", "submitted_for");
    assert_eq!(v["submitter"], "my_cec", "the token's user");
    assert_eq!(v["state"], "PREPARING");
    assert_eq!(v["branch"], "master");
    let request_url = format!("{BASE}services/request-detail/{id}");
    assert_eq!(v["request_url"], json!(request_url));
    assert_eq!(v["items"], json!([format!("{id}-1")]));

    // What the payload asked for is what the request holds.
    let d = get_as(&app, &format!("{ROOT}/{id}"), &token).await;
    d.expect(StatusCode::OK, "detail");
    let d = d.json();
    assert_eq!(
        v["service_url"],
        json!(format!("{request_url}?share_key={}", text(&d["uuid"])))
    );
    assert_eq!(d["tags"], json!(["xpresso", "test"]));
    assert_eq!(d["description"], "This is a test run");
    assert_eq!(d["max_request_runtime_seconds"], 86400);
    let item = &d["items"][0];
    assert_eq!(item["options"]["--turbo"], true);
    assert_eq!(item["options"]["--run-again"], "some value");
    assert_eq!(item["options"]["--loglevel"], "INFO");
    assert_eq!(
        item["env"]["ATS_SECURE_HOSTS"],
        "ssr-sjc-vmftp-5 ssr-sjc-vmftp-8 ssr-sjc-vmftp-6"
    );
    assert_eq!(item["env"]["PYTHONPATH"], "/path/to/genie_group/pypi/");
    let names: Vec<&Value> = item["submitted_testbeds"]
        .as_array()
        .expect("testbeds")
        .iter()
        .map(|t| &t["name"])
        .collect();
    assert_eq!(
        names,
        [&json!(c.testbeds[0].0), &json!(c.testbeds[1].0)],
        "in the order given"
    );

    // Without branch or submitted_for: N/A and the caller.
    let v = submit(&app, &token, &json!({"profile": c.profile})).await;
    assert_eq!(
        (&v["branch"], &v["username"]),
        (&json!("N/A"), &json!("my_cec"))
    );

    // Topologies: one item each.
    let v = submit(
        &app,
        &token,
        &json!({"profile": c.profile, "topologies": c.topologies}),
    )
    .await;
    let id = text(&v["request_id"]);
    assert_eq!(v["items"], json!([format!("{id}-1"), format!("{id}-2")]));

    // The bundle form: the seed's payload, one item per entry.
    let mut body = fixture("xpresso", "submit_bundle_body.json");
    body["bundle"] = json!(c.bundle);
    let v = submit(&app, &token, &body).await;
    assert_shape(
        &v,
        &fixture("xpresso", "submit_bundle.json"),
        Rules::default(),
        "bundle submit",
    );
    let id = text(&v["request_id"]);
    assert_eq!(v["items"], json!([format!("{id}-1"), format!("{id}-2")]));
    let d = get_as(&app, &format!("{ROOT}/{id}"), &token).await.json();
    assert_eq!(d["name"], "nightly");
    let second: Vec<&Value> = d["items"][1]["submitted_testbeds"]
        .as_array()
        .expect("testbeds")
        .iter()
        .map(|t| &t["uuid"])
        .collect();
    assert_eq!(second, [&json!(c.testbeds[1].1)]);
}

#[tokio::test]
async fn detail_and_list_answer_the_seed_shapes_after_a_run() {
    let app = app().await;
    let c = catalog(&app, GROUP).await;
    let token = app
        .member_token(GROUP, "user", &[Scope::RunRequest, Scope::StopRequest])
        .await;
    let v = submit(&app, &token, &json!({"profile": c.profile})).await;
    let id = text(&v["request_id"]);
    let item_id = format!("{id}-1");
    let path = format!("{ROOT}/{id}");

    // Before anything ran: no results, an empty consolidated summary with the integer rate.
    let d = get_as(&app, &path, &token).await;
    d.expect(StatusCode::OK, "detail");
    let d = d.json();
    let postback = text(&d["postback_token"]);
    assert!(postback.starts_with("Jwt "), "{postback}");
    assert_eq!(d["state"], "PREPARING");
    assert_eq!(d["consolidated_summary"]["success_rate"].to_string(), "0");
    assert_eq!(d["items"][0]["selected_testbed"], Value::Null);
    assert_eq!(
        d["items"][0]["results"]["run"],
        json!({"scripts": [], "start_time": null, "completion_time": null, "state": null,
               "summary": {}, "uid": null, "results_meta": {}})
    );
    assert_eq!(d["date_completed"], Value::Null);

    // The runner runs it on the second testbed: 3 tasks, 2 passed, 1 failed.
    let (tb_name, tb_uuid) = c.testbeds[1].clone();
    let results = seed_results(&item_id, counters(3, 2, 1, 0));
    run_item(&app, &postback, &item_id, &tb_uuid, &results, State::Failed).await;

    let r = get_as(&app, &path, &token).await;
    r.expect(StatusCode::OK, "detail");
    let d = r.json();
    assert_shape(&d, &seed_example("detail.json"), Rules::default(), "detail");
    // The request.
    assert_eq!(d["source"], "API");
    assert_eq!(d["instance_url"], BASE);
    assert_eq!(d["instance_id"], "xpresso-server");
    assert_eq!(
        d["request_url"],
        json!(format!("{BASE}services/request-detail/{id}"))
    );
    assert_eq!(
        d["service_url"],
        json!(format!(
            "{BASE}services/request-detail/{id}?share_key={}",
            text(&d["uuid"])
        ))
    );
    assert!(
        is_micro_z(&text(&d["date_created"])),
        "{}",
        d["date_created"]
    );
    assert!(
        is_micro_z(&text(&d["date_completed"])),
        "{}",
        d["date_completed"]
    );
    assert_eq!(d["name"], "Job_VIRL");
    assert_eq!(d["state"], "FAILED");
    assert_eq!(d["verdict"], "FAILED");
    assert_eq!(d["interest_list"], "['user@company.com']");
    assert_eq!(d["meta"], "{}", "a JSON text on the request");
    assert_eq!(d["rerun_root"], json!(id));
    assert_eq!(d["max_request_runtime_seconds"], 43200);
    assert_eq!(d["postback_token"], json!(postback));
    assert_eq!(
        (&d["username"], &d["submitter"]),
        (&json!("user"), &json!("user"))
    );
    assert_eq!(d["tags"], json!([]));
    for (k, want) in [
        ("schedule_id", Value::Null),
        ("call_stack", Value::Null),
        ("parent_request", Value::Null),
        ("requeue", json!(false)),
        ("children", json!([])),
    ] {
        assert_eq!(d[k], want, "{k}");
    }
    let cs = &d["consolidated_summary"];
    assert_eq!(
        cs["success_rate_rule"],
        "('passed' + 'passx' + 'skip')/total_tasks * 100.0"
    );
    assert_eq!(
        (&cs["total_tasks"], &cs["pass"], &cs["fail"]),
        (&json!(3), &json!(2), &json!(1))
    );
    assert_eq!(cs["success_rate"], json!(66.67));
    // The item.
    let item = &d["items"][0];
    let seed = &fixture("xpresso", "detail.json")["items"][0];
    for k in [
        "harness_config",
        "harness_instances",
        "job",
        "engine",
        "options",
        "env",
    ] {
        assert_eq!(item[k], seed[k], "{k} as the catalog gave it");
    }
    assert_eq!(item["item_id"], json!(item_id));
    assert_eq!(item["state"], "FAILED");
    assert_eq!(
        item["selected_testbed"],
        json!({"name": tb_name, "uuid": tb_uuid})
    );
    assert_eq!(item["meta"], json!({}), "an object on the item");
    assert_eq!(item["topology"], json!({}));
    assert_eq!(item["stop_requested"], json!({}));
    assert_eq!(
        item["profile"],
        json!({"name": "DEFAULT", "uuid": c.profile})
    );
    assert_eq!(
        (&item["priority"], &item["max_runtime_seconds"]),
        (&json!(4), &json!(43200))
    );
    assert_eq!(item["max_clean_runtime_seconds"], 0);
    assert!(is_micro_z(&text(&item["start_time"])));
    assert!(is_micro_z(&text(&item["completion_time"])));
    assert_eq!(item["call_stack_report"], json!([]));
    // Its run results, as the runner reported them.
    let run = &item["results"]["run"];
    let seed_run = &seed["results"]["run"];
    assert_eq!(run["uid"], json!(format!("{item_id}-run")));
    assert_eq!(run["start_time"], seed_run["start_time"]);
    assert_eq!(run["completion_time"], seed_run["completion_time"]);
    assert_eq!(run["state"], "FAILED");
    assert_eq!(run["summary"]["success_rate"], json!(66.67));
    let mut meta = object(&seed_run["results_meta"]);
    meta.insert("result_id".into(), json!(format!("{item_id}-run")));
    meta.insert("related_id".into(), json!(item_id));
    assert_eq!(run["results_meta"], Value::Object(meta));
    let script = &run["scripts"][0];
    assert_eq!(script["meta"], seed_run["scripts"][0]["meta"]);
    assert_eq!(script["summary"], run["summary"]);
    let section = &script["sections"][0];
    let seed_section = &seed_run["scripts"][0]["sections"][0];
    for (k, v) in object(seed_section) {
        if k != "script_id" {
            assert_eq!(section[&k], v, "section {k}");
        }
    }
    assert!(section["script_id"].is_i64());
    // The clean phase never ran.
    assert_eq!(item["results"]["clean"], seed["results"]["clean"]);

    // The list: the projection without tags, scripts and results_meta.
    let r = get_as(&app, ROOT, &token).await;
    r.expect(StatusCode::OK, "list");
    let list = r.json();
    assert_shape(&list, &seed_example("list.json"), Rules::default(), "list");
    let mut projected = d.clone();
    projected.as_object_mut().expect("object").remove("tags");
    for phase in ["run", "clean"] {
        let p = projected["items"][0]["results"][phase]
            .as_object_mut()
            .expect("phase");
        p.remove("scripts");
        p.remove("results_meta");
    }
    assert_eq!(
        list,
        json!([projected]),
        "the list is the detail's projection"
    );
    // HEAD answers as GET, without a body.
    let h = call(&app, Method::HEAD, ROOT, Some(&jwt(&token)), None, None).await;
    h.expect(StatusCode::OK, "HEAD");
    assert!(h.raw.is_empty());
}

#[tokio::test]
async fn consolidated_summaries_add_up_the_items_run_results() {
    let app = app().await;
    let c = catalog(&app, GROUP).await;
    let token = app.member_token(GROUP, "user", &[Scope::RunRequest]).await;
    let v = submit(&app, &token, &json!({"bundle": c.bundle})).await;
    let id = text(&v["request_id"]);
    let path = format!("{ROOT}/{id}");
    let postback = text(&get_as(&app, &path, &token).await.json()["postback_token"]);
    let (one, two) = (format!("{id}-1"), format!("{id}-2"));

    // The first item finished: 3 tasks, 2 passed. The request runs on.
    run_item(
        &app,
        &postback,
        &one,
        &c.testbeds[0].1,
        &seed_results(&one, counters(3, 2, 1, 0)),
        State::Finished,
    )
    .await;
    let d = get_as(&app, &path, &token).await.json();
    assert_eq!(d["state"], "RUNNING");
    assert_eq!(d["verdict"], Value::Null);
    assert_eq!(d["consolidated_summary"]["success_rate"], json!(66.67));

    // The second: 2 tasks, 1 passed, 1 skipped, and a clean phase, which does not count.
    let mut results = seed_results(&two, counters(2, 1, 0, 1));
    results.scripts[0].sections[0].uuid = None;
    move_to(&app, &postback, &two, State::Queued, None).await;
    move_to(&app, &postback, &two, State::Running, None).await;
    svc::attach_results(&app.state.db, &postback, &two, Phase::Run, &results)
        .await
        .expect("run results");
    let clean = NewPhaseResult {
        state: Some("PASSED".into()),
        summary: counters(7, 7, 0, 0),
        ..NewPhaseResult::default()
    };
    svc::attach_results(&app.state.db, &postback, &two, Phase::Clean, &clean)
        .await
        .expect("clean results");
    move_to(&app, &postback, &two, State::Finalizing, None).await;
    move_to(&app, &postback, &two, State::Finished, None).await;

    let d = get_as(&app, &path, &token).await.json();
    assert_eq!(d["state"], "FINISHED");
    let cs = &d["consolidated_summary"];
    for (k, n) in [
        ("total_tasks", 5),
        ("applicable_tasks", 5),
        ("pass", 3),
        ("fail", 1),
        ("skip", 1),
    ] {
        assert_eq!(cs[k], json!(n), "{k}");
    }
    // (3 + 0 + 1) / 5 * 100: whole, so an integer.
    assert_eq!(cs["success_rate"].to_string(), "80");
    assert_eq!(d["verdict"], "FAILED", "a task failed");
    let second = &d["items"][1];
    assert_eq!(
        second["selected_testbed"]["uuid"],
        json!(c.testbeds[1].1),
        "the first submitted testbed when the runner names none"
    );
    assert_eq!(
        second["results"]["run"]["summary"]["success_rate"].to_string(),
        "100"
    );
    let cleaned = &second["results"]["clean"];
    assert_eq!(cleaned["uid"], json!(format!("{two}-clean")));
    assert_eq!(cleaned["state"], "PASSED");
    assert_eq!(cleaned["summary"]["total_tasks"], 7);
    assert_eq!(cleaned["scripts"], json!([]));
    assert_eq!(
        (
            &cleaned["results_meta"]["result_id"],
            &cleaned["results_meta"]["related_id"]
        ),
        (&json!(format!("{two}-clean")), &json!(two))
    );
    // The list agrees.
    let list = get_as(&app, ROOT, &token).await.json();
    assert_eq!(list[0]["consolidated_summary"], *cs);
}

#[tokio::test]
async fn interest_lists_are_python_reprs() {
    let app = app().await;
    let addresses = vec![
        "user@company.com".to_owned(),
        "it's@x".to_owned(),
        "say \"hi\" it's".to_owned(),
        "back\\slash".to_owned(),
        "été".to_owned(),
    ];
    let c = catalog_with(&app, GROUP, addresses).await;
    let token = app.member_token(GROUP, "user", &[Scope::RunRequest]).await;
    let v = submit(&app, &token, &json!({"profile": c.profile})).await;
    let d = get_as(&app, &format!("{ROOT}/{}", text(&v["request_id"])), &token)
        .await
        .json();
    // Python 3: repr(['user@company.com', "it's@x", 'say "hi" it\'s', 'back\\slash', 'été']).
    assert_eq!(
        d["interest_list"],
        r#"['user@company.com', "it's@x", 'say "hi" it\'s', 'back\\slash', 'été']"#
    );
    let c2 = catalog_with(&app, OTHER, Vec::new()).await;
    let other = app.member_token(OTHER, "bob", &[Scope::RunRequest]).await;
    let v = submit(&app, &other, &json!({"profile": c2.profile})).await;
    let d = get_as(&app, &format!("{ROOT}/{}", text(&v["request_id"])), &other)
        .await
        .json();
    assert_eq!(d["interest_list"], "[]");
}

#[tokio::test]
async fn stopping_answers_the_seed_shape_and_refuses_ended_requests() {
    let app = app().await;
    let c = catalog(&app, GROUP).await;
    let token = app
        .member_token(GROUP, "user2", &[Scope::RunRequest, Scope::StopRequest])
        .await;
    let v = submit(
        &app,
        &token,
        &json!({"profile": c.profile, "submitted_for": "user"}),
    )
    .await;
    let id = text(&v["request_id"]);
    let postback =
        text(&get_as(&app, &format!("{ROOT}/{id}"), &token).await.json()["postback_token"]);
    move_to(&app, &postback, &format!("{id}-1"), State::Queued, None).await;
    move_to(&app, &postback, &format!("{id}-1"), State::Running, None).await;

    let body = fixture("xpresso", "stop_body.json").to_string();
    let r = stop_as(&app, &token, &id, &body).await;
    r.expect(StatusCode::OK, "stop");
    let s = r.json();
    assert_shape(
        &s,
        &fixture("xpresso", "stop.json"),
        Rules::default(),
        "stop",
    );
    assert_eq!(s["state"], "STOPPED");
    assert_eq!(s["request_id"], json!(id));
    assert_eq!(
        (&s["username"], &s["submitter"]),
        (&json!("user"), &json!("user2"))
    );
    assert_eq!(s["items"], json!([format!("{id}-1")]));
    assert_eq!(
        s["request_url"],
        json!(format!("{BASE}services/request-detail/{id}"))
    );

    let d = get_as(&app, &format!("{ROOT}/{id}"), &token).await.json();
    assert_eq!(d["state"], "STOPPED");
    assert!(is_micro_z(&text(&d["date_completed"])));
    let stopped = &d["items"][0]["stop_requested"];
    assert_eq!(
        stopped["reason"],
        "Resource urgently needed for another request"
    );
    assert_eq!(stopped["user"], "user2");
    assert!(is_micro_z(&text(&stopped["time"])));
    assert_eq!(d["items"][0]["state"], "STOPPED");

    // Stopping it again: it ended.
    let r = stop_as(&app, &token, &id, &body).await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        &format!("Request {id} is STOPPED and cannot be stopped."),
    );
    // A request that finished.
    let v = submit(&app, &token, &json!({"profile": c.profile})).await;
    let done = text(&v["request_id"]);
    let postback =
        text(&get_as(&app, &format!("{ROOT}/{done}"), &token).await.json()["postback_token"]);
    let item = format!("{done}-1");
    let results = seed_results(&item, counters(1, 1, 0, 0));
    run_item(
        &app,
        &postback,
        &item,
        &c.testbeds[0].1,
        &results,
        State::Finished,
    )
    .await;
    let r = stop_as(&app, &token, &done, "{}").await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        &format!("Request {done} is FINISHED and cannot be stopped."),
    );

    // The body: empty or without a reason is no reason; a reason that is not a string, a body
    // that is not JSON or not an object, are refused. A PREPARING request can be stopped.
    let v = submit(&app, &token, &json!({"profile": c.profile})).await;
    let fresh = text(&v["request_id"]);
    for bad in [r#"{"reason": 5}"#, r#"{"reason": ["x"]}"#] {
        assert_error(
            &stop_as(&app, &token, &fresh, bad).await,
            StatusCode::BAD_REQUEST,
            "Provided reason must be a string.",
        );
    }
    assert_some_error(
        &stop_as(&app, &token, &fresh, "{oops").await,
        StatusCode::BAD_REQUEST,
        "not JSON",
    );
    assert_some_error(
        &stop_as(&app, &token, &fresh, "\"x\"").await,
        StatusCode::BAD_REQUEST,
        "not an object",
    );
    let r = stop_as(&app, &token, &fresh, "").await;
    r.expect(StatusCode::OK, "an empty body");
    assert_eq!(r.json()["state"], "STOPPED");
    let d = get_as(&app, &format!("{ROOT}/{fresh}"), &token)
        .await
        .json();
    assert_eq!(d["items"][0]["stop_requested"]["reason"], "");
    let v = submit(&app, &token, &json!({"profile": c.profile})).await;
    let r = stop_as(&app, &token, &text(&v["request_id"]), r#"{"other": 1}"#).await;
    r.expect(StatusCode::OK, "no reason");
}

#[tokio::test]
async fn submission_errors_are_xpresso_sentences() {
    let app = app().await;
    let c = catalog(&app, GROUP).await;
    let theirs = catalog(&app, OTHER).await;
    let token = app.member_token(GROUP, "user", &[Scope::RunRequest]).await;
    let unknown = "964c036a-619e-4001-b62e-4f7f028231dc";
    let cases: Vec<(Value, String)> = vec![
        (
            json!({"profile": unknown}),
            text(&fixture("xpresso", "submit_error.json")["Error"]),
        ),
        (
            json!({"bundle": unknown}),
            text(&fixture("xpresso", "submit_bundle_error.json")["Error"]),
        ),
        (
            json!({"profile": "not-a-uuid"}),
            "Provided profile is not defined.".into(),
        ),
        // Another group's catalog is not there.
        (
            json!({"profile": theirs.profile}),
            "Provided profile is not defined.".into(),
        ),
        (
            json!({"bundle": theirs.bundle}),
            "Provided bundle is not defined.".into(),
        ),
        (
            json!({"profile": c.profile, "testbeds": [c.testbeds[0].1], "topologies": [c.topologies[0]]}),
            "Provide either testbeds or topologies, not both.".into(),
        ),
        (
            json!({"profile": c.profile, "testbeds": [unknown]}),
            format!("Provided testbed {unknown} is not defined."),
        ),
        (json!({}), "Provide a profile or a bundle.".into()),
        (
            json!({"profile": c.profile, "bundle": c.bundle}),
            "Provide either a profile or a bundle, not both.".into(),
        ),
        (
            json!({"profile": 5}),
            "Provided profile must be a string.".into(),
        ),
        (
            json!({"profile": c.profile, "clean": "yes"}),
            "Provided clean must be true or false.".into(),
        ),
        (
            json!({"profile": c.profile, "tags": "a"}),
            "Provided tags must be a list of strings.".into(),
        ),
        (
            json!({"profile": c.profile, "testbeds": [1]}),
            "Provided testbeds must be a list of strings.".into(),
        ),
        (
            json!({"profile": c.profile, "max_request_runtime_seconds": "1"}),
            "Provided max_request_runtime_seconds must be an integer.".into(),
        ),
        (
            json!({"profile": c.profile, "parameters": []}),
            "Provided parameters must be an object.".into(),
        ),
        (
            json!({"profile": c.profile, "parameters": {"job_args": "x"}}),
            "Provided parameters.job_args must be an object.".into(),
        ),
    ];
    for (body, sentence) in cases {
        assert_error(
            &post_as(&app, &token, &body).await,
            StatusCode::BAD_REQUEST,
            &sentence,
        );
    }
    // Overrides on a bundle.
    for extra in [
        json!({"testbeds": [c.testbeds[0].1]}),
        json!({"topologies": [c.topologies[0]]}),
        json!({"parameters": {"env_vars": {"A": "1"}}}),
    ] {
        let mut body = json!({"bundle": c.bundle});
        body.as_object_mut().expect("object").extend(object(&extra));
        assert_error(
            &post_as(&app, &token, &body).await,
            StatusCode::BAD_REQUEST,
            "Testbeds, topologies and arguments are defined in the bundle and cannot be overridden.",
        );
    }
    // The service's checks of the values, worded by it.
    let r = post_as(
        &app,
        &token,
        &json!({"profile": c.profile, "parameters": {"env_vars": {"A": 1}}}),
    )
    .await;
    let msg = assert_some_error(&r, StatusCode::BAD_REQUEST, "env value");
    assert!(msg.starts_with("Provided parameters are invalid"), "{msg}");
    let r = post_as(
        &app,
        &token,
        &json!({"profile": c.profile, "max_request_runtime_seconds": -1}),
    )
    .await;
    assert_some_error(&r, StatusCode::BAD_REQUEST, "runtime");
    // Bodies that are not a JSON object.
    let raw = |b: &'static str| {
        let app = &app;
        let token = &token;
        async move { call(app, Method::POST, ROOT, Some(&jwt(token)), None, Some(b)).await }
    };
    for (b, what) in [
        ("{\"profile\": ", "cut"),
        ("profile=x", "a form"),
        ("[]", "an array"),
        ("\"x\"", "a string"),
        ("", "empty"),
    ] {
        assert_some_error(&raw(b).await, StatusCode::BAD_REQUEST, what);
    }
    assert_error(
        &raw("[1]").await,
        StatusCode::BAD_REQUEST,
        "The request body must be a JSON object.",
    );
    assert_error(
        &raw("").await,
        StatusCode::BAD_REQUEST,
        "A JSON object is required in the request body.",
    );
    // Unknown keys are ignored; null is not given.
    let v = submit(
        &app,
        &token,
        &json!({"profile": c.profile, "colour": "red", "branch": null}),
    )
    .await;
    assert_eq!(v["branch"], "N/A");
    // Nothing was stored by the refused submissions.
    let list = get_as(&app, ROOT, &token).await.json();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn missing_requests_are_404_with_an_empty_object() {
    let app = app().await;
    let c = catalog(&app, GROUP).await;
    let ours = app
        .member_token(GROUP, "user", &[Scope::RunRequest, Scope::StopRequest])
        .await;
    let theirs = app.member_token(OTHER, "bob", &[Scope::Admin]).await;
    let v = submit(&app, &ours, &json!({"profile": c.profile})).await;
    let id = text(&v["request_id"]);
    for missing in [
        "REQ9999999",
        "REQ0000000",
        "REQ12",
        "req0000001",
        "nothing",
        "REQ0000001-1",
    ] {
        assert_missing(
            &get_as(&app, &format!("{ROOT}/{missing}"), &ours).await,
            missing,
        );
        assert_missing(&stop_as(&app, &ours, missing, "{}").await, missing);
    }
    // Another group's request, even for its admin.
    assert_missing(
        &get_as(&app, &format!("{ROOT}/{id}"), &theirs).await,
        "GET theirs",
    );
    assert_missing(&stop_as(&app, &theirs, &id, "{}").await, "PATCH theirs");
    assert_eq!(get_as(&app, ROOT, &theirs).await.json(), json!([]));
    // Still running for its own group.
    let d = get_as(&app, &format!("{ROOT}/{id}"), &ours).await.json();
    assert_eq!(d["state"], "PREPARING");
}

#[tokio::test]
async fn every_route_needs_a_token_with_its_permission_in_its_group() {
    let app = app().await;
    let c = catalog(&app, GROUP).await;
    let full = app
        .member_token(GROUP, "user", &[Scope::RunRequest, Scope::StopRequest])
        .await;
    let read = app.member_token(GROUP, "rita", &[Scope::Read]).await;
    let run = app.member_token(GROUP, "ron", &[Scope::RunRequest]).await;
    let stop = app.member_token(GROUP, "sam", &[Scope::StopRequest]).await;
    let write = app.member_token(GROUP, "wes", &[Scope::Write]).await;
    let admin = app.member_token(GROUP, "ada", &[Scope::Admin]).await;
    let submit_body = json!({"profile": c.profile}).to_string();
    let id = text(&submit(&app, &full, &json!({"profile": c.profile})).await["request_id"]);
    let detail = format!("{ROOT}/{id}");

    // A fresh request to stop for each stop that should succeed.
    let fresh =
        || async { text(&submit(&app, &full, &json!({"profile": c.profile})).await["request_id"]) };
    type Route = (Method, String, Option<String>);
    let routes = |stop_id: &str| -> Vec<Route> {
        vec![
            (Method::POST, ROOT.to_owned(), Some(submit_body.clone())),
            (Method::GET, ROOT.to_owned(), None),
            (Method::GET, detail.clone(), None),
            (
                Method::PATCH,
                format!("{ROOT}/{stop_id}/stop"),
                Some("{}".to_owned()),
            ),
        ]
    };
    let send = |(m, p, b): Route, auth: Option<String>, group: Option<&'static str>| {
        let app = &app;
        async move { call(app, m, &p, auth.as_deref(), group, b.as_deref()).await }
    };

    // No token, an unknown one, a header in neither form: 401 on every route.
    for auth in [
        None,
        Some("Jwt nope".to_owned()),
        Some(format!("Token {full}")),
        Some(full.clone()),
    ] {
        for r in routes(&id) {
            let what = format!("{} {} with {auth:?}", r.0, r.1);
            assert_some_error(
                &send(r, auth.clone(), None).await,
                StatusCode::UNAUTHORIZED,
                &what,
            );
        }
    }
    // Who may do what: (token, may submit, may stop). Everyone in the group reads.
    for (name, token, may_submit, may_stop) in [
        ("read", &read, false, false),
        ("write", &write, false, false),
        ("run_request", &run, true, false),
        ("stop_request", &stop, false, true),
        ("admin", &admin, true, true),
    ] {
        let target = fresh().await;
        for (i, r) in routes(&target).into_iter().enumerate() {
            let what = format!("{name}: {} {}", r.0, r.1);
            let allowed = match i {
                0 => may_submit,
                3 => may_stop,
                _ => true,
            };
            let reply = send(r, Some(jwt(token)), None).await;
            if allowed {
                reply.expect(StatusCode::OK, &what);
            } else {
                let msg = assert_some_error(&reply, StatusCode::FORBIDDEN, &what);
                assert!(
                    msg.contains(if i == 0 {
                        "run_request"
                    } else {
                        "stop_request"
                    }),
                    "{msg}"
                );
            }
        }
    }
    // X-Group: another group is refused on every route, the token's own group is fine; Jwt and
    // Bearer alike.
    for form in ["Jwt", "Bearer"] {
        let auth = Some(format!("{form} {full}"));
        let target = fresh().await;
        for r in routes(&target) {
            let what = format!("{form} {} {} X-Group: {OTHER}", r.0, r.1);
            assert_some_error(
                &send(r, auth.clone(), Some(OTHER)).await,
                StatusCode::FORBIDDEN,
                &what,
            );
        }
        for r in routes(&target) {
            let what = format!("{form} {} {} X-Group: {GROUP}", r.0, r.1);
            send(r, auth.clone(), Some(GROUP))
                .await
                .expect(StatusCode::OK, &what);
        }
        let target = fresh().await;
        for r in routes(&target) {
            let what = format!("{form} {} {} without X-Group", r.0, r.1);
            send(r, auth.clone(), None)
                .await
                .expect(StatusCode::OK, &what);
        }
    }
    // An X-Group that is empty, or not text, names no group of the token's either.
    for value in [
        poem::http::HeaderValue::from_static(""),
        poem::http::HeaderValue::from_bytes(b"Kaz\xffaam").expect("a header value"),
    ] {
        let r = app
            .client
            .get(ROOT)
            .header("authorization", jwt(&full))
            .header("x-group", value)
            .send()
            .await;
        assert_some_error(&reply(r).await, StatusCode::FORBIDDEN, "X-Group");
    }
    // OPTIONS needs no token.
    let o = call(&app, Method::OPTIONS, ROOT, None, None, None).await;
    o.expect(StatusCode::OK, "OPTIONS");
}

#[tokio::test]
async fn both_slash_forms_unknown_paths_and_wrong_methods() {
    let app = app().await;
    let c = catalog(&app, GROUP).await;
    let token = app
        .member_token(GROUP, "user", &[Scope::RunRequest, Scope::StopRequest])
        .await;
    let auth = Some(jwt(&token));
    let body = json!({"profile": c.profile}).to_string();
    let r = call(
        &app,
        Method::POST,
        &format!("{ROOT}/"),
        auth.as_deref(),
        None,
        Some(&body),
    )
    .await;
    r.expect(StatusCode::OK, "POST with a slash");
    let id = text(&r.json()["request_id"]);
    let r = call(
        &app,
        Method::GET,
        &format!("{ROOT}/"),
        auth.as_deref(),
        None,
        None,
    )
    .await;
    r.expect(StatusCode::OK, "GET list with a slash");
    assert_eq!(r.json().as_array().map(Vec::len), Some(1));
    let r = call(
        &app,
        Method::GET,
        &format!("{ROOT}/{id}/"),
        auth.as_deref(),
        None,
        None,
    )
    .await;
    r.expect(StatusCode::OK, "GET one with a slash");
    assert_eq!(r.json()["request_id"], json!(id));
    let r = call(
        &app,
        Method::PATCH,
        &format!("{ROOT}/{id}/stop/"),
        auth.as_deref(),
        None,
        Some("{}"),
    )
    .await;
    r.expect(StatusCode::OK, "PATCH with a slash");
    assert_eq!(r.json()["state"], "STOPPED");

    // Unknown paths under the prefix: 404 {}, with or without a token.
    for p in [
        format!("{ROOT}/{id}/start"),
        format!("{ROOT}/{id}/stop/now"),
        format!("{ROOT}/{id}/items/1"),
    ] {
        assert_missing(
            &call(&app, Method::GET, &p, auth.as_deref(), None, None).await,
            &p,
        );
        assert_missing(&call(&app, Method::GET, &p, None, None, None).await, &p);
    }
    // Wrong methods: 405 {"Error": "Method not allowed"} with Allow.
    for (m, p, allow) in [
        (Method::DELETE, ROOT.to_owned(), "GET, HEAD, OPTIONS, POST"),
        (Method::PUT, format!("{ROOT}/{id}"), "GET, HEAD, OPTIONS"),
        (Method::POST, format!("{ROOT}/{id}"), "GET, HEAD, OPTIONS"),
        (Method::GET, format!("{ROOT}/{id}/stop"), "OPTIONS, PATCH"),
        (Method::POST, format!("{ROOT}/{id}/stop"), "OPTIONS, PATCH"),
    ] {
        let r = app
            .client
            .request(m.clone(), &p)
            .header("authorization", jwt(&token))
            .send()
            .await;
        let got_allow =
            r.0.headers()
                .get("allow")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
        let r = reply(r).await;
        assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "Method not allowed");
        assert_eq!(got_allow.as_deref(), Some(allow), "{m} {p}");
    }
}

#[tokio::test]
async fn pytest_monitor_still_answers_under_api_v1() {
    let app = app().await;
    for p in [
        "/api/v1/sessions",
        "/api/v1/sessions/",
        "/api/v1/metrics",
        "/api/v1/contexts/",
    ] {
        let r = reply(app.client.get(p).send().await).await;
        assert!(
            matches!(r.status, StatusCode::OK | StatusCode::NO_CONTENT),
            "{p}: {} {}",
            r.status,
            r.text()
        );
    }
    // Near misses of XPRESSO's prefix are pytest-monitor's, in its own words.
    for p in ["/api/v1/requestsx", "/api/v1/request"] {
        let r = reply(app.client.get(p).send().await).await;
        r.expect(StatusCode::NOT_FOUND, p);
        assert_ne!(r.text(), "{}", "{p} is not XPRESSO's");
    }
    // And XPRESSO's prefix is XPRESSO's, without a token too.
    let r = reply(app.client.get(ROOT).send().await).await;
    assert_some_error(&r, StatusCode::UNAUTHORIZED, "no token");
}

#[tokio::test]
async fn lists_page_and_filter_in_a_constant_number_of_statements() {
    let app = app().await;
    let c = catalog(&app, GROUP).await;
    let user = Caller {
        group: GROUP.into(),
        user: "user".into(),
    };
    let mut ids = Vec::new();
    for n in 0..101 {
        let (r, _) = svc::submit_request(
            &app.state.db,
            &user,
            &NewRequest {
                profile: Some(c.profile.clone()),
                branch: Some(if n % 2 == 0 { "main" } else { "dev" }.into()),
                tags: vec!["bulk".into()],
                ..NewRequest::default()
            },
        )
        .await
        .expect("submit");
        ids.push(svc::request_id(r.id));
    }
    // One more over REST by someone else, with tags and a branch.
    let carol = app
        .member_token(GROUP, "carol", &[Scope::RunRequest, Scope::StopRequest])
        .await;
    let v = submit(
        &app,
        &carol,
        &json!({"profile": c.profile, "tags": ["xpresso", "test"], "branch": "master"}),
    )
    .await;
    ids.push(text(&v["request_id"]));
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    let page = |q: &str| {
        let app = &app;
        let carol = &carol;
        let q = q.to_owned();
        async move {
            let r = get_as(app, &format!("{ROOT}{q}"), carol).await;
            r.expect(StatusCode::OK, &q);
            r.json()
                .as_array()
                .expect("an array")
                .iter()
                .map(|v| text(&v["request_id"]))
                .collect::<Vec<String>>()
        }
    };
    assert_eq!(
        page("").await,
        newest_first[..100],
        "default: 100, newest first"
    );
    assert_eq!(page("?limit=5").await, newest_first[..5]);
    assert_eq!(page("?limit=5&offset=5").await, newest_first[5..10]);
    assert_eq!(page("?offset=100").await, newest_first[100..]);
    assert_eq!(page("?offset=102").await, Vec::<String>::new());
    assert_eq!(
        page("?limit=5000").await,
        newest_first,
        "capped at 1000, not refused"
    );
    assert_eq!(page("?limit=1000&offset=1").await, newest_first[1..]);
    for bad in [
        "?limit=0",
        "?limit=x",
        "?limit=-1",
        "?limit=",
        "?offset=-1",
        "?offset=x",
        "?state=DONE",
        "?tag=a&tag=b",
    ] {
        let r = get_as(&app, &format!("{ROOT}{bad}"), &carol).await;
        assert_some_error(&r, StatusCode::BAD_REQUEST, bad);
    }
    // Filters.
    let carols = vec![newest_first[0].clone()];
    assert_eq!(page("?submitter=carol").await, carols);
    assert_eq!(page("?tag=test").await, carols);
    assert_eq!(page("?branch=master").await, carols);
    assert_eq!(page("?branch=main&limit=1000").await.len(), 51);
    assert_eq!(
        page("?branch=main&branch=master&limit=1000").await.len(),
        52
    );
    assert_eq!(page("?tag=bulk&limit=3").await, newest_first[1..4]);
    assert_eq!(page("?state=STOPPED").await, Vec::<String>::new());
    stop_as(&app, &carol, &ids[0], "{}")
        .await
        .expect(StatusCode::OK, "stop");
    assert_eq!(page("?state=stopped,FAILED").await, vec![ids[0].clone()]);
    assert_eq!(page("?state=PREPARING&limit=1000").await.len(), 101);

    // Results below some of them, then the statements of a page of 2 and of 60.
    let postback = text(
        &get_as(&app, &format!("{ROOT}/{}", ids[101]), &carol)
            .await
            .json()["postback_token"],
    );
    let item = format!("{}-1", ids[101]);
    run_item(
        &app,
        &postback,
        &item,
        &c.testbeds[0].1,
        &seed_results(&item, counters(1, 1, 0, 0)),
        State::Finished,
    )
    .await;
    app.reset_statements();
    page("?limit=2").await;
    let small = app.statements();
    app.reset_statements();
    page("?limit=60").await;
    let large = app.statements();
    assert_eq!(small, large, "{:#?}", app.statement_log());
    // The token, the requests, their items and summaries, the items' results.
    assert!(large <= 5, "{:#?}", app.statement_log());
}

#[tokio::test]
async fn openapi_documents_every_route() {
    let app = app().await;
    let doc = reply(app.client.get("/openapi.json").send().await)
        .await
        .json();
    let paths = &doc["paths"];
    for (p, m) in [
        ("/api/v1/requests", "get"),
        ("/api/v1/requests", "post"),
        ("/api/v1/requests/{request_id}", "get"),
        ("/api/v1/requests/{request_id}/stop", "patch"),
    ] {
        assert!(paths[p][m].is_object(), "{m} {p}");
    }
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let text = doc.to_string();
    for name in schemas.keys().filter(|k| k.starts_with("Xpresso")) {
        assert!(
            text.contains(&format!("#/components/schemas/{name}")),
            "{name} is used"
        );
    }
    for (p, m) in [
        ("/api/v1/requests", "post"),
        ("/api/v1/requests/{request_id}/stop", "patch"),
    ] {
        let op = &paths[p][m];
        let r = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .expect("a body");
        assert!(
            schemas.contains_key(r.trim_start_matches("#/components/schemas/")),
            "{r}"
        );
    }
    // Every reference resolves.
    let mut refs = Vec::new();
    fn collect(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|x| collect(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
            _ => {}
        }
    }
    collect(&doc, &mut refs);
    for r in refs {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(schemas.contains_key(name), "{r}");
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_in_xpressos_words() {
    let app = TestApp::with_config(|c| {
        c.xpresso.public_url = Some(BASE.into());
        c.limits.max_body_bytes = 1024;
    })
    .await;
    let token = app
        .member_token(GROUP, "user", &[Scope::RunRequest, Scope::StopRequest])
        .await;
    let big = json!({"profile": "x", "description": "d".repeat(2000)}).to_string();
    let r = call(
        &app,
        Method::POST,
        ROOT,
        Some(&jwt(&token)),
        None,
        Some(&big),
    )
    .await;
    assert_error(
        &r,
        StatusCode::PAYLOAD_TOO_LARGE,
        "request body larger than 1024 bytes",
    );
}
