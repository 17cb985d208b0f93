//! The XPRESSO request types (requests, their items, the items' run and clean results, the
//! results' scripts and the scripts' sections), their connections, and the relations read
//! through the request's loader.

use async_graphql::connection::Connection;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::catalog::{EngineObject, JobObject};
use super::inputs::{PhaseValue, StateValue};
use super::loaders::{
    ItemCountOf, ItemsOfRequest, RequestInGroup, ResultsOfItem, ScriptCountOf, ScriptsOfResult,
    SectionCountOf, SectionsOfScript, SummaryOfRequest, XprPage, XpressoLoader, XpressoLoaders,
};
use crate::error::AppError;
use crate::graphql::connection::{Cursor, Total, list_complexity, nested};
use crate::graphql::context::{GqlResultExt, state};
use crate::graphql::time::{utc, utc_opt};
use crate::service::xpresso::{
    self as svc, Item, ItemSpec, NamedRef, Phase, PhaseResult, Request, SUCCESS_RATE_RULE, Script,
    Section, State, Summary, json_or,
};

pub(super) fn loader<'a>(ctx: &Context<'a>) -> Result<&'a DataLoader<XpressoLoader>> {
    Ok(ctx.data::<XpressoLoaders>()?.as_ref())
}

// The connections of the request types, each with the lazy `totalCount` (`Total`).
pub type RequestConnection = Connection<Cursor, RequestNode, Total>;
pub type ItemConnection = Connection<Cursor, ItemNode, Total>;
pub type ScriptConnection = Connection<Cursor, ScriptNode, Total>;
pub type SectionConnection = Connection<Cursor, SectionNode, Total>;

/// A nested connection's total, through the loader: one grouped count for a level.
fn loaded_total<K>(ctx: &Context<'_>, key: K) -> Result<Total>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    XpressoLoader:
        async_graphql::dataloader::Loader<K, Value = u64, Error = crate::graphql::loaders::Shared>,
{
    let loaders = ctx.data::<XpressoLoaders>()?.clone();
    Ok(Total::new(async move {
        Ok(loaders.load_one(key).await.gql()?.unwrap_or(0))
    }))
}

/// A JSON list of strings as stored (`tags`, `interest_list`).
fn strings(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// A `{"name", "uuid"}` reference as stored, if there is one.
fn named_ref(text: Option<&str>) -> Option<NamedRefNode> {
    let r: NamedRef = serde_json::from_str(text?).ok()?;
    Some(NamedRefNode(r))
}

/// A task's counters with the success rate.
#[derive(SimpleObject)]
#[graphql(name = "XpressoSummary")]
pub struct SummaryNode {
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
    /// `(pass + passx + skip) / totalTasks * 100`, to two decimals; 0 without tasks.
    pub success_rate: f64,
    /// How `successRate` is computed, as XPRESSO words it.
    pub success_rate_rule: &'static str,
}

impl From<Summary> for SummaryNode {
    fn from(s: Summary) -> Self {
        SummaryNode {
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
            success_rate: s.success_rate(),
            success_rate_rule: SUCCESS_RATE_RULE,
        }
    }
}

/// Who stopped a request or an item, when and why.
#[derive(SimpleObject)]
#[graphql(name = "XpressoStopRequest")]
pub struct StopNode {
    pub reason: String,
    /// The user of the token that stopped it.
    pub user: String,
    pub time: Option<DateTime<Utc>>,
}

/// The stop record as stored (`{}` when not stopped).
fn stop_of(text: &str) -> Option<StopNode> {
    let Value::Object(m) = json_or(text, json!({})) else {
        return None;
    };
    if m.is_empty() {
        return None;
    }
    let text_of = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    Some(StopNode {
        reason: text_of("reason"),
        user: text_of("user"),
        time: m
            .get("time")
            .and_then(Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc)),
    })
}

/// A catalog entry as an item names it.
pub struct NamedRefNode(pub NamedRef);

/// A catalog entry (a profile, a testbed) as a request's item names it: copied at submission,
/// so it stays as it was when the entry changes or goes.
#[Object(name = "XpressoNamedRef")]
impl NamedRefNode {
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn uuid(&self) -> &str {
        &self.0.uuid
    }
}

pub struct RequestNode(pub Request);

/// An XPRESSO request: one submission of a profile or a bundle by a member of the group, run
/// as its items. Its state follows its items'; its verdict and consolidated summary come from
/// their run results.
#[Object(name = "XpressoRequest")]
impl RequestNode {
    /// `REQ0000426`.
    async fn request_id(&self) -> String {
        svc::request_id(self.0.id)
    }
    /// Also the share key of `serviceUrl`.
    async fn uuid(&self) -> &str {
        &self.0.uuid
    }
    /// The job's name (a profile request) or the bundle's.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// How it was submitted: `API`.
    async fn source(&self) -> &str {
        &self.0.source
    }
    /// The user of the token that submitted it.
    async fn submitter(&self) -> &str {
        &self.0.submitter
    }
    /// Whom it was submitted for (`submittedFor`), else the submitter.
    async fn username(&self) -> &str {
        &self.0.username
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn tags(&self) -> Vec<String> {
        strings(&self.0.tags)
    }
    /// `N/A` when submitted without one.
    async fn branch(&self) -> &str {
        &self.0.branch
    }
    async fn state(&self) -> Result<StateValue> {
        StateValue::from_stored(&self.0.state).gql()
    }
    /// `PASSED` or `FAILED` once it ended (null while it runs, when it was stopped or ran no
    /// task).
    async fn verdict(&self) -> Option<&str> {
        self.0.verdict.as_deref()
    }
    /// Who hears about the results: its profiles' lists.
    async fn interest_list(&self) -> Vec<String> {
        strings(&self.0.interest_list)
    }
    async fn compare_baseline(&self) -> bool {
        self.0.compare_baseline
    }
    async fn is_baseline(&self) -> bool {
        self.0.is_baseline
    }
    async fn clean(&self) -> bool {
        self.0.clean
    }
    async fn max_request_runtime_seconds(&self) -> i64 {
        self.0.max_request_runtime_seconds
    }
    /// A JSON object (`{}`).
    async fn meta(&self) -> Json<Value> {
        Json(json_or(&self.0.meta, json!({})))
    }
    /// The UUID of the profile it runs (a profile request).
    async fn profile_uuid(&self) -> Option<&str> {
        self.0.profile_uuid.as_deref()
    }
    /// The UUID of the bundle it runs (a bundle request).
    async fn bundle_uuid(&self) -> Option<&str> {
        self.0.bundle_uuid.as_deref()
    }
    /// Who stopped it, when and why; null unless stopped.
    async fn stop_requested(&self) -> Option<StopNode> {
        stop_of(&self.0.stop_requested)
    }
    /// When it was submitted, to the microsecond.
    async fn date_created(&self) -> DateTime<Utc> {
        utc(self.0.date_created)
    }
    /// When it ended; null until then.
    async fn date_completed(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.0.date_completed)
    }
    /// The sum of its items' run results.
    async fn consolidated_summary(&self, ctx: &Context<'_>) -> Result<SummaryNode> {
        let found = loader(ctx)?
            .load_one(SummaryOfRequest(self.0.id))
            .await
            .gql()?;
        Ok(found.unwrap_or_default().into())
    }
    /// Its items, in position order; with `states`, only those in one of them (null or empty:
    /// all).
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn items(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        states: Option<Vec<StateValue>>,
    ) -> Result<ItemConnection> {
        let id = self.0.id;
        let mut states: Vec<String> = states
            .unwrap_or_default()
            .into_iter()
            .map(|s| State::from(s).as_str().to_owned())
            .collect();
        states.sort();
        states.dedup();
        let group = self.0.group_name.clone();
        let total = loaded_total(
            ctx,
            ItemCountOf {
                id,
                states: states.clone(),
            },
        )?;
        nested(
            ctx,
            loader(ctx)?,
            first,
            after,
            |limit, after| ItemsOfRequest {
                id,
                page: XprPage { limit, after },
                states,
            },
            |i: &Item| svc::child_cursor(i.id),
            move |i| ItemNode::new(i, group.clone()),
            total,
        )
        .await
    }
    /// The request's page on the server: `<instanceUrl>services/request-detail/<requestId>`.
    async fn request_url(&self, ctx: &Context<'_>) -> Result<String> {
        request_url(ctx, &self.0)
    }
    /// `requestUrl` with the share key: `?share_key=<uuid>`.
    async fn service_url(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(format!(
            "{}?share_key={}",
            request_url(ctx, &self.0)?,
            self.0.uuid
        ))
    }
    /// The server's public base URL, with a trailing slash.
    async fn instance_url(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(state(ctx)?.config.xpresso_base_url())
    }
    /// The secret its runner passes to `moveXpressoItem`, `finishXpressoItem` and
    /// `attachXpressoResults` (XPRESSO's `postback_token`, without its `Jwt ` prefix). Shown to
    /// every member of the group, as XPRESSO showed it.
    async fn postback_token(&self) -> &str {
        &self.0.postback_token
    }
}

fn request_url(ctx: &Context<'_>, r: &Request) -> Result<String> {
    Ok(format!(
        "{}services/request-detail/{}",
        state(ctx)?.config.xpresso_base_url(),
        svc::request_id(r.id)
    ))
}

/// An item and the group of its request (for its `request`, read within that group).
pub struct ItemNode {
    pub item: Item,
    pub spec: ItemSpec,
    pub group: String,
}

impl ItemNode {
    pub fn new(item: Item, group: String) -> Self {
        let spec = serde_json::from_str(&item.spec).unwrap_or_default();
        ItemNode { item, spec, group }
    }

    fn id(&self) -> String {
        svc::item_id(self.item.request_id, self.item.position)
    }

    async fn result(&self, ctx: &Context<'_>, phase: Phase) -> Result<Option<PhaseResultNode>> {
        let found = loader(ctx)?
            .load_one(ResultsOfItem(self.item.id))
            .await
            .gql()?;
        Ok(found
            .unwrap_or_default()
            .into_iter()
            .find(|r| r.phase == phase.as_str())
            .map(|r| PhaseResultNode {
                row: r,
                item_id: self.id(),
            }))
    }
}

/// One run of one profile in a request (on its testbeds or a topology), numbered within the
/// request; what it runs was copied from the catalog at submission.
#[Object(name = "XpressoItem")]
impl ItemNode {
    /// `REQ0000426-1`.
    async fn item_id(&self) -> String {
        self.id()
    }
    /// 1-based, within the request.
    async fn position(&self) -> i32 {
        self.item.position
    }
    async fn state(&self) -> Result<StateValue> {
        StateValue::from_stored(&self.item.state).gql()
    }
    /// 0 (lowest) to 10 (highest).
    async fn priority(&self) -> i32 {
        self.item.priority
    }
    /// The profile it runs.
    async fn profile(&self) -> NamedRefNode {
        NamedRefNode(self.spec.profile.clone())
    }
    /// The profile's job file.
    async fn job(&self) -> JobObject {
        JobObject {
            name: self.spec.job.name.clone(),
            path: self.spec.job.path.clone(),
            uuid: self.spec.job.uuid.clone(),
        }
    }
    /// The engine that executes it.
    async fn engine(&self) -> EngineObject {
        let text = |k: &str| {
            self.spec
                .engine
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        EngineObject {
            name: text("name"),
            kind: text("type"),
            uuid: text("uuid"),
        }
    }
    /// The harness instances that run it, JSON objects as the profile gave them.
    async fn harness_instances(&self) -> Json<Vec<Value>> {
        Json(self.spec.harness_instances.clone())
    }
    /// `[{"<run command>": ""}]`.
    async fn harness_config(&self) -> Json<Value> {
        Json(self.spec.harness_config.clone())
    }
    /// Harness and job options: the profile's with the submission's arguments.
    async fn options(&self) -> Json<Value> {
        Json(Value::Object(self.spec.options.clone()))
    }
    /// Environment variables: the profile's with the submission's.
    async fn env(&self) -> Json<Value> {
        Json(Value::Object(self.spec.env.clone()))
    }
    /// The testbeds it may run on.
    async fn submitted_testbeds(&self) -> Vec<NamedRefNode> {
        self.spec
            .submitted_testbeds
            .iter()
            .cloned()
            .map(NamedRefNode)
            .collect()
    }
    /// The testbed the runner chose when the item started running.
    async fn selected_testbed(&self) -> Option<NamedRefNode> {
        named_ref(self.item.selected_testbed.as_deref())
    }
    /// The topology it runs on, `{"name", "uuid"}`, or `{}` when it runs on testbeds.
    async fn topology(&self) -> Json<Value> {
        Json(self.spec.topology.clone())
    }
    async fn max_runtime_seconds(&self) -> i64 {
        self.item.max_runtime_seconds
    }
    async fn max_clean_runtime_seconds(&self) -> i64 {
        self.item.max_clean_runtime_seconds
    }
    /// When it started running.
    async fn start_time(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.item.start_time)
    }
    /// When it ended.
    async fn completion_time(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.item.completion_time)
    }
    /// Who stopped it, when and why; null unless stopped.
    async fn stop_requested(&self) -> Option<StopNode> {
        stop_of(&self.item.stop_requested)
    }
    /// Why it failed, as the runner said.
    async fn error_detail(&self) -> Option<&str> {
        self.item.error_detail.as_deref()
    }
    /// The run phase's results, once attached.
    async fn run(&self, ctx: &Context<'_>) -> Result<Option<PhaseResultNode>> {
        self.result(ctx, Phase::Run).await
    }
    /// The clean phase's results, once attached.
    async fn clean(&self, ctx: &Context<'_>) -> Result<Option<PhaseResultNode>> {
        self.result(ctx, Phase::Clean).await
    }
    /// The request it belongs to.
    async fn request(&self, ctx: &Context<'_>) -> Result<RequestNode> {
        let key = RequestInGroup {
            group: self.group.clone(),
            number: self.item.request_id,
        };
        let found = loader(ctx)?.load_one(key).await.gql()?;
        found
            .map(RequestNode)
            .ok_or_else(|| AppError::Internal(format!("item {} has no request", self.id())))
            .gql()
    }
}

/// One phase's results and the id of the item they belong to.
pub struct PhaseResultNode {
    pub row: PhaseResult,
    pub item_id: String,
}

/// The results of one phase (`RUN` or `CLEAN`) of an item: its outcome, times, counters, the
/// results archive's metadata, and its scripts.
#[Object(name = "XpressoPhaseResult")]
impl PhaseResultNode {
    async fn phase(&self) -> Result<PhaseValue> {
        PhaseValue::from_stored(&self.row.phase).gql()
    }
    /// `<itemId>-run` or `<itemId>-clean`.
    async fn uid(&self) -> String {
        format!("{}-{}", self.item_id, self.row.phase)
    }
    /// The outcome as the runner reported it (`FINISHED`, `FAILED`).
    async fn state(&self) -> Option<&str> {
        self.row.state.as_deref()
    }
    async fn start_time(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.row.start_time)
    }
    async fn completion_time(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.row.completion_time)
    }
    async fn summary(&self) -> SummaryNode {
        Summary::of_result(&self.row).into()
    }
    /// The results archive's metadata, a JSON object.
    async fn results_meta(&self) -> Json<Value> {
        Json(json_or(&self.row.results_meta, json!({})))
    }
    /// Its scripts, in order.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn scripts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ScriptConnection> {
        let id = self.row.id;
        nested(
            ctx,
            loader(ctx)?,
            first,
            after,
            |limit, after| ScriptsOfResult {
                id,
                page: XprPage { limit, after },
            },
            |s: &Script| svc::child_cursor(s.id),
            ScriptNode,
            loaded_total(ctx, ScriptCountOf(id))?,
        )
        .await
    }
}

pub struct ScriptNode(pub Script);

/// One script (a pyATS task) of a phase's results, with its sections.
#[Object(name = "XpressoScript")]
impl ScriptNode {
    async fn task_id(&self) -> &str {
        &self.0.task_id
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn path(&self) -> &str {
        &self.0.path
    }
    /// 0-based, within the phase.
    async fn position(&self) -> i32 {
        self.0.position
    }
    async fn summary(&self) -> SummaryNode {
        serde_json::from_str::<Summary>(&self.0.summary)
            .unwrap_or_default()
            .into()
    }
    /// Its sections, in order; with `result`, only those with one of these results (`passed`,
    /// `failed`, ... as reported; null or empty: all).
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn sections(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        result: Option<Vec<String>>,
    ) -> Result<SectionConnection> {
        let id = self.0.id;
        let mut results = result.unwrap_or_default();
        results.sort();
        results.dedup();
        let total = loaded_total(
            ctx,
            SectionCountOf {
                id,
                results: results.clone(),
            },
        )?;
        nested(
            ctx,
            loader(ctx)?,
            first,
            after,
            |limit, after| SectionsOfScript {
                id,
                page: XprPage { limit, after },
                results,
            },
            |s: &Section| svc::child_cursor(s.id),
            SectionNode,
            total,
        )
        .await
    }
}

pub struct SectionNode(pub Section);

/// One section of a results script (the testscript, a common setup, a testcase, one of its
/// steps), as the pyATS results archive describes it.
#[Object(name = "XpressoSection")]
impl SectionNode {
    /// The section's UUID (the archive's `id`).
    async fn uuid(&self) -> &str {
        &self.0.uuid
    }
    async fn section_id(&self) -> &str {
        &self.0.section_id
    }
    /// The `sectionId` of the section it belongs to.
    async fn parent_id(&self) -> Option<&str> {
        self.0.parent_id.as_deref()
    }
    async fn sequence_number(&self) -> i64 {
        self.0.sequence_number
    }
    async fn section_name(&self) -> &str {
        &self.0.section_name
    }
    /// `testscript`, `CommonSetup`, `Testcase`, ...
    async fn section_type(&self) -> &str {
        &self.0.section_type
    }
    /// `passed`, `failed`, ... as reported.
    async fn result(&self) -> &str {
        &self.0.result
    }
    async fn source_file(&self) -> &str {
        &self.0.source_file
    }
    async fn source_line(&self) -> i64 {
        self.0.source_line
    }
    /// Seconds, as the archive writes them (a string).
    async fn run_time(&self) -> &str {
        &self.0.run_time
    }
    async fn start_time(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.0.start_time)
    }
    async fn stop_time(&self) -> Option<DateTime<Utc>> {
        utc_opt(self.0.stop_time)
    }
    async fn log_file(&self) -> &str {
        &self.0.log_file
    }
    async fn log_start(&self) -> i64 {
        self.0.log_start
    }
    async fn log_start_line(&self) -> i64 {
        self.0.log_start_line
    }
    async fn log_size(&self) -> i64 {
        self.0.log_size
    }
    async fn log_size_line(&self) -> i64 {
        self.0.log_size_line
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// 0-based, within the script.
    async fn position(&self) -> i32 {
        self.0.position
    }
}
