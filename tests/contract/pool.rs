//! `check --pool FILE`: two pre-made users serve every case in turn; their devices are reset
//! after each case, and the pool file's secrets never reach the report; a shard of a load run
//! takes its own slice of the file.

use crate::common::config::{self, Check};
use mfa_harness::api::models::CreateUser;
use mfa_harness::api::ops;
use mfa_harness::client::HttpClient;
use mfa_harness::contract::report::CaseStatus;
use mfa_harness::reference::RunningServer;
use mfa_harness::target::{Redactor, Secret, TargetSpec, password_token};
use std::time::Duration;

/// A pool file at `dir` naming the server's administrator (domain `pooled`, `root`) and a new
/// user for each of `names`; and every token it holds.
async fn pool_file(server: &RunningServer, names: &[&str], dir: &std::path::Path) -> (std::path::PathBuf, Vec<String>) {
    let client = HttpClient::new(&server.base_url, Duration::from_secs(5)).unwrap();
    let redactor = Redactor::default();
    let (admin, body) =
        password_token(&client, "pooled", "root", &Secret::new("Root-pass-1"), &redactor).await.unwrap();
    let mut toml =
        format!("domain = \"pooled\"\n[admin]\nuser_id = \"{}\"\ntoken = \"{}\"\n", body.token.user.id, admin.expose());
    let mut secrets = vec![admin.expose().to_string()];
    for name in names {
        let user = CreateUser {
            name: name.to_string(),
            domain_id: body.token.user.domain.id.clone(),
            password: Some("Pool-pass-1".into()),
            enabled: None,
            description: None,
        };
        let created = client.send(&ops::create_user(Some(admin.expose()), &user)).await.unwrap();
        let id = serde_json::from_slice::<serde_json::Value>(&created.body).unwrap()["user"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (token, _) = password_token(&client, "pooled", name, &Secret::new("Pool-pass-1"), &redactor).await.unwrap();
        toml += &format!(
            "[[users]]\nuser_id = \"{id}\"\ntoken = \"{}\"\nname = \"{name}\"\npassword = \"Pool-pass-1\"\n",
            token.expose()
        );
        secrets.push(token.expose().to_string());
    }
    let file = dir.join("pool.toml");
    std::fs::write(&file, toml).unwrap();
    (file, secrets)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_of_two_users_runs_every_case_and_leaves_no_device() {
    let config = config::server("pooled", "root", "Root-pass-1", &[]);
    let server = RunningServer::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (file, secrets) = pool_file(&server, &["pool-a", "pool-b"], dir.path()).await;

    let report = Check::target(TargetSpec::Pool { url: server.base_url.clone(), file }).strict(true).report().await;
    // Cases that delete their user are skipped with a pool, and say why.
    let bad: Vec<_> = report
        .cases
        .iter()
        .filter(|c| c.status != CaseStatus::Passed)
        .filter(|c| {
            let why = c.reason.as_deref().unwrap_or_default();
            !(c.status == CaseStatus::Skipped && (why.contains("pool") || why.starts_with("waits for")))
        })
        .map(|c| (&c.id, &c.reason))
        .collect();
    assert!(report.cases.iter().any(|c| c.id == "user-delete.removes-the-device" && c.status == CaseStatus::Skipped));
    assert!(bad.is_empty(), "{bad:?}");
    let json = serde_json::to_string(&report).unwrap();
    for secret in &secrets {
        assert!(!json.contains(secret.as_str()), "a pool token reached the report");
    }
    let store = server.state.read();
    let leftovers = store.mfa_list(&mfa_harness::reference::store::Caller { user_id: String::new(), is_admin: true });
    assert_eq!(leftovers.unwrap(), vec![], "every case's device was reset");
}

#[tokio::test]
async fn a_pool_file_with_one_user_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pool.toml");
    std::fs::write(&file, "[admin]\nuser_id='a'\ntoken='t'\n[[users]]\nuser_id='u'\ntoken='v'\n").unwrap();
    let spec = TargetSpec::Pool { url: "http://127.0.0.1:9".into(), file };
    let err =
        mfa_harness::target::Target::open(&spec, &mfa_harness::client::Network::with_timeout(Duration::from_secs(1)))
            .await
            .err()
            .unwrap();
    assert!(matches!(err, mfa_harness::Error::Usage(_)));
    assert!(err.to_string().contains("at least 2"), "{err}");
}

/// A shard of a distributed load run takes its own slice of the pool (5 users over 2 shards:
/// the first 3, the last 2), and a shard the pool cannot give a user is a usage error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_shard_takes_its_own_slice_of_the_pool() {
    use mfa_harness::load::shard::Shard;
    use mfa_harness::target::Target;
    let config = config::server("pooled", "root", "Root-pass-1", &[]);
    let server = RunningServer::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let names = ["p0", "p1", "p2", "p3", "p4"];
    let (file, _) = pool_file(&server, &names, dir.path()).await;
    let spec = TargetSpec::Pool { url: server.base_url.clone(), file };
    let network = mfa_harness::client::Network::with_timeout(Duration::from_secs(5));
    for (index, expected) in [(0, &names[..3]), (1, &names[3..])] {
        let target = Target::open_shard(&spec, &network, Some(Shard { index, count: 2 })).await.unwrap();
        assert_eq!(target.capacity(), Some(expected.len()));
        let mut got: Vec<String> = target
            .acquire_many(expected.len())
            .await
            .unwrap()
            .into_iter()
            .map(|identity| identity.name.unwrap())
            .collect();
        got.sort();
        assert_eq!(got, expected, "shard {index}/2");
    }
    let err = Target::open_shard(&spec, &network, Some(Shard { index: 5, count: 6 })).await.err().unwrap();
    assert!(matches!(err, mfa_harness::Error::Usage(_)), "{err}");
    assert!(err.to_string().contains("has 5 users, too few to give shard 5/6 any"), "{err}");
}
