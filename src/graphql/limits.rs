//! Request limits that async-graphql does not enforce itself, and stable error codes for the
//! errors it raises: at most N aliases per document, no mutation over GET (a GET can be triggered
//! cross-site, so letting it write would be a CSRF hole), `extensions.code` on every error.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Response, ServerError, ServerResult, ValidationResult, Variables};

/// Marks a request that arrived over HTTP GET.
#[derive(Clone, Copy, Debug)]
pub struct OverGet;

pub struct RequestLimits {
    pub max_aliases: usize,
}

impl ExtensionFactory for RequestLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestLimitsExt {
            max_aliases: self.max_aliases,
        })
    }
}

struct RequestLimitsExt {
    max_aliases: usize,
}

fn with_code(mut e: ServerError, code: &str) -> ServerError {
    let ext = e.extensions.get_or_insert_with(Default::default);
    if ext.get("code").is_none() {
        ext.set("code", code);
    }
    e
}

fn count_aliases(set: &SelectionSet, doc: &ExecutableDocument, depth: usize) -> usize {
    // Fragments can spread each other; the depth guard stops a cycle (validation rejects cycles
    // later, but this runs first).
    if depth > 64 {
        return 0;
    }
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some())
                    + count_aliases(&f.node.selection_set.node, doc, depth + 1)
            }
            Selection::InlineFragment(fr) => {
                count_aliases(&fr.node.selection_set.node, doc, depth + 1)
            }
            Selection::FragmentSpread(sp) => doc
                .fragments
                .get(&sp.node.fragment_name.node)
                .map(|fr| count_aliases(&fr.node.selection_set.node, doc, depth + 1))
                .unwrap_or(0),
        })
        .sum()
}

#[async_graphql::async_trait::async_trait]
impl Extension for RequestLimitsExt {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next
            .run(ctx, query, variables)
            .await
            .map_err(|e| with_code(e, "GRAPHQL_PARSE_FAILED"))?;
        let over_get = ctx.data_opt::<OverGet>().is_some();
        let mut aliases = 0;
        for (_, op) in doc.operations.iter() {
            if over_get && op.node.ty == OperationType::Mutation {
                return Err(with_code(
                    ServerError::new(
                        "mutations are not allowed over GET; send them with POST",
                        None,
                    ),
                    "BAD_REQUEST",
                ));
            }
            aliases += count_aliases(&op.node.selection_set.node, &doc, 0);
        }
        if aliases > self.max_aliases {
            return Err(with_code(
                ServerError::new(
                    format!(
                        "the query uses {aliases} aliases; at most {} are allowed",
                        self.max_aliases
                    ),
                    None,
                ),
                "GRAPHQL_VALIDATION_FAILED",
            ));
        }
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errs| {
            errs.into_iter()
                .map(|e| with_code(e, "GRAPHQL_VALIDATION_FAILED"))
                .collect()
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut resp = next.run(ctx, operation_name).await;
        // Errors raised by async-graphql itself while executing (argument coercion, mostly) carry
        // no code; every error of ours already has one.
        resp.errors = resp
            .errors
            .into_iter()
            .map(|e| with_code(e, "BAD_USER_INPUT"))
            .collect();
        resp
    }
}
