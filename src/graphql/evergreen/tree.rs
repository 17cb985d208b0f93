//! The Evergreen rows of the one-pass writer (`graphql::onepass`): the version tree's four levels
//! and how the level below each is read (their scalar fields are declared with their object
//! types, in `nodes`).

use std::collections::HashMap;

use async_graphql::parser::types::Field;
use async_graphql::{ContextBase, Positioned};
use futures_util::future::BoxFuture;
use sea_orm::DatabaseConnection;

use super::inputs::EvergreenStatusFilter;
use crate::error::AppResult;
use crate::graphql::onepass::TreeRow;
use crate::service::KeyCursor;
use crate::service::evergreen::{
    self as svc, Build, ChildFilter, Parent, Task, TestResult, Version,
};
use crate::service::rows::ColumnSet;

/// The `filter` argument of a nested builds, tasks or test results connection.
fn status_filter(field: &ContextBase<'_, &Positioned<Field>>) -> Option<ChildFilter> {
    let (_, filter) = field
        .param_value::<Option<EvergreenStatusFilter>>("filter", None)
        .ok()?;
    Some(filter.unwrap_or_default().into_filter())
}

impl TreeRow for Version {
    type Child = Build;
    type Filter = ChildFilter;
    const CHILDREN: Option<&'static str> = Some("builds");

    fn id(&self) -> i64 {
        self.id
    }
    fn parent_id(&self) -> i64 {
        self.project_id
    }
    fn cursor(&self) -> KeyCursor {
        svc::version_cursor(self)
    }
    fn child_filter(field: &ContextBase<'_, &Positioned<Field>>) -> Option<ChildFilter> {
        status_filter(field)
    }
    fn children_page<'a>(
        db: &'a DatabaseConnection,
        parent_ids: &'a [i64],
        filter: &'a ChildFilter,
        after: Option<&'a KeyCursor>,
        limit: u64,
        cols: ColumnSet,
    ) -> BoxFuture<'a, AppResult<Vec<Self::Child>>> {
        let parent = Parent::VersionOfBuild;
        Box::pin(svc::children_page(
            db, parent, parent_ids, filter, after, limit, cols,
        ))
    }
    fn count_children<'a>(
        db: &'a DatabaseConnection,
        parent_ids: &'a [i64],
        filter: &'a ChildFilter,
    ) -> BoxFuture<'a, AppResult<HashMap<i64, u64>>> {
        Box::pin(svc::count_children(
            db,
            Parent::VersionOfBuild,
            parent_ids,
            filter,
        ))
    }
}

impl TreeRow for Build {
    type Child = Task;
    type Filter = ChildFilter;
    const CHILDREN: Option<&'static str> = Some("tasks");

    fn id(&self) -> i64 {
        self.id
    }
    fn parent_id(&self) -> i64 {
        self.version_id
    }
    fn cursor(&self) -> KeyCursor {
        svc::child_cursor(Some(i64::from(self.position)), self.id)
    }
    fn child_filter(field: &ContextBase<'_, &Positioned<Field>>) -> Option<ChildFilter> {
        status_filter(field)
    }
    fn children_page<'a>(
        db: &'a DatabaseConnection,
        parent_ids: &'a [i64],
        filter: &'a ChildFilter,
        after: Option<&'a KeyCursor>,
        limit: u64,
        cols: ColumnSet,
    ) -> BoxFuture<'a, AppResult<Vec<Self::Child>>> {
        let parent = Parent::BuildOfTask;
        Box::pin(svc::children_page(
            db, parent, parent_ids, filter, after, limit, cols,
        ))
    }
    fn count_children<'a>(
        db: &'a DatabaseConnection,
        parent_ids: &'a [i64],
        filter: &'a ChildFilter,
    ) -> BoxFuture<'a, AppResult<HashMap<i64, u64>>> {
        Box::pin(svc::count_children(
            db,
            Parent::BuildOfTask,
            parent_ids,
            filter,
        ))
    }
}

impl TreeRow for Task {
    type Child = TestResult;
    type Filter = ChildFilter;
    const CHILDREN: Option<&'static str> = Some("testResults");

    fn id(&self) -> i64 {
        self.id
    }
    fn parent_id(&self) -> i64 {
        self.build_id
    }
    fn cursor(&self) -> KeyCursor {
        svc::child_cursor(Some(i64::from(self.position)), self.id)
    }
    fn child_filter(field: &ContextBase<'_, &Positioned<Field>>) -> Option<ChildFilter> {
        status_filter(field)
    }
    fn children_page<'a>(
        db: &'a DatabaseConnection,
        parent_ids: &'a [i64],
        filter: &'a ChildFilter,
        after: Option<&'a KeyCursor>,
        limit: u64,
        cols: ColumnSet,
    ) -> BoxFuture<'a, AppResult<Vec<Self::Child>>> {
        let parent = Parent::TaskOfResult;
        Box::pin(svc::children_page(
            db, parent, parent_ids, filter, after, limit, cols,
        ))
    }
    fn count_children<'a>(
        db: &'a DatabaseConnection,
        parent_ids: &'a [i64],
        filter: &'a ChildFilter,
    ) -> BoxFuture<'a, AppResult<HashMap<i64, u64>>> {
        Box::pin(svc::count_children(
            db,
            Parent::TaskOfResult,
            parent_ids,
            filter,
        ))
    }
}

impl TreeRow for TestResult {
    type Child = TestResult;
    type Filter = ();

    fn id(&self) -> i64 {
        self.id
    }
    fn parent_id(&self) -> i64 {
        self.task_id
    }
    fn cursor(&self) -> KeyCursor {
        svc::child_cursor(None, self.id)
    }
}
