//! The pytest-monitor mutation root: contexts, sessions and metric batches.

use async_graphql::{Context, Object, Result, SimpleObject};

use super::inputs::{NewContextInput, NewMetricInput, NewSessionInput};
use super::nodes::{ContextNode, SessionNode};
use crate::graphql::context::{GqlResultExt, require, state};
use crate::service::monitor::{self as svc, NewContext, NewMetric, NewSession};
use crate::service::tokens::Scope;

#[derive(SimpleObject)]
#[graphql(name = "MonitorInsertPayload")]
pub struct AddMetricsPayload {
    /// Number of metrics stored (all of the batch, or none on error).
    pub inserted: u64,
}

#[derive(Default)]
pub struct MonitorMutation;

#[Object]
impl MonitorMutation {
    /// Registers an execution context. Re-sending an identical context returns the stored one.
    async fn create_monitor_context(
        &self,
        ctx: &Context<'_>,
        input: NewContextInput,
    ) -> Result<ContextNode> {
        require(ctx, Scope::Write)?;
        let new = NewContext {
            h: input.h,
            cpu_count: input.cpu_count,
            cpu_frequency: input.cpu_frequency,
            cpu_type: input.cpu_type,
            cpu_vendor: input.cpu_vendor,
            ram_total: input.ram_total,
            machine_node: input.machine_node,
            machine_type: input.machine_type,
            machine_arch: input.machine_arch,
            system_info: input.system_info,
            python_info: input.python_info,
        };
        svc::create_context(&state(ctx)?.db, new)
            .await
            .map(ContextNode)
            .gql()
    }

    /// Records a session. Re-sending an identical session returns the stored one.
    async fn create_monitor_session(
        &self,
        ctx: &Context<'_>,
        input: NewSessionInput,
    ) -> Result<SessionNode> {
        require(ctx, Scope::Write)?;
        let new = NewSession {
            h: input.h,
            run_date: input.run_date,
            scm_ref: input.scm_ref,
            tags: input.tags.into_iter().map(|t| (t.name, t.value)).collect(),
        };
        svc::create_session(&state(ctx)?.db, new)
            .await
            .map(SessionNode::new)
            .gql()
    }

    /// Stores a batch of metrics in one transaction: all of them, or none if any is invalid.
    async fn add_monitor_metrics(
        &self,
        ctx: &Context<'_>,
        input: Vec<NewMetricInput>,
    ) -> Result<AddMetricsPayload> {
        require(ctx, Scope::Write)?;
        let batch = input.into_iter().map(NewMetric::from).collect();
        let inserted = svc::add_metrics(&state(ctx)?.db, batch).await.gql()?;
        Ok(AddMetricsPayload { inserted })
    }
}
