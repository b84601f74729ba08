//! Requests signed with an access key (SDK-HMAC-SHA256, `serve --access-key AK:SK`): the
//! signature is computed again from the request as received, with the signing rules the
//! harness signs with ([`crate::sign`]); a match makes the caller the account administrator.
//! A bad signature, an unknown access key, or an `X-Sdk-Date` missing or more than 15 minutes
//! from the server's clock is 401 IAM.0001.

use super::error::ApiError;
use super::json::BODY_LIMIT;
use super::state::{AppState, SignedBy};
use crate::sign;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::UNIX_EPOCH;

/// Verifies the signature of a request whose Authorization is of the SDK-HMAC-SHA256 scheme;
/// other requests pass untouched (tokens are the handlers' business).
pub async fn verify_signature(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let signed = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with(sign::ALGORITHM));
    if !signed {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "IAM.1101", "The request body size is invalid.")
            .into_response();
    };
    match verify(&state, &parts, &bytes) {
        Ok(access) => {
            parts.extensions.insert(SignedBy(access));
            next.run(Request::from_parts(parts, Body::from(bytes))).await
        }
        Err(error) => error.into_response(),
    }
}

fn refused(why: &str) -> ApiError {
    ApiError::unauthenticated(format!("Authentication failed: {why}."))
}

/// The access key whose signature this is, or why it is refused.
fn verify(state: &AppState, parts: &Parts, body: &[u8]) -> Result<String, ApiError> {
    let header = |name: &str| {
        let values: Vec<String> =
            parts.headers.get_all(name).iter().map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).collect();
        (!values.is_empty()).then(|| values.join(","))
    };
    let authorization = header("authorization").unwrap_or_default();
    let Some(auth) = sign::parse_authorization(&authorization) else {
        return Err(refused("the Authorization header is not SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…"));
    };
    let Some(keys) = state.access_keys.iter().find(|k| k.access == auth.access) else {
        return Err(refused("the access key is unknown"));
    };
    let Some(date) = header(sign::DATE_HEADER) else {
        return Err(refused("the X-Sdk-Date header is missing"));
    };
    let at = sign::parse_date(date.trim()).map_err(|_| refused("the X-Sdk-Date header is not YYYYMMDDTHHMMSSZ"))?;
    let at = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    if at.abs_diff(state.now()) > sign::DATE_TOLERANCE.as_secs() {
        return Err(refused("the X-Sdk-Date is more than 15 minutes from the server's clock"));
    }
    if !auth.signed_headers.iter().any(|h| h == "x-sdk-date") {
        return Err(refused("the X-Sdk-Date header is not signed"));
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    for name in auth.signed_headers.iter().map(String::as_str).chain([sign::CONTENT_HASH_HEADER]) {
        if let Some(value) = header(name) {
            headers.push((name.to_string(), value));
        }
    }
    let query = sign::query_pairs(parts.uri.query());
    let request =
        sign::Request { method: parts.method.as_str(), path: parts.uri.path(), query: &query, headers: &headers, body };
    let canonical = sign::canonical_request(&request, &auth.signed_headers);
    let expected =
        sign::signature(keys.secret(), &canonical, &sign::format_date(UNIX_EPOCH + std::time::Duration::from_secs(at)));
    if !sign::same_signature(&expected, &auth.signature) {
        return Err(refused("the signature does not match the request"));
    }
    Ok(auth.access)
}
