//! StackTach's trigger engine and pipeline worker through the service: a burst of instance
//! notifications opens the streams the example definitions (`examples/stacktach/triggers.yaml`)
//! say, streams fire and expire as they say, ingestion is idempotent and all-or-nothing, and two
//! workers sharing one database end each stream exactly once.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime, Utc};
use testgraph::service::stacktach::{self as svc, NewEvent, StreamFilter, StreamState, TraitValue};

use crate::common::{TestApp, stacktach_examples};

async fn app() -> TestApp {
    TestApp::with_config(stacktach_examples).await
}

fn text(s: &str) -> TraitValue {
    TraitValue::Text(s.into())
}

/// A compute notification of `instance` in request `request`, generated at `at`.
fn event(id: &str, event_type: &str, instance: &str, request: &str, at: NaiveDateTime) -> NewEvent {
    let mut traits = BTreeMap::new();
    traits.insert("instance_id".into(), text(instance));
    traits.insert("request_id".into(), text(request));
    traits.insert("tenant_id".into(), text("tenant-1"));
    traits.insert("memory_mb".into(), TraitValue::Int(2048));
    traits.insert("launched_at".into(), TraitValue::Time(at));
    if event_type == "compute.instance.exists" {
        let day = at.date().and_hms_opt(0, 0, 0).unwrap();
        traits.insert("audit_period_beginning".into(), TraitValue::Time(day));
    }
    NewEvent {
        message_id: id.into(),
        event_type: event_type.into(),
        generated: at,
        traits,
    }
}

async fn streams(app: &TestApp, name: &str, state: Option<StreamState>) -> Vec<svc::Stream> {
    let f = StreamFilter {
        name: Some(name.into()),
        state,
        ..StreamFilter::default()
    };
    svc::list_streams(&app.state.db, &f, 1_000).await.unwrap()
}

#[tokio::test]
async fn a_burst_opens_streams_that_fire_and_expire_as_defined() {
    let app = app().await;
    assert_eq!(
        app.state.triggers.len(),
        3,
        "the example definitions are loaded"
    );
    let now = svc::truncate_us(Utc::now().naive_utc());
    let recent = now - Duration::minutes(10);
    let old = now - Duration::days(2);
    let batch = vec![
        event("m1", "compute.instance.create.start", "i1", "r1", recent),
        event("m2", "compute.instance.create.end", "i1", "r1", recent),
        event("m3", "compute.instance.exists", "i1", "r1", recent),
        event("m4", "compute.instance.create.start", "i2", "r2", recent),
        event("m5", "compute.instance.create.end", "i2", "r2", recent),
        event("m6", "compute.instance.create.start", "i3", "r3", old),
        event("m7", "compute.instance.create.end", "i3", "r3", old),
        event("m8", "image.upload", "i4", "r4", recent),
    ];
    let report = svc::ingest(&app.state.db, &batch, &app.state.triggers, now)
        .await
        .unwrap();
    assert_eq!((report.stored, report.duplicates), (8, 0));
    // One usage stream per instance and day, one trace per request; image.upload matches none.
    assert_eq!(report.streams_opened, 6, "{report:?}");
    let usage = streams(&app, "instance_usage", None).await;
    assert_eq!(usage.len(), 3);
    let i1 = usage
        .iter()
        .find(|s| s.dist_traits.contains("\"i1\""))
        .unwrap();
    assert_eq!(i1.event_count, 3);
    assert_eq!(
        i1.fire_timestamp,
        Some(now),
        "the exists event fires it, without delay"
    );
    assert_eq!(
        i1.expire_timestamp,
        Some(recent + Duration::hours(1)),
        "$last + 1h"
    );
    assert!(
        i1.dist_traits.contains("timex.TimeRange"),
        "{}",
        i1.dist_traits
    );
    // A stream's events, oldest first, cut per stream in SQL.
    let ids: Vec<i64> = usage.iter().map(|s| s.id).collect();
    let two = svc::events_of_streams(&app.state.db, &ids, 2)
        .await
        .unwrap();
    let of_i1: Vec<&str> = two
        .iter()
        .filter(|(s, _)| *s == i1.id)
        .map(|(_, e)| e.message_id.as_str())
        .collect();
    assert_eq!(of_i1, ["m1", "m2"]);
    assert_eq!(two.len(), 2 + 2 + 2, "two of each stream's events");
    let traces = streams(&app, "request_trace", None).await;
    assert_eq!(traces.len(), 3);
    assert!(
        traces
            .iter()
            .all(|s| s.fire_timestamp == Some(now + Duration::seconds(60)))
    );

    // The worker: i1's usage fires; i3's usage and r3's trace are past their expiry.
    let ended = testgraph::worker::pass_all(&app.state).await.unwrap();
    assert_eq!(ended, 3);
    assert_eq!(
        streams(&app, "instance_usage", Some(StreamState::Completed))
            .await
            .len(),
        2
    );
    assert_eq!(
        streams(&app, "instance_usage", Some(StreamState::Active))
            .await
            .len(),
        1
    );
    assert_eq!(
        streams(&app, "request_trace", Some(StreamState::Active))
            .await
            .len(),
        2
    );
    // Nothing more is due now.
    assert_eq!(testgraph::worker::pass_all(&app.state).await.unwrap(), 0);

    // A later event of i2 joins its open stream; one of i1 (whose stream completed) opens a
    // new one.
    let later = vec![
        event("m9", "compute.instance.update", "i2", "r2", recent),
        event("m10", "compute.instance.update", "i1", "r1", recent),
    ];
    let report = svc::ingest(&app.state.db, &later, &app.state.triggers, now)
        .await
        .unwrap();
    assert_eq!(report.streams_opened, 1, "{report:?}");
    assert_eq!(streams(&app, "instance_usage", None).await.len(), 4);
}

#[tokio::test]
async fn ingestion_is_idempotent_and_all_or_nothing() {
    let app = app().await;
    let now = Utc::now().naive_utc();
    let batch = vec![
        event("A1", "compute.instance.create.start", "i1", "r1", now),
        event("a2", "compute.instance.create.end", "i1", "r1", now),
    ];
    svc::ingest(&app.state.db, &batch, &app.state.triggers, now)
        .await
        .unwrap();
    // The same batch again (message ids compared in lower case) stores nothing and joins nothing.
    let again = vec![event(
        "a1",
        "compute.instance.create.start",
        "i1",
        "r1",
        now,
    )];
    let report = svc::ingest(&app.state.db, &again, &app.state.triggers, now)
        .await
        .unwrap();
    assert_eq!(
        (report.stored, report.duplicates, report.stream_events),
        (0, 1, 0)
    );
    let stream = &streams(&app, "request_trace", None).await[0];
    assert_eq!(stream.event_count, 2);
    // A bad item refuses the whole batch.
    let bad = vec![
        event("b1", "compute.instance.create.start", "i9", "r9", now),
        event("", "compute.instance.create.end", "i9", "r9", now),
    ];
    assert!(
        svc::ingest(&app.state.db, &bad, &app.state.triggers, now)
            .await
            .is_err()
    );
    assert!(
        svc::event_by_message_id(&app.state.db, "b1")
            .await
            .unwrap()
            .is_none()
    );
    let twice = vec![
        event("c1", "compute.instance.create.start", "i9", "r9", now),
        event("C1", "compute.instance.create.end", "i9", "r9", now),
    ];
    assert!(
        svc::ingest(&app.state.db, &twice, &app.state.triggers, now)
            .await
            .is_err()
    );
    let all = svc::count_events(&app.state.db, &svc::EventFilter::default())
        .await
        .unwrap();
    assert_eq!(all, 2);
}

/// Ingests at `now` the starts of `n` instances' requests generated three days before: `n`
/// request traces (and usage streams) already past their expiry.
async fn ingest_expired_traces(app: &TestApp, n: usize, now: NaiveDateTime) {
    let old = now - Duration::days(3);
    let batch: Vec<NewEvent> = (0..n)
        .map(|i| {
            event(
                &format!("m{i}"),
                "compute.instance.create.start",
                &format!("i{i}"),
                &format!("r{i}"),
                old,
            )
        })
        .collect();
    svc::ingest(&app.state.db, &batch, &app.state.triggers, now)
        .await
        .unwrap();
}

#[tokio::test]
async fn two_workers_sharing_a_database_end_each_stream_exactly_once() {
    let app = app().await;
    let now = Utc::now().naive_utc();
    // 300 request traces, all past their expiry.
    ingest_expired_traces(&app, 300, now).await;
    assert_eq!(streams(&app, "request_trace", None).await.len(), 300);
    // A second process: its own pool on the same database, a small batch so both take turns.
    let mut config = testgraph::config::Config::with_database(app.db.url.clone());
    config.stacktach.worker_batch = 7;
    stacktach_examples(&mut config);
    let other = testgraph::app::prepare(config.clone()).await.unwrap();
    let mine = testgraph::app::prepare(config).await.unwrap();
    let (a, b) = tokio::join!(
        testgraph::worker::pass_all(&mine),
        testgraph::worker::pass_all(&other)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    // 300 traces and 300 usage streams (one per instance and day) expire.
    assert_eq!(a + b, 600, "each stream ended once: {a} + {b}");
    let done = streams(&app, "request_trace", Some(StreamState::Completed)).await;
    assert_eq!(done.len(), 300);
    // Claimed once and finished once: two state changes each.
    assert!(
        done.iter().all(|s| s.state_serial_no == 2),
        "serial numbers"
    );
}

#[tokio::test]
async fn a_failing_pipeline_errors_the_stream_and_a_reset_retries_it() {
    // The definitions without their pipelines: every named pipeline is unknown.
    let app = TestApp::with_config(|c| {
        stacktach_examples(c);
        c.stacktach.pipelines_file = None;
    })
    .await;
    let now = svc::truncate_us(Utc::now().naive_utc());
    let recent = now - Duration::minutes(10);
    let old = now - Duration::days(2);
    let batch = vec![
        event("m1", "compute.instance.create.start", "i1", "r1", recent),
        event("m2", "compute.instance.exists", "i1", "r1", recent),
        event("m3", "compute.instance.create.start", "i2", "r2", old),
    ];
    svc::ingest(&app.state.db, &batch, &app.state.triggers, now)
        .await
        .unwrap();
    testgraph::worker::pass_all(&app.state).await.unwrap();
    // i1's usage stream was due to fire, i2's streams to expire: all failed.
    assert_eq!(
        streams(&app, "instance_usage", Some(StreamState::Error))
            .await
            .len(),
        1
    );
    assert_eq!(
        streams(&app, "instance_usage", Some(StreamState::ExpireError))
            .await
            .len(),
        1
    );
    assert_eq!(
        streams(&app, "request_trace", Some(StreamState::ExpireError))
            .await
            .len(),
        1
    );
    // Reset: error → retry_fire, expire_error → retry_expire; a worker with the pipelines
    // configured then ends them.
    for s in streams(&app, "instance_usage", None).await {
        svc::reset_stream(&app.state.db, s.id).await.unwrap();
    }
    assert_eq!(
        streams(&app, "instance_usage", Some(StreamState::RetryFire))
            .await
            .len(),
        1
    );
    assert_eq!(
        streams(&app, "instance_usage", Some(StreamState::RetryExpire))
            .await
            .len(),
        1
    );
    let mut config = testgraph::config::Config::with_database(app.db.url.clone());
    stacktach_examples(&mut config);
    let configured = testgraph::app::prepare(config).await.unwrap();
    assert_eq!(testgraph::worker::pass_all(&configured).await.unwrap(), 2);
    assert_eq!(
        streams(&app, "instance_usage", Some(StreamState::Completed))
            .await
            .len(),
        2
    );
    // The trace stays in expire_error until reset; a stream of a trigger no longer loaded fails.
    assert_eq!(
        streams(&app, "request_trace", Some(StreamState::ExpireError))
            .await
            .len(),
        1
    );
    let mut bare = testgraph::config::Config::with_database(app.db.url.clone());
    bare.stacktach.worker = false;
    let without = testgraph::app::prepare(bare).await.unwrap();
    let trace = &streams(&app, "request_trace", None).await[0];
    svc::reset_stream(&app.state.db, trace.id).await.unwrap();
    testgraph::worker::pass_all(&without).await.unwrap();
    assert_eq!(
        streams(&app, "request_trace", Some(StreamState::ExpireError))
            .await
            .len(),
        1
    );
}

/// A worker that claims streams and stops before ending them (killed, or cut off from the
/// database) leaves them `expiring`: once the lease is over, a pass hands them back and ends
/// them; a claim inside its lease is left to its worker, and the stopped worker can no longer
/// end a stream handed back.
#[tokio::test]
async fn claims_of_a_stopped_worker_are_handed_back_after_the_lease() {
    let app = app().await;
    let now = svc::truncate_us(Utc::now().naive_utc());
    ingest_expired_traces(&app, 4, now).await;
    let db = &app.state.db;
    let lease = app.state.config.stacktach.claim_lease;
    let lease_ago = now - Duration::from_std(lease).unwrap();
    // A worker claimed two streams a lease and a minute ago and stopped; another claimed one a
    // minute ago and is still at work.
    let stopped = svc::claim_due(db, svc::Pass::Expire, lease_ago - Duration::minutes(1), 2)
        .await
        .unwrap();
    let busy = svc::claim_due(db, svc::Pass::Expire, now - Duration::minutes(1), 1)
        .await
        .unwrap();
    assert_eq!((stopped.len(), busy.len()), (2, 1));
    // Within the lease of the first claims nothing is handed back.
    assert_eq!(
        svc::release_stale_claims(db, lease_ago, lease)
            .await
            .unwrap(),
        0
    );

    assert_eq!(svc::release_stale_claims(db, now, lease).await.unwrap(), 2);
    let state_of = |id: i64| async move { svc::stream_by_id(db, id).await.unwrap().unwrap().state };
    for s in &stopped {
        assert_eq!(state_of(s.id).await, StreamState::RetryExpire.code());
        // The stopped worker, back, cannot end a stream it no longer holds.
        assert!(!svc::finish(db, svc::Pass::Expire, s, true).await.unwrap());
    }
    assert_eq!(state_of(busy[0].id).await, StreamState::Expiring.code());

    // The next pass ends the handed-back streams (and whatever else is due), not the busy one.
    testgraph::worker::pass_all(&app.state).await.unwrap();
    for s in &stopped {
        assert_eq!(state_of(s.id).await, StreamState::Completed.code());
    }
    assert_eq!(state_of(busy[0].id).await, StreamState::Expiring.code());
    assert!(
        svc::finish(db, svc::Pass::Expire, &busy[0], true)
            .await
            .unwrap()
    );
}
