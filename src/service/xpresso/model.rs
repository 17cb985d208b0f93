//! XPRESSO's row types, states, inputs and the stored JSON forms (fact sheet §3).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{AppError, AppResult};

pub use entity::xpr_bundle::Model as Bundle;
pub use entity::xpr_item::Model as Item;
pub use entity::xpr_profile::Model as Profile;
pub use entity::xpr_request::Model as Request;
pub use entity::xpr_result::Model as PhaseResult;
pub use entity::xpr_script::Model as Script;
pub use entity::xpr_section::Model as Section;
pub use entity::xpr_testbed::Model as Testbed;
pub use entity::xpr_topology::Model as Topology;

/// The request list's page when none is asked for, and the most one page may hold.
pub const DEFAULT_LIMIT: u64 = 100;
pub const MAX_LIMIT: u64 = 1_000;
/// Bounds of one submission.
pub const MAX_TAGS: usize = 50;
pub const MAX_TEXT: usize = 10_000;
pub const MAX_NAME: usize = 255;
pub const MAX_TESTBEDS: usize = 100;
pub const MAX_BUNDLE_ENTRIES: usize = 100;
/// Bounds of one phase's results upload.
pub const MAX_SCRIPTS: usize = 1_000;
pub const MAX_SECTIONS: usize = 20_000;
/// The most sections one request holds, all items and phases together: what bounds the REST
/// detail, which shows them all.
pub const MAX_REQUEST_SECTIONS: u64 = 100_000;
/// The longest runtime a request or item may ask for: a week.
pub const MAX_RUNTIME_SECONDS: i64 = 7 * 24 * 3600;
/// A request's runtime bound when its profile names none (the seed's list example).
pub const DEFAULT_REQUEST_RUNTIME_SECONDS: i64 = 43_200;

/// The success-rate rule every summary states, as XPRESSO wrote it.
pub const SUCCESS_RATE_RULE: &str = "('passed' + 'passx' + 'skip')/total_tasks * 100.0";

/// Where a request or an item is in its life. A request's state is derived from its items'.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    Preparing,
    Queued,
    Running,
    Finalizing,
    Finished,
    Failed,
    Stopped,
}

impl State {
    pub const ALL: [State; 7] = [
        State::Preparing,
        State::Queued,
        State::Running,
        State::Finalizing,
        State::Finished,
        State::Failed,
        State::Stopped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Preparing => "PREPARING",
            State::Queued => "QUEUED",
            State::Running => "RUNNING",
            State::Finalizing => "FINALIZING",
            State::Finished => "FINISHED",
            State::Failed => "FAILED",
            State::Stopped => "STOPPED",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, State::Finished | State::Failed | State::Stopped)
    }

    /// The moves a runner may make (stopping is the submitter's, through `stop_request`).
    pub fn runner_may_move(self, to: State) -> bool {
        use State::*;
        matches!(
            (self, to),
            (Preparing, Queued)
                | (Preparing, Failed)
                | (Queued, Running)
                | (Queued, Failed)
                | (Running, Finalizing)
                | (Running, Failed)
                | (Finalizing, Finished)
                | (Finalizing, Failed)
        )
    }

    /// The request's state from its items': terminal when every item is (STOPPED if a stop
    /// was asked for, else FAILED if any failed, else FINISHED); otherwise PREPARING or QUEUED
    /// while no item has started, FINALIZING when every unfinished item is, and RUNNING
    /// in between.
    pub fn of_request(items: &[State], stopped: bool) -> State {
        if items.is_empty() {
            return if stopped {
                State::Stopped
            } else {
                State::Preparing
            };
        }
        let open: Vec<State> = items.iter().copied().filter(|s| !s.is_terminal()).collect();
        if open.is_empty() {
            return if stopped {
                State::Stopped
            } else if items.contains(&State::Failed) {
                State::Failed
            } else if items.contains(&State::Stopped) {
                State::Stopped
            } else {
                State::Finished
            };
        }
        let none_done = open.len() == items.len();
        if none_done && open.iter().all(|s| *s == State::Preparing) {
            State::Preparing
        } else if none_done
            && open
                .iter()
                .all(|s| matches!(s, State::Preparing | State::Queued))
        {
            State::Queued
        } else if open.iter().all(|s| *s == State::Finalizing) {
            State::Finalizing
        } else {
            State::Running
        }
    }
}

/// The two phases an item's results come in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    Run,
    Clean,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Run => "run",
            Phase::Clean => "clean",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        match s {
            "run" => Some(Phase::Run),
            "clean" => Some(Phase::Clean),
            _ => None,
        }
    }
}

/// A result's task counters, in the API's key order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Summary {
    pub applicable_tasks: i64,
    pub total_tasks: i64,
    pub unknown: i64,
    pub abort: i64,
    pub fail: i64,
    pub pass: i64,
    pub block: i64,
    pub passx: i64,
    pub skip: i64,
    pub error: i64,
}

impl Summary {
    /// `(pass + passx + skip) / total_tasks * 100`, 0 without tasks, to two decimals.
    pub fn success_rate(&self) -> f64 {
        if self.total_tasks <= 0 {
            return 0.0;
        }
        let rate = (self.pass + self.passx + self.skip) as f64 / self.total_tasks as f64 * 100.0;
        (rate * 100.0).round() / 100.0
    }

    pub fn add(&mut self, o: &Summary) {
        self.applicable_tasks += o.applicable_tasks;
        self.total_tasks += o.total_tasks;
        self.unknown += o.unknown;
        self.abort += o.abort;
        self.fail += o.fail;
        self.pass += o.pass;
        self.block += o.block;
        self.passx += o.passx;
        self.skip += o.skip;
        self.error += o.error;
    }

    /// Every counter is zero or more.
    pub fn check(&self, field: &str) -> AppResult<()> {
        let all = [
            self.applicable_tasks,
            self.total_tasks,
            self.unknown,
            self.abort,
            self.fail,
            self.pass,
            self.block,
            self.passx,
            self.skip,
            self.error,
        ];
        if all.iter().any(|n| *n < 0) {
            return Err(AppError::invalid_field(
                field,
                "summary counters are zero or more",
            ));
        }
        Ok(())
    }

    pub fn of_result(r: &PhaseResult) -> Summary {
        Summary {
            applicable_tasks: r.applicable_tasks,
            total_tasks: r.total_tasks,
            unknown: r.unknown,
            abort: r.abort,
            fail: r.fail,
            pass: r.pass,
            block: r.block,
            passx: r.passx,
            skip: r.skip,
            error: r.error,
        }
    }
}

/// The request's verdict once it ended: `PASSED` when every task of its run results passed
/// (pass, passx or skip), `FAILED` when the request failed or any task did not; none while it
/// runs, when it was stopped, or when it ran no task.
pub fn verdict(state: State, summary: &Summary) -> Option<&'static str> {
    match state {
        State::Failed => Some("FAILED"),
        State::Finished if summary.total_tasks > 0 => {
            if summary.pass + summary.passx + summary.skip >= summary.total_tasks {
                Some("PASSED")
            } else {
                Some("FAILED")
            }
        }
        _ => None,
    }
}

/// `REQ0000426` for request 426 (at least seven digits).
pub fn request_id(n: i64) -> String {
    format!("REQ{n:07}")
}

/// The request number of `REQ0000426`, if it is one.
pub fn parse_request_id(s: &str) -> Option<i64> {
    let digits = s.strip_prefix("REQ")?;
    if digits.len() < 7 || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| *n > 0)
}

/// `REQ0000426-1` for the first item of request 426.
pub fn item_id(request: i64, position: i32) -> String {
    format!("{}-{position}", request_id(request))
}

/// The request number and item position of `REQ0000426-1`.
pub fn parse_item_id(s: &str) -> Option<(i64, i32)> {
    let (req, pos) = s.rsplit_once('-')?;
    if pos.is_empty() || pos.starts_with('0') || !pos.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((parse_request_id(req)?, pos.parse().ok()?))
}

/// Who is calling: a token's user in a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub group: String,
    pub user: String,
}

/// A catalog reference as items show it: `{"name", "uuid"}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedRef {
    pub name: String,
    pub uuid: String,
}

/// A job file: `{"name", "path", "uuid"}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JobRef {
    pub name: String,
    pub path: String,
    pub uuid: String,
}

/// What an item runs, copied from the catalog at submission (`xpr_items.spec`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ItemSpec {
    pub profile: NamedRef,
    pub job: JobRef,
    /// `{"name", "type", "uuid"}`.
    pub engine: Value,
    /// The harness instance objects.
    pub harness_instances: Vec<Value>,
    pub harness_config: Value,
    pub options: Map<String, Value>,
    pub env: Map<String, Value>,
    /// Candidates for the run, each with its `reservations` (empty).
    pub submitted_testbeds: Vec<NamedRef>,
    /// The topology object, `{}` when the item runs on testbeds.
    pub topology: Value,
}

/// Overrides of a profile's arguments, as the submit body's `parameters` gives them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Parameters {
    pub env_vars: Map<String, Value>,
    /// Flags to values: a string, or `true` for a bare flag (`false` leaves it out).
    pub job_args: Map<String, Value>,
    pub harness_args: Map<String, Value>,
}

impl Parameters {
    pub fn is_empty(&self) -> bool {
        self.env_vars.is_empty() && self.job_args.is_empty() && self.harness_args.is_empty()
    }

    /// Environment values are strings; job arguments strings or booleans; harness arguments
    /// strings.
    pub fn check(&self, field: &str) -> AppResult<()> {
        let bad = |what: &str, key: &str, want: &str| {
            Err(AppError::invalid_field(
                format!("{field}.{what}"),
                format!("'{key}' must be {want}"),
            ))
        };
        for (k, v) in &self.env_vars {
            if !v.is_string() {
                return bad("env_vars", k, "a string");
            }
        }
        for (k, v) in &self.job_args {
            if !(v.is_string() || v.is_boolean()) {
                return bad("job_args", k, "a string or a boolean");
            }
        }
        for (k, v) in &self.harness_args {
            if !v.is_string() {
                return bad("harness_args", k, "a string");
            }
        }
        Ok(())
    }
}

/// One entry of a bundle: a profile with the testbeds or topology and arguments it runs with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BundleEntry {
    /// The profile's UUID.
    pub profile: String,
    /// Testbed UUIDs; empty: the profile's own (or its topology).
    pub testbeds: Vec<String>,
    /// A topology UUID instead of testbeds.
    pub topology: Option<String>,
    pub parameters: Parameters,
}

/// A submission (`POST /api/v1/requests`, `submitXpressoRequest`): a profile or a bundle, with
/// the optional overrides.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewRequest {
    pub profile: Option<String>,
    pub bundle: Option<String>,
    /// Testbed UUIDs replacing the profile's (profile requests only).
    pub testbeds: Option<Vec<String>>,
    /// Topology UUIDs: one item per topology (profile requests only).
    pub topologies: Option<Vec<String>>,
    pub submitted_for: Option<String>,
    pub compare_baseline: bool,
    pub is_baseline: bool,
    pub description: Option<String>,
    pub clean: bool,
    pub max_request_runtime_seconds: Option<i64>,
    pub tags: Vec<String>,
    pub branch: Option<String>,
    /// Profile requests only.
    pub parameters: Option<Parameters>,
}

/// Which requests a list returns, within the caller's group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestFilter {
    pub states: Vec<State>,
    pub submitters: Vec<String>,
    /// Requests carrying this tag.
    pub tag: Option<String>,
    pub branches: Vec<String>,
    pub created_after: Option<chrono::NaiveDateTime>,
    pub created_before: Option<chrono::NaiveDateTime>,
}

/// Request list orders; every order ends with the request number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RequestOrder {
    /// Newest first: by number (the legacy list's order).
    #[default]
    Number,
    DateCreated,
    DateCompleted,
    State,
}

/// A phase's results as a runner reports them (`attachXpressoResults`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewPhaseResult {
    pub state: Option<String>,
    pub start_time: Option<chrono::NaiveDateTime>,
    pub completion_time: Option<chrono::NaiveDateTime>,
    pub summary: Summary,
    pub scripts: Vec<NewScript>,
    /// The archive's metadata, a JSON object.
    pub results_meta: Map<String, Value>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewScript {
    pub task_id: String,
    pub name: String,
    pub path: String,
    pub summary: Summary,
    pub sections: Vec<NewSection>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewSection {
    /// A UUID; made when not given.
    pub uuid: Option<String>,
    pub section_id: String,
    pub parent_id: Option<String>,
    pub sequence_number: i64,
    pub section_name: String,
    pub section_type: String,
    pub result: String,
    pub source_file: String,
    pub source_line: i64,
    pub run_time: String,
    pub start_time: Option<chrono::NaiveDateTime>,
    pub stop_time: Option<chrono::NaiveDateTime>,
    pub log_file: String,
    pub log_start: i64,
    pub log_start_line: i64,
    pub log_size: i64,
    pub log_size_line: i64,
    pub description: String,
}

/// XPRESSO's time form: ISO 8601 UTC with microseconds and `Z` (`2019-08-27T15:16:14.247943Z`).
pub fn iso_z(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// A section's time form: whole seconds and `Z` (`2019-08-27T08:21:44Z`).
pub fn iso_seconds_z(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A new random UUID (v4), as text.
pub fn new_uuid() -> AppResult<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// Whether `s` is a UUID in its canonical text form (any case).
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A JSON text column's value, an empty object/array on a damaged row rather than a failure.
pub fn json_or(text: &str, empty: Value) -> Value {
    serde_json::from_str(text).unwrap_or(empty)
}

/// A name-like field: trimmed, 1 to `MAX_NAME` characters, no control characters.
pub fn check_name(field: &str, value: &str) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > MAX_NAME || v.chars().any(char::is_control) {
        return Err(AppError::invalid_field(
            field,
            format!("must be 1 to {MAX_NAME} characters, without control characters"),
        ));
    }
    Ok(v.to_owned())
}

/// A runtime bound: 0 (none) to a week.
pub fn check_runtime(field: &str, seconds: i64) -> AppResult<i64> {
    if !(0..=MAX_RUNTIME_SECONDS).contains(&seconds) {
        return Err(AppError::invalid_field(
            field,
            format!("must be 0 to {MAX_RUNTIME_SECONDS} seconds"),
        ));
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_and_item_ids() {
        assert_eq!(request_id(426), "REQ0000426");
        assert_eq!(request_id(12_345_678), "REQ12345678");
        assert_eq!(parse_request_id("REQ0000426"), Some(426));
        assert_eq!(parse_request_id("REQ12345678"), Some(12_345_678));
        for bad in [
            "REQ426",
            "req0000426",
            "REQ0000000",
            "REQ00004a6",
            "",
            "REQ-000426",
        ] {
            assert_eq!(parse_request_id(bad), None, "{bad}");
        }
        assert_eq!(item_id(426, 1), "REQ0000426-1");
        assert_eq!(parse_item_id("REQ0000426-12"), Some((426, 12)));
        for bad in ["REQ0000426", "REQ0000426-", "REQ0000426-01", "REQ0000426-x"] {
            assert_eq!(parse_item_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn request_state_follows_its_items() {
        use State::*;
        let of = |items: &[State]| State::of_request(items, false);
        assert_eq!(of(&[Preparing, Preparing]), Preparing);
        assert_eq!(of(&[Preparing, Queued]), Queued);
        assert_eq!(of(&[Queued, Running]), Running);
        assert_eq!(of(&[Finished, Queued]), Running);
        assert_eq!(of(&[Finalizing, Finished]), Finalizing);
        assert_eq!(of(&[Finished, Finished]), Finished);
        assert_eq!(of(&[Finished, Failed]), Failed);
        assert_eq!(State::of_request(&[Finished, Stopped], true), Stopped);
    }

    #[test]
    fn runner_moves() {
        assert!(State::Queued.runner_may_move(State::Running));
        assert!(!State::Preparing.runner_may_move(State::Running));
        assert!(!State::Finished.runner_may_move(State::Failed));
        assert!(!State::Running.runner_may_move(State::Stopped));
    }

    #[test]
    fn success_rate_and_verdict() {
        let s = Summary {
            total_tasks: 3,
            pass: 1,
            skip: 1,
            fail: 1,
            ..Summary::default()
        };
        assert_eq!(s.success_rate(), 66.67);
        assert_eq!(Summary::default().success_rate(), 0.0);
        assert_eq!(verdict(State::Finished, &s), Some("FAILED"));
        let all = Summary {
            total_tasks: 2,
            pass: 2,
            ..Summary::default()
        };
        assert_eq!(verdict(State::Finished, &all), Some("PASSED"));
        assert_eq!(verdict(State::Running, &all), None);
        assert_eq!(verdict(State::Stopped, &all), None);
    }

    #[test]
    fn uuids() {
        let u = new_uuid().unwrap();
        assert!(is_uuid(&u), "{u}");
        assert_eq!(&u[14..15], "4");
        assert!(!is_uuid("not-a-uuid"));
    }
}
