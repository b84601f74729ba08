//! An administrator known by a credential other than its password: a token (`--admin-token`)
//! or an access key whose requests are signed (`--access-key`, `--secret-key`). The credential
//! is tried once before the first case, and the account's id (which creating users needs) is
//! learned with the same call.

use super::identity::{Redactor, Secret, malformed, target_error, unexpected, unusable};
use crate::api::ops;
use crate::client::HttpClient;
use crate::error::TargetError;

/// The administrator's credential, when it is not a password.
#[derive(Clone, Debug)]
pub enum AdminKey {
    /// `--admin-token`.
    Token(Secret),
    /// `--access-key` and `--secret-key`: every request the administrator sends is signed.
    Keys(crate::sign::Keys),
}

impl AdminKey {
    /// Who the credential is, for messages (never the secret).
    pub fn who(&self) -> String {
        match self {
            AdminKey::Token(_) => "the administrator's token (--admin-token)".into(),
            AdminKey::Keys(keys) => {
                format!("the signature of access key '{}' (--access-key, --secret-key)", keys.access)
            }
        }
    }

    fn hint(&self) -> &'static str {
        match self {
            AdminKey::Token(_) => "give a fresh administrator token",
            AdminKey::Keys(_) => {
                "check the secret key, and that this machine's clock is right (X-Sdk-Date within 15 minutes)"
            }
        }
    }
}

/// What the account's user list tells of the administrator.
pub struct Known {
    pub domain_id: String,
    /// The account owner's id, when the list marks it (`is_domain_owner`).
    pub admin_id: Option<String>,
}

/// Lists the account's users with the credential (`GET /v3/users`, the call the harness also
/// cleans up with): a 401 is the credential refused; the users' `domain_id` is the account's.
pub async fn validate(
    client: &HttpClient,
    key: &AdminKey,
    token: &Secret,
    redactor: &Redactor,
) -> Result<Known, TargetError> {
    let context = "could not list the account's users as the administrator";
    let exchange = client.send(&ops::list_users(Some(token.expose()))).await.map_err(|e| target_error(context, e))?;
    unusable(context, &exchange, redactor)?;
    if exchange.status == 401 {
        let body = crate::sanitize::truncate(&redactor.redact(&String::from_utf8_lossy(&exchange.body)), 300);
        return Err(TargetError::Refused {
            who: key.who(),
            method: exchange.method.to_string(),
            path: exchange.path.clone(),
            body: crate::sanitize::for_terminal(&body),
            hint: key.hint(),
        });
    }
    if exchange.status != 200 {
        return Err(unexpected(context, &exchange, redactor));
    }
    let body: serde_json::Value = serde_json::from_slice(&exchange.body)
        .map_err(|e| malformed(context, format!("the answer is not JSON ({e})")))?;
    let users = body["users"].as_array().map(Vec::as_slice).unwrap_or_default();
    let domain_id = users
        .iter()
        .find_map(|u| u["domain_id"].as_str())
        .ok_or_else(|| malformed(context, "no user in the answer names its domain_id (the account's id)".into()))?;
    let admin_id = users
        .iter()
        .find(|u| u["is_domain_owner"].as_bool() == Some(true))
        .and_then(|u| u["id"].as_str())
        .map(str::to_string);
    Ok(Known { domain_id: domain_id.to_string(), admin_id })
}
