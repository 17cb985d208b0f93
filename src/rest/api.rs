//! What every REST API shares, knowing no API: a route table (the single list of an API's
//! documented paths, from which its router and its part of the OpenAPI document are built), one
//! way to run a route (authorise, read the bounded body, call the handler, render its error in
//! the API's dialect), and one router.
//!
//! An API is a `RestApi` value: its prefix, the token surface it is checked on, its routes, its
//! OpenAPI schemas and its `Dialect` (how it words an error, an unknown path, a wrong method).
//! `rest::apis()` lists them; `app` mounts each under its prefix.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, EndpointExt, IntoEndpoint, Request, Response, RouteMethod};

use crate::auth;
use crate::config::Surface;
use crate::error::{AppError, AppResult};
use crate::service::tokens::Scope;
use crate::state::AppState;

/// A query parameter a route reads, and what it takes.
pub struct QueryParam {
    pub name: &'static str,
    pub takes: Takes,
}

/// The values of a query parameter, for the OpenAPI document.
pub enum Takes {
    /// A legacy page number: 1 by default, negative counts from the last page.
    PageNumber,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// Any text.
    Text,
}

/// One documented route of an API.
pub struct RouteDoc {
    pub method: Method,
    /// poem syntax: `/sessions/:h/metrics`, without a trailing slash (both forms are served).
    pub path: &'static str,
    pub summary: &'static str,
    /// OpenAPI tag (the legacy namespace).
    pub tag: &'static str,
    /// Name of the response schema in `components/schemas`, or `None` for no body.
    pub response: Option<&'static str>,
    /// Query parameters the route reads.
    pub query: &'static [QueryParam],
    /// Whether the route takes a JSON body (schema name).
    pub body: Option<&'static str>,
    /// The status of its success: 201 for a `POST`, 200 otherwise, unless set (KernelCI's and
    /// XPRESSO's `POST`s answer 200).
    pub success: Option<u16>,
}

impl RouteDoc {
    /// The status code of the route's success.
    pub fn success_status(&self) -> u16 {
        self.success.unwrap_or(if self.method == Method::POST {
            201
        } else {
            200
        })
    }
}

/// A route's handler: the state, the request (path parameters, query) and its body, already
/// bounded and buffered. Errors are rendered by the API's dialect.
pub type Handler =
    for<'a> fn(&'a AppState, &'a Request, &'a [u8]) -> BoxFuture<'a, AppResult<Response>>;

/// One row of a route table: what is documented, and what answers it.
pub struct Route {
    pub doc: RouteDoc,
    pub handler: Handler,
}

impl Route {
    /// A route of `tag` answered by `handler`, with no documented body or query parameter yet.
    pub fn new(
        method: Method,
        path: &'static str,
        tag: &'static str,
        summary: &'static str,
        handler: Handler,
    ) -> Route {
        Route {
            doc: RouteDoc {
                method,
                path,
                summary,
                tag,
                response: None,
                query: &[],
                body: None,
                success: None,
            },
            handler,
        }
    }

    /// The response body's schema name.
    pub fn answers(mut self, schema: Option<&'static str>) -> Route {
        self.doc.response = schema;
        self
    }

    /// The status its success answers with, where it is not the method's usual one.
    pub fn success(mut self, status: u16) -> Route {
        self.doc.success = Some(status);
        self
    }

    /// The query parameters it reads.
    pub fn query(mut self, params: &'static [QueryParam]) -> Route {
        self.doc.query = params;
        self
    }

    /// The JSON body's schema name.
    pub fn body(mut self, schema: &'static str) -> Route {
        self.doc.body = Some(schema);
        self
    }
}

/// How an API answers where no handler runs, in its own words.
pub struct Dialect {
    /// Any error, handlers' and guards' alike.
    pub render: fn(AppError) -> Response,
    /// A path no route matches.
    pub not_found: fn() -> Response,
    /// A method the path does not take (the method, then `allow`: those it takes).
    pub wrong_method: fn(&Method, HeaderValue) -> Response,
    /// How `OPTIONS` is answered, without a token, given the path's `Allow` header (Flask
    /// answered 200 with `Allow`); `None`: it is a wrong method.
    pub options: Option<fn(HeaderValue) -> Response>,
    /// `HEAD` is answered by the `GET` route (Flask, and poem by default); gorilla/mux did not.
    pub head_as_get: bool,
}

/// One REST API.
pub struct RestApi {
    /// What it is, for people: the legacy server it answers for.
    pub name: &'static str,
    /// Where it is mounted: `/api/v1`.
    pub prefix: &'static str,
    /// Other prefixes it answers under as well (KernelCI's `/jobs` beside `/job`); the OpenAPI
    /// document lists the routes under `prefix`.
    pub also_at: &'static [&'static str],
    /// The surface its tokens are checked on.
    pub surface: Surface,
    /// How its clients send a token.
    pub token_form: auth::TokenForm,
    /// The scope a request of this method needs.
    pub scope: fn(&Method) -> Scope,
    pub routes: Vec<Route>,
    /// Its `components/schemas` part of the OpenAPI document.
    pub schemas: fn() -> serde_json::Value,
    pub dialect: Dialect,
    /// What every answer of a route gets last, errors included (KernelCI's CORS echo and gzip).
    pub finish: Option<fn(&Request, Response) -> Response>,
    /// Said of every path in the OpenAPI document: answers the legacy server gave outside its
    /// routes' schemas on purpose (KernelCI's 501 for a verb a resource does not implement).
    pub paths_note: Option<&'static str>,
}

/// `OPTIONS` as Flask answered it: 200, no body, the path's methods in `Allow`.
pub fn options_allow(allow: HeaderValue) -> Response {
    let mut resp = Response::builder().status(StatusCode::OK).finish();
    resp.headers_mut().insert(header::ALLOW, allow);
    resp
}

/// Reads need `read`, everything else `write`: the legacy APIs' rule.
pub fn read_or_write(method: &Method) -> Scope {
    if method == Method::GET || method == Method::HEAD {
        Scope::Read
    } else {
        Scope::Write
    }
}

impl RestApi {
    /// The documented routes, for the OpenAPI document and the tests.
    pub fn docs(&self) -> impl Iterator<Item = &RouteDoc> {
        self.routes.iter().map(|r| &r.doc)
    }

    /// The router for the API's routes (mounted under its prefix): each path with all its
    /// methods, unknown paths and wrong methods answered in the dialect.
    pub fn router(self: Arc<Self>, state: Arc<AppState>) -> impl Endpoint<Output = Response> {
        let mut by_path: BTreeMap<&'static str, (RouteMethod, Vec<Method>)> = BTreeMap::new();
        for (i, r) in self.routes.iter().enumerate() {
            let (api, st) = (self.clone(), state.clone());
            let ep = poem::endpoint::make(move |req: Request| {
                let (api, st) = (api.clone(), st.clone());
                async move { api.run(i, &st, req).await }
            });
            let (entry, mut methods) = by_path.remove(r.doc.path).unwrap_or_default();
            let entry = entry.method(r.doc.method.clone(), ep);
            methods.push(r.doc.method.clone());
            by_path.insert(r.doc.path, (entry, methods));
        }
        let mut route = poem::Route::new();
        for (path, (mut entry, methods)) in by_path {
            let allow = self.allow_header(&methods);
            if let Some(options) = self.dialect.options {
                let allow = allow.clone();
                entry = entry.options(poem::endpoint::make_sync(move |_| options(allow.clone())));
            }
            if !self.dialect.head_as_get {
                let not_found = self.dialect.not_found;
                entry = entry.head(poem::endpoint::make_sync(move |_| not_found()));
            }
            let (not_found, wrong_method) = (self.dialect.not_found, self.dialect.wrong_method);
            let ep = entry.around(move |ep, req| {
                let allow = allow.clone();
                async move {
                    let method = req.method().clone();
                    match ep.call(req).await {
                        Err(e) if e.status() == StatusCode::METHOD_NOT_ALLOWED => {
                            Ok(wrong_method(&method, allow))
                        }
                        Err(e) if e.status() == StatusCode::NOT_FOUND => Ok(not_found()),
                        other => other,
                    }
                }
            });
            route = route.at(path, ep.into_endpoint());
        }
        let not_found = self.dialect.not_found;
        route.catch_error(move |_: poem::error::NotFoundError| async move { not_found() })
    }

    /// Runs route `i`: the token check on the API's surface, then the handler, errors rendered
    /// in the dialect; then the API's `finish`, if any, on whatever the answer is.
    async fn run(&self, i: usize, st: &AppState, mut req: Request) -> Response {
        let resp = self.answer(i, st, &mut req).await;
        match self.finish {
            Some(finish) => finish(&req, resp),
            None => resp,
        }
    }

    async fn answer(&self, i: usize, st: &AppState, req: &mut Request) -> Response {
        let render = self.dialect.render;
        let need = (self.scope)(req.method());
        let header = req.header("authorization");
        let principal = match auth::principal_from_header(&st.db, header, self.token_form).await {
            Ok(p) => p,
            Err(e) => return render(e),
        };
        if let Err(e) = auth::check(&st.config.auth, self.surface, &principal, need) {
            return render(e);
        }
        // Handlers of group-scoped APIs (XPRESSO) read who is calling from here.
        req.extensions_mut().insert(principal);
        // The request guard (`app`) has already bounded and buffered the body.
        let body = match req.take_body().into_bytes().await {
            Ok(b) => b,
            Err(e) => {
                return render(AppError::bad_request(format!(
                    "could not read the body: {e}"
                )));
            }
        };
        match (self.routes[i].handler)(st, req, &body).await {
            Ok(resp) => resp,
            Err(e) => render(e),
        }
    }

    /// The `Allow` header of a path: its methods, `HEAD` where `GET` answers it, and `OPTIONS`
    /// where the dialect answers it.
    fn allow_header(&self, methods: &[Method]) -> HeaderValue {
        let mut names: Vec<&str> = methods.iter().map(Method::as_str).collect();
        if self.dialect.head_as_get && methods.contains(&Method::GET) {
            names.push("HEAD");
        }
        if self.dialect.options.is_some() {
            names.push("OPTIONS");
        }
        names.sort_unstable();
        names.dedup();
        // Method names are tokens, always valid in a header.
        HeaderValue::from_str(&names.join(", ")).unwrap_or(HeaderValue::from_static(""))
    }
}
