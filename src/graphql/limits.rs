//! Request limits that async-graphql does not enforce itself, and stable error codes for the
//! errors it raises: at most N aliases per document, no mutation over GET (a GET can be triggered
//! cross-site, so letting it write would be a CSRF hole), `extensions.code` on every error.
//!
//! These run in the HTTP handler around `Schema::execute`, not as an async-graphql extension:
//! registering any extension sends every field of every response down async-graphql's slow
//! resolution path (a `ResolveInfo` and an extension chain per field), which cost about a third
//! of the server's CPU on a large nested query. The document is parsed here once and handed to
//! the request (`Request::parsed_query` caches it), so nothing is parsed twice; a text seen
//! before is not parsed again at all (`DOCS`).

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};

use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, OperationDefinition, OperationType,
    Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, Request, Response, ServerError};

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

/// Documents parsed before, by query text. Applications send the same few query texts over and
/// over with other variables, and async-graphql's parser cost an eighth of the server's CPU on a
/// point lookup; cloning a parsed document is far cheaper. Parsing depends on nothing but the
/// text, so one cache serves the process. Bounded: texts up to `CACHED_TEXT_MAX` bytes, at most
/// `CACHED_DOCS` of them (the map is emptied when full: simple, and the working set refills it).
static DOCS: std::sync::LazyLock<Mutex<HashMap<String, ExecutableDocument>>> =
    std::sync::LazyLock::new(Default::default);
const CACHED_DOCS: usize = 256;
const CACHED_TEXT_MAX: usize = 4096;

/// Gives the request its parsed document, from the cache when the text was seen before.
fn parse(req: &mut Request) -> Result<&ExecutableDocument, ServerError> {
    let cacheable = req.query.len() <= CACHED_TEXT_MAX;
    let hit = if cacheable {
        DOCS.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&req.query)
            .cloned()
    } else {
        None
    };
    let mut doc = match hit {
        Some(doc) => doc,
        None => {
            let doc = req.parsed_query()?.clone();
            if cacheable {
                let mut docs = DOCS.lock().unwrap_or_else(PoisonError::into_inner);
                if docs.len() >= CACHED_DOCS {
                    docs.clear();
                }
                docs.insert(req.query.clone(), doc.clone());
            }
            doc
        }
    };
    settle_directive_variables(&mut doc, &mut req.variables);
    req.set_parsed_query(doc);
    req.parsed_query()
}

/// async-graphql 7.2 applies `@skip`/`@include` and strips them from the document before it
/// validates it, so a variable used only in their `if` is then reported as "not used" and the
/// operation fails (`query($full: Boolean!) { a @include(if: $full) }`, a common dashboard
/// pattern). Such a variable's definition is dropped here once its value is known: given by the
/// request, or its default, which is then put into the variables (async-graphql's own evaluation
/// reads only the given values). A variable without either keeps its definition, and the
/// operation fails as before.
fn settle_directive_variables(doc: &mut ExecutableDocument, vars: &mut async_graphql::Variables) {
    let mut in_args = HashSet::new();
    let mut in_directives = HashSet::new();
    let sets = doc
        .operations
        .iter()
        .map(|(_, op)| &op.node.selection_set.node)
        .chain(doc.fragments.values().map(|f| &f.node.selection_set.node));
    for set in sets {
        variable_uses(set, &mut in_args, &mut in_directives);
    }
    let only_directives: HashSet<Name> = in_directives.difference(&in_args).cloned().collect();
    if only_directives.is_empty() {
        return;
    }
    let ops: Vec<&mut Positioned<OperationDefinition>> = match &mut doc.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => ops.values_mut().collect(),
    };
    for op in ops {
        op.node.variable_definitions.retain(|def| {
            let name = &def.node.name.node;
            if !only_directives.contains(name) {
                return true;
            }
            if vars.contains_key(name) {
                return false;
            }
            match &def.node.default_value {
                Some(default) => {
                    vars.insert(name.clone(), default.node.clone());
                    false
                }
                None => true,
            }
        });
    }
}

fn variable_uses(set: &SelectionSet, in_args: &mut HashSet<Name>, in_dirs: &mut HashSet<Name>) {
    fn values(v: &async_graphql_value::Value, out: &mut HashSet<Name>) {
        use async_graphql_value::Value as V;
        match v {
            V::Variable(n) => {
                out.insert(n.clone());
            }
            V::List(items) => items.iter().for_each(|i| values(i, out)),
            V::Object(fields) => fields.values().for_each(|i| values(i, out)),
            _ => {}
        }
    }
    fn directives(
        ds: &[Positioned<Directive>],
        args: &mut HashSet<Name>,
        dirs: &mut HashSet<Name>,
    ) {
        for d in ds {
            let target = match d.node.name.node.as_str() {
                "skip" | "include" => &mut *dirs,
                _ => &mut *args,
            };
            for (_, v) in &d.node.arguments {
                values(&v.node, target);
            }
        }
    }
    for item in &set.items {
        match &item.node {
            Selection::Field(f) => {
                for (_, v) in &f.node.arguments {
                    values(&v.node, in_args);
                }
                directives(&f.node.directives, in_args, in_dirs);
                variable_uses(&f.node.selection_set.node, in_args, in_dirs);
            }
            Selection::InlineFragment(fr) => {
                directives(&fr.node.directives, in_args, in_dirs);
                variable_uses(&fr.node.selection_set.node, in_args, in_dirs);
            }
            Selection::FragmentSpread(sp) => directives(&sp.node.directives, in_args, in_dirs),
        }
    }
}

/// Parses the request's document (kept in the request for execution) and applies the checks
/// that precede validation.
pub fn precheck(req: &mut Request, over_get: bool, max_aliases: usize) -> Result<(), Refusal> {
    let doc = parse(req).map_err(|e| Refusal::from(with_code(e, "GRAPHQL_PARSE_FAILED")))?;
    let mut aliases = 0;
    for (_, op) in doc.operations.iter() {
        if over_get && op.node.ty == OperationType::Mutation {
            return Err(Refusal {
                error: Box::new(with_code(
                    ServerError::new(
                        "mutations are not allowed over GET; send them with POST",
                        None,
                    ),
                    "BAD_REQUEST",
                )),
                mutation_over_get: true,
            });
        }
        aliases += count_aliases(&op.node.selection_set.node, doc, 0);
    }
    if aliases > max_aliases {
        return Err(Refusal::from(with_code(
            ServerError::new(
                format!("the query uses {aliases} aliases; at most {max_aliases} are allowed"),
                None,
            ),
            "GRAPHQL_VALIDATION_FAILED",
        )));
    }
    Ok(())
}

/// An operation refused before validation.
#[derive(Debug)]
pub struct Refusal {
    /// The operation's only error, with its code (boxed: refusals are rare, results are not).
    pub error: Box<ServerError>,
    /// A mutation sent over GET, which the GraphQL-over-HTTP spec answers with `405 Method Not
    /// Allowed` (every other refusal is an ordinary GraphQL error).
    pub mutation_over_get: bool,
}

impl From<ServerError> for Refusal {
    fn from(error: ServerError) -> Self {
        Refusal {
            error: Box::new(error),
            mutation_over_get: false,
        }
    }
}

/// Gives every error that lacks one a stable code. Every error raised by testgraph's own
/// resolvers already has one; those left come from async-graphql: validation and limit errors,
/// which belong to no field (no path), or argument coercion while executing a field (a path).
pub fn with_codes(mut resp: Response, limits: &crate::config::Limits) -> Response {
    resp.errors = resp
        .errors
        .into_iter()
        .map(|e| {
            let code = if e.path.is_empty() {
                "GRAPHQL_VALIDATION_FAILED"
            } else {
                "BAD_USER_INPUT"
            };
            with_code(explain_limit(e, limits), code)
        })
        .collect();
    resp
}

/// async-graphql names the depth and complexity limits it enforces but not their values; someone
/// writing a query in GraphiQL needs both, and how the complexity is counted.
fn explain_limit(mut e: ServerError, limits: &crate::config::Limits) -> ServerError {
    if !e.path.is_empty() {
        return e;
    }
    match e.message.as_str() {
        "Query is too complex." => {
            e.message = format!(
                "Query is too complex: at most {} is allowed, where every field counts 1 and a \
                 list counts its children once per row it may return (`first`, or {} without it); \
                 ask for fewer rows or fewer fields",
                limits.graphql_max_complexity,
                super::connection::DEFAULT_FIRST_FOR_COMPLEXITY
            );
        }
        "Query is nested too deep." => {
            e.message = format!(
                "Query is nested too deep: at most {} levels of selection are allowed",
                limits.graphql_max_depth
            );
        }
        _ => {}
    }
    e
}
