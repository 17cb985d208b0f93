//! The XPRESSO request inputs: states and phases, the request filter and order, a submission,
//! and a phase's results as a runner uploads them.

use async_graphql::{Enum, InputObject, Json};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::error::{AppError, AppResult};
use crate::graphql::connection::SortDirection;
use crate::graphql::time::naive;
use crate::service::xpresso::{
    NewPhaseResult, NewRequest, NewScript, NewSection, Parameters, Phase, RequestFilter,
    RequestOrder, State, Summary,
};

/// Where a request or an item is in its life: `PREPARING` → `QUEUED` → `RUNNING` →
/// `FINALIZING` → `FINISHED`, or `FAILED` from any of the first four, or `STOPPED` when its
/// submitter stops it. A request's state follows its items'.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "XpressoState")]
pub enum StateValue {
    Preparing,
    Queued,
    Running,
    Finalizing,
    Finished,
    Failed,
    Stopped,
}

impl From<StateValue> for State {
    fn from(s: StateValue) -> Self {
        match s {
            StateValue::Preparing => State::Preparing,
            StateValue::Queued => State::Queued,
            StateValue::Running => State::Running,
            StateValue::Finalizing => State::Finalizing,
            StateValue::Finished => State::Finished,
            StateValue::Failed => State::Failed,
            StateValue::Stopped => State::Stopped,
        }
    }
}

impl From<State> for StateValue {
    fn from(s: State) -> Self {
        match s {
            State::Preparing => StateValue::Preparing,
            State::Queued => StateValue::Queued,
            State::Running => StateValue::Running,
            State::Finalizing => StateValue::Finalizing,
            State::Finished => StateValue::Finished,
            State::Failed => StateValue::Failed,
            State::Stopped => StateValue::Stopped,
        }
    }
}

impl StateValue {
    /// A stored state; an unknown word is an internal error (the service writes only these).
    pub fn from_stored(s: &str) -> AppResult<Self> {
        State::parse(s).map(StateValue::from).ok_or_else(|| {
            AppError::Internal(format!("an XPRESSO row has the unknown state '{s}'"))
        })
    }
}

/// How a runner ends an item (`finishXpressoItem`).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "XpressoFinalState")]
pub enum FinalState {
    /// From `FINALIZING`.
    Finished,
    /// From `PREPARING`, `QUEUED`, `RUNNING` or `FINALIZING`.
    Failed,
}

impl From<FinalState> for State {
    fn from(s: FinalState) -> Self {
        match s {
            FinalState::Finished => State::Finished,
            FinalState::Failed => State::Failed,
        }
    }
}

/// The two phases an item's results come in.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "XpressoPhase")]
pub enum PhaseValue {
    Run,
    Clean,
}

impl From<PhaseValue> for Phase {
    fn from(p: PhaseValue) -> Self {
        match p {
            PhaseValue::Run => Phase::Run,
            PhaseValue::Clean => Phase::Clean,
        }
    }
}

impl PhaseValue {
    pub fn from_stored(s: &str) -> AppResult<Self> {
        match Phase::parse(s) {
            Some(Phase::Run) => Ok(PhaseValue::Run),
            Some(Phase::Clean) => Ok(PhaseValue::Clean),
            None => Err(AppError::Internal(format!(
                "an XPRESSO result has the unknown phase '{s}'"
            ))),
        }
    }
}

/// Which of the group's requests a list returns; every condition given must hold, and a list
/// means "any of" (null or empty: any).
#[derive(InputObject, Default, Clone)]
#[graphql(name = "XpressoRequestFilter")]
pub struct RequestFilterInput {
    /// Requests in one of these states.
    pub states: Option<Vec<StateValue>>,
    /// Requests submitted by one of these users (the token's user, `submitter`).
    pub submitters: Option<Vec<String>>,
    /// Requests carrying this tag (exactly).
    pub tag: Option<String>,
    /// Requests of one of these branches (`N/A` for those submitted without one).
    pub branches: Option<Vec<String>>,
    /// Requests created at or after this instant.
    pub created_after: Option<DateTime<Utc>>,
    /// Requests created before this instant.
    pub created_before: Option<DateTime<Utc>>,
}

impl From<RequestFilterInput> for RequestFilter {
    fn from(f: RequestFilterInput) -> Self {
        RequestFilter {
            states: f
                .states
                .unwrap_or_default()
                .into_iter()
                .map(State::from)
                .collect(),
            submitters: f.submitters.unwrap_or_default(),
            tag: f.tag,
            branches: f.branches.unwrap_or_default(),
            created_after: naive(f.created_after),
            created_before: naive(f.created_before),
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Default, Debug)]
#[graphql(name = "XpressoRequestOrderField")]
pub enum RequestOrderField {
    /// The request number (`REQ0000426` is 426): submission order.
    #[default]
    Number,
    DateCreated,
    /// When the request ended. Only requests that ended have one, so this order lists only
    /// `FINISHED`, `FAILED` and `STOPPED` requests (the filter's other states match nothing).
    DateCompleted,
    /// The state's name, alphabetically (`FAILED`, `FINALIZING`, `FINISHED`, `PREPARING`, ...).
    State,
}

impl From<RequestOrderField> for RequestOrder {
    fn from(f: RequestOrderField) -> Self {
        match f {
            RequestOrderField::Number => RequestOrder::Number,
            RequestOrderField::DateCreated => RequestOrder::DateCreated,
            RequestOrderField::DateCompleted => RequestOrder::DateCompleted,
            RequestOrderField::State => RequestOrder::State,
        }
    }
}

/// Requests are ordered by one field, then by number in the same direction. Without `orderBy`:
/// newest first.
#[derive(InputObject, Clone, Copy)]
#[graphql(name = "XpressoRequestOrder")]
pub struct RequestOrderInput {
    #[graphql(default)]
    pub field: RequestOrderField,
    /// Descending (newest first for `NUMBER`) unless told otherwise, whatever the field.
    #[graphql(default_with = "SortDirection::Desc")]
    pub direction: SortDirection,
}

impl Default for RequestOrderInput {
    fn default() -> Self {
        RequestOrderInput {
            field: RequestOrderField::Number,
            direction: SortDirection::Desc,
        }
    }
}

/// A submission: a profile or a bundle of the caller's group, with the optional overrides (the
/// body of XPRESSO's `POST /api/v1/requests`).
#[derive(InputObject)]
#[graphql(name = "XpressoRequestInput")]
pub struct RequestInput {
    /// The UUID of the profile to run (not with `bundle`).
    pub profile: Option<String>,
    /// The UUID of the bundle to run (not with `profile`); a bundle takes no testbeds,
    /// topologies or parameters.
    pub bundle: Option<String>,
    /// UUIDs of the group's testbeds to run on instead of the profile's (not with
    /// `topologies`).
    pub testbeds: Option<Vec<String>>,
    /// UUIDs of the group's topologies: one item per topology (not with `testbeds`).
    pub topologies: Option<Vec<String>>,
    /// Whom the request is for (its `username`); the caller when not given.
    pub submitted_for: Option<String>,
    #[graphql(default)]
    pub compare_baseline: bool,
    #[graphql(default)]
    pub is_baseline: bool,
    pub description: Option<String>,
    #[graphql(default)]
    pub clean: bool,
    /// 0 to 604,800 seconds; the profile's (a bundle: its profiles' longest) when not given.
    pub max_request_runtime_seconds: Option<i64>,
    /// At most 50 tags of 1 to 100 characters.
    #[graphql(default)]
    pub tags: Vec<String>,
    /// `N/A` when not given.
    pub branch: Option<String>,
    /// Overrides of the profile's arguments, as the REST submission's `parameters`:
    /// `{"env_vars": {name: string}, "job_args": {flag: string or boolean}, "harness_args":
    /// {flag: string}}`, each optional (a profile request only).
    pub parameters: Option<Json<Value>>,
}

impl RequestInput {
    pub fn into_new(self) -> AppResult<NewRequest> {
        let parameters = match self.parameters.map(|j| j.0) {
            None | Some(Value::Null) => None,
            Some(v @ Value::Object(_)) => Some(
                serde_json::from_value::<Parameters>(v)
                    .map_err(|e| AppError::invalid_field("parameters", e.to_string()))?,
            ),
            Some(_) => {
                return Err(AppError::invalid_field(
                    "parameters",
                    "must be a JSON object",
                ));
            }
        };
        Ok(NewRequest {
            profile: self.profile,
            bundle: self.bundle,
            testbeds: self.testbeds,
            topologies: self.topologies,
            submitted_for: self.submitted_for,
            compare_baseline: self.compare_baseline,
            is_baseline: self.is_baseline,
            description: self.description,
            clean: self.clean,
            max_request_runtime_seconds: self.max_request_runtime_seconds,
            tags: self.tags,
            branch: self.branch,
            parameters,
        })
    }
}

/// A result's task counters; each zero or more, 0 when not given.
#[derive(InputObject, Default, Clone, Copy)]
#[graphql(name = "XpressoSummaryInput")]
pub struct SummaryInput {
    #[graphql(default)]
    pub applicable_tasks: i64,
    #[graphql(default)]
    pub total_tasks: i64,
    #[graphql(default)]
    pub unknown: i64,
    #[graphql(default)]
    pub abort: i64,
    #[graphql(default)]
    pub fail: i64,
    #[graphql(default)]
    pub pass: i64,
    #[graphql(default)]
    pub block: i64,
    #[graphql(default)]
    pub passx: i64,
    #[graphql(default)]
    pub skip: i64,
    #[graphql(default)]
    pub error: i64,
}

impl From<SummaryInput> for Summary {
    fn from(s: SummaryInput) -> Self {
        Summary {
            applicable_tasks: s.applicable_tasks,
            total_tasks: s.total_tasks,
            unknown: s.unknown,
            abort: s.abort,
            fail: s.fail,
            pass: s.pass,
            block: s.block,
            passx: s.passx,
            skip: s.skip,
            error: s.error,
        }
    }
}

/// One section of a results script, as the pyATS results archive describes it.
#[derive(InputObject)]
#[graphql(name = "XpressoSectionInput")]
pub struct SectionInput {
    /// The section's UUID (the archive's `id`); made when not given.
    pub uuid: Option<String>,
    pub section_id: String,
    pub parent_id: Option<String>,
    #[graphql(default)]
    pub sequence_number: i64,
    #[graphql(default)]
    pub section_name: String,
    /// `testscript`, `CommonSetup`, `Testcase`, ...
    #[graphql(default)]
    pub section_type: String,
    /// `passed`, `failed`, `errored`, `skipped`, ...
    #[graphql(default)]
    pub result: String,
    #[graphql(default)]
    pub source_file: String,
    #[graphql(default)]
    pub source_line: i64,
    /// Seconds, as the archive writes them (`"12.5"`).
    #[graphql(default)]
    pub run_time: String,
    pub start_time: Option<DateTime<Utc>>,
    pub stop_time: Option<DateTime<Utc>>,
    #[graphql(default)]
    pub log_file: String,
    #[graphql(default)]
    pub log_start: i64,
    #[graphql(default)]
    pub log_start_line: i64,
    #[graphql(default)]
    pub log_size: i64,
    #[graphql(default)]
    pub log_size_line: i64,
    #[graphql(default)]
    pub description: String,
}

impl From<SectionInput> for NewSection {
    fn from(s: SectionInput) -> Self {
        NewSection {
            uuid: s.uuid,
            section_id: s.section_id,
            parent_id: s.parent_id,
            sequence_number: s.sequence_number,
            section_name: s.section_name,
            section_type: s.section_type,
            result: s.result,
            source_file: s.source_file,
            source_line: s.source_line,
            run_time: s.run_time,
            start_time: naive(s.start_time),
            stop_time: naive(s.stop_time),
            log_file: s.log_file,
            log_start: s.log_start,
            log_start_line: s.log_start_line,
            log_size: s.log_size,
            log_size_line: s.log_size_line,
            description: s.description,
        }
    }
}

/// One script (a pyATS task) of a phase's results.
#[derive(InputObject)]
#[graphql(name = "XpressoScriptInput")]
pub struct ScriptInput {
    pub task_id: String,
    pub name: String,
    #[graphql(default)]
    pub path: String,
    #[graphql(default)]
    pub summary: SummaryInput,
    /// In order.
    #[graphql(default)]
    pub sections: Vec<SectionInput>,
}

/// A phase's results as a runner reports them (at most 1,000 scripts and 20,000 sections).
#[derive(InputObject)]
#[graphql(name = "XpressoPhaseResultInput")]
pub struct PhaseResultInput {
    /// The phase's outcome as the runner words it (`FINISHED`, `FAILED`), at most 20
    /// characters.
    pub state: Option<String>,
    pub start_time: Option<DateTime<Utc>>,
    pub completion_time: Option<DateTime<Utc>>,
    #[graphql(default)]
    pub summary: SummaryInput,
    /// The results archive's metadata, a JSON object (`{}` when not given); `result_id` and
    /// `related_id` are filled in when absent.
    pub results_meta: Option<Json<Value>>,
    /// In order.
    #[graphql(default)]
    pub scripts: Vec<ScriptInput>,
}

impl PhaseResultInput {
    pub fn into_new(self) -> AppResult<NewPhaseResult> {
        let results_meta = match self.results_meta.map(|j| j.0) {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m,
            Some(_) => {
                return Err(AppError::invalid_field(
                    "resultsMeta",
                    "must be a JSON object",
                ));
            }
        };
        Ok(NewPhaseResult {
            state: self.state,
            start_time: naive(self.start_time),
            completion_time: naive(self.completion_time),
            summary: self.summary.into(),
            results_meta,
            scripts: self
                .scripts
                .into_iter()
                .map(|s| NewScript {
                    task_id: s.task_id,
                    name: s.name,
                    path: s.path,
                    summary: s.summary.into(),
                    sections: s.sections.into_iter().map(NewSection::from).collect(),
                })
                .collect(),
        })
    }
}
