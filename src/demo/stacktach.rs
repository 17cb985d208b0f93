//! StackTach's demo data: a week of OpenStack compute notifications (the first week of January
//! 2026) for eight instances of two tenants — builds, resizes, daily audit (`exists`) events,
//! deletions, and a tenant's failing large Ubuntu builds — ingested with the example trigger
//! definitions (`examples/stacktach/triggers.yaml`), so that they open the streams those
//! definitions describe; then, as of the week's end, the pipeline passes fire or expire every
//! stream with the example pipelines (`examples/stacktach/pipelines.yaml`), as a server with those
//! definitions would have done that week.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use sea_orm::DatabaseConnection;

use super::report::{Progress, Written};
use crate::error::{AppError, AppResult};
use crate::service::stacktach::{self as svc, EventFilter, NewEvent, TraitValue, definitions};

pub const DOMAIN: &str = "StackTach";

/// The definitions the demo's streams follow (those `serve --stacktach-triggers` reads from the
/// same file).
const TRIGGERS: &str = include_str!("../../examples/stacktach/triggers.yaml");
const PIPELINES: &str = include_str!("../../examples/stacktach/pipelines.yaml");

/// The instances: id, tenant, flavor memory, OS.
const INSTANCES: [(&str, &str, i64, &str); 8] = [
    (
        "4a1f0c2e-6d0b-4c5e-9a51-1f3b2c7d8e01",
        "tenant-acme",
        2048,
        "ubuntu",
    ),
    (
        "4a1f0c2e-6d0b-4c5e-9a51-1f3b2c7d8e02",
        "tenant-acme",
        4096,
        "centos",
    ),
    (
        "4a1f0c2e-6d0b-4c5e-9a51-1f3b2c7d8e03",
        "tenant-acme",
        8192,
        "ubuntu",
    ),
    (
        "4a1f0c2e-6d0b-4c5e-9a51-1f3b2c7d8e04",
        "tenant-acme",
        1024,
        "debian",
    ),
    (
        "7c9e2d41-0b3a-4f6e-8d27-5e4a3b2c1d05",
        "tenant-globex",
        2048,
        "debian",
    ),
    (
        "7c9e2d41-0b3a-4f6e-8d27-5e4a3b2c1d06",
        "tenant-globex",
        16384,
        "ubuntu",
    ),
    (
        "7c9e2d41-0b3a-4f6e-8d27-5e4a3b2c1d07",
        "tenant-globex",
        4096,
        "ubuntu",
    ),
    (
        "7c9e2d41-0b3a-4f6e-8d27-5e4a3b2c1d08",
        "tenant-globex",
        2048,
        "centos",
    ),
];

fn at(day: u32, h: u32, m: u32, s: u32) -> AppResult<NaiveDateTime> {
    NaiveDate::from_ymd_opt(2026, 1, day)
        .and_then(|d| d.and_hms_micro_opt(h, m, s, 250_000 + day * 1_000))
        .ok_or_else(|| AppError::Internal("demo date".into()))
}

fn text(s: &str) -> TraitValue {
    TraitValue::Text(s.into())
}

/// One notification of instance `i`.
fn event(
    n: &mut u32,
    i: usize,
    event_type: &str,
    request: u32,
    generated: NaiveDateTime,
) -> NewEvent {
    *n += 1;
    let (id, tenant, memory, os) = INSTANCES[i];
    let mut traits = BTreeMap::new();
    traits.insert("instance_id".into(), text(id));
    traits.insert("tenant_id".into(), text(tenant));
    traits.insert("request_id".into(), text(&format!("req-demo-{request:04}")));
    traits.insert("host".into(), text(&format!("compute-{:02}", i % 3 + 1)));
    traits.insert("service".into(), text("compute"));
    traits.insert("memory_mb".into(), TraitValue::Int(memory));
    traits.insert("vcpus".into(), TraitValue::Int(memory / 2048 + 1));
    traits.insert("root_gb".into(), TraitValue::Int(20));
    traits.insert("os_distro".into(), text(os));
    traits.insert(
        "disk_usage".into(),
        TraitValue::Float(0.25 * (i as f64 + 1.0)),
    );
    traits.insert("launched_at".into(), TraitValue::Time(generated));
    if event_type == "compute.instance.exists" {
        let day = generated.date() - Duration::days(1);
        if let Some(begin) = day.and_hms_opt(0, 0, 0) {
            traits.insert("audit_period_beginning".into(), TraitValue::Time(begin));
            traits.insert(
                "audit_period_ending".into(),
                TraitValue::Time(begin + Duration::days(1)),
            );
        }
    }
    NewEvent {
        message_id: format!("demo-{n:04}-0000-4000-8000-00000000stt0"),
        event_type: event_type.into(),
        generated,
        traits,
    }
}

/// The week's notifications, in the order they were generated.
fn week() -> AppResult<Vec<NewEvent>> {
    let mut n = 0;
    let mut out = Vec::new();
    let mut request = 0;
    for (i, _) in INSTANCES.iter().enumerate() {
        let day = 2 + (i as u32 % 3);
        request += 1;
        let start = at(day, 9 + i as u32, 5, 12)?;
        out.push(event(
            &mut n,
            i,
            "scheduler.select_destinations.start",
            request,
            start,
        ));
        out.push(event(
            &mut n,
            i,
            "scheduler.select_destinations.end",
            request,
            start + Duration::seconds(2),
        ));
        out.push(event(
            &mut n,
            i,
            "compute.instance.create.start",
            request,
            start + Duration::seconds(4),
        ));
        out.push(event(
            &mut n,
            i,
            "compute.instance.create.end",
            request,
            start + Duration::seconds(71),
        ));
        // Daily audits from the day after the build to the end of the week.
        for audit_day in day + 1..=7 {
            out.push(event(
                &mut n,
                i,
                "compute.instance.exists",
                request,
                at(audit_day, 0, 10, 3)?,
            ));
        }
        if i % 4 == 1 {
            request += 1;
            let resize = at(5, 14, 30 + i as u32, 0)?;
            out.push(event(
                &mut n,
                i,
                "compute.instance.resize.start",
                request,
                resize,
            ));
            out.push(event(
                &mut n,
                i,
                "compute.instance.resize.end",
                request,
                resize + Duration::seconds(95),
            ));
        }
        if i % 4 == 3 {
            request += 1;
            let delete = at(6, 17, 2, 44)?;
            out.push(event(
                &mut n,
                i,
                "compute.instance.delete.start",
                request,
                delete,
            ));
            out.push(event(
                &mut n,
                i,
                "compute.instance.delete.end",
                request,
                delete + Duration::seconds(9),
            ));
        }
    }
    // A tenant's large Ubuntu builds failing in one hour: enough to fire the alert trigger.
    for attempt in 0..4u32 {
        request += 1;
        let t = at(6, 11, 10 + attempt * 7, 30)?;
        out.push(event(
            &mut n,
            5,
            "compute.instance.create.start",
            request,
            t,
        ));
        out.push(event(
            &mut n,
            5,
            "compute.instance.create.error",
            request,
            t + Duration::seconds(40),
        ));
    }
    out.sort_by_key(|e| e.generated);
    Ok(out)
}

pub async fn holds_data(db: &DatabaseConnection) -> AppResult<bool> {
    Ok(svc::count_events(db, &EventFilter::default()).await? > 0)
}

/// Ingests the week, a day per step, as its notifications arrived, unless its first event is
/// already there.
pub async fn fill(db: &DatabaseConnection, progress: Progress<'_>) -> AppResult<Written> {
    let events = week()?;
    if svc::event_by_message_id(db, &events[0].message_id)
        .await?
        .is_some()
    {
        return Ok(Written {
            domain: DOMAIN,
            rows: Vec::new(),
        });
    }
    let triggers = definitions::load(TRIGGERS)
        .map_err(|e| AppError::Internal(format!("the example trigger definitions: {e}")))?;
    let (mut stored, mut opened) = (0, 0);
    let days: Vec<u32> = (2..=7).collect();
    for (step, day) in days.iter().enumerate() {
        let batch: Vec<NewEvent> = events
            .iter()
            .filter(|e| {
                e.generated.date() == at(*day, 0, 0, 0).map(|t| t.date()).unwrap_or_default()
            })
            .cloned()
            .collect();
        // Each day is ingested as of its end, so fire times are that evening.
        let now = at(*day, 23, 59, 0)?;
        let report = svc::ingest(db, &batch, &triggers, now).await?;
        stored += report.stored;
        opened += report.streams_opened;
        progress(DOMAIN, step as u64 + 1, days.len() as u64);
    }
    let pipelines = svc::load_pipelines(PIPELINES)
        .map_err(|e| AppError::Internal(format!("the example pipelines: {e}")))?;
    let ended = svc::run_due(db, &triggers, &pipelines, at(8, 0, 0, 0)?, 1_000).await?;
    Ok(Written {
        domain: DOMAIN,
        rows: vec![
            ("events", stored),
            ("streams", opened),
            ("streams fired or expired", ended),
        ],
    })
}
