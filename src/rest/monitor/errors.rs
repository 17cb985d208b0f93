//! pytest-monitor's error dialect (flask-restx): `{"message": ...}` bodies, and for payload
//! validation `{"errors": {field: msg}, "message": "Input payload validation failed"}`.

use poem::Response;
use poem::http::{HeaderValue, StatusCode, header};
use serde_json::json;

use crate::error::{AppError, FieldError};

/// flask-restx's text for a 404, which also answers an out-of-range page.
pub const NOT_FOUND_MESSAGE: &str = "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";

pub fn json(status: StatusCode, body: impl serde::Serialize) -> Response {
    // Serialising plain data cannot fail; `to_vec` writes straight to the buffer (a `Value`'s
    // `to_string` goes through `fmt` and cost a fifth of a list request).
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(bytes)
}

pub fn not_found() -> Response {
    json(
        StatusCode::NOT_FOUND,
        json!({ "message": NOT_FOUND_MESSAGE }),
    )
}

/// A method the route does not take: flask-restx's JSON message, with the route's methods in
/// `Allow` as Werkzeug sends them (poem's own 405 is empty).
pub fn method_not_allowed(allow: HeaderValue) -> Response {
    let mut resp = json(
        StatusCode::METHOD_NOT_ALLOWED,
        json!({"message": "The method is not allowed for the requested URL."}),
    );
    resp.headers_mut().insert(header::ALLOW, allow);
    resp
}

/// flask-restx's payload validation failure: every wrong field, in the order given.
pub fn validation(fields: &[FieldError]) -> Response {
    let errors: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .map(|f| (f.field.clone(), f.message.clone().into()))
        .collect();
    json(
        StatusCode::BAD_REQUEST,
        json!({ "errors": errors, "message": "Input payload validation failed" }),
    )
}

/// Any `AppError` in this dialect.
pub fn render(e: AppError) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match &e {
        AppError::InvalidFields(fields) => validation(fields),
        AppError::Database(_) | AppError::Internal(_) => {
            // Logged by public_message; flask's own words for a 500.
            let _ = e.public_message();
            json(status, json!({ "message": "Internal Server Error" }))
        }
        _ => json(status, json!({ "message": e.public_message() })),
    }
}
