//! Who the harness is at a target (identities, their secrets, the redactor that keeps those
//! out of every output) and how provisioning reads the target's answers.

use crate::api::models::TokenResponse;
use crate::api::ops;
use crate::client::{Exchange, HttpClient, Network, Safety, TransportError};
use crate::error::TargetError;
use serde::Deserialize;
use std::sync::{Arc, Mutex};

/// A string that must never be printed; its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for sending it; never for printing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Every secret seen in a run (tokens, passwords, seeds), so printers can redact them.
#[derive(Debug, Clone, Default)]
pub struct Redactor(Arc<Mutex<Vec<String>>>);

impl Redactor {
    pub fn add(&self, secret: &str) {
        if secret.len() >= 4 {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).push(secret.to_string());
        }
    }

    /// `text` with every known secret replaced by `[redacted]`.
    pub fn redact(&self, text: &str) -> String {
        let secrets = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        crate::sanitize::redact(text, &refs)
    }
}

/// Admin credentials for provisioning.
#[derive(Clone, Debug)]
pub struct AdminCredentials {
    pub domain: String,
    pub name: String,
    pub password: Secret,
}

/// An identity the harness acts as.
#[derive(Clone, Debug)]
pub struct Identity {
    pub user_id: String,
    pub name: Option<String>,
    pub password: Option<Secret>,
    pub token: Secret,
}

pub(crate) fn target_error(context: &str, source: TransportError) -> TargetError {
    TargetError::Unreachable { context: context.to_string(), source }
}

/// An answer provisioning cannot use whatever its status: a redirect (never followed) or a
/// body cut at `--max-body`.
pub(crate) fn unusable(context: &str, exchange: &Exchange, redactor: &Redactor) -> Result<(), TargetError> {
    let (method, path) = (exchange.method.to_string(), crate::sanitize::for_terminal(&redactor.redact(&exchange.path)));
    if let Some(limit) = exchange.cut_at {
        return Err(TargetError::TooLarge { context: context.to_string(), method, path, limit });
    }
    if exchange.is_redirect() {
        let location = exchange.location.as_deref().map_or("nowhere (no Location header)".into(), |l| {
            crate::sanitize::for_terminal(&crate::sanitize::truncate(&redactor.redact(&display_url(l)), 200))
        });
        let status = exchange.status_line();
        return Err(TargetError::Redirected { context: context.to_string(), method, path, status, location });
    }
    Ok(())
}

/// A throttling answer (429, IAM.0012) to a request retried `attempts` times, if it is one.
pub(crate) fn throttled(context: &str, exchange: &Exchange, attempts: u32, redactor: &Redactor) -> Option<TargetError> {
    let status = exchange.throttled()?;
    Some(TargetError::Throttled {
        context: context.to_string(),
        method: exchange.method.to_string(),
        path: crate::sanitize::for_terminal(&redactor.redact(&exchange.path)),
        status,
        attempts,
    })
}

/// An answer with a status provisioning did not expect (after [`unusable`] let it through).
pub(crate) fn unexpected(context: &str, exchange: &Exchange, redactor: &Redactor) -> TargetError {
    // Redacted before it is cut, so that no secret is cut in half past the redactor.
    let body = crate::sanitize::truncate(&redactor.redact(&String::from_utf8_lossy(&exchange.body)), 300);
    TargetError::Answered {
        context: context.to_string(),
        method: exchange.method.to_string(),
        path: exchange.path.clone(),
        status: exchange.status,
        body: crate::sanitize::for_terminal(&body),
    }
}

pub(crate) fn client(url: &str, network: &Network) -> Result<HttpClient, TargetError> {
    HttpClient::with_network(url, network).map_err(|e| target_error("could not build the HTTP client", e))
}

pub(crate) fn malformed(context: &str, problem: String) -> TargetError {
    TargetError::Malformed { context: context.to_string(), problem }
}

/// Obtains a password token; returns it with the token body.
pub async fn password_token(
    client: &HttpClient,
    domain: &str,
    name: &str,
    password: &Secret,
    redactor: &Redactor,
) -> Result<(Secret, TokenResponse), TargetError> {
    // Asking for a token twice does no harm: it is retried like any read.
    let (answer, attempts) =
        client.send_retrying(&ops::token_by_password(domain, name, password.expose()), Safety::Idempotent).await;
    let exchange = answer.map_err(|e| target_error("could not obtain a token", e))?;
    let context = format!("could not obtain a token for '{name}'");
    unusable(&context, &exchange, redactor)?;
    if let Some(throttled) = throttled(&context, &exchange, attempts, redactor) {
        // Throttling says nothing about the credentials.
        return Err(throttled);
    }
    if exchange.status != 201 && exchange.status != 200 {
        // Only a refusal of the credentials is worth a hint about them; a 5xx or a broken
        // answer is the target's.
        let context = if matches!(exchange.status, 400 | 401 | 403 | 404) {
            format!("{context} (check --domain, --admin-name, --admin-password)")
        } else {
            context
        };
        return Err(unexpected(&context, &exchange, redactor));
    }
    let token = exchange
        .subject_token
        .clone()
        .ok_or_else(|| malformed(&context, "the answer has no X-Subject-Token header".into()))?;
    if token == crate::client::NOT_TEXT {
        return Err(malformed(&context, "the X-Subject-Token header is not text (bytes outside visible ASCII)".into()));
    }
    redactor.add(&token);
    let body: TokenResponse = serde_json::from_slice(&exchange.body)
        .map_err(|e| malformed(&context, format!("the token body is not as documented ({e})")))?;
    Ok((Secret::new(token), body))
}

/// A URL as reports show it: any `user:password@` it carries is left out.
pub fn display_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.as_str().trim_end_matches('/').to_string()
        }
        _ => url.to_string(),
    }
}
