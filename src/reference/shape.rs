//! The shape of every answer, applied after the handler: each error in the API's JSON shape
//! (axum's own rejections too), the error texts of the `other-error-texts` reading, and the
//! faults of the answer's shape (error bodies, 204 answers, Content-Type).

use super::error::{ApiError, keystone_body};
use super::faults::Fault;
use super::readings::Reading;
use super::state::AppState;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The faults that change an error body.
const ERROR_FAULTS: [Fault; 5] = [
    Fault::ErrorBodyKeystone,
    Fault::ForbiddenCodeMismatch,
    Fault::NotFoundCodeMismatch,
    Fault::ErrorMsgMissing,
    Fault::ErrorCodeNumeric,
];

/// Gives every error the API's JSON shape and applies the readings and faults of the shape.
pub async fn shape_response(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let status = response.status();
    let error = response.extensions().get::<ApiError>().cloned();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error()) && error.is_none() && !is_json {
        response = ApiError::new(status, "IAM.0007", "The request is invalid.").into_response();
    }
    if let Some(error) = response.extensions().get::<ApiError>().cloned()
        && let Some(reshaped) = reshape_error(&state, error)
    {
        response = reshaped;
    }
    let faults = state.faults;
    if status == StatusCode::NO_CONTENT && faults.has(Fault::NoContentWithBody) {
        response = (StatusCode::NO_CONTENT, Json(json!({}))).into_response();
    }
    if status == StatusCode::NO_CONTENT && faults.has(Fault::NoContentLength) {
        // A body of unknown length, so hyper writes the declared length and then sends nothing.
        *response.body_mut() = Body::from_stream(futures::stream::empty::<Result<Bytes, std::io::Error>>());
        response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from_static("2"));
    }
    if faults.has(Fault::TextContentType) && response.headers().contains_key(header::CONTENT_TYPE) {
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    }
    if faults.has(Fault::JsonContentTypeMissing) {
        response.headers_mut().remove(header::CONTENT_TYPE);
    }
    response
}

/// The error's answer again when a reading or a fault changes its body.
fn reshape_error(state: &AppState, mut error: ApiError) -> Option<Response> {
    let faults = state.faults;
    let other_texts = state.readings.has(Reading::OtherErrorTexts);
    if !other_texts && !ERROR_FAULTS.iter().any(|f| faults.has(*f)) {
        return None;
    }
    if other_texts {
        error.message = other_text(error.code).to_string();
    }
    if faults.has(Fault::ForbiddenCodeMismatch) && error.status == StatusCode::FORBIDDEN {
        error.code = "IAM.0004";
    }
    if faults.has(Fault::NotFoundCodeMismatch) && error.status == StatusCode::NOT_FOUND {
        error.code = "IAM.0001";
    }
    let mut body = if faults.has(Fault::ErrorBodyKeystone) {
        keystone_body(&error)
    } else {
        json!({"error_msg": error.message, "error_code": error.code})
    };
    if let Some(object) = body.as_object_mut() {
        if faults.has(Fault::ErrorMsgMissing) {
            object.remove("error_msg");
        }
        let number = error.code.rsplit('.').next().and_then(|digits| digits.parse::<u64>().ok());
        if faults.has(Fault::ErrorCodeNumeric)
            && object.contains_key("error_code")
            && let Some(number) = number
        {
            object.insert("error_code".into(), json!(number));
        }
    }
    let status = error.status;
    let mut response = (status, Json(body)).into_response();
    response.extensions_mut().insert(error);
    Some(response)
}

/// The `other-error-texts` reading's wording of each error code (spec §3.3 gives meanings, not
/// texts).
fn other_text(code: &str) -> &'static str {
    match code {
        "IAM.0001" => "The request could not be authenticated.",
        "IAM.0002" => "The caller has no permission for this operation.",
        "IAM.0004" => "The resource named in the request does not exist.",
        "IAM.0005" => "The request conflicts with the current state of the resource.",
        "IAM.0006" => "Internal server error.",
        "IAM.0007" | "IAM.0011" | "IAM.0072" | "IAM.0073" => "The request is not valid.",
        "IAM.1061" => "The verification code is incorrect.",
        "IAM.1062" => "The virtual MFA device protects the login and cannot be unbound.",
        "IAM.1101" => "The size of the request body is not accepted.",
        _ => "The request failed.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_gets_another_text() {
        for (code, original) in [
            ("IAM.0002", "You are not authorized to perform the requested action."),
            ("IAM.1061", "Invalid TOTP passcode."),
            ("IAM.0011", "Request body is invalid."),
        ] {
            assert_ne!(other_text(code), original);
        }
    }
}
