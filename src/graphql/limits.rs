//! Request limits that async-graphql does not enforce itself, and stable error codes for the
//! errors it raises: at most N aliases per document, no mutation over GET (a GET can be triggered
//! cross-site, so letting it write would be a CSRF hole), `extensions.code` on every error.
//!
//! These run in the HTTP handler around `Schema::execute`, not as an async-graphql extension:
//! registering any extension sends every field of every response down async-graphql's slow
//! resolution path (a `ResolveInfo` and an extension chain per field), which cost about a third
//! of the server's CPU on a large nested query. The document is parsed here once and handed to
//! the request (`Request::parsed_query` caches it), so nothing is parsed twice.

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Request, Response, ServerError};

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

/// Parses the request's document (kept in the request for execution) and applies the checks
/// that precede validation. An `Err` is the operation's only error; it already has its code.
pub fn precheck(req: &mut Request, over_get: bool, max_aliases: usize) -> Result<(), ServerError> {
    let doc = req
        .parsed_query()
        .map_err(|e| with_code(e, "GRAPHQL_PARSE_FAILED"))?;
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
        aliases += count_aliases(&op.node.selection_set.node, doc, 0);
    }
    if aliases > max_aliases {
        return Err(with_code(
            ServerError::new(
                format!("the query uses {aliases} aliases; at most {max_aliases} are allowed"),
                None,
            ),
            "GRAPHQL_VALIDATION_FAILED",
        ));
    }
    Ok(())
}

/// Gives every error that lacks one a stable code. Every error raised by testgraph's own
/// resolvers already has one; those left come from async-graphql: validation and limit errors,
/// which belong to no field (no path), or argument coercion while executing a field (a path).
pub fn with_codes(mut resp: Response) -> Response {
    resp.errors = resp
        .errors
        .into_iter()
        .map(|e| {
            let code = if e.path.is_empty() {
                "GRAPHQL_VALIDATION_FAILED"
            } else {
                "BAD_USER_INPUT"
            };
            with_code(e, code)
        })
        .collect();
    resp
}
