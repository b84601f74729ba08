//! Constructors of every documented call, from typed inputs.

use super::models::*;
use super::operation::{OpKind, Operation};
use serde_json::json;

fn to_value<T: serde::Serialize>(body: &T) -> serde_json::Value {
    serde_json::to_value(body).unwrap_or(serde_json::Value::Null)
}

/// `POST /v3.0/OS-MFA/virtual-mfa-devices` [iam_08_0019].
pub fn create_device(token: Option<&str>, user_id: &str, name: &str) -> Operation {
    let body = CreateMfaDeviceRequest {
        virtual_mfa_device: CreateMfaDevice { name: name.to_string(), user_id: user_id.to_string() },
    };
    Operation::new(OpKind::Create, None).with_token(token).with_json(to_value(&body))
}

/// `PUT /v3.0/OS-MFA/mfa-devices/bind` [iam_08_0017].
pub fn bind_device(token: Option<&str>, body: &BindMfaDevice) -> Operation {
    Operation::new(OpKind::Bind, None).with_token(token).with_json(to_value(body))
}

/// `PUT /v3.0/OS-MFA/mfa-devices/unbind` [iam_08_0018].
pub fn unbind_device(token: Option<&str>, body: &UnbindMfaDevice) -> Operation {
    Operation::new(OpKind::Unbind, None).with_token(token).with_json(to_value(body))
}

/// `DELETE /v3.0/OS-MFA/virtual-mfa-devices?user_id=…&serial_number=…` [iam_08_0020].
pub fn delete_device(token: Option<&str>, user_id: &str, serial_number: &str) -> Operation {
    Operation::new(OpKind::Delete, None)
        .with_token(token)
        .with_query("user_id", user_id)
        .with_query("serial_number", serial_number)
}

/// `GET /v3.0/OS-MFA/users/{user_id}/virtual-mfa-device` [iam_08_0013].
pub fn show_device(token: Option<&str>, user_id: &str) -> Operation {
    Operation::new(OpKind::Query, Some(user_id)).with_token(token)
}

/// `GET /v3.0/OS-MFA/virtual-mfa-devices` [iam_08_0012].
pub fn list_devices(token: Option<&str>) -> Operation {
    Operation::new(OpKind::List, None).with_token(token)
}

/// `POST /v3/auth/tokens` by password, domain-scoped (spec §2.1).
pub fn token_by_password(domain: &str, user_name: &str, password: &str) -> Operation {
    let body = json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user_name, "password": password, "domain": {"name": domain}}}},
        "scope": {"domain": {"name": domain}}}});
    Operation::new(OpKind::Token, None).with_json(body).with_query("nocatalog", "true")
}

/// `POST /v3/auth/tokens` by password and virtual-MFA passcode (spec §2.2).
pub fn token_by_password_and_totp(
    domain: &str,
    user_name: &str,
    password: &str,
    user_id: &str,
    passcode: &str,
) -> Operation {
    let body = json!({"auth": {
        "identity": {"methods": ["password", "totp"],
            "password": {"user": {"name": user_name, "password": password, "domain": {"name": domain}}},
            "totp": {"user": {"id": user_id, "passcode": passcode}}},
        "scope": {"domain": {"name": domain}}}});
    Operation::new(OpKind::Token, None).with_json(body).with_query("nocatalog", "true")
}

/// `POST /v3.0/OS-USER/users` [iam_08_0015].
pub fn create_user(admin_token: Option<&str>, user: &CreateUser) -> Operation {
    let body = CreateUserRequest { user: user.clone() };
    Operation::new(OpKind::UserCreate, None).with_token(admin_token).with_json(to_value(&body))
}

/// `DELETE /v3/users/{user_id}` [iam_08_0009].
pub fn delete_user(admin_token: Option<&str>, user_id: &str) -> Operation {
    Operation::new(OpKind::UserDelete, Some(user_id)).with_token(admin_token)
}

/// `GET /v3/users` (Keystone list of the account's users).
pub fn list_users(admin_token: Option<&str>) -> Operation {
    Operation::new(OpKind::UserList, None).with_token(admin_token)
}

/// `GET /v3.0/OS-USER/users/{user_id}/login-protect` [iam_08_0016].
pub fn show_login_protect(token: Option<&str>, user_id: &str) -> Operation {
    Operation::new(OpKind::LoginProtectShow, Some(user_id)).with_token(token)
}

/// `GET /v3.0/OS-USER/login-protects` [iam_08_0014].
pub fn list_login_protects(token: Option<&str>) -> Operation {
    Operation::new(OpKind::LoginProtectList, None).with_token(token)
}

/// `PUT /v3.0/OS-USER/users/{user_id}/login-protect` [iam_08_0021].
pub fn modify_login_protect(token: Option<&str>, user_id: &str, enabled: bool, method: &str) -> Operation {
    let body = UpdateLoginProtectRequest {
        login_protect: UpdateLoginProtect { enabled, verification_method: method.to_string() },
    };
    Operation::new(OpKind::LoginProtectModify, Some(user_id)).with_token(token).with_json(to_value(&body))
}
