//! Cross-origin requests (CORS) from browser frontends, for the origins the operator names with
//! `--cors-origin`.
//!
//! Off by default. testgraph's reads are open, and a server on an internal network that let any
//! web page read it would hand its data to every site its users visit; so an operator names the
//! dashboards' origins, or `*` on purpose.
//!
//! A request from an origin that is not allowed is served exactly as without CORS: the browser,
//! not the server, refuses to show the answer to the page. (poem's own `Cors` middleware answers
//! such requests 403, which would also refuse GraphiQL's same-origin requests and any non-browser
//! client that happens to send an `Origin` header.) Credentials are never allowed: testgraph's
//! tokens travel in the `Authorization` header, which a preflight may allow without cookies.

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};

/// The methods any testgraph route answers (Evergreen's `PATCH` among them).
const METHODS: &str = "GET, HEAD, POST, PATCH, OPTIONS";
/// The request headers a preflight allows when the browser names none.
const DEFAULT_HEADERS: &str = "authorization, content-type";
/// How long a browser may reuse a preflight's answer, in seconds.
const MAX_AGE_SECS: &str = "600";

/// Which origins may read testgraph's answers from a browser.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorsOrigins {
    any: bool,
    exact: Vec<String>,
}

impl CorsOrigins {
    /// From the configured values: `*`, or origins such as `https://dash.example.com:8443`
    /// (scheme, host and optional port; no path).
    pub fn parse(values: &[String]) -> Result<CorsOrigins, String> {
        let mut origins = CorsOrigins::default();
        for v in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
            let v = v.strip_suffix('/').unwrap_or(v);
            if v == "*" {
                origins.any = true;
                continue;
            }
            let rest = v
                .strip_prefix("https://")
                .or_else(|| v.strip_prefix("http://"))
                .ok_or_else(|| format!("CORS origin '{v}' must start with http:// or https://"))?;
            let valid_host = !rest.is_empty()
                && rest
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c));
            if !valid_host {
                return Err(format!(
                    "CORS origin '{v}' must be a scheme, a host and an optional port, without a path"
                ));
            }
            // Browsers send the origin's scheme and host in lower case.
            origins.exact.push(v.to_ascii_lowercase());
        }
        Ok(origins)
    }

    pub fn is_empty(&self) -> bool {
        !self.any && self.exact.is_empty()
    }

    fn allows(&self, origin: &str) -> bool {
        self.any || self.exact.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }
}

/// Serves `req` through `ep`, answering preflights and marking answers readable for the allowed
/// origins.
pub async fn handle<E: Endpoint>(
    origins: &CorsOrigins,
    ep: &E,
    req: Request,
) -> poem::Result<Response> {
    let origin = req
        .header(header::ORIGIN)
        .filter(|o| origins.allows(o))
        .and_then(|o| HeaderValue::from_str(o).ok());
    let Some(origin) = origin else {
        if origins.is_empty() {
            return ep.call(req).await.map(IntoResponse::into_response);
        }
        // Whether an answer names its reader depends on `Origin` once any origin is allowed, so a
        // shared cache must not hand this answer to an allowed origin (nor the other way round).
        let mut resp = answer(ep, req).await;
        resp.headers_mut()
            .append(header::VARY, HeaderValue::from_static("Origin"));
        return Ok(resp);
    };
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let allow_headers = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned()
            .unwrap_or(HeaderValue::from_static(DEFAULT_HEADERS));
        return Ok(Response::builder()
            .status(StatusCode::NO_CONTENT)
            .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin)
            .header(header::ACCESS_CONTROL_ALLOW_METHODS, METHODS)
            .header(header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers)
            .header(header::ACCESS_CONTROL_MAX_AGE, MAX_AGE_SECS)
            .header(
                header::VARY,
                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            )
            .finish());
    }
    let mut resp = answer(ep, req).await;
    let headers = resp.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    Ok(resp)
}

/// The endpoint's answer, its errors rendered as poem renders them.
async fn answer<E: Endpoint>(ep: &E, req: Request) -> Response {
    match ep.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::CorsOrigins;

    fn parse(v: &[&str]) -> Result<CorsOrigins, String> {
        CorsOrigins::parse(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn origins_are_scheme_host_and_port_or_a_star() {
        let o = parse(&["https://Dash.Example.com/", "http://localhost:5173"]).unwrap();
        assert!(o.allows("https://dash.example.com"));
        assert!(o.allows("http://localhost:5173"));
        assert!(!o.allows("http://localhost:5174"));
        assert!(!o.allows("https://evil.example"));
        assert!(parse(&["*"]).unwrap().allows("https://anything.example"));
        assert!(parse(&[]).unwrap().is_empty());
        assert!(parse(&[""]).unwrap().is_empty());
        for bad in [
            "dash.example.com",
            "ftp://dash.example.com",
            "https://dash.example.com/app",
            "https://",
            "https://a b",
        ] {
            assert!(parse(&[bad]).is_err(), "{bad}");
        }
    }
}
