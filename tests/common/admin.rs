//! The target's own view through its admin API: which users exist (to prove a run deleted
//! the users it made).

use mfa_harness::api::ops;
use mfa_harness::client::HttpClient;
use mfa_harness::target::{Redactor, Secret, password_token};
use std::time::Duration;

/// The names of every IAM user of `domain`, listed by the administrator `admin`.
pub async fn list_user_names(url: &str, domain: &str, admin: &str, password: &str) -> Vec<String> {
    let client = HttpClient::new(url, Duration::from_secs(5)).unwrap();
    let (token, _) =
        password_token(&client, domain, admin, &Secret::new(password), &Redactor::default()).await.unwrap();
    let list = client.send(&ops::list_users(Some(token.expose()))).await.unwrap();
    assert_eq!(list.status, 200, "list users");
    let body: serde_json::Value = serde_json::from_slice(&list.body).unwrap();
    body["users"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap().to_string()).collect()
}

/// The users a run of mfa-harness created and left (`mfa-harness-…`), by name.
pub fn harness_users(url: &str, domain: &str, admin: &str, password: &str) -> Vec<String> {
    user_names(url, domain, admin, password).into_iter().filter(|n| n.starts_with("mfa-harness-")).collect()
}

/// [`list_user_names`] from a synchronous test, on a runtime of its own.
pub fn user_names(url: &str, domain: &str, admin: &str, password: &str) -> Vec<String> {
    tokio::runtime::Runtime::new().unwrap().block_on(list_user_names(url, domain, admin, password))
}
