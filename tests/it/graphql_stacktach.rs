//! GraphQL over the StackTach domain: events ingested through the mutation and grouped into
//! streams by the example trigger definitions (`examples/stacktach/triggers.yaml`), typed traits
//! and distinguishing traits, the event and stream filters, paging by id both ways, a stream's
//! events and an event's streams, the trigger definitions, resetting and deleting streams, the
//! token rule, and the statement count of nested queries.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Value, json};
use testgraph::service::stacktach::{self as svc, NewEvent, Pass, TraitValue};
use testgraph::service::tokens::Scope;

use crate::common::TestApp;
use crate::graphql_evergreen::{nodes, ok};

fn triggers_file() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/stacktach/triggers.yaml")
}

/// The application with the example trigger definitions; mutations open when `open`.
async fn app_with(open: bool) -> TestApp {
    TestApp::with_config(|c| {
        c.stacktach.triggers_file = Some(triggers_file());
        c.auth.open_mutations = open;
        c.limits.dataloader_delay = std::time::Duration::ZERO;
    })
    .await
}

async fn app() -> TestApp {
    app_with(true).await
}

/// Runs an operation that must fail and returns its first error's code.
async fn code_as(app: &TestApp, q: &str, vars: Value, token: Option<&str>) -> String {
    let r = app.graphql_as(q, vars, token).await;
    r["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error: {r}"))
        .to_owned()
}

const INGEST: &str = "mutation($e: [StacktachEventInput!]!) { ingestStacktachEvents(input: $e) {
    stored duplicates streamsOpened streamEvents } }";

const EVENTS: &str =
    "query($f: StacktachEventFilter, $o: StacktachEventOrder, $n: Int, $after: String) {
    stacktachEvents(first: $n, after: $after, filter: $f, orderBy: $o) {
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { messageId } } } }";

const STREAMS: &str =
    "query($f: StacktachStreamFilter, $o: StacktachStreamOrder, $n: Int, $after: String) {
    stacktachStreams(first: $n, after: $after, filter: $f, orderBy: $o) {
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { cursor node { id name state } } } }";

/// 2015-02-27 10:00 UTC plus `minutes`.
fn t(minutes: i64) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2015, 2, 27)
        .and_then(|d| d.and_hms_opt(10, 0, 0))
        .expect("time")
        + Duration::minutes(minutes)
}

fn iso(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339()
}

/// A compute notification of `instance` in request `request` at `t(minutes)`, as the mutation
/// takes it.
fn event(id: &str, event_type: &str, instance: &str, request: &str, minutes: i64) -> Value {
    let at = t(minutes);
    let mut traits = vec![
        json!({"name": "instance_id", "string": instance}),
        json!({"name": "request_id", "string": request}),
        json!({"name": "tenant_id", "string": "tenant-1"}),
        json!({"name": "memory_mb", "int": 2048}),
        json!({"name": "ratio", "float": 1.5}),
        json!({"name": "launched_at", "datetime": iso(at)}),
    ];
    if event_type == "compute.instance.exists" {
        let day = at.date().and_hms_opt(0, 0, 0).expect("day");
        traits.push(json!({"name": "audit_period_beginning", "datetime": iso(day)}));
    }
    json!({"messageId": id, "eventType": event_type, "generated": iso(at), "traits": traits})
}

/// Five events: instance i1's build and audit (request r1), i2's build start (request r2),
/// and an event no trigger matches. They open four streams: i1's and i2's usage of the day,
/// r1's and r2's traces.
fn batch() -> Vec<Value> {
    vec![
        event("M1", "compute.instance.create.start", "i1", "r1", 0),
        event("m2", "compute.instance.create.end", "i1", "r1", 1),
        event("m3", "compute.instance.exists", "i1", "r1", 2),
        event("m4", "compute.instance.create.start", "i2", "r2", 3),
        event("m5", "image.upload", "i3", "r3", 4),
    ]
}

async fn seeded() -> TestApp {
    let app = app().await;
    ok(&app, INGEST, json!({"e": batch()})).await;
    app
}

fn ids(conn: &Value, field: &str) -> Vec<Value> {
    nodes(conn).iter().map(|n| n[field].clone()).collect()
}

async fn events_where(app: &TestApp, filter: Value) -> Vec<Value> {
    let d = ok(app, EVENTS, json!({"f": filter, "n": 100})).await;
    let conn = &d["stacktachEvents"];
    let found = ids(conn, "messageId");
    assert_eq!(conn["totalCount"], json!(found.len()), "{filter}");
    found
}

async fn streams_where(app: &TestApp, filter: Value) -> Vec<Value> {
    let d = ok(app, STREAMS, json!({"f": filter, "n": 100})).await;
    let conn = &d["stacktachStreams"];
    let found = ids(conn, "name");
    assert_eq!(conn["totalCount"], json!(found.len()), "{filter}");
    found
}

/// The id of the stream of trigger `name` whose distinguishing trait `trait_name` is `value`.
async fn stream_id(app: &TestApp, name: &str, trait_name: &str, value: &str) -> i64 {
    let d = ok(
        app,
        STREAMS,
        json!({"f": {"name": name, "distinguishingTraits": [{"name": trait_name, "value": value}]}}),
    )
    .await;
    let found = nodes(&d["stacktachStreams"]);
    assert_eq!(found.len(), 1, "{d}");
    found[0]["id"].as_i64().expect("id")
}

#[tokio::test]
async fn ingested_events_open_streams_and_read_back_typed() {
    let app = app().await;
    let d = ok(&app, INGEST, json!({"e": batch()})).await;
    assert_eq!(
        d["ingestStacktachEvents"],
        json!({"stored": 5, "duplicates": 0, "streamsOpened": 4, "streamEvents": 7})
    );
    // The same batch again stores nothing and joins nothing.
    let d = ok(&app, INGEST, json!({"e": batch()})).await;
    assert_eq!(
        d["ingestStacktachEvents"],
        json!({"stored": 0, "duplicates": 5, "streamsOpened": 0, "streamEvents": 0})
    );

    let d = ok(
        &app,
        r#"{ stacktachEvent(messageId: " m1 ") { messageId eventType generated
            traits { name type value string int float datetime }
            memory: trait(name: "memory_mb") { type value int string }
            none: trait(name: "nope") { name }
            streams { name eventCount } } }"#,
        json!({}),
    )
    .await;
    let e = &d["stacktachEvent"];
    assert_eq!(e["messageId"], json!("m1"), "stored in lower case");
    assert_eq!(e["eventType"], json!("compute.instance.create.start"));
    assert_eq!(e["generated"], json!("2015-02-27T10:00:00+00:00"));
    let at = "2015-02-27T10:00:00+00:00";
    assert_eq!(
        e["traits"],
        json!([
            {"name": "instance_id", "type": "STRING", "value": "i1", "string": "i1", "int": null, "float": null, "datetime": null},
            {"name": "launched_at", "type": "DATETIME", "value": at, "string": null, "int": null, "float": null, "datetime": at},
            {"name": "memory_mb", "type": "INT", "value": "2048", "string": null, "int": 2048, "float": null, "datetime": null},
            {"name": "ratio", "type": "FLOAT", "value": "1.5", "string": null, "int": null, "float": 1.5, "datetime": null},
            {"name": "request_id", "type": "STRING", "value": "r1", "string": "r1", "int": null, "float": null, "datetime": null},
            {"name": "tenant_id", "type": "STRING", "value": "tenant-1", "string": "tenant-1", "int": null, "float": null, "datetime": null},
        ])
    );
    assert_eq!(
        e["memory"],
        json!({"type": "INT", "value": "2048", "int": 2048, "string": null})
    );
    assert_eq!(e["none"], Value::Null);
    assert_eq!(
        e["streams"],
        json!([{"name": "instance_usage", "eventCount": 3}, {"name": "request_trace", "eventCount": 2}])
    );

    let usage = stream_id(&app, "instance_usage", "instance_id", "i1").await;
    let d = ok(
        &app,
        "query($id: Int!) { stacktachStream(id: $id) { id name state stateSerialNo firstEvent
            lastEvent fireTimestamp expireTimestamp eventCount
            distinguishingTraits { name type value string datetime begin end }
            events { messageId } two: events(first: 2) { messageId }
            trigger { name firePipeline expirePipeline } } }",
        json!({"id": usage}),
    )
    .await;
    let s = &d["stacktachStream"];
    assert_eq!(s["id"], json!(usage));
    assert_eq!(s["name"], json!("instance_usage"));
    assert_eq!(s["state"], json!("ACTIVE"));
    assert_eq!(s["stateSerialNo"], json!(0));
    assert_eq!(s["firstEvent"], json!("2015-02-27T10:00:00+00:00"));
    assert_eq!(s["lastEvent"], json!("2015-02-27T10:02:00+00:00"));
    assert!(
        s["fireTimestamp"].is_string(),
        "the exists event fires it: {s}"
    );
    assert_eq!(
        s["expireTimestamp"],
        json!("2015-02-27T11:02:00+00:00"),
        "$last + 1h"
    );
    assert_eq!(s["eventCount"], json!(3));
    let day = "2015-02-27T00:00:00+00:00";
    let next = "2015-02-28T00:00:00+00:00";
    assert_eq!(
        s["distinguishingTraits"],
        json!([
            {"name": "instance_id", "type": "STRING", "value": "i1", "string": "i1", "datetime": null, "begin": null, "end": null},
            {"name": "timestamp", "type": "TIME_RANGE", "value": format!("{day}/{next}"), "string": null,
             "datetime": null, "begin": day, "end": next},
        ])
    );
    assert_eq!(
        s["events"],
        json!([{"messageId": "m1"}, {"messageId": "m2"}, {"messageId": "m3"}]),
        "oldest first"
    );
    assert_eq!(s["two"], json!([{"messageId": "m1"}, {"messageId": "m2"}]));
    assert_eq!(
        s["trigger"],
        json!({"name": "instance_usage", "firePipeline": "usage_report",
               "expirePipeline": "usage_missing_exists"})
    );

    let trace = stream_id(&app, "request_trace", "request_id", "r2").await;
    let d = ok(
        &app,
        "query($id: Int!) { stacktachStream(id: $id) { fireTimestamp eventCount events { messageId } } }",
        json!({"id": trace}),
    )
    .await;
    assert_eq!(
        d["stacktachStream"],
        json!({"fireTimestamp": null, "eventCount": 1, "events": [{"messageId": "m4"}]}),
        "r2's build never ended"
    );
    let d = ok(
        &app,
        r#"{ stacktachStream(id: 999999) { id } stacktachEvent(messageId: "nope") { id }
             unmatched: stacktachEvent(messageId: "m5") { streams { id } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        d,
        json!({"stacktachStream": null, "stacktachEvent": null, "unmatched": {"streams": []}})
    );
}

#[tokio::test]
async fn ingestion_refuses_bad_events_whole() {
    let app = app().await;
    let mut two_values = event("x1", "compute.instance.update", "i1", "r1", 0);
    two_values["traits"] = json!([{"name": "n", "string": "a", "int": 1}]);
    let mut no_value = event("x2", "compute.instance.update", "i1", "r1", 0);
    no_value["traits"] = json!([{"name": "n"}]);
    let mut twice = event("x3", "compute.instance.update", "i1", "r1", 0);
    twice["traits"] = json!([{"name": "n", "int": 1}, {"name": "n", "int": 2}]);
    let empty_id = event("", "compute.instance.update", "i1", "r1", 0);
    let same_id = vec![
        event("y1", "compute.instance.update", "i1", "r1", 0),
        event("Y1", "compute.instance.update", "i1", "r1", 0),
    ];
    for bad in [
        vec![
            event("ok1", "compute.instance.update", "i1", "r1", 0),
            two_values,
        ],
        vec![no_value],
        vec![twice],
        vec![
            event("ok2", "compute.instance.update", "i1", "r1", 0),
            empty_id,
        ],
        same_id,
    ] {
        assert_eq!(
            code_as(&app, INGEST, json!({"e": bad}), None).await,
            "BAD_USER_INPUT"
        );
    }
    let d = ok(
        &app,
        "{ stacktachEvents { totalCount } stacktachStreams { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(
        d,
        json!({"stacktachEvents": {"totalCount": 0}, "stacktachStreams": {"totalCount": 0}})
    );
}

#[tokio::test]
async fn events_are_filtered_as_quincy_filters_them() {
    let app = seeded().await;
    assert_eq!(
        events_where(&app, json!({})).await,
        vec!["m5", "m4", "m3", "m2", "m1"],
        "newest first"
    );
    assert_eq!(
        events_where(&app, json!({"eventType": "compute.instance.create.start"})).await,
        vec!["m4", "m1"]
    );
    assert_eq!(
        events_where(
            &app,
            json!({"traits": [{"name": "instance_id", "value": "i1"}]})
        )
        .await,
        vec!["m3", "m2", "m1"]
    );
    assert_eq!(
        events_where(
            &app,
            json!({"traits": [{"name": "instance_id", "value": "i1"},
                              {"name": "request_id", "value": "r2"}]})
        )
        .await,
        Vec::<Value>::new(),
        "every trait must match"
    );
    assert_eq!(
        events_where(
            &app,
            json!({"traits": [{"name": "memory_mb", "value": "2048"}]})
        )
        .await,
        Vec::<Value>::new(),
        "only string traits match"
    );
    assert_eq!(
        events_where(&app, json!({"generatedAfter": iso(t(1))})).await,
        vec!["m5", "m4", "m3"],
        "after is strict"
    );
    assert_eq!(
        events_where(&app, json!({"generatedAtOrBefore": iso(t(1))})).await,
        vec!["m2", "m1"],
        "at or before is inclusive"
    );
    assert_eq!(
        events_where(
            &app,
            json!({"generatedAfter": iso(t(0)), "generatedAtOrBefore": iso(t(3)),
                   "eventType": "compute.instance.create.start"})
        )
        .await,
        vec!["m4"]
    );
}

/// Every page of `query`'s list `field` for `vars`, `n` at a time: the `key` of each row, page
/// by page, checking the page info and total on the way.
async fn pages(app: &TestApp, query: &str, field: &str, key: &str, vars: Value) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    let mut vars = vars;
    loop {
        let d = ok(app, query, vars.clone()).await;
        let conn = &d[field];
        let info = &conn["pageInfo"];
        assert_eq!(info["hasPreviousPage"], json!(!vars["after"].is_null()));
        out.push(ids(conn, key));
        if info["hasNextPage"] != json!(true) {
            break;
        }
        vars["after"] = info["endCursor"].clone();
    }
    out
}

#[tokio::test]
async fn events_and_streams_page_by_cursor_both_ways() {
    let app = seeded().await;
    let s = |v: &[&str]| v.iter().map(|s| json!(s)).collect::<Vec<_>>();
    assert_eq!(
        pages(
            &app,
            EVENTS,
            "stacktachEvents",
            "messageId",
            json!({"n": 2})
        )
        .await,
        vec![s(&["m5", "m4"]), s(&["m3", "m2"]), s(&["m1"])]
    );
    assert_eq!(
        pages(
            &app,
            EVENTS,
            "stacktachEvents",
            "messageId",
            json!({"n": 2, "o": {"direction": "ASC"}})
        )
        .await,
        vec![s(&["m1", "m2"]), s(&["m3", "m4"]), s(&["m5"])]
    );
    // The total ignores the cursor.
    let d = ok(&app, EVENTS, json!({"n": 2})).await;
    let after = d["stacktachEvents"]["pageInfo"]["endCursor"].clone();
    let d = ok(
        &app,
        EVENTS,
        json!({"n": 2, "after": after, "f": {"eventType": "compute.instance.create.start"}}),
    )
    .await;
    assert_eq!(d["stacktachEvents"]["totalCount"], json!(2));
    assert_eq!(ids(&d["stacktachEvents"], "messageId"), s(&["m1"]));
    // A cursor is the row's: the edge's cursor starts the next page after it.
    let d = ok(&app, EVENTS, json!({"n": 5, "o": {"direction": "ASC"}})).await;
    let cursor = d["stacktachEvents"]["edges"][2]["cursor"].clone();
    let d = ok(
        &app,
        EVENTS,
        json!({"n": 5, "after": cursor, "o": {"direction": "ASC"}}),
    )
    .await;
    assert_eq!(ids(&d["stacktachEvents"], "messageId"), s(&["m4", "m5"]));
    let d = ok(&app, EVENTS, json!({"n": 5, "after": cursor})).await;
    assert_eq!(
        ids(&d["stacktachEvents"], "messageId"),
        s(&["m2", "m1"]),
        "the same cursor, descending"
    );
    assert_eq!(
        code_as(&app, EVENTS, json!({"after": "garbage"}), None).await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        code_as(&app, EVENTS, json!({"n": -1}), None).await,
        "BAD_USER_INPUT"
    );

    let streams_desc: Vec<Value> = pages(&app, STREAMS, "stacktachStreams", "id", json!({"n": 3}))
        .await
        .concat();
    let streams_asc: Vec<Value> = pages(
        &app,
        STREAMS,
        "stacktachStreams",
        "id",
        json!({"n": 3, "o": {"direction": "ASC"}}),
    )
    .await
    .concat();
    assert_eq!(streams_desc.len(), 4);
    let mut reversed = streams_asc.clone();
    reversed.reverse();
    assert_eq!(streams_desc, reversed);
    let ids_asc: Vec<i64> = streams_asc.iter().filter_map(Value::as_i64).collect();
    assert!(ids_asc.windows(2).all(|w| w[0] < w[1]), "{ids_asc:?}");
    // Only the total.
    app.reset_statements();
    let d = ok(&app, "{ stacktachStreams { totalCount } }", json!({})).await;
    assert_eq!(d["stacktachStreams"]["totalCount"], json!(4));
    assert_eq!(app.statements(), 1, "{:#?}", app.statement_log());
}

#[tokio::test]
async fn streams_are_filtered_as_quincy_filters_them() {
    let app = seeded().await;
    assert_eq!(
        streams_where(&app, json!({"name": "request_trace"})).await,
        vec!["request_trace", "request_trace"]
    );
    assert_eq!(
        streams_where(&app, json!({"state": "ACTIVE"})).await.len(),
        4
    );
    assert_eq!(
        streams_where(&app, json!({"state": "COMPLETED"})).await,
        Vec::<Value>::new()
    );
    assert_eq!(
        streams_where(
            &app,
            json!({"distinguishingTraits": [{"name": "instance_id", "value": "i1"}]})
        )
        .await,
        vec!["instance_usage"]
    );
    assert_eq!(
        streams_where(
            &app,
            json!({"distinguishingTraits": [{"name": "request_id", "value": "r1"}],
                   "name": "instance_usage"})
        )
        .await,
        Vec::<Value>::new()
    );
    // i1's streams begin at 10:00, i2's and r2's at 10:03; i1's usage ends at 10:02, r1's
    // trace at 10:01.
    assert_eq!(
        streams_where(&app, json!({"firstEventBefore": iso(t(3))}))
            .await
            .len(),
        2
    );
    assert_eq!(
        streams_where(&app, json!({"lastEventAfter": iso(t(1))}))
            .await
            .len(),
        3
    );
    assert_eq!(
        streams_where(
            &app,
            json!({"firstEventBefore": iso(t(3)), "lastEventAfter": iso(t(1))})
        )
        .await,
        vec!["instance_usage"]
    );
}

#[tokio::test]
async fn the_trigger_definitions_are_readable() {
    let app = app().await;
    let d = ok(
        &app,
        "{ stacktachTriggers { name distinguishedBy { traitName expression } expiration fireDelay
            firePipeline expirePipeline
            matchCriteria { eventTypes excludedEventTypes number timestamp
              mapDistinguishedBy { distinguishingTrait fromTrait }
              traits { name operator value } }
            fireCriteria { eventTypes number } } }",
        json!({}),
    )
    .await;
    let triggers = d["stacktachTriggers"].as_array().expect("triggers");
    let names: Vec<&str> = triggers.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(
        names,
        vec!["instance_usage", "request_trace", "large_build_failures"]
    );
    assert_eq!(
        triggers[0],
        json!({
            "name": "instance_usage",
            "distinguishedBy": [{"traitName": "instance_id", "expression": null},
                                {"traitName": "timestamp", "expression": "day"}],
            "expiration": "$last + 1h", "fireDelay": 0,
            "firePipeline": "usage_report", "expirePipeline": "usage_missing_exists",
            "matchCriteria": [
                {"eventTypes": ["compute.instance.*"], "excludedEventTypes": ["compute.instance.exists"],
                 "number": 1, "timestamp": null, "mapDistinguishedBy": [], "traits": []},
                {"eventTypes": ["compute.instance.exists"], "excludedEventTypes": [],
                 "number": 1, "timestamp": null,
                 "mapDistinguishedBy": [{"distinguishingTrait": "timestamp", "fromTrait": "audit_period_beginning"}],
                 "traits": []},
            ],
            "fireCriteria": [{"eventTypes": ["compute.instance.exists"], "number": 1}],
        })
    );
    assert_eq!(triggers[1]["fireDelay"], json!(60));
    assert_eq!(
        triggers[1]["fireCriteria"].as_array().map(Vec::len),
        Some(2)
    );
    let failures = &triggers[2];
    assert_eq!(
        failures["matchCriteria"][0]["traits"],
        json!([{"name": "memory_mb", "operator": "GREATER", "value": "4096"},
               {"name": "os_distro", "operator": "EQUALS", "value": "ubuntu"}])
    );
    assert_eq!(
        failures["fireCriteria"],
        json!([{"eventTypes": ["compute.instance.create.error"], "number": 3}])
    );
}

#[tokio::test]
async fn failed_streams_are_reset_and_streams_deleted() {
    let app = seeded().await;
    let usage = stream_id(&app, "instance_usage", "instance_id", "i1").await;
    // The worker fails the fire of i1's usage stream (the only one whose fire time has come
    // within the next minute).
    let later = Utc::now().naive_utc() + Duration::seconds(5);
    let fired = svc::claim_due(&app.state.db, Pass::Fire, later, 10)
        .await
        .expect("claim");
    assert_eq!(fired.iter().map(|s| s.id).collect::<Vec<_>>(), vec![usage]);
    assert!(
        svc::finish(&app.state.db, Pass::Fire, &fired[0], false)
            .await
            .expect("finish")
    );

    const RESET: &str =
        "mutation($id: Int!) { resetStacktachStream(id: $id) { id state stateSerialNo } }";
    let d = ok(&app, RESET, json!({"id": usage})).await;
    assert_eq!(
        d["resetStacktachStream"],
        json!({"id": usage, "state": "RETRY_FIRE", "stateSerialNo": 3})
    );
    // Any other state is left as it is.
    let d = ok(&app, RESET, json!({"id": usage})).await;
    assert_eq!(
        d["resetStacktachStream"],
        json!({"id": usage, "state": "RETRY_FIRE", "stateSerialNo": 3})
    );
    assert_eq!(
        code_as(&app, RESET, json!({"id": 999999}), None).await,
        "NOT_FOUND"
    );
    assert_eq!(
        streams_where(&app, json!({"state": "RETRY_FIRE"})).await,
        vec!["instance_usage"]
    );

    const DELETE: &str = "mutation($id: Int!) { deleteStacktachStream(id: $id) }";
    let d = ok(&app, DELETE, json!({"id": usage})).await;
    assert_eq!(d["deleteStacktachStream"], json!(true));
    let d = ok(&app, DELETE, json!({"id": usage})).await;
    assert_eq!(d["deleteStacktachStream"], json!(false), "already gone");
    let d = ok(
        &app,
        "query($id: Int!) { stacktachStream(id: $id) { id }
           stacktachEvent(messageId: \"m3\") { messageId streams { id } }
           stacktachStreams { totalCount } stacktachEvents { totalCount } }",
        json!({"id": usage}),
    )
    .await;
    assert_eq!(
        d,
        json!({"stacktachStream": null,
               "stacktachEvent": {"messageId": "m3", "streams": []},
               "stacktachStreams": {"totalCount": 3},
               "stacktachEvents": {"totalCount": 5}}),
        "the events stay"
    );
}

#[tokio::test]
async fn mutations_need_a_write_token() {
    let app = app_with(false).await;
    let one = json!({"e": [event("a1", "compute.instance.create.start", "i1", "r1", 0)]});
    const RESET: &str = "mutation { resetStacktachStream(id: 1) { id } }";
    const DELETE: &str = "mutation { deleteStacktachStream(id: 1) }";
    let read = app.token(&[Scope::Read]).await;
    for (q, vars) in [
        (INGEST, one.clone()),
        (RESET, json!({})),
        (DELETE, json!({})),
    ] {
        assert_eq!(
            code_as(&app, q, vars.clone(), None).await,
            "UNAUTHENTICATED",
            "{q}"
        );
        assert_eq!(
            code_as(&app, q, vars, Some(&read)).await,
            "FORBIDDEN",
            "{q}"
        );
    }
    let write = app.token(&[Scope::Write]).await;
    let r = app.graphql_as(INGEST, one, Some(&write)).await;
    assert_eq!(
        r["data"]["ingestStacktachEvents"]["stored"],
        json!(1),
        "{r}"
    );
    // Reading needs no token.
    let d = ok(
        &app,
        "{ stacktachStreams { totalCount edges { node { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(d["stacktachStreams"]["totalCount"], json!(2));
    let id = nodes(&d["stacktachStreams"])[0]["id"].clone();
    let r = app
        .graphql_as(
            "mutation($id: Int!) { resetStacktachStream(id: $id) { state } }",
            json!({"id": id}),
            Some(&write),
        )
        .await;
    assert_eq!(
        r["data"]["resetStacktachStream"]["state"],
        json!("ACTIVE"),
        "{r}"
    );
    let r = app
        .graphql_as(
            "mutation($id: Int!) { deleteStacktachStream(id: $id) }",
            json!({"id": id}),
            Some(&write),
        )
        .await;
    assert_eq!(r["data"]["deleteStacktachStream"], json!(true), "{r}");
}

const NESTED: &str = "query($n: Int!) { stacktachStreams(first: $n) {
    totalCount edges { node { id name distinguishingTraits { name value } trigger { name }
      events(first: 10) { messageId traits { name value }
        streams { id name state } } } } } }";

/// An event of `instance` (and the request of the same name) generated at `at`.
fn new_event(id: String, event_type: &str, instance: &str, at: NaiveDateTime) -> NewEvent {
    let mut traits = BTreeMap::new();
    traits.insert("instance_id".into(), TraitValue::Text(instance.into()));
    traits.insert("request_id".into(), TraitValue::Text(instance.into()));
    if event_type == "compute.instance.exists" {
        let day = at.date().and_hms_opt(0, 0, 0).expect("day");
        traits.insert("audit_period_beginning".into(), TraitValue::Time(day));
    }
    NewEvent {
        message_id: id,
        event_type: event_type.into(),
        generated: at,
        traits,
    }
}

#[tokio::test]
async fn nested_query_costs_a_constant_number_of_statements() {
    let app = app().await;
    let mut batch = Vec::new();
    for i in 0..15 {
        let instance = format!("i{i:02}");
        for (k, ty) in [
            "compute.instance.create.start",
            "compute.instance.create.end",
            "compute.instance.exists",
        ]
        .into_iter()
        .enumerate()
        {
            batch.push(new_event(
                format!("{instance}-{k}"),
                ty,
                &instance,
                t(i * 10 + k as i64),
            ));
        }
    }
    let report = svc::ingest(
        &app.state.db,
        &batch,
        &app.state.triggers,
        Utc::now().naive_utc(),
    )
    .await
    .expect("ingest");
    assert_eq!(report.streams_opened, 30, "{report:?}");

    app.reset_statements();
    let big = ok(&app, NESTED, json!({"n": 30})).await;
    let big_count = app.statements();
    let big_log = app.statement_log();
    let streams = nodes(&big["stacktachStreams"]);
    assert_eq!(streams.len(), 30);
    assert_eq!(big["stacktachStreams"]["totalCount"], json!(30));
    for s in &streams {
        let events = s["events"].as_array().expect("events");
        let want = if s["name"] == json!("instance_usage") {
            3
        } else {
            2
        };
        assert_eq!(events.len(), want, "{s}");
        for e in events {
            let back = e["streams"].as_array().expect("streams");
            assert!(back.iter().any(|b| b["id"] == s["id"]), "{e}");
        }
    }
    assert_eq!(
        big_count, 4,
        "streams, their count, their events, the events' streams: one statement each: \
         {big_log:#?}"
    );

    app.reset_statements();
    let small = ok(&app, NESTED, json!({"n": 2})).await;
    assert_eq!(nodes(&small["stacktachStreams"]).len(), 2);
    assert_eq!(
        app.statements(),
        big_count,
        "statement count must not grow with rows: {:#?}",
        app.statement_log()
    );
}
