//! Running real programs from the integration tests: a child process with a timeout whose output
//! is collected whole, and a Python virtualenv prepared by a `.ci/*-venv.sh` script, for the
//! end-to-end tests that drive the legacy APIs' real clients (pytest-monitor, klugman).
//!
//! Without Python such a test prints a SKIPPED line and passes, unless
//! `TESTGRAPH_E2E_REQUIRED=1` (CI), where it fails.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const VENV_TIMEOUT: Duration = Duration::from_secs(600);
pub const SHORT_TIMEOUT: Duration = Duration::from_secs(60);

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn required() -> bool {
    std::env::var("TESTGRAPH_E2E_REQUIRED").is_ok_and(|v| v.trim() == "1")
}

/// Python is missing: skip (print and return None), or fail when CI requires the test.
fn unavailable(test: &str, reason: &str) -> Option<PathBuf> {
    if required() {
        panic!("TESTGRAPH_E2E_REQUIRED=1 but {test} cannot run: {reason}");
    }
    let line =
        format!("SKIPPED {test}: {reason} (set TESTGRAPH_E2E_REQUIRED=1 to make this a failure)");
    println!("{line}");
    eprintln!("{line}");
    None
}

/// A finished (or timed-out) child process.
pub struct Finished {
    /// None when the timeout killed it.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    pub fn describe(&self) -> String {
        let status = match self.status {
            Some(s) => s.to_string(),
            None => "killed after timeout".to_owned(),
        };
        format!(
            "{status}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout, self.stderr
        )
    }
}

/// Kills the child when dropped while it still runs (timeout, or a panic while waiting).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn pipe_reader(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
    });
    rx
}

fn run_with_timeout(mut cmd: Command, timeout: Duration) -> std::io::Result<Finished> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = KillOnDrop(cmd.spawn()?);
    let out = pipe_reader(child.0.stdout.take());
    let err = pipe_reader(child.0.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.0.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.0.kill();
            let _ = child.0.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // A grandchild may still hold the pipes; never wait for the readers for long.
    let grace = if status.is_some() {
        Duration::from_secs(10)
    } else {
        Duration::from_secs(1)
    };
    let collect = |rx: mpsc::Receiver<String>| {
        rx.recv_timeout(grace)
            .unwrap_or_else(|_| "<output not collected>".into())
    };
    Ok(Finished {
        status,
        stdout: collect(out),
        stderr: collect(err),
    })
}

pub async fn run(cmd: Command, timeout: Duration) -> std::io::Result<Finished> {
    tokio::task::spawn_blocking(move || run_with_timeout(cmd, timeout))
        .await
        .expect("join blocking child runner")
}

pub fn venv_python_path(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// A virtualenv an end-to-end test runs a real client from.
pub struct Venv {
    /// The test's name, for the SKIPPED line.
    pub test: &'static str,
    /// The script in `.ci/` that prepares it.
    pub script: &'static str,
    /// The variable naming a prepared one (CI sets it).
    pub env_var: &'static str,
    /// Where the test prepares it under `target/` otherwise.
    pub dir: &'static str,
}

impl Venv {
    /// The virtualenv: the one `env_var` names, or `target/<dir>` prepared with the script when
    /// `python3` is on PATH; None (skipped) without Python.
    pub async fn prepare(&self) -> Option<PathBuf> {
        if let Some(v) = std::env::var_os(self.env_var).filter(|v| !v.is_empty()) {
            let python = venv_python_path(Path::new(&v));
            assert!(
                python.is_file(),
                "{}={} has no {}",
                self.env_var,
                Path::new(&v).display(),
                python.display()
            );
            return Some(PathBuf::from(v));
        }
        let mut probe = Command::new("python3");
        probe.arg("--version");
        match run(probe, SHORT_TIMEOUT).await {
            Ok(f) if f.success() => {}
            Ok(f) => {
                return unavailable(
                    self.test,
                    &format!("`python3 --version` failed: {}", f.describe()),
                );
            }
            Err(e) => return unavailable(self.test, &format!("python3 is not on PATH ({e})")),
        }
        let venv = manifest_dir().join("target").join(self.dir);
        let mut setup = Command::new("bash");
        setup
            .arg(manifest_dir().join(".ci").join(self.script))
            .arg(&venv)
            .current_dir(manifest_dir());
        match run(setup, VENV_TIMEOUT).await {
            Ok(f) if f.success() => Some(venv),
            Ok(f) => unavailable(
                self.test,
                &format!(
                    ".ci/{} {} failed: {}",
                    self.script,
                    venv.display(),
                    f.describe()
                ),
            ),
            Err(e) => unavailable(
                self.test,
                &format!("cannot run bash for .ci/{} ({e})", self.script),
            ),
        }
    }
}
