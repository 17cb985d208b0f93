//! End to end with StackTach's real client: klugman 0.5 (in a Python virtualenv made by
//! `.ci/stacktach-venv.sh`) runs its commands against a live testgraph holding a burst of
//! instance notifications that the example trigger definitions turned into streams, some of
//! them fired or expired by the worker. Each command must succeed and print what the store holds.
//!
//! Python: `TESTGRAPH_KLUGMAN_VENV` names a prepared virtualenv; otherwise the test prepares
//! `target/stacktach-venv` when `python3` is on PATH, and skips without it unless
//! `TESTGRAPH_E2E_REQUIRED=1` (CI).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use chrono::{Duration as Span, NaiveDateTime, Utc};
use testgraph::service::stacktach::{self as svc, NewEvent, StreamFilter, StreamState, TraitValue};

use crate::common::{LiveServer, TestApp, stacktach_examples};
use crate::external::{Venv, run};

const VENV: Venv = Venv {
    test: "e2e_klugman",
    script: "stacktach-venv.sh",
    env_var: "TESTGRAPH_KLUGMAN_VENV",
    dir: "stacktach-venv",
};

const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

fn notification(n: usize, event_type: &str, instance: &str, at: NaiveDateTime) -> NewEvent {
    let mut traits = BTreeMap::new();
    traits.insert("instance_id".into(), TraitValue::Text(instance.into()));
    traits.insert("tenant_id".into(), TraitValue::Text("408577".into()));
    traits.insert(
        "request_id".into(),
        TraitValue::Text(format!("req-{instance}")),
    );
    traits.insert("host".into(), TraitValue::Text("compute-02".into()));
    traits.insert("memory_mb".into(), TraitValue::Int(2048));
    traits.insert("launched_at".into(), TraitValue::Time(at));
    if event_type == "compute.instance.exists" {
        let day = at.date().and_hms_opt(0, 0, 0).unwrap_or(at);
        traits.insert("audit_period_beginning".into(), TraitValue::Time(day));
    }
    NewEvent {
        message_id: format!("9c3b2a10-0000-4000-8000-{n:012}"),
        event_type: event_type.into(),
        generated: at,
        traits,
    }
}

/// The value of `property` in klugman's last table that has it (prettytable rows
/// `| Section | Property | Value |` or `| Property | Value |`).
fn property(stdout: &str, property: &str) -> Option<String> {
    stdout
        .lines()
        .rev()
        .filter_map(|l| {
            let cells: Vec<&str> = l
                .split('|')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            let i = cells.iter().position(|c| *c == property)?;
            cells.get(i + 1).map(|v| v.to_string())
        })
        .next()
}

async fn klugman(venv: &Path, url: &str, args: &[&str]) -> String {
    let mut cmd = Command::new(venv.join("bin").join("klugman"));
    cmd.arg(url).args(args);
    let done = run(cmd, COMMAND_TIMEOUT).await.expect("run klugman");
    assert!(done.success(), "klugman {args:?}: {}", done.describe());
    done.stdout
}

#[tokio::test]
async fn e2e_real_klugman_reads_streams_and_events() {
    let Some(venv) = VENV.prepare().await else {
        return;
    };
    let app = TestApp::with_config(|c| {
        stacktach_examples(c);
        // The test runs the worker's passes itself.
        c.stacktach.worker = false;
    })
    .await;
    let now = svc::truncate_us(Utc::now().naive_utc());
    let recent = now - Span::minutes(20);
    let old = now - Span::days(2);
    let mut burst = Vec::new();
    for (i, at) in [recent, recent, recent, old, old].into_iter().enumerate() {
        let instance = format!("91dc5dad-c807-4a9b-8026-1550e8c6199{i}");
        for t in [
            "compute.instance.create.start",
            "compute.instance.create.end",
        ] {
            burst.push(notification(burst.len(), t, &instance, at));
        }
        if i == 0 {
            burst.push(notification(
                burst.len(),
                "compute.instance.exists",
                &instance,
                at,
            ));
        }
    }
    let report = svc::ingest(&app.state.db, &burst, &app.state.triggers, now)
        .await
        .expect("ingest");
    assert_eq!(report.stored, 11);
    // Fires instance 0's usage stream, expires the old instances' streams.
    testgraph::worker::pass_all(&app.state)
        .await
        .expect("worker");
    let count = |state| {
        let db = app.state.db.clone();
        async move {
            svc::count_streams(
                &db,
                &StreamFilter {
                    state,
                    ..StreamFilter::default()
                },
            )
            .await
            .expect("count")
        }
    };
    let (all, completed) = (count(None).await, count(Some(StreamState::Completed)).await);
    assert!(completed > 0 && completed < all, "{completed} of {all}");

    let server = LiveServer::start(app.state.clone()).await;
    let url = server.url("");
    // Counts: klugman reads `[{"count": N}]`.
    let out = klugman(&venv, &url, &["streams", "--count"]).await;
    assert_eq!(property(&out, "count"), Some(all.to_string()), "{out}");
    let out = klugman(&venv, &url, &["streams", "--count", "--state", "completed"]).await;
    assert_eq!(
        property(&out, "count"),
        Some(completed.to_string()),
        "{out}"
    );
    let out = klugman(&venv, &url, &["events", "--count"]).await;
    assert_eq!(property(&out, "count"), Some("11".into()), "{out}");
    let out = klugman(
        &venv,
        &url,
        &["events", "--count", "--name", "compute.instance.exists"],
    )
    .await;
    assert_eq!(property(&out, "count"), Some("1".into()), "{out}");
    // `--name` is sent as `name`, and traits joined with `,`.
    let out = klugman(
        &venv,
        &url,
        &["streams", "--count", "--name", "request_trace"],
    )
    .await;
    assert_eq!(property(&out, "count"), Some("5".into()), "{out}");
    let out = klugman(
        &venv,
        &url,
        &[
            "events",
            "--count",
            "--traits",
            "tenant_id:408577,host:compute-02",
        ],
    )
    .await;
    assert_eq!(property(&out, "count"), Some("11".into()), "{out}");
    // Lists, one stream with its events, one event (a bare object), in klugman's tables.
    let out = klugman(&venv, &url, &["streams", "--state", "completed"]).await;
    assert_eq!(property(&out, "state"), Some("completed".into()), "{out}");
    let first = svc::list_streams(&app.state.db, &StreamFilter::default(), 1)
        .await
        .expect("a stream");
    let id = first[0].id.to_string();
    let out = klugman(&venv, &url, &["streams", "--id", &id, "--details"]).await;
    assert_eq!(property(&out, "id"), Some(id.clone()), "{out}");
    assert!(
        out.contains("message_id"),
        "the stream's events are listed: {out}"
    );
    let out = klugman(
        &venv,
        &url,
        &["events", "--name", "compute.instance.exists"],
    )
    .await;
    assert_eq!(
        property(&out, "event_type"),
        Some("compute.instance.exists".into()),
        "{out}"
    );
    let msg = burst[4].message_id.to_uppercase();
    let out = klugman(&venv, &url, &["events", "--msg_id", &msg]).await;
    assert_eq!(
        property(&out, "message_id"),
        Some(burst[4].message_id.clone()),
        "{out}"
    );
    let out = klugman(
        &venv,
        &url,
        &[
            "streams",
            "--traits",
            "instance_id:91dc5dad-c807-4a9b-8026-1550e8c61990",
        ],
    )
    .await;
    assert_eq!(
        property(&out, "name"),
        Some("instance_usage".into()),
        "{out}"
    );
}
