//! XPRESSO's catalog in GraphQL: testbeds, topologies, profiles and bundles of the caller's
//! group, their object types and inputs, the queries (a connection and one entry of each kind,
//! with a `read` token) and the mutations that create, replace and delete them (with an `admin`
//! token). Another group's entries are as absent as missing ones.
//!
//! A profile's testbeds and topology, and a bundle entry's profile, testbeds and topology, are
//! read through the request's XPRESSO loader: a statement per kind for a whole page.

use async_graphql::connection::Connection;
use async_graphql::{Context, InputObject, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::access::caller;
use super::loaders::{CatalogRef, ProfileRef, TestbedRef, TopologyRef, XpressoLoaders};
use crate::error::{AppError, AppResult};
use crate::graphql::connection::{
    Cursor, Total, after_slice, connect, list_complexity, page_rows, page_size,
};
use crate::graphql::context::{GqlResultExt, state};
use crate::graphql::time::utc;
use crate::service::KeyCursor;
use crate::service::tokens::Scope;
use crate::service::xpresso::{
    self as svc, Bundle, BundleEntry, JobRef, NewBundle, NewJob, NewProfile, NewTestbed,
    NewTopology, Parameters, Profile, Testbed, Topology, json_or,
};

// The connections of the catalog's types, each with the lazy `totalCount` (`Total`).
pub type TestbedConnection = Connection<Cursor, TestbedNode, Total>;
pub type TopologyConnection = Connection<Cursor, TopologyNode, Total>;
pub type ProfileConnection = Connection<Cursor, ProfileNode, Total>;
pub type BundleConnection = Connection<Cursor, BundleNode, Total>;

// ---------------------------------------------------------------------------------------------
// Object types.

pub struct TestbedNode(pub Testbed);

/// An XPRESSO testbed: a named lab resource of the group (its pyATS testbed file) that profiles
/// and requests run on.
#[Object(name = "XpressoTestbed")]
impl TestbedNode {
    /// The testbed's identifier, a lower-case UUID made at creation.
    async fn uuid(&self) -> &str {
        &self.0.uuid
    }
    /// Its name, unique within the group.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The testbed file (pyATS YAML), as given.
    async fn definition(&self) -> &str {
        &self.0.definition
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        utc(self.0.created_at)
    }
    /// When it was created or last replaced.
    async fn updated_at(&self) -> DateTime<Utc> {
        utc(self.0.updated_at)
    }
}

pub struct TopologyNode(pub Topology);

/// An XPRESSO topology: a virtual or physical topology of the group that a profile or bundle
/// entry runs on instead of fixed testbeds.
#[Object(name = "XpressoTopology")]
impl TopologyNode {
    /// The topology's identifier, a lower-case UUID made at creation.
    async fn uuid(&self) -> &str {
        &self.0.uuid
    }
    /// Its name, unique within the group.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The topology definition (YAML or JSON), as given.
    async fn definition(&self) -> &str {
        &self.0.definition
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        utc(self.0.created_at)
    }
    /// When it was created or last replaced.
    async fn updated_at(&self) -> DateTime<Utc> {
        utc(self.0.updated_at)
    }
}

/// A job file, as a profile names it and its requests' items show it (`job`).
#[derive(SimpleObject)]
#[graphql(name = "XpressoJob")]
pub struct JobObject {
    /// The job's name.
    pub name: String,
    /// The job file's path on the harness.
    pub path: String,
    /// The job's UUID.
    pub uuid: String,
}

/// An execution engine, as a profile names it and its requests' items show it (`engine`).
#[derive(SimpleObject)]
#[graphql(name = "XpressoEngine")]
pub struct EngineObject {
    /// The engine's name (`jenkins`).
    pub name: String,
    /// Its type (`jenkins`).
    #[graphql(name = "type")]
    pub kind: String,
    /// Its UUID.
    pub uuid: String,
}

pub struct ProfileNode(pub Profile);

impl ProfileNode {
    fn stored_testbeds(&self) -> Vec<String> {
        svc::profile_testbeds_of(&self.0)
    }
}

/// An XPRESSO profile: a saved, runnable job definition of the group (job file, harness,
/// engine, default testbeds or topology, options, environment, limits, priority). A request
/// names one, and its item is made from it.
#[Object(name = "XpressoProfile")]
impl ProfileNode {
    /// The profile's identifier, a lower-case UUID made at creation.
    async fn uuid(&self) -> &str {
        &self.0.uuid
    }
    /// Its name, unique within the group.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The job file it runs.
    async fn job(&self) -> JobObject {
        let j: JobRef = serde_json::from_str(&self.0.job).unwrap_or_default();
        JobObject {
            name: j.name,
            path: j.path,
            uuid: j.uuid,
        }
    }
    /// The harness instance that runs it, a JSON object in the form of the REST API's
    /// `harness_instances` entries (`name`, `path`, `harness {name, run, clean}`, ...), as given.
    async fn harness(&self) -> Json<Value> {
        Json(json_or(&self.0.harness, Value::Object(Map::new())))
    }
    /// The engine that executes it.
    async fn engine(&self) -> EngineObject {
        let e = json_or(&self.0.engine, Value::Object(Map::new()));
        let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        EngineObject {
            name: text("name"),
            kind: text("type"),
            uuid: text("uuid"),
        }
    }
    /// The UUIDs of its default testbeds, as stored (including any deleted since).
    async fn testbed_uuids(&self) -> Vec<String> {
        self.stored_testbeds()
    }
    /// Its default testbeds (candidates for the run), in the order given; a testbed deleted
    /// since is left out (submitting the profile then fails).
    async fn testbeds(&self, ctx: &Context<'_>) -> Result<Vec<TestbedNode>> {
        let uuids = self.stored_testbeds();
        let group = &self.0.group_name;
        let key = |u: &String| TestbedRef(CatalogRef::new(group, u));
        let found = ctx
            .data::<XpressoLoaders>()?
            .load_many(uuids.iter().map(key))
            .await
            .gql()?;
        Ok(uuids
            .iter()
            .filter_map(|u| found.get(&key(u)).cloned())
            .map(TestbedNode)
            .collect())
    }
    /// The UUID of its default topology, as stored (even if deleted since).
    async fn topology_uuid(&self) -> Option<&str> {
        self.0.topology.as_deref()
    }
    /// Its default topology, when it runs on one instead of testbeds; null when deleted since.
    async fn topology(&self, ctx: &Context<'_>) -> Result<Option<TopologyNode>> {
        let Some(uuid) = &self.0.topology else {
            return Ok(None);
        };
        let found = ctx
            .data::<XpressoLoaders>()?
            .load_one(TopologyRef(CatalogRef::new(&self.0.group_name, uuid)))
            .await
            .gql()?;
        Ok(found.map(TopologyNode))
    }
    /// Harness and job options, a JSON object.
    async fn options(&self) -> Json<Value> {
        Json(json_or(&self.0.options, Value::Object(Map::new())))
    }
    /// Environment variables, a JSON object of strings.
    async fn env(&self) -> Json<Value> {
        Json(json_or(&self.0.env, Value::Object(Map::new())))
    }
    /// Who hears about the results (addresses).
    async fn interest_list(&self) -> Vec<String> {
        serde_json::from_str(&self.0.interest_list).unwrap_or_default()
    }
    /// The longest an item's run phase may take, in seconds (0: no bound).
    async fn max_runtime_seconds(&self) -> i64 {
        self.0.max_runtime_seconds
    }
    /// The longest an item's clean phase may take, in seconds (0: no bound).
    async fn max_clean_runtime_seconds(&self) -> i64 {
        self.0.max_clean_runtime_seconds
    }
    /// The longest a request of this profile may take, in seconds, unless the submission says
    /// otherwise.
    async fn max_request_runtime_seconds(&self) -> i64 {
        self.0.max_request_runtime_seconds
    }
    /// Its items' priority, 0 (lowest) to 10 (highest).
    async fn priority(&self) -> i32 {
        self.0.priority
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        utc(self.0.created_at)
    }
    /// When it was created or last replaced.
    async fn updated_at(&self) -> DateTime<Utc> {
        utc(self.0.updated_at)
    }
}

/// One entry of a bundle, with what it names read beforehand (only what the query asks for).
pub struct BundleEntryNode {
    entry: BundleEntry,
    profile: Option<Profile>,
    testbeds: Vec<Testbed>,
    topology: Option<Topology>,
}

/// One entry of an XPRESSO bundle: a profile with the testbeds or topology and the parameters
/// it runs with; a request for the bundle gets one item per entry.
#[Object(name = "XpressoBundleEntry")]
impl BundleEntryNode {
    /// The UUID of the entry's profile, as stored (even if deleted since).
    async fn profile_uuid(&self) -> &str {
        &self.entry.profile
    }
    /// The entry's profile; null when deleted since (submitting the bundle then fails).
    async fn profile(&self) -> Option<ProfileNode> {
        self.profile.clone().map(ProfileNode)
    }
    /// The UUIDs of the testbeds it runs on instead of the profile's, as stored; empty: the
    /// profile's own (or the entry's topology).
    async fn testbed_uuids(&self) -> &[String] {
        &self.entry.testbeds
    }
    /// The testbeds it runs on instead of the profile's, in the order given; a testbed deleted
    /// since is left out.
    async fn testbeds(&self) -> Vec<TestbedNode> {
        self.testbeds.iter().cloned().map(TestbedNode).collect()
    }
    /// The UUID of the topology it runs on instead, as stored.
    async fn topology_uuid(&self) -> Option<&str> {
        self.entry.topology.as_deref()
    }
    /// The topology it runs on instead of testbeds; null when none, or deleted since.
    async fn topology(&self) -> Option<TopologyNode> {
        self.topology.clone().map(TopologyNode)
    }
    /// The arguments it runs with, as the REST submission's `parameters`: `{"env_vars":
    /// {name: string}, "job_args": {flag: string or true}, "harness_args": {flag: string}}`.
    async fn parameters(&self) -> Json<Value> {
        Json(serde_json::to_value(&self.entry.parameters).unwrap_or(Value::Null))
    }
}

pub struct BundleNode(pub Bundle);

/// An XPRESSO bundle: a saved group of profile runs of the group; a request for it gets one
/// item per entry.
#[Object(name = "XpressoBundle")]
impl BundleNode {
    /// The bundle's identifier, a lower-case UUID made at creation.
    async fn uuid(&self) -> &str {
        &self.0.uuid
    }
    /// Its name, unique within the group.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Its entries, in order. The profiles, testbeds and topologies they name are read through
    /// the request's loader (a statement per kind for every bundle of the answer), and only when
    /// asked for.
    async fn entries(&self, ctx: &Context<'_>) -> Result<Vec<BundleEntryNode>> {
        let entries = svc::bundle_entries_of(&self.0);
        let look = ctx.look_ahead();
        let loaders = ctx.data::<XpressoLoaders>()?;
        let group = &self.0.group_name;
        let at = |u: &String| CatalogRef::new(group, u);
        let mut profiles = Vec::new();
        if look.field("profile").exists() {
            let keys: Vec<ProfileRef> =
                entries.iter().map(|e| ProfileRef(at(&e.profile))).collect();
            profiles = loaders.load_many(keys).await.gql()?.into_values().collect();
        }
        let mut testbeds = Vec::new();
        if look.field("testbeds").exists() {
            let keys: Vec<TestbedRef> = entries
                .iter()
                .flat_map(|e| e.testbeds.iter())
                .map(|u| TestbedRef(at(u)))
                .collect();
            testbeds = loaders.load_many(keys).await.gql()?.into_values().collect();
        }
        let mut topologies = Vec::new();
        if look.field("topology").exists() {
            let keys: Vec<TopologyRef> = entries
                .iter()
                .filter_map(|e| e.topology.as_ref())
                .map(|u| TopologyRef(at(u)))
                .collect();
            topologies = loaders.load_many(keys).await.gql()?.into_values().collect();
        }
        Ok(entries
            .into_iter()
            .map(|entry| BundleEntryNode {
                profile: profiles.iter().find(|p| p.uuid == entry.profile).cloned(),
                testbeds: entry
                    .testbeds
                    .iter()
                    .filter_map(|u| testbeds.iter().find(|t| &t.uuid == u).cloned())
                    .collect(),
                topology: entry
                    .topology
                    .as_ref()
                    .and_then(|u| topologies.iter().find(|t| &t.uuid == u).cloned()),
                entry,
            })
            .collect())
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        utc(self.0.created_at)
    }
    /// When it was created or last replaced.
    async fn updated_at(&self) -> DateTime<Utc> {
        utc(self.0.updated_at)
    }
}

/// What deleting a catalog entry did.
#[derive(SimpleObject)]
#[graphql(name = "XpressoDeletePayload")]
pub struct DeletePayload {
    /// The UUID of the entry deleted.
    pub uuid: String,
}

// ---------------------------------------------------------------------------------------------
// Inputs.

/// A testbed to create, or everything of one to replace.
#[derive(InputObject)]
#[graphql(name = "XpressoTestbedInput")]
pub struct TestbedInput {
    /// 1 to 255 characters (trimmed), no control characters, unique within the group.
    pub name: String,
    /// The testbed file (pyATS YAML), at most 1 MiB.
    pub definition: String,
}

impl From<TestbedInput> for NewTestbed {
    fn from(i: TestbedInput) -> Self {
        NewTestbed {
            name: i.name,
            definition: i.definition,
        }
    }
}

/// A topology to create, or everything of one to replace.
#[derive(InputObject)]
#[graphql(name = "XpressoTopologyInput")]
pub struct TopologyInput {
    /// 1 to 255 characters (trimmed), no control characters, unique within the group.
    pub name: String,
    /// The topology definition (YAML or JSON), at most 1 MiB.
    pub definition: String,
}

impl From<TopologyInput> for NewTopology {
    fn from(i: TopologyInput) -> Self {
        NewTopology {
            name: i.name,
            definition: i.definition,
        }
    }
}

/// A profile's job file.
#[derive(InputObject)]
#[graphql(name = "XpressoJobInput")]
pub struct JobInput {
    /// 1 to 255 characters.
    pub name: String,
    /// The job file's path, 1 to 10,000 characters.
    pub path: String,
    /// A UUID; made when not given (an update without it keeps the current one).
    pub uuid: Option<String>,
}

/// A profile's execution engine.
#[derive(InputObject)]
#[graphql(name = "XpressoEngineInput")]
pub struct EngineInput {
    /// The engine's name (`jenkins`), 1 to 255 characters.
    pub name: String,
    /// Its type (`jenkins`), 1 to 255 characters.
    #[graphql(name = "type")]
    pub kind: String,
    /// A UUID; made when not given (an update without it keeps the current one).
    pub uuid: Option<String>,
}

/// A profile to create, or everything of one to replace (a field left out takes its default
/// again).
#[derive(InputObject)]
#[graphql(name = "XpressoProfileInput")]
pub struct ProfileInput {
    /// 1 to 255 characters (trimmed), no control characters, unique within the group.
    pub name: String,
    /// The job file it runs.
    pub job: JobInput,
    /// The harness instance that runs it: a JSON object in the form of the REST API's
    /// `harness_instances` entries, stored as given.
    pub harness: Json<Value>,
    /// The engine that executes it.
    pub engine: EngineInput,
    /// UUIDs of its default testbeds, each defined in the group (at most 100); not with
    /// `topology`.
    #[graphql(default)]
    pub testbeds: Vec<String>,
    /// The UUID of a default topology of the group, instead of testbeds.
    pub topology: Option<String>,
    /// Harness and job options, a JSON object (`{}` when not given).
    pub options: Option<Json<Value>>,
    /// Environment variables, a JSON object of strings (`{}` when not given).
    pub env: Option<Json<Value>>,
    /// Who hears about the results: at most 100 addresses of 1 to 255 characters.
    #[graphql(default)]
    pub interest_list: Vec<String>,
    /// The longest an item's run phase may take, 0 to 604,800 seconds; 43,200 when not given.
    pub max_runtime_seconds: Option<i64>,
    /// The longest an item's clean phase may take, 0 to 604,800 seconds; 0 when not given.
    pub max_clean_runtime_seconds: Option<i64>,
    /// The longest a request may take, 0 to 604,800 seconds; 43,200 when not given.
    pub max_request_runtime_seconds: Option<i64>,
    /// Its items' priority, 0 (lowest) to 10 (highest); 4 when not given.
    pub priority: Option<i32>,
}

/// A JSON object given for `field`, or an error saying it must be one.
fn object(field: &str, v: Option<Json<Value>>) -> AppResult<Map<String, Value>> {
    match v.map(|j| j.0) {
        None => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(AppError::invalid_field(field, "must be a JSON object")),
    }
}

impl ProfileInput {
    fn into_new(self) -> AppResult<NewProfile> {
        let mut engine = Map::new();
        engine.insert("name".into(), Value::String(self.engine.name));
        engine.insert("type".into(), Value::String(self.engine.kind));
        if let Some(u) = self.engine.uuid {
            engine.insert("uuid".into(), Value::String(u));
        }
        Ok(NewProfile {
            name: self.name,
            job: NewJob {
                name: self.job.name,
                path: self.job.path,
                uuid: self.job.uuid,
            },
            harness: object("harness", Some(self.harness))?,
            engine,
            testbeds: self.testbeds,
            topology: self.topology,
            options: object("options", self.options)?,
            env: object("env", self.env)?,
            interest_list: self.interest_list,
            max_runtime_seconds: self.max_runtime_seconds,
            max_clean_runtime_seconds: self.max_clean_runtime_seconds,
            max_request_runtime_seconds: self.max_request_runtime_seconds,
            priority: self.priority,
        })
    }
}

/// One entry of a bundle.
#[derive(InputObject)]
#[graphql(name = "XpressoBundleEntryInput")]
pub struct BundleEntryInput {
    /// The UUID of a profile of the group.
    pub profile: String,
    /// UUIDs of testbeds of the group to run on instead of the profile's (at most 100); not
    /// with `topology`.
    #[graphql(default)]
    pub testbeds: Vec<String>,
    /// The UUID of a topology of the group to run on instead of testbeds.
    pub topology: Option<String>,
    /// The arguments, as the REST submission's `parameters`: `{"env_vars": {name: string},
    /// "job_args": {flag: string or boolean}, "harness_args": {flag: string}}`, each optional.
    pub parameters: Option<Json<Value>>,
}

/// A bundle to create, or everything of one to replace.
#[derive(InputObject)]
#[graphql(name = "XpressoBundleInput")]
pub struct BundleInput {
    /// 1 to 255 characters (trimmed), no control characters, unique within the group.
    pub name: String,
    /// 1 to 100 entries.
    pub entries: Vec<BundleEntryInput>,
}

impl BundleInput {
    fn into_new(self) -> AppResult<NewBundle> {
        let entries = self
            .entries
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let field = format!("entries[{i}].parameters");
                let parameters: Parameters = match e.parameters.map(|j| j.0) {
                    None | Some(Value::Null) => Parameters::default(),
                    Some(v @ Value::Object(_)) => serde_json::from_value(v)
                        .map_err(|err| AppError::invalid_field(field.as_str(), err.to_string()))?,
                    Some(_) => {
                        return Err(AppError::invalid_field(field, "must be a JSON object"));
                    }
                };
                Ok(BundleEntry {
                    profile: e.profile,
                    testbeds: e.testbeds,
                    topology: e.topology,
                    parameters,
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        Ok(NewBundle {
            name: self.name,
            entries,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Roots.

/// A root list of the caller's group: `list` reads the page, `count` the total (only if asked).
macro_rules! catalog_list {
    ($ctx:ident, $first:ident, $after:ident, $list:path, $count:path, $node:path) => {{
        let who = caller($ctx, Scope::Read)?;
        let st = state($ctx)?;
        let limit = page_size($first, &st.config.limits).gql()?;
        let slice = after_slice($after.as_deref(), limit)?;
        let rows = page_rows($ctx, $list(&st.db, &who.group, &slice)).await?;
        let group = who.group;
        Ok(connect(
            rows,
            limit,
            $after.is_some(),
            |r| KeyCursor::by_id(r.id),
            $node,
            Total::counted(&st.db, move |db| async move { $count(&db, &group).await }),
        ))
    }};
}

#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// The testbeds of the caller's group, in creation order. Needs a token with `read`.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn xpresso_testbeds(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<TestbedConnection> {
        catalog_list!(
            ctx,
            first,
            after,
            svc::list_testbeds,
            svc::count_testbeds,
            TestbedNode
        )
    }

    /// The testbed with this UUID (either case) in the caller's group; null when there is none.
    async fn xpresso_testbed(
        &self,
        ctx: &Context<'_>,
        uuid: String,
    ) -> Result<Option<TestbedNode>> {
        let who = caller(ctx, Scope::Read)?;
        let found = svc::testbed(&state(ctx)?.db, &who.group, &uuid)
            .await
            .gql()?;
        Ok(found.map(TestbedNode))
    }

    /// The topologies of the caller's group, in creation order. Needs a token with `read`.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn xpresso_topologies(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<TopologyConnection> {
        catalog_list!(
            ctx,
            first,
            after,
            svc::list_topologies,
            svc::count_topologies,
            TopologyNode
        )
    }

    /// The topology with this UUID (either case) in the caller's group; null when there is
    /// none.
    async fn xpresso_topology(
        &self,
        ctx: &Context<'_>,
        uuid: String,
    ) -> Result<Option<TopologyNode>> {
        let who = caller(ctx, Scope::Read)?;
        let found = svc::topology(&state(ctx)?.db, &who.group, &uuid)
            .await
            .gql()?;
        Ok(found.map(TopologyNode))
    }

    /// The profiles of the caller's group, in creation order. Needs a token with `read`.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn xpresso_profiles(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ProfileConnection> {
        catalog_list!(
            ctx,
            first,
            after,
            svc::list_profiles,
            svc::count_profiles,
            ProfileNode
        )
    }

    /// The profile with this UUID (either case) in the caller's group; null when there is none.
    async fn xpresso_profile(
        &self,
        ctx: &Context<'_>,
        uuid: String,
    ) -> Result<Option<ProfileNode>> {
        let who = caller(ctx, Scope::Read)?;
        let found = svc::profile(&state(ctx)?.db, &who.group, &uuid)
            .await
            .gql()?;
        Ok(found.map(ProfileNode))
    }

    /// The bundles of the caller's group, in creation order. Needs a token with `read`.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn xpresso_bundles(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<BundleConnection> {
        catalog_list!(
            ctx,
            first,
            after,
            svc::list_bundles,
            svc::count_bundles,
            BundleNode
        )
    }

    /// The bundle with this UUID (either case) in the caller's group; null when there is none.
    async fn xpresso_bundle(&self, ctx: &Context<'_>, uuid: String) -> Result<Option<BundleNode>> {
        let who = caller(ctx, Scope::Read)?;
        let found = svc::bundle(&state(ctx)?.db, &who.group, &uuid)
            .await
            .gql()?;
        Ok(found.map(BundleNode))
    }
}

/// The payload of a deletion: the UUID as stored (lower case).
fn deleted(uuid: &str) -> DeletePayload {
    DeletePayload {
        uuid: uuid.trim().to_ascii_lowercase(),
    }
}

#[derive(Default)]
pub struct CatalogMutation;

/// The catalog's mutations, each for the caller's group and with a token with `admin`:
/// BAD_USER_INPUT for invalid input, CONFLICT for a name the group uses already, NOT_FOUND to
/// replace or delete an entry the group does not have. Deleting an entry that profiles, bundles
/// or requests name is allowed: requests keep their copy, and submitting a profile or bundle
/// that names a deleted entry fails.
#[Object]
impl CatalogMutation {
    /// Creates a testbed in the caller's group.
    async fn create_xpresso_testbed(
        &self,
        ctx: &Context<'_>,
        input: TestbedInput,
    ) -> Result<TestbedNode> {
        let who = caller(ctx, Scope::Admin)?;
        svc::create_testbed(&state(ctx)?.db, &who.group, &input.into())
            .await
            .map(TestbedNode)
            .gql()
    }

    /// Replaces the name and definition of the group's testbed `uuid`.
    async fn update_xpresso_testbed(
        &self,
        ctx: &Context<'_>,
        uuid: String,
        input: TestbedInput,
    ) -> Result<TestbedNode> {
        let who = caller(ctx, Scope::Admin)?;
        svc::update_testbed(&state(ctx)?.db, &who.group, &uuid, &input.into())
            .await
            .map(TestbedNode)
            .gql()
    }

    /// Deletes the group's testbed `uuid`.
    async fn delete_xpresso_testbed(
        &self,
        ctx: &Context<'_>,
        uuid: String,
    ) -> Result<DeletePayload> {
        let who = caller(ctx, Scope::Admin)?;
        svc::delete_testbed(&state(ctx)?.db, &who.group, &uuid)
            .await
            .gql()?;
        Ok(deleted(&uuid))
    }

    /// Creates a topology in the caller's group.
    async fn create_xpresso_topology(
        &self,
        ctx: &Context<'_>,
        input: TopologyInput,
    ) -> Result<TopologyNode> {
        let who = caller(ctx, Scope::Admin)?;
        svc::create_topology(&state(ctx)?.db, &who.group, &input.into())
            .await
            .map(TopologyNode)
            .gql()
    }

    /// Replaces the name and definition of the group's topology `uuid`.
    async fn update_xpresso_topology(
        &self,
        ctx: &Context<'_>,
        uuid: String,
        input: TopologyInput,
    ) -> Result<TopologyNode> {
        let who = caller(ctx, Scope::Admin)?;
        svc::update_topology(&state(ctx)?.db, &who.group, &uuid, &input.into())
            .await
            .map(TopologyNode)
            .gql()
    }

    /// Deletes the group's topology `uuid`.
    async fn delete_xpresso_topology(
        &self,
        ctx: &Context<'_>,
        uuid: String,
    ) -> Result<DeletePayload> {
        let who = caller(ctx, Scope::Admin)?;
        svc::delete_topology(&state(ctx)?.db, &who.group, &uuid)
            .await
            .gql()?;
        Ok(deleted(&uuid))
    }

    /// Creates a profile in the caller's group; its testbeds and topology must be the group's.
    async fn create_xpresso_profile(
        &self,
        ctx: &Context<'_>,
        input: ProfileInput,
    ) -> Result<ProfileNode> {
        let who = caller(ctx, Scope::Admin)?;
        let new = input.into_new().gql()?;
        svc::create_profile(&state(ctx)?.db, &who.group, &new)
            .await
            .map(ProfileNode)
            .gql()
    }

    /// Replaces every field of the group's profile `uuid` (a field left out takes its default
    /// again; the job's and engine's UUIDs are kept when not given).
    async fn update_xpresso_profile(
        &self,
        ctx: &Context<'_>,
        uuid: String,
        input: ProfileInput,
    ) -> Result<ProfileNode> {
        let who = caller(ctx, Scope::Admin)?;
        let new = input.into_new().gql()?;
        svc::update_profile(&state(ctx)?.db, &who.group, &uuid, &new)
            .await
            .map(ProfileNode)
            .gql()
    }

    /// Deletes the group's profile `uuid`.
    async fn delete_xpresso_profile(
        &self,
        ctx: &Context<'_>,
        uuid: String,
    ) -> Result<DeletePayload> {
        let who = caller(ctx, Scope::Admin)?;
        svc::delete_profile(&state(ctx)?.db, &who.group, &uuid)
            .await
            .gql()?;
        Ok(deleted(&uuid))
    }

    /// Creates a bundle in the caller's group; the profiles, testbeds and topologies its
    /// entries name must be the group's.
    async fn create_xpresso_bundle(
        &self,
        ctx: &Context<'_>,
        input: BundleInput,
    ) -> Result<BundleNode> {
        let who = caller(ctx, Scope::Admin)?;
        let new = input.into_new().gql()?;
        svc::create_bundle(&state(ctx)?.db, &who.group, &new)
            .await
            .map(BundleNode)
            .gql()
    }

    /// Replaces the name and entries of the group's bundle `uuid`.
    async fn update_xpresso_bundle(
        &self,
        ctx: &Context<'_>,
        uuid: String,
        input: BundleInput,
    ) -> Result<BundleNode> {
        let who = caller(ctx, Scope::Admin)?;
        let new = input.into_new().gql()?;
        svc::update_bundle(&state(ctx)?.db, &who.group, &uuid, &new)
            .await
            .map(BundleNode)
            .gql()
    }

    /// Deletes the group's bundle `uuid`.
    async fn delete_xpresso_bundle(
        &self,
        ctx: &Context<'_>,
        uuid: String,
    ) -> Result<DeletePayload> {
        let who = caller(ctx, Scope::Admin)?;
        svc::delete_bundle(&state(ctx)?.db, &who.group, &uuid)
            .await
            .gql()?;
        Ok(deleted(&uuid))
    }
}
