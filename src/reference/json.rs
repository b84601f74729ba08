//! A JSON body extractor whose every rejection is an [`ApiError`] in the API's own shape.

use super::error::ApiError;
use super::faults::Fault;
use super::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// Largest accepted body; larger ones get 413 (spec §3.3 IAM.1101: more than 32 KB).
pub const BODY_LIMIT: usize = 32 * 1024;

/// Like `axum::Json`, but malformed JSON, wrong types, missing fields and oversized bodies are
/// answered as documented 4xx error bodies.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "IAM.1101", "The request body size is invalid.")
            } else {
                ApiError::body_invalid()
            }
        })?;
        if bytes.is_empty() {
            return Err(ApiError::new(StatusCode::BAD_REQUEST, "IAM.1101", "The request body size is invalid."));
        }
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| {
            if state.faults.has(Fault::MalformedJson500) {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "IAM.0006",
                    "An unexpected error prevented the server from fulfilling your request.",
                )
            } else {
                ApiError::body_invalid()
            }
        })?;
        let value = if state.faults.has(Fault::WrongTypeCoerced) { numbers_as_strings(value) } else { value };
        serde_json::from_value(value).map(ApiJson).map_err(|e| {
            let text = e.to_string();
            match text.strip_prefix("missing field ") {
                Some(field) => ApiError::missing_field(format!("Required property {field} is missing.")),
                None if state.faults.has(Fault::NullField500) && text.starts_with("invalid type: null") => {
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "IAM.0006",
                        "An unexpected error prevented the server from fulfilling your request.",
                    )
                }
                None => {
                    ApiError::new(StatusCode::BAD_REQUEST, "IAM.0073", "Invalid value for a field of the request body.")
                }
            }
        })
    }
}

/// Every number in `value` as its decimal text (the `wrong-type-coerced` fault's lenient binding).
fn numbers_as_strings(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Array(items) => Value::Array(items.into_iter().map(numbers_as_strings).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, numbers_as_strings(v))).collect()),
        other => other,
    }
}
