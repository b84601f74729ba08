//! Request and response bodies of the IAM virtual-MFA API and the provisioning calls (spec §1–3).

use serde::{Deserialize, Serialize};

/// Body of `POST /v3.0/OS-MFA/virtual-mfa-devices` [iam_08_0019].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CreateMfaDeviceRequest {
    pub virtual_mfa_device: CreateMfaDevice,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CreateMfaDevice {
    pub name: String,
    pub user_id: String,
}

/// 201 body of create [iam_08_0019].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CreateMfaDeviceResponse {
    pub virtual_mfa_device: CreatedMfaDevice,
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct CreatedMfaDevice {
    pub serial_number: String,
    pub base32_string_seed: String,
}

impl std::fmt::Debug for CreatedMfaDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedMfaDevice")
            .field("serial_number", &self.serial_number)
            .field("base32_string_seed", &"[redacted]")
            .finish()
    }
}

/// Body of `PUT /v3.0/OS-MFA/mfa-devices/bind` [iam_08_0017].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BindMfaDevice {
    pub user_id: String,
    pub serial_number: String,
    pub authentication_code_first: String,
    pub authentication_code_second: String,
}

/// Body of `PUT /v3.0/OS-MFA/mfa-devices/unbind` [iam_08_0018].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UnbindMfaDevice {
    pub user_id: String,
    pub authentication_code: String,
    pub serial_number: String,
}

/// One device as query and list return it [iam_08_0013][iam_08_0012].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct MfaDevice {
    pub serial_number: String,
    pub user_id: String,
}

/// 200 body of `GET /v3.0/OS-MFA/users/{user_id}/virtual-mfa-device` [iam_08_0013].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShowUserMfaDeviceResponse {
    pub virtual_mfa_device: MfaDevice,
}

/// 200 body of `GET /v3.0/OS-MFA/virtual-mfa-devices` [iam_08_0012].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ListUserMfaDevicesResponse {
    pub virtual_mfa_devices: Vec<MfaDevice>,
}

/// Error body of the IAM extension APIs (spec §3.1 shape 1).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorBody {
    pub error_msg: String,
    pub error_code: String,
}

/// Body of `POST /v3/auth/tokens` (spec §2.1, §2.2).
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenRequest {
    pub auth: TokenAuth,
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenRequest { [redacted] }")
    }
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenAuth {
    pub identity: TokenIdentity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<TokenScope>,
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenIdentity {
    pub methods: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<PasswordMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<TotpMethod>,
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct PasswordMethod {
    pub user: PasswordUser,
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct PasswordUser {
    pub name: String,
    pub password: String,
    pub domain: NameOrId,
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct TotpMethod {
    pub user: TotpUser,
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct TotpUser {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub passcode: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct NameOrId {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenScope {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<NameOrId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<NameOrId>,
}

/// 201 body of `POST /v3/auth/tokens`; the token itself is the `X-Subject-Token` header.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenResponse {
    pub token: TokenBody,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenBody {
    pub methods: Vec<String>,
    pub expires_at: String,
    pub issued_at: String,
    pub user: TokenUser,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<IdName>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<IdName>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub catalog: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenUser {
    pub id: String,
    pub name: String,
    pub domain: IdName,
    #[serde(default)]
    pub password_expires_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IdName {
    pub id: String,
    pub name: String,
}

/// Body of `POST /v3.0/OS-USER/users` [iam_08_0015].
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct CreateUserRequest {
    pub user: CreateUser,
}

impl std::fmt::Debug for CreateUserRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateUserRequest")
            .field("name", &self.user.name)
            .field("domain_id", &self.user.domain_id)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct CreateUser {
    pub name: String,
    pub domain_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// 201 body of user creation [iam_08_0015].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CreateUserResponse {
    pub user: CreatedUser,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CreatedUser {
    pub id: String,
    pub name: String,
    pub domain_id: String,
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pwd_status: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// 200 body of `GET /v3/users` (Keystone list; used to prove cleanup).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ListUsersResponse {
    pub users: Vec<CreatedUser>,
}

/// Login protection settings (spec §1.7).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoginProtect {
    pub user_id: String,
    pub enabled: bool,
    pub verification_method: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoginProtectResponse {
    pub login_protect: LoginProtect,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoginProtectListResponse {
    pub login_protects: Vec<LoginProtect>,
}

/// Body of `PUT /v3.0/OS-USER/users/{user_id}/login-protect` [iam_08_0021].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UpdateLoginProtectRequest {
    pub login_protect: UpdateLoginProtect,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UpdateLoginProtect {
    pub enabled: bool,
    pub verification_method: String,
}
