//! The reference server's error type: documented status, IAM error code and message, rendered
//! as the IAM extension error body `{"error_msg", "error_code"}` (spec §3.1).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answer of the reference server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }

    /// 401 IAM.0001: no token, or one that is unknown or expired.
    pub fn unauthenticated(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "IAM.0001", message)
    }

    /// 403 IAM.0002 [iam_08_0013].
    pub fn forbidden() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "IAM.0002", "You are not authorized to perform the requested action.")
    }

    /// 404 IAM.0004 [iam_08_0013].
    pub fn not_found(target: &str, id: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "IAM.0004", format!("Could not find {target}: {id}."))
    }

    /// 409 IAM.0005 (spec §3.3).
    pub fn conflict(details: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "IAM.0005", details)
    }

    /// 400 IAM.0011: the body is not valid JSON (spec §3.1).
    pub fn body_invalid() -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "IAM.0011", "Request body is invalid.")
    }

    /// 400 IAM.0072: a required property is missing.
    pub fn missing_field(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "IAM.0072", detail)
    }

    /// 400 IAM.0073: a field has an invalid value.
    pub fn invalid_field(field: &str) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "IAM.0073", format!("Invalid value for field '{field}'."))
    }

    /// 400 IAM.0007: a request parameter is invalid.
    pub fn invalid_parameter(key: &str) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "IAM.0007", format!("Request parameter {key} is invalid."))
    }

    /// 400 IAM.1061: a TOTP passcode was wrong, stale, replayed or malformed.
    pub fn bad_passcode() -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "IAM.1061", "Invalid TOTP passcode.")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error_msg": self.message, "error_code": self.code});
        let mut response = (self.status, Json(body)).into_response();
        response.extensions_mut().insert(self);
        response
    }
}

/// The same error in the Keystone shape (spec §3.1 shape 2), for the `error-body-keystone` fault.
pub fn keystone_body(error: &ApiError) -> serde_json::Value {
    json!({"error": {
        "code": error.status.as_u16(),
        "message": error.message,
        "title": error.status.canonical_reason().unwrap_or("Error"),
    }})
}
