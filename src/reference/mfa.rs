//! Handlers of the six virtual-MFA endpoints (spec §1.1–1.6).

use super::error::ApiError;
use super::faults::Fault;
use super::json::ApiJson;
use super::state::AppState;
use super::store::Caller;
use crate::api::models::{BindMfaDevice, CreateMfaDeviceRequest, UnbindMfaDevice};
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::time::Duration;

/// How long the `bind-not-atomic` fault holds a checked bind before committing it.
const NON_ATOMIC_WINDOW: Duration = Duration::from_millis(50);

/// `POST /v3.0/OS-MFA/virtual-mfa-devices` [iam_08_0019].
pub async fn mfa_create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateMfaDeviceRequest>,
) -> Result<Response, ApiError> {
    let device = body.virtual_mfa_device;
    let (serial, seed) = state.write().mfa_create(&caller, &device.user_id, &device.name)?;
    let mut created = json!({"serial_number": serial, "base32_string_seed": seed.to_base32()});
    if state.faults.has(Fault::CreateOmitsSeed) {
        created.as_object_mut().map(|o| o.remove("base32_string_seed"));
    }
    let status = if state.faults.has(Fault::CreateReturns200) { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(json!({"virtual_mfa_device": created}))).into_response())
}

/// `PUT /v3.0/OS-MFA/mfa-devices/bind` [iam_08_0017].
pub async fn mfa_bind(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<BindMfaDevice>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    if state.faults.has(Fault::BindNotAtomic) {
        let step = state.read().mfa_bind_check(&caller, &body, now)?;
        tokio::time::sleep(NON_ATOMIC_WINDOW).await;
        state.write().mfa_bind_commit(&body.user_id, step);
    } else {
        state.write().mfa_bind(&caller, &body, now)?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /v3.0/OS-MFA/mfa-devices/unbind` [iam_08_0018].
pub async fn mfa_unbind(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<UnbindMfaDevice>,
) -> Result<StatusCode, ApiError> {
    let now = state.now();
    state.write().mfa_unbind(&caller, &body, now)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v3.0/OS-MFA/virtual-mfa-devices?user_id=…&serial_number=…` [iam_08_0020].
pub async fn mfa_delete(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<StatusCode, ApiError> {
    let mut user_id = String::new();
    let mut serial = String::new();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "user_id" => user_id = value.into_owned(),
            "serial_number" => serial = value.into_owned(),
            _ => {}
        }
    }
    state.write().mfa_delete(&caller, &user_id, &serial)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v3.0/OS-MFA/users/{user_id}/virtual-mfa-device` [iam_08_0013].
pub async fn mfa_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.read();
    let device = store.mfa_show(&caller, &user_id)?;
    let mut shown = json!({"serial_number": device.serial, "user_id": user_id});
    let object = shown.as_object_mut().expect("object literal");
    if state.faults.has(Fault::QueryMissingSerial) {
        object.remove("serial_number");
    }
    if state.faults.has(Fault::QueryWrongSerial) {
        object.insert("serial_number".into(), json!(format!("{}-old", device.serial)));
    }
    if state.faults.has(Fault::QueryLeaksSeed) {
        object.insert("base32_string_seed".into(), json!(device.seed.to_base32()));
    }
    Ok(Json(json!({"virtual_mfa_device": shown})))
}

/// `GET /v3.0/OS-MFA/virtual-mfa-devices` [iam_08_0012].
pub async fn mfa_list(State(state): State<AppState>, caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    let devices = state.read().mfa_list(&caller)?;
    Ok(Json(json!({"virtual_mfa_devices": devices})))
}
