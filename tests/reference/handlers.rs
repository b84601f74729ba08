//! The reference server in memory: every endpoint's success path and the documented negative
//! paths of spec §1–2, with statuses, error codes and body shapes.

use crate::common::world::World;
use axum::body::Body;
use axum::http::Request;
use mfa_harness::api::models::CreateUser;
use mfa_harness::api::{Body as OpBody, ops};
use mfa_harness::totp;
use serde_json::json;

#[tokio::test]
async fn create_answers_201_with_a_serial_and_a_160_bit_base32_seed() {
    let mut w = World::new(&[]).await;
    let u = w.user().await;
    let (a, device) = w.create(&u, &u).await;
    assert_eq!(a.status, 201);
    assert!(a.content_type.starts_with("application/json"));
    let device = device.unwrap();
    assert_eq!(device.serial, format!("iam:{}:mfa/phone-{}", w.domain_id, u.name));
    let seed = a.json["virtual_mfa_device"]["base32_string_seed"].as_str().unwrap();
    assert_eq!(seed.len(), 32);
    assert!(seed.chars().all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)), "{seed}");
    assert_eq!(a.json["virtual_mfa_device"].as_object().unwrap().len(), 2);
}

#[tokio::test]
async fn create_is_refused_as_documented() {
    let mut w = World::new(&[]).await;
    let u = w.user().await;
    let other = w.user().await;
    assert_eq!(w.send(&ops::create_device(None, &u.id, "x")).await.code(), "IAM.0001");
    assert_eq!(w.send(&ops::create_device(Some("MIInope"), &u.id, "x")).await.status, 401);
    assert_eq!(w.create(&other, &u).await.0.code(), "IAM.0002");
    let long = "n".repeat(65);
    let a = w.send(&ops::create_device(Some(&u.token), &u.id, &long)).await;
    assert_eq!((a.status, a.code()), (400, "IAM.0073"));
    assert_eq!(w.create(&u, &u).await.0.status, 201);
    let again = w.create(&u, &u).await.0;
    assert_eq!((again.status, again.code()), (409, "IAM.0005"), "one device per user");
    let admin = w.admin.clone();
    let ghost = crate::common::world::User { id: "f".repeat(32), name: "ghost".into(), token: String::new() };
    assert_eq!(w.create(&admin, &ghost).await.0.code(), "IAM.0004");
}

#[tokio::test]
async fn malformed_wrong_typed_missing_and_oversized_bodies_get_the_api_error_shape() {
    let w = World::new(&[]).await;
    let base = ops::create_device(Some(&w.admin.token), "u", "n");
    let mut op = base.clone();
    op.body = OpBody::Raw { content_type: "application/json".into(), bytes: b"{not json".to_vec() };
    assert_eq!((w.send(&op).await.status, w.send(&op).await.code().to_string()), (400, "IAM.0011".into()));
    let op = base.clone().with_json(json!({"virtual_mfa_device": {"name": 5, "user_id": "u"}}));
    assert_eq!(w.send(&op).await.code(), "IAM.0073");
    let op = base.clone().with_json(json!({"virtual_mfa_device": {"name": "n"}}));
    let a = w.send(&op).await;
    assert_eq!((a.status, a.code()), (400, "IAM.0072"));
    assert!(a.json["error_msg"].as_str().unwrap().contains("user_id"));
    let op = base.clone().with_json(json!({"virtual_mfa_device": {"name": "x".repeat(40_000), "user_id": "u"}}));
    let a = w.send(&op).await;
    assert_eq!((a.status, a.code()), (413, "IAM.1101"));
    let mut op = base;
    op.body = OpBody::None;
    assert_eq!(w.send(&op).await.status, 400);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let w = World::new(&[]).await;
    let a = w.raw(Request::get("/v3.0/OS-MFA/nothing").body(Body::empty()).unwrap()).await;
    assert_eq!((a.status, a.code()), (404, "APIGW.0101"));
    let a = w.raw(Request::patch("/v3.0/OS-MFA/mfa-devices/bind").body(Body::empty()).unwrap()).await;
    assert_eq!(a.status, 405);
    assert!(a.content_type.starts_with("application/json") && !a.code().is_empty());
}

#[tokio::test]
async fn bind_needs_two_consecutive_fresh_codes_inside_the_window() {
    let mut w = World::new(&[]).await;
    let u = w.user().await;
    let d = w.create(&u, &u).await.1.unwrap();
    let t = totp::step_at(w.now());
    let c = |s: u64| d.seed.code(s);
    for (first, second, why) in [
        (c(t), c(t), "the same code twice"),
        (c(t - 1), c(t + 1), "not consecutive"),
        (c(t - 3), c(t - 2), "stale"),
        (c(t + 2), c(t + 3), "from the future"),
        ("12345".to_string(), "123456".to_string(), "not six digits"),
    ] {
        let a = w.bind_codes(&u, &u, &d, &first, &second).await;
        assert_eq!((a.status, a.code()), (400, "IAM.1061"), "{why}");
    }
    assert_eq!(w.bind_codes(&u, &u, &d, &c(t), &c(t + 1)).await.status, 204, "t, t+1 is inside ±1");
    let again = w.bind(&u, &u, &d).await;
    assert_eq!((again.status, again.code()), (409, "IAM.0005"));
}

#[tokio::test]
async fn bind_refuses_strangers_unknown_serials_and_missing_tokens() {
    let mut w = World::new(&[]).await;
    let u = w.user().await;
    let other = w.user().await;
    let d = w.create(&u, &u).await.1.unwrap();
    assert_eq!(w.bind(&other, &u, &d).await.code(), "IAM.0002");
    let mut wrong = d.clone();
    wrong.serial.push('x');
    assert_eq!(w.bind(&u, &u, &wrong).await.code(), "IAM.0004");
    let pair = totp::bind_pair(&d.seed, w.now());
    let body = mfa_harness::api::models::BindMfaDevice {
        user_id: u.id.clone(),
        serial_number: d.serial.clone(),
        authentication_code_first: pair.first,
        authentication_code_second: pair.second,
    };
    assert_eq!(w.send(&ops::bind_device(None, &body)).await.status, 401);
    let admin = w.admin.clone();
    assert_eq!(w.bind(&admin, &u, &d).await.status, 204, "an administrator may bind for a user");
}

#[tokio::test]
async fn query_and_list_show_bound_devices_to_the_user_and_administrators() {
    let mut w = World::new(&[]).await;
    let (u, d) = w.bound_user().await;
    let other = w.user().await;
    let a = w.query(&u, &u).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json, json!({"virtual_mfa_device": {"serial_number": d.serial, "user_id": u.id}}));
    let admin = w.admin.clone();
    assert_eq!(w.query(&admin, &u).await.status, 200);
    assert_eq!(w.query(&other, &u).await.code(), "IAM.0002");
    assert_eq!(w.query(&other, &other).await.code(), "IAM.0004", "no device");
    let list = w.send(&ops::list_devices(Some(&w.admin.token))).await;
    assert_eq!(list.json, json!({"virtual_mfa_devices": [{"serial_number": d.serial, "user_id": u.id}]}));
    assert_eq!(w.send(&ops::list_devices(Some(&u.token))).await.code(), "IAM.0002");
    assert_eq!(w.send(&ops::list_devices(None)).await.code(), "IAM.0001");
}

#[tokio::test]
async fn unbind_verifies_the_users_code_but_not_an_administrators() {
    let mut w = World::new(&[]).await;
    let (u, d) = w.bound_user().await;
    let t = totp::step_at(w.now());
    assert_eq!(w.unbind(&u, &u, &d, &d.seed.code(t)).await.code(), "IAM.1061", "step t was used by bind");
    assert_eq!(w.unbind(&u, &u, &d, "000000").await.code(), "IAM.1061");
    assert_eq!(w.unbind(&u, &u, &d, &d.seed.code(t + 1)).await.status, 204);
    assert_eq!(w.unbind(&u, &u, &d, &d.seed.code(t + 1)).await.code(), "IAM.0005", "not bound any more");

    let (v, e) = w.bound_user().await;
    let other = w.user().await;
    assert_eq!(w.unbind(&other, &v, &e, "000000").await.code(), "IAM.0002");
    let admin = w.admin.clone();
    assert_eq!(w.unbind(&admin, &v, &e, "000000").await.status, 204);
}

#[tokio::test]
async fn unbind_is_refused_while_login_protection_uses_vmfa_and_totp_login_works() {
    let mut w = World::new(&[]).await;
    let (u, d) = w.bound_user().await;
    let admin = w.admin.clone();
    let lp = w.send(&ops::modify_login_protect(Some(&admin.token), &u.id, true, "vmfa")).await;
    assert_eq!(lp.json, json!({"login_protect": {"user_id": u.id, "enabled": true, "verification_method": "vmfa"}}));
    assert_eq!(w.unbind(&admin, &u, &d, "000000").await.code(), "IAM.1062");
    let t = totp::step_at(w.now());
    let wrong = w.send(&ops::token_by_password_and_totp("acme", &u.name, "User-pass-1", &u.id, "000000")).await;
    assert_eq!((wrong.status, wrong.code()), (400, "IAM.1061"));
    let ok = w.send(&ops::token_by_password_and_totp("acme", &u.name, "User-pass-1", &u.id, &d.seed.code(t + 1))).await;
    assert_eq!(ok.status, 201);
    assert_eq!(ok.json["token"]["methods"], json!(["password", "totp"]));
    let replay =
        w.send(&ops::token_by_password_and_totp("acme", &u.name, "User-pass-1", &u.id, &d.seed.code(t + 1))).await;
    assert_eq!(replay.code(), "IAM.1061", "a used step is not accepted again");
    assert_eq!(w.send(&ops::show_login_protect(Some(&u.token), &u.id)).await.status, 200);
    let list = w.send(&ops::list_login_protects(Some(&admin.token))).await;
    assert_eq!(list.json["login_protects"].as_array().unwrap().len(), 1);
    assert_eq!(w.send(&ops::list_login_protects(Some(&u.token))).await.status, 403);
}

#[tokio::test]
async fn delete_needs_the_owner_or_an_administrator_and_an_unbound_device() {
    let mut w = World::new(&[]).await;
    let (u, d) = w.bound_user().await;
    let other = w.user().await;
    let admin = w.admin.clone();
    assert_eq!(w.send(&ops::delete_device(Some(&admin.token), &u.id, &d.serial)).await.status, 409, "bound");
    assert_eq!(w.unbind(&admin, &u, &d, "000000").await.status, 204);
    assert_eq!(w.send(&ops::delete_device(Some(&other.token), &u.id, &d.serial)).await.code(), "IAM.0002");
    assert_eq!(w.send(&ops::delete_device(None, &u.id, &d.serial)).await.status, 401);
    let mut op = ops::delete_device(Some(&u.token), &u.id, &d.serial);
    op.query.retain(|(k, _)| k != "serial_number");
    assert_eq!(w.send(&op).await.code(), "IAM.0007");
    assert_eq!(w.send(&ops::delete_device(Some(&u.token), &u.id, &d.serial)).await.status, 204);
    assert_eq!(w.send(&ops::delete_device(Some(&u.token), &u.id, &d.serial)).await.code(), "IAM.0004");
    assert_eq!(w.create(&u, &u).await.0.status, 201, "a new device after delete");
}

#[tokio::test]
async fn users_tokens_and_their_lifetimes() {
    let mut w = World::new(&[]).await;
    let (u, _) = w.bound_user().await;
    let bad = w.send(&ops::token_by_password("acme", &u.name, "wrong-Pass1")).await;
    assert_eq!((bad.status, bad.code()), (401, "IAM.0062"));
    assert_eq!(w.send(&ops::token_by_password("other-domain", &u.name, "User-pass-1")).await.status, 401);
    let dup = CreateUser {
        name: u.name.clone(),
        domain_id: w.domain_id.clone(),
        password: None,
        enabled: None,
        description: None,
    };
    assert_eq!(w.send(&ops::create_user(Some(&w.admin.token), &dup)).await.code(), "1109");
    let weak = CreateUser { name: "weak".into(), password: Some("password".into()), ..dup.clone() };
    assert_eq!(w.send(&ops::create_user(Some(&w.admin.token), &weak)).await.code(), "1103");
    assert_eq!(w.send(&ops::create_user(Some(&u.token), &CreateUser { name: "x1".into(), ..dup })).await.status, 403);
    assert_eq!(w.send(&ops::delete_user(Some(&w.admin.token), &w.admin.id)).await.code(), "1107");

    assert_eq!(w.send(&ops::delete_user(Some(&w.admin.token), &u.id)).await.status, 204);
    assert_eq!(w.send(&ops::list_devices(Some(&u.token))).await.status, 401, "deleting a user revokes its tokens");
    let list = w.send(&ops::list_devices(Some(&w.admin.token))).await;
    assert_eq!(list.json["virtual_mfa_devices"], json!([]), "and removes its device");
    let users = w.send(&ops::list_users(Some(&w.admin.token))).await;
    assert_eq!(users.json["users"].as_array().unwrap().len(), 1);

    w.advance(24 * 3600);
    assert_eq!(w.send(&ops::list_devices(Some(&w.admin.token))).await.status, 401, "tokens last 24 h");
}
