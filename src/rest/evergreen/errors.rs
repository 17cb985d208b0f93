//! Evergreen REST v1's error dialect: `{"message": ...}` bodies written like every other answer
//! (Go's indented JSON) [EVG rest/locals.go responseError], and gorilla/mux's plain-text
//! `404 page not found` for paths and methods no route matches.

use poem::Response;
use poem::http::StatusCode;

use super::{gojson, wire};
use crate::error::AppError;

/// The header Evergreen's `render.WriteJSON` sent: `render.New` defaults `Encoding` to `UTF-8`
/// and Evergreen's UI never set another.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=UTF-8";

/// What Go's `http.NotFound` writes (`http.Error` appends a newline).
pub const GORILLA_NOT_FOUND: &str = "404 page not found\n";

/// A body rendered as Go's `json.MarshalIndent(v, "", "  ")`.
pub fn json(status: StatusCode, body: &serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .content_type(JSON_CONTENT_TYPE)
        .body(gojson::render(body))
}

/// `{"message": text}` with `status`.
pub fn message(status: StatusCode, text: &str) -> Response {
    json(status, &wire::message(text))
}

/// gorilla/mux's answer for an unmatched path or method: Go's `http.NotFound`.
pub fn gorilla_not_found() -> Response {
    Response::builder()
        .status(StatusCode::NOT_FOUND)
        .content_type("text/plain; charset=utf-8")
        .header("X-Content-Type-Options", "nosniff")
        .body(GORILLA_NOT_FOUND)
}

/// Any `AppError` in this dialect: its status and `{"message": ...}` with its public message
/// (internal detail is logged, never sent). Routes word their failures in the Go handlers'
/// sentences with `AppError::reworded`.
pub fn render(e: AppError) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    message(status, &e.public_message())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(r: Response) -> (StatusCode, Option<String>, String) {
        let status = r.status();
        let ct = r.content_type().map(str::to_owned);
        let text = r.into_body().into_string().await.unwrap_or_default();
        (status, ct, text)
    }

    #[tokio::test]
    async fn internal_failures_keep_the_legacy_sentence_and_hide_the_detail() {
        let e = AppError::Database(sea_orm::DbErr::Custom("secret table evg_tasks".into()));
        let (status, ct, text) = body(render(e.reworded("Error finding task 'x'"))).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(ct.as_deref(), Some(JSON_CONTENT_TYPE));
        assert_eq!(text, "{\n  \"message\": \"Error finding task 'x'\"\n}");

        let failure = AppError::not_found("no").reworded("Error finding build 'b'");
        let (status, _, text) = body(render(failure)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(text, "{\n  \"message\": \"Error finding build 'b'\"\n}");

        let (status, _, text) = body(render(AppError::Internal("stack trace".into()))).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!text.contains("stack"), "{text}");

        let (status, _, text) = body(render(AppError::Timeout.reworded("Error finding x"))).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(text.contains("did not answer in time"), "{text}");
    }

    #[tokio::test]
    async fn unmatched_routes_answer_like_go_http_not_found() {
        let (status, ct, text) = body(gorilla_not_found()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(ct.as_deref(), Some("text/plain; charset=utf-8"));
        assert_eq!(text, "404 page not found\n");
    }
}
