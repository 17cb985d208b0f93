//! pytest-monitor's demo data: two machines, six sessions of two CI pipelines (with the tags the
//! plugin sends), and ten test items measured in each session.

use sea_orm::DatabaseConnection;

use super::report::{Progress, Written};
use crate::error::AppResult;
use crate::service::monitor::{
    self as svc, ContextFilter, NewContext, NewMetric, NewSession, SessionFilter,
};

pub const DOMAIN: &str = "pytest-monitor";

/// The test items each session measures: module, function, component, parametrisation.
const ITEMS: [(&str, &str, &str, &str); 10] = [
    ("tests.test_parser", "test_parse_header", "core", ""),
    ("tests.test_parser", "test_parse_body", "core", "small"),
    ("tests.test_parser", "test_parse_body", "core", "large"),
    ("tests.test_store", "test_insert", "storage", ""),
    ("tests.test_store", "test_query_by_prefix", "storage", ""),
    ("tests.test_store", "test_bulk_load", "storage", "1000"),
    ("tests.test_api", "test_list_sessions", "api", ""),
    ("tests.test_api", "test_post_metric", "api", ""),
    ("tests.test_api", "test_paging", "api", "last"),
    ("tests", "", "", ""),
];

/// (session hash, machine, branch, build number, commit, start time)
const SESSIONS: [(&str, usize, &str, &str, &str, &str); 6] = [
    (
        "d3a1c0de0000000000000000000000a1",
        0,
        "main",
        "101",
        "4914d19a5c1f3e2b7d8a90c1e2f3a4b5c6d7e8f9",
        "2026-01-05T09:00:00",
    ),
    (
        "d3a1c0de0000000000000000000000a2",
        1,
        "main",
        "101",
        "4914d19a5c1f3e2b7d8a90c1e2f3a4b5c6d7e8f9",
        "2026-01-05T09:02:10",
    ),
    (
        "d3a1c0de0000000000000000000000a3",
        0,
        "main",
        "102",
        "7c2e8b1f0d9a4c3e5b6a7f8e9d0c1b2a3f4e5d6c",
        "2026-01-06T09:00:00",
    ),
    (
        "d3a1c0de0000000000000000000000a4",
        1,
        "main",
        "102",
        "7c2e8b1f0d9a4c3e5b6a7f8e9d0c1b2a3f4e5d6c",
        "2026-01-06T09:01:45",
    ),
    (
        "d3a1c0de0000000000000000000000a5",
        0,
        "feature-x",
        "7",
        "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9",
        "2026-01-06T14:30:00",
    ),
    (
        "d3a1c0de0000000000000000000000a6",
        0,
        "feature-x",
        "8",
        "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0",
        "2026-01-07T10:15:00",
    ),
];

fn contexts() -> [NewContext; 2] {
    let machine = |h: &str, node: &str, cpus, mhz, cpu: &str, ram, system: &str| NewContext {
        h: h.into(),
        cpu_count: cpus,
        cpu_frequency: mhz,
        cpu_type: cpu.into(),
        cpu_vendor: String::new(),
        ram_total: ram,
        machine_node: node.into(),
        machine_type: "x86_64".into(),
        machine_arch: "64bit".into(),
        system_info: system.into(),
        python_info: "3.11.7 (main, Dec  5 2023, 08:00:00) [GCC 12.2.0]".into(),
    };
    [
        machine(
            "c0de0000000000000000000000000001",
            "ci-linux-1",
            8,
            2600,
            "x86_64",
            32000,
            "Linux - 6.1.0-18-amd64",
        ),
        machine(
            "c0de0000000000000000000000000002",
            "ci-linux-2",
            4,
            3100,
            "x86_64",
            16000,
            "Linux - 6.1.0-18-amd64",
        ),
    ]
}

/// Whether the store holds any pytest-monitor data.
pub async fn holds_data(db: &DatabaseConnection) -> AppResult<bool> {
    Ok(
        svc::count_contexts(db, &ContextFilter::default()).await? > 0
            || svc::count_sessions(db, &SessionFilter::default()).await? > 0,
    )
}

/// Writes the dataset (one transaction a session's metrics), unless its first session is there.
pub async fn fill(db: &DatabaseConnection, progress: Progress<'_>) -> AppResult<Written> {
    let first = SessionFilter {
        h: Some(SESSIONS[0].0.into()),
        ..Default::default()
    };
    if svc::count_sessions(db, &first).await? > 0 {
        return Ok(Written {
            domain: DOMAIN,
            rows: Vec::new(),
        });
    }
    let machines = contexts();
    for c in &machines {
        svc::create_context(db, c.clone()).await?;
    }
    let steps = SESSIONS.len() as u64;
    let mut metrics = 0;
    for (n, (h, machine, branch, build, commit, start)) in SESSIONS.iter().enumerate() {
        svc::create_session(
            db,
            NewSession {
                h: (*h).into(),
                run_date: (*start).into(),
                scm_ref: Some((*commit).into()),
                tags: vec![
                    ("pipeline_branch".into(), (*branch).into()),
                    ("pipeline_build_no".into(), (*build).into()),
                    ("python".into(), "3.11".into()),
                ],
            },
        )
        .await?;
        let rows = ITEMS
            .iter()
            .enumerate()
            .map(|(i, (path, function, component, variant))| {
                // Deterministic, plausible figures that differ by item, session and machine.
                let scale = 1.0 + 0.15 * n as f64 + 0.4 * *machine as f64;
                let total = (0.05 + 0.11 * i as f64) * scale;
                let item = if function.is_empty() {
                    (*path).to_owned()
                } else {
                    format!("{path}.{function}")
                };
                NewMetric {
                    session_h: (*h).into(),
                    context_h: machines[*machine].h.clone(),
                    item_start_time: format!("{start}.{:06}", i * 1000),
                    item_path: (*path).into(),
                    item,
                    item_variant: (*variant).into(),
                    item_fs_loc: format!("{}.py", path.replace('.', "/")),
                    kind: if function.is_empty() {
                        "module"
                    } else {
                        "function"
                    }
                    .into(),
                    component: Some((*component).into()),
                    total_time: total,
                    user_time: total * 0.8,
                    kernel_time: total * 0.1,
                    cpu_usage: 0.6 + 0.03 * i as f64,
                    mem_usage: 12.5 + 3.25 * i as f64 - *machine as f64,
                }
            })
            .collect();
        metrics += svc::add_metrics(db, rows).await?;
        progress(DOMAIN, n as u64 + 1, steps);
    }
    Ok(Written {
        domain: DOMAIN,
        rows: vec![
            ("contexts", machines.len() as u64),
            ("sessions", SESSIONS.len() as u64),
            ("metrics", metrics),
        ],
    })
}
