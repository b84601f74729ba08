//! Each alternative reading shows the documented behaviour it names, where the default server
//! shows its own choice; the rest of the server is unchanged.

use crate::common::world::World;
use mfa_harness::api::ops;
use mfa_harness::reference::readings::Reading;

async fn reading(reading: Reading) -> World {
    World::with(&[], &[reading]).await
}

#[tokio::test]
async fn create_conflict_400_answers_a_second_create_with_400() {
    for (mut w, expected) in
        [(World::new(&[]).await, (409, "IAM.0005")), (reading(Reading::CreateConflict400).await, (400, "IAM.0007"))]
    {
        let u = w.user().await;
        assert_eq!(w.create(&u, &u).await.0.status, 201);
        let again = w.create(&u, &u).await.0;
        assert_eq!((again.status, again.code()), expected);
    }
}

#[tokio::test]
async fn serial_iam_mfa_names_devices_by_user_everywhere() {
    let mut w = reading(Reading::SerialIamMfa).await;
    let (u, d) = w.created_user().await;
    assert_eq!(d.serial, format!("iam/mfa/{}", u.id), "create");
    assert_eq!(w.bind(&u, &u, &d).await.status, 204, "bind takes the serial create returned");
    assert_eq!(w.query(&u, &u).await.json["virtual_mfa_device"]["serial_number"], d.serial.as_str(), "query");
    let list = w.list(&w.admin).await;
    assert_eq!(list.json["virtual_mfa_devices"][0]["serial_number"], d.serial.as_str(), "list");
    let admin = w.admin.clone();
    assert_eq!(w.unbind(&admin, &u, &d, "000000").await.status, 204);
    assert_eq!(w.delete(&admin, &u, &d.serial).await.status, 204);
    assert_eq!(w.create(&u, &u).await.0.status, 201, "the serial is free again");
}

#[tokio::test]
async fn delete_admin_only_refuses_the_user_its_own_device() {
    let mut w = reading(Reading::DeleteAdminOnly).await;
    let (u, d) = w.created_user().await;
    let own = w.delete(&u, &u, &d.serial).await;
    assert_eq!((own.status, own.code()), (403, "IAM.0002"));
    let admin = w.admin.clone();
    assert_eq!(w.delete(&admin, &u, &d.serial).await.status, 204);
    let mut default = World::new(&[]).await;
    let (u, d) = default.created_user().await;
    assert_eq!(default.delete(&u, &u, &d.serial).await.status, 204);
}

#[tokio::test]
async fn query_shows_unbound_shows_created_devices_in_query_and_list() {
    let mut w = reading(Reading::QueryShowsUnbound).await;
    let (u, d) = w.created_user().await;
    let shown = w.query(&u, &u).await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.json["virtual_mfa_device"]["serial_number"], d.serial.as_str());
    assert_eq!(w.listed().await, vec![u.id.clone()]);
    let admin = w.admin.clone();
    assert_eq!(w.delete(&admin, &u, &d.serial).await.status, 204);
    assert_eq!(w.query(&u, &u).await.status, 404, "a deleted device is gone");
    let mut default = World::new(&[]).await;
    let (u, _) = default.created_user().await;
    assert_eq!(default.query(&u, &u).await.status, 404);
    assert!(default.listed().await.is_empty());
}

#[tokio::test]
async fn mfa_login_401_answers_a_wrong_passcode_with_401() {
    for (mut w, expected) in
        [(World::new(&[]).await, (400, "IAM.1061")), (reading(Reading::MfaLogin401).await, (401, "IAM.0001"))]
    {
        let (u, d) = w.protected_user().await;
        let wrong = w.login(&u, &u.id, "000000").await;
        assert_eq!((wrong.status, wrong.code()), expected);
        assert_eq!(w.login(&u, &u.id, &w.code(&d, 0)).await.status, 201, "the right code still works");
    }
}

#[tokio::test]
async fn other_error_texts_change_every_message_but_no_status_or_code() {
    let mut default = World::new(&[]).await;
    let mut other = reading(Reading::OtherErrorTexts).await;
    let mut compared = 0;
    let (du, ou) = (default.user().await, other.user().await);
    let ops_for = |token: &str, user_id: &str| {
        vec![
            ops::list_devices(Some(token)),
            ops::list_devices(None),
            ops::show_device(Some(token), user_id),
            ops::create_device(Some(token), user_id, &"n".repeat(65)),
            ops::token_by_password_and_totp("acme", "nobody", "Wrong-pass1", user_id, "123456"),
        ]
    };
    for (a, b) in ops_for(&du.token, &du.id).iter().zip(ops_for(&ou.token, &ou.id).iter()) {
        let (a, b) = (default.send(a).await, other.send(b).await);
        assert_eq!((a.status, a.code()), (b.status, b.code()));
        assert!(a.status >= 400);
        assert_ne!(a.json["error_msg"], b.json["error_msg"], "{}", a.code());
        assert!(b.json["error_msg"].as_str().is_some_and(|m| !m.is_empty()));
        compared += 1;
    }
    assert_eq!(compared, 5);
}

#[tokio::test]
async fn login_protects_configured_lists_disabled_settings_too() {
    for (mut w, listed) in [(World::new(&[]).await, false), (reading(Reading::LoginProtectsConfigured).await, true)] {
        let u = w.user().await;
        let admin = w.admin.clone();
        assert_eq!(w.protect(&admin, &u, false, "sms").await.status, 200);
        let list = w.send(&ops::list_login_protects(Some(&admin.token))).await;
        let items = list.json["login_protects"].as_array().unwrap().clone();
        let item = items.iter().find(|p| p["user_id"] == u.id.as_str());
        assert_eq!(item.is_some(), listed, "{items:?}");
        if let Some(item) = item {
            assert_eq!((item["enabled"].as_bool(), item["verification_method"].as_str()), (Some(false), Some("sms")));
        }
    }
}

#[test]
fn every_reading_has_a_test_here() {
    let source = include_str!("readings.rs");
    for r in Reading::ALL {
        let variant = format!("Reading::{r:?}");
        assert!(source.contains(&variant), "{r} has no test");
    }
}
