//! The HTTP side of GraphQL: `POST /graphql` (single or batched) and `GET /graphql` for queries
//! only (GraphiQL's page is `web::graphiql`). A POST must declare a JSON or GraphQL body (415
//! otherwise, before anything is read: cross-site forms never run). Bodies are read with a hard
//! limit, chunked ones included; each request gets its own `DataLoader` and the caller's
//! `Principal`, which also decides whether it may introspect and see field suggestions.

use async_graphql::{BatchRequest, BatchResponse, ErrorExtensions};
use poem::http::{Method, StatusCode, header};
use poem::{Body, Request, Response, handler};

use super::AppSchema;
use super::limits::{self, Gate};
use super::loaders::FetchQueue;
use crate::auth;
use crate::config::{Introspection, Surface};
use crate::error::AppError;
use crate::service::tokens::Scope;
use crate::state::AppState;

/// A GraphQL-shaped error response: `{"errors":[{"message","extensions":{"code"}}]}`.
pub fn error_response(status: StatusCode, e: &AppError) -> Response {
    let err = async_graphql::ServerError::new(e.public_message(), None);
    let err =
        async_graphql::Error::new(err.message).extend_with(|_, ext| ext.set("code", e.code()));
    let body = serde_json::json!({ "errors": [ { "message": err.message, "extensions": err.extensions } ] });
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(body.to_string())
}

fn app_error_response(e: AppError) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    error_response(status, &e)
}

#[handler]
pub async fn graphql(req: &Request, body: Body, schema: poem::web::Data<&AppSchema>) -> Response {
    let schema = *schema;
    let Ok(state) = schema_state(schema) else {
        return app_error_response(AppError::Internal("schema has no state".into()));
    };
    let limits = &state.config.limits;
    let over_get = req.method() == Method::GET;

    let batch = if over_get {
        match async_graphql::http::parse_query_string(req.uri().query().unwrap_or("")) {
            Ok(r) => BatchRequest::Single(r),
            Err(e) => {
                return app_error_response(AppError::bad_request(format!(
                    "invalid GraphQL GET request: {e}"
                )));
            }
        }
    } else {
        // Before the body is read: a cross-site form (`application/x-www-form-urlencoded`,
        // `multipart/form-data`, `text/plain`) is sent by a browser without asking the server
        // first, with the visitor's cookies and network position; it must never run.
        let Some(body_type) = BodyType::of(req.header(header::CONTENT_TYPE)) else {
            return app_error_response(AppError::UnsupportedMediaType(unsupported_message(
                req.header(header::CONTENT_TYPE),
            )));
        };
        let bytes = match body.into_bytes_limit(limits.max_body_bytes).await {
            Ok(b) => b,
            Err(poem::error::ReadBodyError::PayloadTooLarge) => {
                return app_error_response(AppError::PayloadTooLarge(limits.max_body_bytes));
            }
            Err(e) => {
                return app_error_response(AppError::bad_request(format!(
                    "could not read the body: {e}"
                )));
            }
        };
        if body_type == BodyType::GraphqlText {
            match std::str::from_utf8(&bytes) {
                Ok(q) => BatchRequest::Single(async_graphql::Request::new(q)),
                Err(_) => {
                    return app_error_response(AppError::bad_request("the body is not UTF-8"));
                }
            }
        } else {
            match parse_batch(&bytes) {
                Ok(b) => b,
                Err(e) => {
                    return app_error_response(AppError::bad_request(format!(
                        "the body is not a GraphQL request (JSON with a \"query\"): {e}"
                    )));
                }
            }
        }
    };
    let count = match &batch {
        BatchRequest::Single(_) => 1,
        BatchRequest::Batch(v) => v.len(),
    };
    if count == 0 || count > limits.graphql_max_batch {
        return app_error_response(AppError::bad_request(format!(
            "a batch holds 1 to {} operations; this one holds {count}",
            limits.graphql_max_batch
        )));
    }

    let principal = match auth::principal_from_header(
        &state.db,
        req.header(header::AUTHORIZATION),
        auth::TokenForm::Bearer,
    )
    .await
    {
        Ok(p) => p,
        Err(e) => return app_error_response(e),
    };
    if let Err(e) = auth::check(
        &state.config.auth,
        Surface::Graphql,
        &principal,
        Scope::Read,
    ) {
        return app_error_response(e);
    }

    // Introspection and suggestions depend on the caller: a live token lets it see the schema.
    let live_token = principal.token.is_some();
    let exposure = &state.config.exposure;
    let checks = limits::Checks {
        limits,
        over_get,
        introspection: match exposure.introspection {
            Introspection::On => Gate::Open,
            Introspection::Authenticated if live_token => Gate::Open,
            Introspection::Authenticated => Gate::TokenNeeded,
            Introspection::Off => Gate::Off,
        },
        hide_suggestions: !exposure.suggestions && !live_token,
    };
    // The loaders do not spawn their fetches onto the runtime: they queue them, and this
    // request's own task runs them (`FetchQueue::run`) once resolution has gone quiet. A fetch
    // therefore starts only when every field of a level has asked for its key, so each level is
    // one statement without waiting on a timer. `dataloader_delay` (0 by default) can add a
    // window to also merge levels that become ready at different times.
    let fetches = FetchQueue::default();
    // One set of loaders for the whole HTTP request: operations of a batch share their cache.
    let batch = super::attach_loaders(batch.data(principal), &state.db, &fetches, limits);
    let (resp, mutation_over_get) = fetches
        .run(async {
            // The operations of a batch run one after another, as `Schema::execute_batch` does.
            match batch {
                BatchRequest::Single(r) => {
                    let (resp, refused_get) = execute_one(schema, r, &checks).await;
                    (BatchResponse::Single(resp), refused_get)
                }
                BatchRequest::Batch(requests) => {
                    let mut out = Vec::with_capacity(requests.len());
                    for r in requests {
                        out.push(execute_one(schema, r, &checks).await.0);
                    }
                    (BatchResponse::Batch(out), false)
                }
            }
        })
        .await;
    let media = Media::accepted(req.header(header::ACCEPT));
    // With `application/graphql-response+json`, an operation that failed before execution (a
    // document that does not parse or validate, variables that do not coerce) is a 400 without
    // `data`; with `application/json`, every GraphQL result is a 200, as clients of that type
    // expect (GraphQL over HTTP, "Status codes").
    let (json, request_error) = match &resp {
        BatchResponse::Single(r)
            if media == Media::GraphqlResponseJson && failed_before_execution(r) =>
        {
            (
                serde_json::to_string(&serde_json::json!({ "errors": r.errors })),
                true,
            )
        }
        _ => (serde_json::to_string(&resp), false),
    };
    let json = match json {
        Ok(j) => j,
        Err(e) => {
            return app_error_response(AppError::Internal(format!("response serialisation: {e}")));
        }
    };
    // The media type follows `Accept`, so a cache must keep one answer per `Accept`.
    let resp = Response::builder()
        .content_type(media.content_type())
        .header(header::VARY, "Accept");
    if mutation_over_get {
        // GraphQL over HTTP: "the server MUST respond with error status code 405".
        return resp
            .status(StatusCode::METHOD_NOT_ALLOWED)
            .header(header::ALLOW, "POST")
            .body(json);
    }
    if request_error {
        return resp.status(StatusCode::BAD_REQUEST).body(json);
    }
    resp.body(json)
}

/// The media type of a GraphQL answer (GraphQL over HTTP, "Accept").
#[derive(Clone, Copy, Debug, PartialEq)]
enum Media {
    /// `application/json`: the default, and what a client that asks for nothing gets.
    Json,
    /// `application/graphql-response+json`, for clients that prefer it (Apollo Client, urql and
    /// graphql-http send it first).
    GraphqlResponseJson,
}

impl Media {
    /// The new type when the client ranks it at least as high as `application/json`.
    fn accepted(accept: Option<&str>) -> Media {
        let Some(accept) = accept else {
            return Media::Json;
        };
        let (mut q_graphql, mut q_json) = (0.0_f32, 0.0_f32);
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media_type = parts.next().unwrap_or("").to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            match media_type.as_str() {
                "application/graphql-response+json" => q_graphql = q_graphql.max(q),
                "application/json" => q_json = q_json.max(q),
                _ => {}
            }
        }
        if q_graphql > 0.0 && q_graphql >= q_json {
            Media::GraphqlResponseJson
        } else {
            Media::Json
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Media::Json => "application/json",
            Media::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
        }
    }
}

/// No data and no error from a field: the operation failed before it ran (parse, validation,
/// variable coercion, testgraph's own checks). An error raised by a resolver has a path, even
/// when it nulls the whole result.
fn failed_before_execution(r: &async_graphql::Response) -> bool {
    r.data == async_graphql::Value::Null
        && !r.errors.is_empty()
        && r.errors.iter().all(|e| e.path.is_empty())
}

/// A JSON body: one operation, or an array of them. `BatchRequest` is an untagged enum, which
/// serde decodes by first buffering the whole document into a generic tree and then trying each
/// variant; on a 2 MB ingestion mutation that was a fifth of the request's CPU. The first
/// significant byte tells which variant it is.
fn parse_batch(bytes: &[u8]) -> Result<BatchRequest, serde_json::Error> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        serde_json::from_slice(bytes).map(BatchRequest::Batch)
    } else {
        serde_json::from_slice(bytes).map(BatchRequest::Single)
    }
}

/// One operation: the checks async-graphql does not make, then execution, then error codes.
/// The flag is true when the operation was refused as a mutation over GET.
async fn execute_one(
    schema: &AppSchema,
    mut req: async_graphql::Request,
    checks: &limits::Checks<'_>,
) -> (async_graphql::Response, bool) {
    match limits::precheck(&mut req, checks) {
        Ok(()) => (limits::with_codes(schema.execute(req).await, checks), false),
        Err(refusal) => (
            async_graphql::Response::from_errors(vec![*refusal.error]),
            refusal.mutation_over_get,
        ),
    }
}

/// What a POST body holds, from its `Content-Type` (GraphQL over HTTP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyType {
    /// `application/json` (whatever its parameters), or `application/graphql-response+json`:
    /// `{"query": ...}` or an array of them.
    Json,
    /// `application/graphql`: the document itself.
    GraphqlText,
}

impl BodyType {
    /// `None` for every other type, and for a body without one: a browser sends a form
    /// (`application/x-www-form-urlencoded`, `multipart/form-data`, `text/plain`), or a `Blob`
    /// without a type, cross-site without asking the server first, so none of them may run
    /// (GraphQL's CSRF); every GraphQL client names its type.
    fn of(content_type: Option<&str>) -> Option<BodyType> {
        let media = content_type?.split(';').next()?.trim();
        if media.eq_ignore_ascii_case("application/json")
            || media.eq_ignore_ascii_case("application/graphql-response+json")
        {
            Some(BodyType::Json)
        } else if media.eq_ignore_ascii_case("application/graphql") {
            Some(BodyType::GraphqlText)
        } else {
            None
        }
    }
}

fn unsupported_message(content_type: Option<&str>) -> String {
    let got = match content_type {
        Some(t) => format!("Content-Type `{}`", t.chars().take(100).collect::<String>()),
        None => "no Content-Type".to_owned(),
    };
    format!(
        "POST /graphql takes a JSON body (Content-Type: application/json) or a GraphQL document \
         (application/graphql); this request has {got}"
    )
}

fn schema_state(schema: &AppSchema) -> Result<&AppState, ()> {
    schema.data::<AppState>().ok_or(())
}

/// Anything but GET and POST on `/graphql`, answered with a clear message.
pub fn method_not_allowed() -> Response {
    let mut resp = app_error_response(AppError::bad_request(
        "use GET for queries or POST for queries and mutations",
    ));
    resp.set_status(StatusCode::METHOD_NOT_ALLOWED);
    resp.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("GET, POST"));
    resp
}
