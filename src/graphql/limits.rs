//! Request limits that async-graphql does not enforce itself, and stable error codes for the
//! errors it raises: at most N lexical tokens per document (counted before it is parsed), N
//! fields at the root of an operation, N directives on one field or fragment, N aliases per
//! document, no mutation over GET (a GET can be triggered cross-site, so letting it write would
//! be a CSRF hole), introspection only for those `Config::exposure` lets in, "did you mean"
//! suggestions only for those it lets see them, `extensions.code` on every error.
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

/// Who may introspect the schema in this request (`Config::exposure`, and whether the caller
/// sent a live token).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// `__schema` and `__type` answer.
    Open,
    /// Refused for everyone (`--graphql-introspection off`).
    Off,
    /// Refused for this caller, who sent no token (`--graphql-introspection authenticated`).
    TokenNeeded,
}

/// What the endpoint decided about one HTTP request, for each of its operations.
#[derive(Clone, Copy, Debug)]
pub struct Checks<'a> {
    pub limits: &'a crate::config::Limits,
    /// The request came as a GET: a mutation is refused (405).
    pub over_get: bool,
    pub introspection: Gate,
    /// Leave async-graphql's "Did you mean ...?" suggestions out of error messages (an
    /// anonymous caller under `--graphql-no-suggestions`).
    pub hide_suggestions: bool,
}

/// How many GraphQL lexical tokens `text` holds, counting no further than `cap + 1`: punctuators
/// (`...` is one), names, numbers and strings (block strings too) are one each; whitespace,
/// commas, comments and a byte-order mark are not tokens. One pass over the bytes, without
/// allocating, so that an oversized document is refused before the parser (whose cost grows
/// with the document) sees it. Anything the lexer would reject counts one token a byte: the
/// parser refuses it later.
pub fn count_tokens(text: &str, cap: usize) -> usize {
    let src = text.as_bytes();
    let len = src.len();
    let (mut i, mut n) = (0, 0);
    while i < len {
        match src[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < len && src[i] != b'\n' && src[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            0xEF if src[i..].starts_with(&[0xEF, 0xBB, 0xBF]) => {
                i += 3;
                continue;
            }
            b'"' if src[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < len {
                    if src[i..].starts_with(b"\\\"\"\"") {
                        i += 4;
                    } else if src[i..].starts_with(b"\"\"\"") {
                        i += 3;
                        break;
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' => {
                i += 1;
                while i < len {
                    match src[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        b'\n' | b'\r' => break,
                        _ => i += 1,
                    }
                }
            }
            b'.' if src[i..].starts_with(b"...") => i += 3,
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                i += 1;
                while i < len && (src[i].is_ascii_alphanumeric() || src[i] == b'_') {
                    i += 1;
                }
            }
            b'-' | b'0'..=b'9' => {
                i += 1;
                while i < len {
                    let c = src[i];
                    let sign_of_exponent =
                        matches!(c, b'+' | b'-') && matches!(src[i - 1], b'e' | b'E');
                    if c.is_ascii_alphanumeric() || c == b'.' || sign_of_exponent {
                        i += 1;
                    } else {
                        break;
                    }
                }
            }
            _ => i += 1,
        }
        n += 1;
        if n > cap {
            break;
        }
    }
    n
}

/// What one selection set holds once its fragments are spread: the aliases at every level, the
/// fields at its own level (an operation's root fields), and whether that level asks for
/// `__schema` or `__type`.
#[derive(Clone, Copy, Debug, Default)]
struct Shape {
    aliases: usize,
    /// Fields at every level, each spread counted again: at most the query's complexity.
    fields: usize,
    top_fields: usize,
    introspects: bool,
}

impl Shape {
    /// A fragment's level added to the level it is spread into.
    fn spread(&mut self, inner: Shape) {
        self.aliases = self.aliases.saturating_add(inner.aliases);
        self.fields = self.fields.saturating_add(inner.fields);
        self.top_fields = self.top_fields.saturating_add(inner.top_fields);
        self.introspects |= inner.introspects;
    }
}

/// A directive list longer than the limit.
struct TooManyDirectives {
    site: String,
    count: usize,
}

/// Walks a document once: every fragment is measured once (`memo`) however often it is spread,
/// so that fragments spreading each other twice over cannot make the count exponential; a
/// fragment met again while it is measured (a cycle, which validation refuses later) counts
/// nothing. Nesting, selections and spreads alike, beyond `max_nesting` stops the walk.
struct Walker<'d> {
    doc: &'d ExecutableDocument,
    memo: HashMap<&'d str, Option<Shape>>,
    max_nesting: usize,
    max_directives: usize,
    too_deep: bool,
    directives: Option<TooManyDirectives>,
}

impl<'d> Walker<'d> {
    fn directives(&mut self, ds: &[Positioned<Directive>], site: impl FnOnce() -> String) {
        if ds.len() > self.max_directives && self.directives.is_none() {
            self.directives = Some(TooManyDirectives {
                site: site(),
                count: ds.len(),
            });
        }
    }

    fn set(&mut self, set: &'d SelectionSet, nesting: usize) -> Shape {
        let mut shape = Shape::default();
        if nesting > self.max_nesting {
            self.too_deep = true;
            return shape;
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    let f = &f.node;
                    self.directives(&f.directives, || format!("the field `{}`", f.name.node));
                    shape.top_fields = shape.top_fields.saturating_add(1);
                    shape.aliases = shape.aliases.saturating_add(usize::from(f.alias.is_some()));
                    shape.introspects |= matches!(f.name.node.as_str(), "__schema" | "__type");
                    let below = self.set(&f.selection_set.node, nesting + 1);
                    shape.aliases = shape.aliases.saturating_add(below.aliases);
                    shape.fields = shape.fields.saturating_add(1).saturating_add(below.fields);
                }
                Selection::InlineFragment(fr) => {
                    self.directives(&fr.node.directives, || "an inline fragment".to_owned());
                    let inner = self.set(&fr.node.selection_set.node, nesting + 1);
                    shape.spread(inner);
                }
                Selection::FragmentSpread(sp) => {
                    let name = sp.node.fragment_name.node.as_str();
                    self.directives(&sp.node.directives, || {
                        format!("the spread of the fragment `{name}`")
                    });
                    let inner = self.fragment(name, nesting + 1);
                    shape.spread(inner);
                }
            }
        }
        shape
    }

    fn fragment(&mut self, name: &'d str, nesting: usize) -> Shape {
        match self.memo.get(name) {
            Some(Some(shape)) => return *shape,
            Some(None) => return Shape::default(),
            None => {}
        }
        let Some(def) = self.doc.fragments.get(name) else {
            return Shape::default();
        };
        self.memo.insert(name, None);
        self.directives(&def.node.directives, || format!("the fragment `{name}`"));
        let shape = self.set(&def.node.selection_set.node, nesting);
        self.memo.insert(name, Some(shape));
        shape
    }
}

fn validation_error(message: String) -> Refusal {
    Refusal::from(with_code(
        ServerError::new(message, None),
        "GRAPHQL_VALIDATION_FAILED",
    ))
}

/// Applies the checks that precede validation: the document's size in tokens (before parsing),
/// then, on the parsed document (kept in the request for execution), no mutation over GET, the
/// nesting, directives per field or fragment, fields at the root of each operation, aliases in
/// the document, and who may introspect.
pub fn precheck(req: &mut Request, checks: &Checks) -> Result<(), Refusal> {
    let limits = checks.limits;
    let max_tokens = limits.graphql_max_tokens;
    if count_tokens(&req.query, max_tokens) > max_tokens {
        return Err(validation_error(format!(
            "the document holds more than {max_tokens} tokens (names, values and punctuation; \
             whitespace, commas and comments do not count); at most {max_tokens} are allowed"
        )));
    }
    if checks.introspection != Gate::Open {
        // A backstop: `__schema` and `__type` are refused below, and would answer null.
        req.introspection_mode = async_graphql::IntrospectionMode::Disabled;
    }
    let doc = parse(req).map_err(|e| Refusal::from(with_code(e, "GRAPHQL_PARSE_FAILED")))?;
    if checks.over_get
        && doc
            .operations
            .iter()
            .any(|(_, op)| op.node.ty == OperationType::Mutation)
    {
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

    let mut walk = Walker {
        doc,
        memo: HashMap::new(),
        // Validation refuses what is deeper than the depth limit; the walk only needs to stop.
        max_nesting: limits.graphql_max_depth.max(64),
        max_directives: limits.graphql_max_directives,
        too_deep: false,
        directives: None,
    };
    let mut aliases = 0_usize;
    let mut fields = 0_usize;
    let mut widest: Option<(Option<&Name>, usize)> = None;
    let mut introspects = false;
    for (name, op) in doc.operations.iter() {
        let op = &op.node;
        walk.directives(&op.directives, || "the operation".to_owned());
        for var in &op.variable_definitions {
            walk.directives(&var.node.directives, || {
                format!("the variable `${}`", var.node.name.node)
            });
        }
        let shape = walk.set(&op.selection_set.node, 1);
        aliases = aliases.saturating_add(shape.aliases);
        fields = fields.max(shape.fields);
        if widest.is_none_or(|(_, n)| shape.top_fields > n) {
            widest = Some((name, shape.top_fields));
        }
        introspects |= op.ty == OperationType::Query && shape.introspects;
    }
    // Fragments spread nowhere are refused by validation, but their directives are checked too.
    for name in doc.fragments.keys() {
        walk.fragment(name.as_str(), 1);
    }
    if walk.too_deep {
        return Err(validation_error(format!(
            "Query is nested too deep: at most {} levels of selection are allowed",
            limits.graphql_max_depth
        )));
    }
    // Fragments spread twice over by fragments spread twice over (a "fragment bomb") make a
    // short document stand for billions of fields, which async-graphql's validation would visit
    // one by one; every field counts at least 1 in the complexity, so such an operation is
    // refused here, counted once a fragment.
    if fields > limits.graphql_max_complexity {
        return Err(validation_error(too_complex(limits)));
    }
    if let Some(TooManyDirectives { site, count }) = walk.directives {
        let max = limits.graphql_max_directives;
        return Err(validation_error(format!(
            "{site} carries {count} directives; at most {max} are allowed on one field, \
             fragment or operation"
        )));
    }
    let max_root = limits.graphql_max_root_fields;
    if let Some((name, fields)) = widest.filter(|(_, n)| *n > max_root) {
        let which = name.map_or_else(
            || "the operation".to_owned(),
            |n| format!("the operation `{n}`"),
        );
        return Err(validation_error(format!(
            "{which} asks for {fields} fields at its root (fragments spread); at most {max_root} \
             are allowed; send several requests instead"
        )));
    }
    let max_aliases = limits.graphql_max_aliases;
    if aliases > max_aliases {
        return Err(validation_error(format!(
            "the query uses {aliases} aliases; at most {max_aliases} are allowed"
        )));
    }
    if introspects {
        match checks.introspection {
            Gate::Open => {}
            Gate::Off => {
                return Err(validation_error(
                    "introspection (`__schema`, `__type`) is turned off on this server; \
                     `__typename` still answers"
                        .to_owned(),
                ));
            }
            Gate::TokenNeeded => {
                return Err(Refusal::from(with_code(
                    ServerError::new(
                        "introspection (`__schema`, `__type`) needs a token on this server: send \
                         'Authorization: Bearer <token>'",
                        None,
                    ),
                    "UNAUTHENTICATED",
                )));
            }
        }
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
/// With `hide_suggestions`, async-graphql's "Did you mean ...?" endings are cut off: they name
/// fields and arguments of the schema, which introspection may be hiding from the caller.
pub fn with_codes(mut resp: Response, checks: &Checks) -> Response {
    resp.errors = resp
        .errors
        .into_iter()
        .map(|mut e| {
            let code = if e.path.is_empty() {
                "GRAPHQL_VALIDATION_FAILED"
            } else {
                "BAD_USER_INPUT"
            };
            if checks.hide_suggestions {
                without_suggestion(&mut e.message);
            }
            with_code(explain_limit(e, checks.limits), code)
        })
        .collect();
    resp
}

/// Cuts a validation message's suggestion off: async-graphql appends it as
/// `" Did you mean \"a\", \"b\"?"`, always last, and nothing before it can hold that text (the
/// names it follows are GraphQL names, without spaces).
pub fn without_suggestion(message: &mut String) {
    if let Some(at) = message.find(" Did you mean") {
        message.truncate(at);
    }
}

fn too_complex(limits: &crate::config::Limits) -> String {
    format!(
        "Query is too complex: at most {} is allowed, where every field counts 1 and a list \
         counts its children once per row it may return (`first`, or {} without it); ask for \
         fewer rows or fewer fields",
        limits.graphql_max_complexity,
        super::connection::DEFAULT_FIRST_FOR_COMPLEXITY
    )
}

/// async-graphql names the depth and complexity limits it enforces but not their values; someone
/// writing a query in GraphiQL needs both, and how the complexity is counted.
fn explain_limit(mut e: ServerError, limits: &crate::config::Limits) -> ServerError {
    if !e.path.is_empty() {
        return e;
    }
    match e.message.as_str() {
        "Query is too complex." => e.message = too_complex(limits),
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

#[cfg(test)]
mod tests {
    use super::{count_tokens, without_suggestion};

    #[test]
    fn tokens_are_counted_as_graphql_lexes_them() {
        let n = |s: &str| count_tokens(s, usize::MAX - 1);
        assert_eq!(n(""), 0);
        assert_eq!(n("  ,,, \t\r\n # a comment { } \n"), 0);
        assert_eq!(n("\u{feff}{ a }"), 3);
        assert_eq!(
            n("{ a(b: 1, c: -2.5e+10, d: 0x) @x ...F ... on T { __typename } }"),
            24
        );
        assert_eq!(n("query($v: [Int!]! = [1, 2]) { a }"), 19);
        assert_eq!(n(r#"{ a(s: "x \" , # { y") }"#), 8);
        assert_eq!(n(r#"{ a(s: """ block \""" " , # { """) }"#), 8);
        // An unterminated string ends at its line; an unterminated block string at the end.
        assert_eq!(n("{ a(s: \"open\n) }"), 8);
        assert_eq!(n("{ a(s: \"\"\"open\n) }"), 6);
        // Non-ASCII outside strings: one a byte (the parser refuses it anyway).
        assert_eq!(n("é"), 2);
        assert_eq!(n(r#""é""#), 1);
    }

    #[test]
    fn counting_stops_past_the_cap() {
        assert_eq!(count_tokens(&"{ ".repeat(1000), 10), 11);
        assert_eq!(count_tokens("{ a }", 10), 3);
    }

    #[test]
    fn suggestions_are_cut_off() {
        let mut m = r#"Unknown field "sesions" on type "Q". Did you mean "sessions", "session"?"#
            .to_owned();
        without_suggestion(&mut m);
        assert_eq!(m, r#"Unknown field "sesions" on type "Q"."#);
        let mut m = "Unknown field \"x\" on type \"Q\".".to_owned();
        without_suggestion(&mut m);
        assert_eq!(m, "Unknown field \"x\" on type \"Q\".");
    }
}
