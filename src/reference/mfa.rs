//! Handlers of the six virtual-MFA endpoints (spec §1.1–1.6).

use super::error::ApiError;
use super::faults::Fault;
use super::json::ApiJson;
use super::state::AppState;
use super::store::Caller;
use crate::api::models::{BindMfaDevice, UnbindMfaDevice};
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer};
use serde_json::json;
use std::time::Duration;

/// How long the `bind-not-atomic` fault holds a checked bind before committing it.
const NON_ATOMIC_WINDOW: Duration = Duration::from_millis(50);

/// Create's body as the server reads it: `user_id` may be absent (the store decides what
/// that means), but when present it must be a string, as `name` must.
#[derive(Deserialize)]
pub struct CreateBody {
    virtual_mfa_device: CreateDevice,
}

#[derive(Deserialize)]
pub struct CreateDevice {
    name: String,
    #[serde(default, deserialize_with = "present")]
    user_id: Option<String>,
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    String::deserialize(deserializer).map(Some)
}

/// `POST /v3.0/OS-MFA/virtual-mfa-devices` [iam_08_0019].
pub async fn mfa_create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, ApiError> {
    let device = body.virtual_mfa_device;
    let (serial, seed) = state.write().mfa_create(&caller, device.user_id.as_deref(), &device.name)?;
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
        let checked = state.read().mfa_bind_check(&caller, &body, now)?;
        tokio::time::sleep(NON_ATOMIC_WINDOW).await;
        if let Some(checked) = checked {
            state.write().mfa_bind_commit(&checked);
        }
    } else {
        state.write().mfa_bind(&caller, &body, now)?;
    }
    Ok(if state.faults.has(Fault::BindReturns201) { StatusCode::CREATED } else { StatusCode::NO_CONTENT })
}

/// `PUT /v3.0/OS-MFA/mfa-devices/unbind` [iam_08_0018].
pub async fn mfa_unbind(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<UnbindMfaDevice>,
) -> Result<Response, ApiError> {
    let now = state.now();
    state.write().mfa_unbind(&caller, &body, now)?;
    if state.faults.has(Fault::UnbindReturns200) {
        return Ok((StatusCode::OK, Json(json!({"user_id": body.user_id, "serial_number": body.serial_number})))
            .into_response());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
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
) -> Result<Response, ApiError> {
    let store = state.read();
    let device = store.mfa_show(&caller, &user_id)?;
    if state.faults.has(Fault::QueryEmptyBody) {
        return Ok(StatusCode::OK.into_response());
    }
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
    Ok(Json(json!({"virtual_mfa_device": shown})).into_response())
}

/// `GET /v3.0/OS-MFA/virtual-mfa-devices` [iam_08_0012].
pub async fn mfa_list(State(state): State<AppState>, caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.read();
    let devices = store.mfa_list(&caller)?;
    let mut listed = serde_json::to_value(&devices).unwrap_or_default();
    for (row, item) in listed.as_array_mut().into_iter().flatten().enumerate() {
        let user_id = item["user_id"].as_str().unwrap_or_default().to_string();
        if state.faults.has(Fault::ListSerialNumeric) {
            item["serial_number"] = json!(row + 1);
        }
        if state.faults.has(Fault::ListLeaksSeed)
            && let Some(device) = store.device(&user_id)
        {
            item["base32_string_seed"] = json!(device.seed.to_base32());
        }
    }
    Ok(Json(json!({"virtual_mfa_devices": listed})))
}
