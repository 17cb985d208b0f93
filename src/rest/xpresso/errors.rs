//! XPRESSO's error dialect (seed 002, fact sheet §3.1): every error is `{"Error": "<sentence>"}`
//! with its status, except a missing request, which is a 404 with the body `{}` (the seed's
//! "Retrieve Request" and "Stop Request"); an unknown path under `/api/v1/requests` is that same
//! 404. No token is a 401, a token without the permission (or of another group than `X-Group`
//! names) a 403; internal failures are a 500 whose detail is only logged.

use poem::Response;
use poem::http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use crate::error::AppError;

/// The content type of every JSON answer.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// `v` as JSON with `status`.
pub fn respond(status: StatusCode, v: &Value) -> Response {
    Response::builder()
        .status(status)
        .content_type(JSON_CONTENT_TYPE)
        .body(v.to_string())
}

/// `{"Error": text}` with `status`.
pub fn error(status: StatusCode, text: &str) -> Response {
    respond(status, &json!({ "Error": text }))
}

/// Any `AppError` in this dialect: a missing request is `{}`; everything else `{"Error": ...}`
/// with its own status (internal failures reduced to "internal server error", their detail
/// logged by `public_message`).
pub fn render(e: AppError) -> Response {
    if matches!(e, AppError::NotFound(_)) {
        return not_found();
    }
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let text = match &e {
        AppError::Database(_) | AppError::Internal(_) | AppError::InternalWorded(_) => {
            let _ = e.public_message();
            "internal server error".to_owned()
        }
        _ => e.public_message(),
    };
    error(status, &text)
}

/// A missing request, or a path no route matches: 404 `{}`.
pub fn not_found() -> Response {
    respond(StatusCode::NOT_FOUND, &json!({}))
}

/// A method the path does not take: 405 `{"Error": "Method not allowed"}`, the path's methods in
/// `Allow`.
pub fn wrong_method(allow: HeaderValue) -> Response {
    let mut resp = error(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed");
    resp.headers_mut().insert(header::ALLOW, allow);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(r: Response) -> (u16, Option<String>, String) {
        let s = r.status().as_u16();
        let ct = r.content_type().map(str::to_owned);
        (s, ct, r.into_body().into_string().await.unwrap_or_default())
    }

    #[tokio::test]
    async fn every_error_has_its_status_and_sentence() {
        let (s, ct, b) = body(render(AppError::bad_request(
            "Provided profile is not defined.",
        )))
        .await;
        assert_eq!(
            (s, b.as_str()),
            (400, r#"{"Error":"Provided profile is not defined."}"#)
        );
        assert_eq!(ct.as_deref(), Some(JSON_CONTENT_TYPE));
        let (s, _, b) = body(render(AppError::not_found("request REQ0000001 not found"))).await;
        assert_eq!((s, b.as_str()), (404, "{}"));
        let (s, _, b) = body(render(AppError::Unauthenticated("no token".into()))).await;
        assert_eq!((s, b.as_str()), (401, r#"{"Error":"no token"}"#));
        let (s, _, b) = body(render(AppError::Forbidden("no".into()))).await;
        assert_eq!((s, b.as_str()), (403, r#"{"Error":"no"}"#));
        let (s, _, b) = body(render(AppError::PayloadTooLarge(10))).await;
        assert_eq!(
            (s, b.as_str()),
            (413, r#"{"Error":"request body larger than 10 bytes"}"#)
        );
        let (s, _, b) = body(render(AppError::Timeout)).await;
        assert_eq!(s, 503, "{b}");
        for e in [
            AppError::Internal("secret detail".into()),
            AppError::InternalWorded("secret words".into()),
        ] {
            let (s, _, b) = body(render(e)).await;
            assert_eq!(
                (s, b.as_str()),
                (500, r#"{"Error":"internal server error"}"#)
            );
        }
    }

    #[tokio::test]
    async fn unknown_paths_and_wrong_methods() {
        let (s, _, b) = body(not_found()).await;
        assert_eq!((s, b.as_str()), (404, "{}"));
        let r = wrong_method(HeaderValue::from_static("GET, HEAD, OPTIONS"));
        assert_eq!(
            r.headers().get(header::ALLOW).unwrap(),
            "GET, HEAD, OPTIONS"
        );
        let (s, _, b) = body(r).await;
        assert_eq!((s, b.as_str()), (405, r#"{"Error":"Method not allowed"}"#));
    }
}
