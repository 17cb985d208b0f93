//! KernelCI's error dialect (fact sheet §4.1): `{"code": N, "reason": ...}` with the HTTP status
//! equal to `code`; 403 for a missing or insufficient token; the application's own
//! `{"code":404,"message":"Resource not found"}` for a path no route matches; 501 for a method a
//! resource does not implement; `OPTIONS` answered `{"code":200}` without a token.

use poem::Response;
use poem::http::{HeaderValue, Method, StatusCode, header};
use serde_json::json;

use super::wire::{self, JSON_CONTENT_TYPE};
use crate::error::AppError;

/// The backend's 403 reason (`valid_token_general`).
pub const NOT_AUTHORIZED: &str = "Operation not permitted: provided token is not authorized";

fn json(status: StatusCode, v: &serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .content_type(JSON_CONTENT_TYPE)
        .body(wire::text(v))
}

/// `{code, reason}` with `status`.
pub fn reason(status: StatusCode, text: &str) -> Response {
    json(status, &wire::reason(status, text, &[]))
}

/// Any `AppError` in this dialect. A missing, unknown or insufficient token is the backend's 403;
/// internal failures are its "Internal database error", their detail logged.
pub fn render(e: AppError) -> Response {
    match &e {
        AppError::Unauthenticated(_) | AppError::Forbidden(_) => {
            reason(StatusCode::FORBIDDEN, NOT_AUTHORIZED)
        }
        AppError::Database(_) | AppError::Internal(_) => {
            let _ = e.public_message();
            reason(StatusCode::INTERNAL_SERVER_ERROR, "Internal database error")
        }
        _ => {
            let status =
                StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            reason(status, &e.public_message())
        }
    }
}

/// The application's answer for a path no route matches (Tornado's default handler in
/// `handlers/app.py`): `message`, not `reason`.
pub fn not_found() -> Response {
    json(
        StatusCode::NOT_FOUND,
        &json!({"code": 404, "message": "Resource not found"}),
    )
}

/// A method the resource does not take. The backend's base handler answered the verbs it
/// defines (GET, POST, PUT, DELETE) with 501 where a resource does not implement them; any other
/// method (PATCH, TRACE, ...) never reached it: Tornado refused it with 405, which the base
/// handler's `write_error` words "Operation not allowed".
pub fn wrong_method(method: &Method, _allow: HeaderValue) -> Response {
    if [Method::GET, Method::POST, Method::PUT, Method::DELETE].contains(method) {
        reason(StatusCode::NOT_IMPLEMENTED, "Method not implemented")
    } else {
        reason(StatusCode::METHOD_NOT_ALLOWED, "Operation not allowed")
    }
}

/// `OPTIONS`: 200 `{"code":200}`, without a token, with the path's methods in `Allow`.
pub fn options(allow: HeaderValue) -> Response {
    let mut resp = json(StatusCode::OK, &json!({"code": 200}));
    resp.headers_mut().insert(header::ALLOW, allow);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(r: Response) -> (u16, String) {
        let s = r.status().as_u16();
        (s, r.into_body().into_string().await.unwrap_or_default())
    }

    #[tokio::test]
    async fn tokens_and_internal_failures_get_the_backend_words() {
        let (s, b) = body(render(AppError::Unauthenticated("x".into()))).await;
        assert_eq!(
            (s, b.as_str()),
            (
                403,
                r#"{"code":403,"reason":"Operation not permitted: provided token is not authorized"}"#
            )
        );
        let (s, b) = body(render(AppError::Internal("secret detail".into()))).await;
        assert_eq!(
            (s, b.as_str()),
            (500, r#"{"code":500,"reason":"Internal database error"}"#)
        );
        let (s, b) = body(render(AppError::bad_request("Wrong ID value provided"))).await;
        assert_eq!(
            (s, b.as_str()),
            (400, r#"{"code":400,"reason":"Wrong ID value provided"}"#)
        );
    }
}
