//! StackTach's error dialect. quincy let every driver exception through to the WSGI server, a
//! bare 500 (fact sheet §5.1); testgraph answers bad input with a JSON 400 and an unknown
//! stream or event with a JSON 404, both `{"error": "..."}` (docs/compat.md). What Falcon itself
//! answered is kept: an unknown path is a 404 with an empty body, a method the path does not
//! take a 405 with an empty body and `Allow`, and `OPTIONS` a 204 with `Allow` (Falcon 0.x's
//! default responders).

use poem::Response;
use poem::http::{HeaderValue, StatusCode, header};
use serde_json::json;

use super::wire;
use crate::error::AppError;

/// Any `AppError` as `{"error": message}` with its status; internal failures keep their detail
/// in the log.
pub fn render(e: AppError) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    wire::respond(status, &json!({ "error": e.public_message() }))
}

/// A path no route matches: Falcon's 404, no body.
pub fn not_found() -> Response {
    Response::builder().status(StatusCode::NOT_FOUND).finish()
}

/// A method the path does not take: Falcon's 405, no body, the path's methods in `Allow`.
pub fn wrong_method(allow: HeaderValue) -> Response {
    let mut resp = Response::builder()
        .status(StatusCode::METHOD_NOT_ALLOWED)
        .finish();
    resp.headers_mut().insert(header::ALLOW, allow);
    resp
}

/// `OPTIONS`: Falcon 0.x's default responder, 204 with the path's methods in `Allow`.
pub fn options(allow: HeaderValue) -> Response {
    let mut resp = Response::builder().status(StatusCode::NO_CONTENT).finish();
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
    async fn errors_are_json_with_their_status() {
        let (s, ct, b) = body(render(AppError::bad_request("'mark' is hex"))).await;
        assert_eq!((s, b.as_str()), (400, r#"{"error":"'mark' is hex"}"#));
        assert_eq!(ct.as_deref(), Some(wire::JSON_CONTENT_TYPE));
        let (s, _, b) = body(render(AppError::not_found("no stream 9"))).await;
        assert_eq!((s, b.as_str()), (404, r#"{"error":"no stream 9"}"#));
        let (s, _, b) = body(render(AppError::Internal("secret detail".into()))).await;
        assert_eq!(
            (s, b.as_str()),
            (500, r#"{"error":"internal server error"}"#)
        );
    }

    #[tokio::test]
    async fn falcon_answers_have_no_body() {
        let (s, _, b) = body(not_found()).await;
        assert_eq!((s, b.as_str()), (404, ""));
        let r = wrong_method(HeaderValue::from_static("GET"));
        assert_eq!(r.headers().get(header::ALLOW).unwrap(), "GET");
        let (s, _, b) = body(r).await;
        assert_eq!((s, b.as_str()), (405, ""));
    }
}
