//! Handlers of the identity calls the harness provisions with: tokens, users, login protection.

use super::error::ApiError;
use super::identity::format_time;
use super::json::ApiJson;
use super::state::AppState;
use super::store::{Caller, User};
use crate::api::SUBJECT_TOKEN_HEADER;
use crate::api::models::{CreateUserRequest, TokenRequest, UpdateLoginProtectRequest};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

fn user_json(user: &User, domain_id: &str) -> Value {
    json!({
        "id": user.id, "name": user.name, "domain_id": domain_id, "enabled": user.enabled,
        "pwd_status": user.password.is_some(), "access_mode": "default", "status": null,
        "is_domain_owner": user.is_admin, "create_time": user.create_time,
        "description": user.description.clone().unwrap_or_default(), "password_expires_at": null,
    })
}

/// `POST /v3/auth/tokens` [iam_30_0001][iam_03_0006]: the token is the `X-Subject-Token` header.
pub async fn token_create(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<Response, ApiError> {
    let now = state.now();
    let mut store = state.write();
    let issued = store.issue_token(&body, now)?;
    let domain = json!({"id": store.domain_id, "name": store.domain_name});
    drop(store);
    let token = json!({"token": {
        "methods": issued.methods,
        "expires_at": format_time(issued.expires_at),
        "issued_at": format_time(issued.issued_at),
        "user": {"id": issued.user_id, "name": issued.user_name, "domain": domain, "password_expires_at": ""},
        "domain": domain,
        "roles": [{"id": "0", "name": "te_admin"}],
    }});
    let mut response = (StatusCode::CREATED, Json(token)).into_response();
    let header = HeaderValue::from_str(&issued.token).map_err(|_| ApiError::body_invalid())?;
    response.headers_mut().insert(SUBJECT_TOKEN_HEADER, header);
    Ok(response)
}

/// `POST /v3.0/OS-USER/users` [iam_08_0015].
pub async fn user_create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> Result<Response, ApiError> {
    let now = state.now();
    let answer = {
        let mut store = state.write();
        let domain_id = store.domain_id.clone();
        let user = store.create_user(&caller, &body.user, now)?;
        json!({"user": user_json(user, &domain_id)})
    };
    if !state.delays.user_create.is_zero() {
        tokio::time::sleep(state.delays.user_create).await;
    }
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `DELETE /v3/users/{user_id}` [iam_08_0009].
pub async fn user_delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !state.delays.user_delete.is_zero() {
        tokio::time::sleep(state.delays.user_delete).await;
    }
    state.write().delete_user(&caller, &user_id)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v3/users`: the account's users (administrators only).
pub async fn user_list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    if !caller.is_admin {
        return Err(ApiError::forbidden());
    }
    let store = state.read();
    let users: Vec<Value> = store.users().into_iter().map(|u| user_json(u, &store.domain_id)).collect();
    Ok(Json(json!({"users": users})))
}

/// `GET /v3.0/OS-USER/users/{user_id}/login-protect` [iam_08_0016].
pub async fn login_protect_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let protect = state.read().login_protect(&caller, &user_id)?;
    Ok(Json(json!({"login_protect": protect})))
}

/// `GET /v3.0/OS-USER/login-protects` [iam_08_0014].
pub async fn login_protect_list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let list = state.read().login_protects(&caller)?;
    Ok(Json(json!({"login_protects": list})))
}

/// `PUT /v3.0/OS-USER/users/{user_id}/login-protect` [iam_08_0021].
pub async fn login_protect_modify(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
    ApiJson(body): ApiJson<UpdateLoginProtectRequest>,
) -> Result<Json<Value>, ApiError> {
    let p = body.login_protect;
    let protect = state.write().set_login_protect(&caller, &user_id, p.enabled, &p.verification_method)?;
    Ok(Json(json!({"login_protect": protect})))
}
