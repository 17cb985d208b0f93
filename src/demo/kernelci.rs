//! KernelCI's demo data: four trees (mainline, linux-next, the 6.6 stable branch and the SoC
//! tree's for-next) built over the first week of January 2026 on five architectures with gcc-10
//! and clang-17. Ten jobs: eight finalised as `POST /job` does (four FAIL, with the errors their
//! builds logged), the two newest still in `BUILD` with part of their builds in; six jobs carry
//! a build-log summary.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use sea_orm::DatabaseConnection;

use super::report::{Progress, Written};
use crate::error::{AppError, AppResult};
use crate::service::kernelci::{
    self as svc, Clause, Criteria, JOB_FIELDS, LogLine, NewBuild, NewLogSummary, Value,
};

pub const DOMAIN: &str = "KernelCI";

/// A tree: the job name, its repository and the branch built.
struct Tree {
    job: &'static str,
    url: &'static str,
    branch: &'static str,
}

const MAINLINE: Tree = Tree {
    job: "mainline",
    url: "git://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git",
    branch: "master",
};
const NEXT: Tree = Tree {
    job: "next",
    url: "git://git.kernel.org/pub/scm/linux/kernel/git/next/linux-next.git",
    branch: "master",
};
const STABLE: Tree = Tree {
    job: "stable",
    url: "git://git.kernel.org/pub/scm/linux/kernel/git/stable/linux-stable.git",
    branch: "linux-6.6.y",
};
const ARM_SOC: Tree = Tree {
    job: "arm-soc",
    url: "git://git.kernel.org/pub/scm/linux/kernel/git/soc/soc.git",
    branch: "for-next",
};

/// Every build configuration: architecture, defconfig, fragments added to it, environment.
const CONFIGS: [(&str, &str, &str, &str); 14] = [
    ("arm", "multi_v7_defconfig", "", "gcc-10"),
    ("arm", "multi_v7_defconfig", "", "clang-17"),
    ("arm64", "defconfig", "", "gcc-10"),
    ("arm64", "defconfig", "", "clang-17"),
    ("arm64", "defconfig", "+CONFIG_ARM64_64K_PAGES=y", "gcc-10"),
    ("x86_64", "x86_64_defconfig", "", "gcc-10"),
    ("x86_64", "x86_64_defconfig", "", "clang-17"),
    ("x86_64", "allnoconfig", "", "clang-17"),
    ("riscv", "defconfig", "", "gcc-10"),
    ("riscv", "tinyconfig", "", "clang-17"),
    ("mips", "32r2el_defconfig", "", "gcc-10"),
    ("mips", "allnoconfig", "", "gcc-10"),
    ("x86_64", "tinyconfig", "", "gcc-10"),
    ("arm", "allnoconfig", "", "gcc-10"),
];

/// The configurations each tree builds (indices into `CONFIGS`, in the order labs report them).
const EVERYTHING: &[usize] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const STABLE_SET: &[usize] = &[0, 2, 3, 5, 6, 8, 10, 12];
const SOC_SET: &[usize] = &[0, 1, 13, 2, 3, 4];

/// One job: what was built, when, how far it got, what failed and what its log summary says.
struct Run {
    tree: &'static Tree,
    kernel: &'static str,
    commit: &'static str,
    describe_v: &'static str,
    kernel_version: &'static str,
    /// Day of January 2026, hour and minute the first build came in.
    at: (u32, u32, u32),
    configs: &'static [usize],
    /// How many of `configs` have built; fewer than all leaves the job in `BUILD`.
    built: usize,
    /// The failed builds: index into `CONFIGS` and the errors counted.
    failed: &'static [(usize, i32)],
    /// The build-log summary, if one was recorded: errors, warnings, mismatches.
    summary: Option<Summary>,
}

type Lines = &'static [(i64, &'static str)];

struct Summary {
    errors: Lines,
    warnings: Lines,
    mismatches: Lines,
}

/// Oldest first, as they were built.
const RUNS: [Run; 10] = [
    Run {
        tree: &STABLE,
        kernel: "v6.6.119",
        commit: "ea284cf93442fa99be293d722d8bad907d1dd660",
        describe_v: "v6.6.119",
        kernel_version: "6.6.119",
        at: (2, 10, 5),
        configs: STABLE_SET,
        built: STABLE_SET.len(),
        failed: &[],
        summary: Some(Summary {
            errors: &[],
            warnings: &[(
                1,
                "drivers/gpu/drm/amd/amdgpu/../display/dc/dml/dcn31/display_mode_vba_31.c:3969:6: warning: stack frame size (2104) exceeds limit (2048) in 'dml31_ModeSupportAndSystemConfiguration' [-Wframe-larger-than]",
            )],
            mismatches: &[],
        }),
    },
    Run {
        tree: &ARM_SOC,
        kernel: "v6.19-rc3-41-g230be22027cb",
        commit: "230be22027cb1b5e45a817f703e0ec6e6ffd62cd",
        describe_v: "v6.19-rc3-41-g230be22027cb",
        kernel_version: "6.19.0-rc3",
        at: (3, 9, 30),
        configs: SOC_SET,
        built: SOC_SET.len(),
        failed: &[(0, 2), (1, 2)],
        summary: Some(Summary {
            errors: &[
                (
                    2,
                    "Error: arch/arm/boot/dts/ti/omap/am335x-boneblack-wireless.dts:88.3-4 syntax error",
                ),
                (2, "FATAL ERROR: Unable to parse input tree"),
            ],
            warnings: &[(
                3,
                "arch/arm64/boot/dts/qcom/sm8650.dtsi:2714.25-2740.5: Warning (simple_bus_reg): /soc@0/display-subsystem@ae00000: simple-bus unit address format error, expected \"ae01000\"",
            )],
            mismatches: &[],
        }),
    },
    Run {
        tree: &MAINLINE,
        kernel: "v6.19-rc4",
        commit: "1467583f82fd24b7cf8fb702ea16b2b3ac7acaac",
        describe_v: "v6.19-rc4",
        kernel_version: "6.19.0-rc4",
        at: (4, 23, 10),
        configs: EVERYTHING,
        built: EVERYTHING.len(),
        failed: &[(1, 1)],
        summary: Some(Summary {
            errors: &[(
                1,
                "drivers/gpu/drm/msm/msm_gpu.c:412:15: error: variable 'ring' is uninitialized when used here [-Werror,-Wuninitialized]",
            )],
            warnings: &[
                (
                    2,
                    "drivers/gpu/drm/xe/xe_guc_submit.c:1874:6: warning: unused variable 'ret' [-Wunused-variable]",
                ),
                (
                    1,
                    "fs/bcachefs/btree_iter.c:3021:1: warning: the frame size of 1104 bytes is larger than 1024 bytes [-Wframe-larger-than=]",
                ),
            ],
            mismatches: &[(
                1,
                "WARNING: modpost: vmlinux: section mismatch in reference: qcom_smd_rpm_probe+0x3c (section: .text) -> qcom_rpm_smd_write (section: .init.text)",
            )],
        }),
    },
    Run {
        tree: &NEXT,
        kernel: "next-20260105",
        commit: "5480d1786c85b8435b3e005edf5544fd95a4edbb",
        describe_v: "v6.19-rc4-3187-g5480d1786c85",
        kernel_version: "6.19.0-rc4",
        at: (5, 6, 0),
        configs: EVERYTHING,
        built: EVERYTHING.len(),
        failed: &[(7, 1), (10, 3)],
        summary: Some(Summary {
            errors: &[
                (1, "ld.lld: error: undefined symbol: pci_enable_ptm"),
                (
                    2,
                    "arch/mips/kernel/traps.c:2044:9: error: implicit declaration of function 'set_handler' [-Werror=implicit-function-declaration]",
                ),
                (
                    1,
                    "make[3]: *** [scripts/Makefile.build:243: arch/mips/kernel/traps.o] Error 1",
                ),
            ],
            warnings: &[(
                4,
                "WARNING: unmet direct dependencies detected for CRYPTO_LIB_SHA256_GENERIC",
            )],
            mismatches: &[(
                2,
                "WARNING: modpost: vmlinux: section mismatch in reference: mips_cm_probe+0x1a8 (section: .text) -> mips_cm_probe_l2sync (section: .init.text)",
            )],
        }),
    },
    Run {
        tree: &MAINLINE,
        kernel: "v6.19-rc4-12-ge7811ec15834",
        commit: "e7811ec15834b74fdb2f722a76e31cbe05974da8",
        describe_v: "v6.19-rc4-12-ge7811ec15834",
        kernel_version: "6.19.0-rc4",
        at: (5, 17, 40),
        configs: EVERYTHING,
        built: EVERYTHING.len(),
        failed: &[],
        summary: Some(Summary {
            errors: &[],
            warnings: &[(
                2,
                "drivers/gpu/drm/xe/xe_guc_submit.c:1874:6: warning: unused variable 'ret' [-Wunused-variable]",
            )],
            mismatches: &[],
        }),
    },
    Run {
        tree: &NEXT,
        kernel: "next-20260106",
        commit: "617edc92cf5087a0f738344c867d824365cbb187",
        describe_v: "v6.19-rc4-3402-g617edc92cf50",
        kernel_version: "6.19.0-rc4",
        at: (6, 6, 0),
        configs: EVERYTHING,
        built: EVERYTHING.len(),
        failed: &[(8, 1), (10, 3)],
        summary: Some(Summary {
            errors: &[
                (
                    1,
                    "arch/riscv/kernel/vector.c:219:9: error: implicit declaration of function 'riscv_v_vstate_ctrl_init' [-Werror=implicit-function-declaration]",
                ),
                (
                    2,
                    "arch/mips/kernel/traps.c:2044:9: error: implicit declaration of function 'set_handler' [-Werror=implicit-function-declaration]",
                ),
                (
                    1,
                    "make[3]: *** [scripts/Makefile.build:243: arch/mips/kernel/traps.o] Error 1",
                ),
            ],
            warnings: &[(
                1,
                "drivers/net/ethernet/mellanox/mlx5/core/en_tc.c:4120:13: warning: variable 'esw' set but not used [-Wunused-but-set-variable]",
            )],
            mismatches: &[],
        }),
    },
    Run {
        tree: &ARM_SOC,
        kernel: "v6.19-rc4-23-gbcd87e31a3f9",
        commit: "bcd87e31a3f98b525cef5d710881f9da7f11cf0a",
        describe_v: "v6.19-rc4-23-gbcd87e31a3f9",
        kernel_version: "6.19.0-rc4",
        at: (6, 12, 20),
        configs: SOC_SET,
        built: SOC_SET.len(),
        failed: &[],
        summary: None,
    },
    Run {
        tree: &STABLE,
        kernel: "v6.6.120",
        commit: "af2f11d7fa9b6f23e1b4a87487bce9a625fb3abf",
        describe_v: "v6.6.120",
        kernel_version: "6.6.120",
        at: (6, 15, 0),
        configs: STABLE_SET,
        built: STABLE_SET.len(),
        failed: &[],
        summary: None,
    },
    Run {
        tree: &NEXT,
        kernel: "next-20260107",
        commit: "e68ac51ad1cd0828cef478e76e027f2be66922ef",
        describe_v: "v6.19-rc4-3655-ge68ac51ad1cd",
        kernel_version: "6.19.0-rc4",
        at: (7, 6, 0),
        configs: EVERYTHING,
        built: 5,
        failed: &[],
        summary: None,
    },
    Run {
        tree: &MAINLINE,
        kernel: "v6.19-rc4-58-gcfbf687b216b",
        commit: "cfbf687b216b20e3ce54582358e1b504de7219e1",
        describe_v: "v6.19-rc4-58-gcfbf687b216b",
        kernel_version: "6.19.0-rc4",
        at: (7, 8, 30),
        configs: EVERYTHING,
        built: 8,
        failed: &[],
        summary: None,
    },
];

fn at(day: u32, h: u32, m: u32) -> AppResult<NaiveDateTime> {
    NaiveDate::from_ymd_opt(2026, 1, day)
        .and_then(|d| d.and_hms_opt(h, m, 0))
        .ok_or_else(|| AppError::Internal(format!("demo time 2026-01-{day} {h}:{m}")))
}

/// The compiler fields of a build environment: name, version, short and full version.
fn compiler(env: &str) -> (&'static str, &'static str, &'static str, &'static str) {
    if env.starts_with("clang") {
        (
            "clang",
            "17.0.6",
            "clang 17.0.6",
            "Debian clang version 17.0.6 (++20231208085846+6009708b4367-1~exp1~20231208085949.74)",
        )
    } else {
        (
            "gcc",
            "10.2.1",
            "gcc 10.2.1",
            "gcc (Debian 10.2.1-6) 10.2.1 20210110",
        )
    }
}

fn cross_compile(arch: &str) -> Option<String> {
    match arch {
        "arm" => Some("arm-linux-gnueabihf-".into()),
        "arm64" => Some("aarch64-linux-gnu-".into()),
        "riscv" => Some("riscv64-linux-gnu-".into()),
        "mips" => Some("mips-linux-gnu-".into()),
        _ => None,
    }
}

/// Seconds a configuration takes: the defconfig's size, clang a little slower.
fn build_time(defconfig: &str, env: &str, n: usize, failed: bool) -> f64 {
    let base = match defconfig {
        "tinyconfig" => 41.0,
        "allnoconfig" => 58.0,
        "x86_64_defconfig" => 297.0,
        "32r2el_defconfig" => 263.0,
        "multi_v7_defconfig" => 412.0,
        _ => 538.0,
    };
    let clang = if env.starts_with("clang") { 1.15 } else { 1.0 };
    let t = base * clang + ((n * 13) % 29) as f64;
    // A failed build stops part-way.
    let t = if failed { t * 0.4 } else { t };
    (t * 10.0).round() / 10.0
}

/// The builds of `run` as its lab reports them, one every six minutes from its start.
fn builds(n: usize, run: &Run) -> AppResult<Vec<NewBuild>> {
    let start = at(run.at.0, run.at.1, run.at.2)?;
    Ok(run.configs[..run.built]
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let (arch, defconfig, fragments, env) = CONFIGS[c];
            let (cc, version, ext, full) = compiler(env);
            let errors = run
                .failed
                .iter()
                .find(|(f, _)| *f == c)
                .map(|(_, e)| *e)
                .unwrap_or(0);
            // A few warnings here and there, more with clang.
            let warnings = ((n * 7 + c * 3) % 5) as i32 - 2 + i32::from(env.starts_with("clang"));
            NewBuild {
                job: run.tree.job.into(),
                kernel: run.kernel.into(),
                git_branch: run.tree.branch.into(),
                git_commit: Some(run.commit.into()),
                git_url: Some(run.tree.url.into()),
                git_describe: Some(run.kernel.into()),
                git_describe_v: Some(run.describe_v.into()),
                kernel_version: Some(run.kernel_version.into()),
                compiler: Some(cc.into()),
                compiler_version: Some(version.into()),
                compiler_version_ext: Some(ext.into()),
                compiler_version_full: Some(full.into()),
                cross_compile: cross_compile(arch),
                arch: arch.into(),
                defconfig: defconfig.into(),
                defconfig_full: Some(format!("{defconfig}{fragments}")),
                build_environment: Some(env.into()),
                status: if errors > 0 { "FAIL" } else { "PASS" }.into(),
                build_time: Some(build_time(defconfig, env, n, errors > 0)),
                errors: Some(errors),
                warnings: Some(warnings.max(0)),
                created_on: Some(start + Duration::minutes(4 + 6 * i as i64)),
            }
        })
        .collect())
}

fn lines(lines: Lines) -> Vec<LogLine> {
    lines
        .iter()
        .map(|(count, line)| LogLine {
            count: *count,
            line: (*line).into(),
        })
        .collect()
}

/// The criteria naming one job: its name, kernel and branch.
fn job_named(run: &Run) -> AppResult<Criteria> {
    let exact = |wire: &str, v: &str| {
        svc::field(JOB_FIELDS, wire)
            .map(|f| Clause::AnyOf(f, vec![Value::Text(v.into())]))
            .ok_or_else(|| AppError::Internal(format!("KernelCI jobs have no field '{wire}'")))
    };
    Ok(Criteria {
        clauses: vec![
            exact("job", run.tree.job)?,
            exact("kernel", run.kernel)?,
            exact("git_branch", run.tree.branch)?,
        ],
        ..Default::default()
    })
}

/// Whether the store holds any KernelCI data (builds and summaries always have a job).
pub async fn holds_data(db: &DatabaseConnection) -> AppResult<bool> {
    Ok(svc::count_jobs(db, &Criteria::default()).await? > 0)
}

/// Writes the dataset through the ingestion functions, unless its first job is there: each
/// job's builds in one report, then its status and its log summary as CI sets them.
pub async fn fill(db: &DatabaseConnection, progress: Progress<'_>) -> AppResult<Written> {
    if svc::count_jobs(db, &job_named(&RUNS[0])?).await? > 0 {
        return Ok(Written {
            domain: DOMAIN,
            rows: Vec::new(),
        });
    }
    let (mut jobs, mut built, mut summaries) = (0, 0, 0);
    let steps = RUNS.len() as u64;
    for (n, run) in RUNS.iter().enumerate() {
        let report = svc::report_builds(db, &builds(n, run)?).await?;
        jobs += report.jobs_created;
        built += report.builds;
        if run.built == run.configs.len() {
            let status = if run.failed.is_empty() {
                "PASS"
            } else {
                "FAIL"
            };
            let job = svc::set_job_status(db, run.tree.job, run.kernel, run.tree.branch, status)
                .await?
                .ok_or_else(|| AppError::Internal(format!("demo job {} vanished", run.kernel)))?;
            if let Some(s) = &run.summary {
                svc::record_log_summary(
                    db,
                    &NewLogSummary {
                        job_id: job.oid,
                        errors: lines(s.errors),
                        warnings: lines(s.warnings),
                        mismatches: lines(s.mismatches),
                    },
                )
                .await?;
                summaries += 1;
            }
        }
        progress(DOMAIN, n as u64 + 1, steps);
    }
    Ok(Written {
        domain: DOMAIN,
        rows: vec![
            ("jobs", jobs),
            ("builds", built),
            ("log summaries", summaries),
        ],
    })
}
