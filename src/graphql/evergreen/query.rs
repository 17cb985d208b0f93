//! The Evergreen query root: projects, versions, tasks and the task history.

use async_graphql::{Context, Object, Result};

use super::history::TaskHistoryNode;
use super::inputs::{EvergreenTaskFilter, EvergreenVersionFilter, EvergreenVersionOrder};
use super::nodes::{
    BuildNode, ProjectConnection, ProjectNode, TaskConnection, TaskNode, VersionConnection,
    VersionNode, one_of_tree,
};
use crate::error::AppError;
use crate::graphql::connection::{
    Total, after_slice, connect, list_complexity, page_rows, page_size,
};
use crate::graphql::context::{GqlResultExt, state};
use crate::graphql::onepass;
use crate::graphql::time::naive;
use crate::service::KeyCursor;
use crate::service::evergreen::{self as svc, Task, TaskFilter, Version, VersionFilter};

#[derive(Default)]
pub struct EvergreenQuery;

#[Object]
impl EvergreenQuery {
    /// Evergreen projects, in registration order.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn evergreen_projects(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<ProjectConnection> {
        let st = state(ctx)?;
        let limit = page_size(first, &st.config.limits).gql()?;
        let slice = after_slice(after.as_deref(), limit)?;
        let rows = page_rows(ctx, svc::list_projects(&st.db, &slice)).await?;
        Ok(connect(
            rows,
            limit,
            after.is_some(),
            |p| KeyCursor::by_id(p.id),
            ProjectNode,
            Total::counted(&st.db, |db| async move { svc::count_projects(&db).await }),
        ))
    }

    /// One project by its identifier.
    async fn evergreen_project(
        &self,
        ctx: &Context<'_>,
        identifier: String,
    ) -> Result<Option<ProjectNode>> {
        let found = svc::project_by_identifier(&state(ctx)?.db, &identifier)
            .await
            .gql()?;
        Ok(found.map(ProjectNode))
    }

    /// Versions, filtered, by their per-project `order` (newest first by default).
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn evergreen_versions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<EvergreenVersionFilter>,
        order_by: Option<EvergreenVersionOrder>,
    ) -> Result<onepass::Resolved<VersionConnection>> {
        let st = state(ctx)?;
        let limit = page_size(first, &st.config.limits).gql()?;
        let f = filter.unwrap_or_default();
        let filter = VersionFilter {
            project: f.project,
            revision: f.revision,
            status: f.status,
            requester: f.requester,
            created_from: naive(f.created_from),
            created_to: naive(f.created_to),
        };
        let direction = order_by.unwrap_or_default().direction.into();
        let slice = after_slice(after.as_deref(), limit)?;
        let rows = page_rows(ctx, svc::list_versions(&st.db, &filter, direction, &slice)).await?;
        if let Some(plan) = onepass::plan_list::<Version>(ctx, &st.config.limits) {
            let count = svc::count_versions(&st.db, &filter);
            let page = (rows, limit, after.is_some());
            return onepass::answer_list(st, &plan, page, &svc::version_cursor, count).await;
        }
        Ok(onepass::Resolved::Typed(connect(
            rows,
            limit,
            after.is_some(),
            svc::version_cursor,
            VersionNode::new,
            Total::counted(&st.db, move |db| async move {
                svc::count_versions(&db, &filter).await
            }),
        )))
    }

    /// One version by its Evergreen id.
    async fn evergreen_version(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> Result<onepass::Resolved<Option<VersionNode>>> {
        let found = svc::version_by_id(&state(ctx)?.db, &id).await.gql()?;
        one_of_tree(ctx, found, VersionNode::new).await
    }

    /// One build by its Evergreen id.
    async fn evergreen_build(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> Result<onepass::Resolved<Option<BuildNode>>> {
        let found = svc::build_by_id(&state(ctx)?.db, &id).await.gql()?;
        one_of_tree(ctx, found, BuildNode::new).await
    }

    /// One task by its Evergreen id.
    async fn evergreen_task(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> Result<onepass::Resolved<Option<TaskNode>>> {
        let found = svc::task_by_id(&state(ctx)?.db, &id).await.gql()?;
        one_of_tree(ctx, found, TaskNode::new).await
    }

    /// Tasks across builds, filtered, in creation order.
    #[graphql(complexity = "list_complexity(first, child_complexity)")]
    async fn evergreen_tasks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<EvergreenTaskFilter>,
    ) -> Result<onepass::Resolved<TaskConnection>> {
        let st = state(ctx)?;
        let limit = page_size(first, &st.config.limits).gql()?;
        let f = filter.unwrap_or_default();
        let filter = TaskFilter {
            project: f.project,
            variant: f.variant,
            display_name: f.name,
            status: f.status,
            revision: f.revision,
        };
        let slice = after_slice(after.as_deref(), limit)?;
        let rows = page_rows(ctx, svc::list_tasks(&st.db, &filter, &slice)).await?;
        if let Some(plan) = onepass::plan_list::<Task>(ctx, &st.config.limits) {
            let count = svc::count_tasks(&st.db, &filter);
            let page = (rows, limit, after.is_some());
            return onepass::answer_list(
                st,
                &plan,
                page,
                &|t: &Task| KeyCursor::by_id(t.id),
                count,
            )
            .await;
        }
        Ok(onepass::Resolved::Typed(connect(
            rows,
            limit,
            after.is_some(),
            |t| KeyCursor::by_id(t.id),
            TaskNode::new,
            Total::counted(&st.db, move |db| async move {
                svc::count_tasks(&db, &filter).await
            }),
        )))
    }

    /// How a task fared over the project's 10 newest commit versions. NOT_FOUND for an unknown
    /// project.
    async fn evergreen_task_history(
        &self,
        ctx: &Context<'_>,
        project: String,
        task_name: String,
    ) -> Result<TaskHistoryNode> {
        let db = &state(ctx)?.db;
        let p = svc::project_by_identifier(db, &project)
            .await
            .gql()?
            .ok_or_else(|| AppError::not_found(format!("Error finding project '{project}'")))
            .gql()?;
        let h = svc::task_history(db, &p, &task_name).await.gql()?;
        Ok(h.into())
    }
}
