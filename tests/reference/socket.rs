//! The reference server over a real socket on 127.0.0.1:0: the whole lifecycle, and the
//! atomicity of bind under 64 concurrent requests.

use crate::common::config;
use mfa_harness::api::models::{BindMfaDevice, CreateUser, UnbindMfaDevice};
use mfa_harness::api::ops;
use mfa_harness::client::HttpClient;
use mfa_harness::reference::RunningServer;
use mfa_harness::reference::faults::Fault;
use mfa_harness::target::{Redactor, Secret, password_token};
use mfa_harness::totp::{self, Seed};
use std::time::Duration;

struct Setup {
    server: RunningServer,
    client: HttpClient,
    admin: String,
    user_id: String,
    user: String,
    serial: String,
    seed: Seed,
}

async fn setup(faults: &[Fault]) -> Setup {
    let config = config::server("acme", "root", "Root-pass-1", faults);
    let server = RunningServer::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let client = HttpClient::new(&server.base_url, Duration::from_secs(10)).unwrap();
    let r = Redactor::default();
    let (admin, body) = password_token(&client, "acme", "root", &Secret::new("Root-pass-1"), &r).await.unwrap();
    let admin = admin.expose().to_string();
    let create = CreateUser {
        name: "alice".into(),
        domain_id: body.token.user.domain.id,
        password: Some("Alice-pass1".into()),
        enabled: None,
        description: None,
    };
    let created = client.send(&ops::create_user(Some(&admin), &create)).await.unwrap();
    let user_id = created.json().unwrap()["user"]["id"].as_str().unwrap().to_string();
    let (user, _) = password_token(&client, "acme", "alice", &Secret::new("Alice-pass1"), &r).await.unwrap();
    let user = user.expose().to_string();
    let device = client.send(&ops::create_device(Some(&user), &user_id, "alice-phone")).await.unwrap();
    assert_eq!(device.status, 201);
    let v = device.json().unwrap();
    let serial = v["virtual_mfa_device"]["serial_number"].as_str().unwrap().to_string();
    let seed = Seed::parse(v["virtual_mfa_device"]["base32_string_seed"].as_str().unwrap()).unwrap();
    Setup { server, client, admin, user_id, user, serial, seed }
}

/// Waits out the end of a 30-s step so codes of t−1 and t stay valid while in flight.
async fn clear_of_step_boundary() {
    while totp::seconds_left_in_step(totp::unix_now()) < 3 {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn bind_body(s: &Setup) -> BindMfaDevice {
    let pair = totp::bind_pair(&s.seed, totp::unix_now());
    BindMfaDevice {
        user_id: s.user_id.clone(),
        serial_number: s.serial.clone(),
        authentication_code_first: pair.first,
        authentication_code_second: pair.second,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_lifecycle_over_a_socket() {
    clear_of_step_boundary().await;
    let s = setup(&[]).await;
    let c = &s.client;
    assert_eq!(c.send(&ops::bind_device(Some(&s.user), &bind_body(&s))).await.unwrap().status, 204);
    let q = c.send(&ops::show_device(Some(&s.user), &s.user_id)).await.unwrap();
    assert_eq!(q.status, 200);
    assert_eq!(q.json().unwrap()["virtual_mfa_device"]["serial_number"], s.serial.as_str());
    let l = c.send(&ops::list_devices(Some(&s.admin))).await.unwrap();
    assert_eq!(l.json().unwrap()["virtual_mfa_devices"][0]["user_id"], s.user_id.as_str());
    let unbind = UnbindMfaDevice {
        user_id: s.user_id.clone(),
        authentication_code: "000000".into(),
        serial_number: s.serial.clone(),
    };
    assert_eq!(c.send(&ops::unbind_device(Some(&s.admin), &unbind)).await.unwrap().status, 204);
    let delete = c.send(&ops::delete_device(Some(&s.admin), &s.user_id, &s.serial)).await.unwrap();
    assert_eq!(delete.status, 204, "the serial's ':' and '/' survive percent-encoding");
    assert_eq!(c.send(&ops::show_device(Some(&s.user), &s.user_id)).await.unwrap().status, 404);
    s.server.stop().await;
}

async fn race(faults: &[Fault]) -> Vec<u16> {
    clear_of_step_boundary().await;
    let s = setup(faults).await;
    let body = bind_body(&s);
    let op = ops::bind_device(Some(&s.user), &body);
    let answers = futures::future::join_all((0..64).map(|_| s.client.send(&op))).await;
    answers.into_iter().map(|a| a.unwrap().status).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_64_concurrent_binds_exactly_one_wins() {
    let statuses = race(&[]).await;
    assert_eq!(statuses.iter().filter(|s| **s == 204).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 63, "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_atomic_bind_lets_several_win() {
    let statuses = race(&[Fault::BindNotAtomic]).await;
    assert!(statuses.iter().filter(|s| **s == 204).count() > 1, "{statuses:?}");
}

/// What hyper puts on the wire for a 204 under the two 204 faults: the headers go out, the
/// body bytes never do (hyper forces a 204's body to nothing).
#[tokio::test]
async fn a_faulty_204_keeps_its_headers_but_no_body_on_the_wire() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    for (fault, header) in
        [(Fault::NoContentWithBody, "content-type: application/json"), (Fault::NoContentLength, "content-length: 2")]
    {
        let s = setup(&[fault]).await;
        let mut stream = tokio::net::TcpStream::connect(s.server.addr).await.unwrap();
        let request = format!(
            "DELETE /v3/users/{} HTTP/1.1\r\nhost: 127.0.0.1\r\nx-auth-token: {}\r\nconnection: close\r\n\r\n",
            s.user_id, s.admin
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let text = String::from_utf8_lossy(&raw).to_lowercase();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("http/1.1 204"), "{fault}: {head}");
        assert!(head.contains(header), "{fault}: {head}");
        assert_eq!(body, "", "{fault}");
    }
}

/// A bounded soak of bind's atomicity: 500 rounds of 16 concurrent binds, each round on a fresh
/// device (new seed, so its codes are unused), over one socket each: never two winners.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bind_race_soak_of_500_rounds_of_16_never_binds_twice() {
    let mut s = setup(&[]).await;
    let (rounds, parallel) = (500, 16);
    let mut double = Vec::new();
    for round in 0..rounds {
        let delete = s.client.send(&ops::delete_device(Some(&s.admin), &s.user_id, &s.serial)).await.unwrap();
        assert_eq!(delete.status, 204, "round {round}");
        let name = format!("alice-phone-{round}");
        let device = s.client.send(&ops::create_device(Some(&s.user), &s.user_id, &name)).await.unwrap();
        assert_eq!(device.status, 201, "round {round}");
        let v = device.json().unwrap();
        s.serial = v["virtual_mfa_device"]["serial_number"].as_str().unwrap().to_string();
        s.seed = Seed::parse(v["virtual_mfa_device"]["base32_string_seed"].as_str().unwrap()).unwrap();
        clear_of_step_boundary().await;
        let op = ops::bind_device(Some(&s.user), &bind_body(&s));
        let answers = futures::future::join_all((0..parallel).map(|_| s.client.send(&op))).await;
        let statuses: Vec<u16> = answers.into_iter().map(|a| a.unwrap().status).collect();
        let won = statuses.iter().filter(|s| **s == 204).count();
        if won != 1 {
            double.push(format!("round {round}: {won} winners, {statuses:?}"));
        }
        let unbind = UnbindMfaDevice {
            user_id: s.user_id.clone(),
            authentication_code: "000000".into(),
            serial_number: s.serial.clone(),
        };
        assert_eq!(s.client.send(&ops::unbind_device(Some(&s.admin), &unbind)).await.unwrap().status, 204);
    }
    println!(
        "bind race soak: {rounds} rounds × {parallel} concurrent binds, {} rounds without exactly one winner",
        double.len()
    );
    assert!(double.is_empty(), "{}", double.join("\n"));
}
