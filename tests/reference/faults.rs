//! Each fault of the reference server changes exactly the behaviour its description claims:
//! every test observes the same thing on the correct server and on the faulty one.

use crate::common::world::World;
use mfa_harness::api::ops;
use mfa_harness::reference::faults::Fault;
use mfa_harness::totp;

/// Runs `probe` on a correct and a faulty world and returns both observations.
macro_rules! compare {
    ($fault:expr, |$w:ident| $probe:expr) => {{
        let correct = {
            #[allow(unused_mut)]
            let mut $w = World::new(&[]).await;
            $probe
        };
        let faulty = {
            #[allow(unused_mut)]
            let mut $w = World::new(&[$fault]).await;
            $probe
        };
        (correct, faulty)
    }};
}

const TESTED: &[Fault] = &[
    Fault::BindAcceptsAnyCode,
    Fault::BindAcceptsNonConsecutive,
    Fault::BindAcceptsReplay,
    Fault::BindIgnoresTokenOwner,
    Fault::BindNotAtomic,
    Fault::BindRebindSucceeds,
    Fault::CreateReturns200,
    Fault::CreateOmitsSeed,
    Fault::CreateIgnoresTokenOwner,
    Fault::QueryMissingSerial,
    Fault::QueryLeaksSeed,
    Fault::QueryWrongSerial,
    Fault::QueryIgnoresTokenOwner,
    Fault::ListAllowsNonAdmin,
    Fault::UnbindIgnoresCode,
    Fault::UnbindLeavesBound,
    Fault::DeleteLeavesDevice,
    Fault::DeleteIgnoresTokenOwner,
    Fault::MissingTokenAccepted,
    Fault::InvalidTokenAccepted,
    Fault::ErrorBodyKeystone,
    Fault::MalformedJson500,
    Fault::TextContentType,
    Fault::TotpTokenIgnoresPasscode,
];

#[test]
fn every_fault_has_a_test_here_or_in_the_catalogue() {
    let catalogue = crate::catalogue::covered();
    let missing: Vec<_> = Fault::ALL.iter().filter(|f| !TESTED.contains(f) && !catalogue.contains(f)).collect();
    assert!(missing.is_empty(), "faults without a test: {missing:?}");
    let twice: Vec<_> = TESTED.iter().filter(|f| catalogue.contains(f)).collect();
    assert!(twice.is_empty(), "tested twice: {twice:?}");
}

#[tokio::test]
async fn bind_accepts_any_code() {
    let r = compare!(Fault::BindAcceptsAnyCode, |w| {
        let u = w.user().await;
        let d = w.create(&u, &u).await.1.unwrap();
        w.bind_codes(&u, &u, &d, "000000", "111111").await.status
    });
    assert_eq!(r, (400, 204));
}

#[tokio::test]
async fn bind_accepts_non_consecutive() {
    let r = compare!(Fault::BindAcceptsNonConsecutive, |w| {
        let u = w.user().await;
        let d = w.create(&u, &u).await.1.unwrap();
        let t = totp::step_at(w.now());
        w.bind_codes(&u, &u, &d, &d.seed.code(t - 1), &d.seed.code(t + 1)).await.status
    });
    assert_eq!(r, (400, 204));
}

#[tokio::test]
async fn bind_accepts_replay() {
    let r = compare!(Fault::BindAcceptsReplay, |w| {
        let (u, d) = w.bound_user().await;
        let admin = w.admin.clone();
        assert_eq!(w.unbind(&admin, &u, &d, "000000").await.status, 204);
        w.bind(&u, &u, &d).await.status
    });
    assert_eq!(r, (400, 204));
}

#[tokio::test]
async fn bind_ignores_token_owner() {
    let r = compare!(Fault::BindIgnoresTokenOwner, |w| {
        let u = w.user().await;
        let other = w.user().await;
        let d = w.create(&u, &u).await.1.unwrap();
        w.bind(&other, &u, &d).await.status
    });
    assert_eq!(r, (403, 204));
}

#[tokio::test]
async fn bind_not_atomic() {
    let r = compare!(Fault::BindNotAtomic, |w| {
        let u = w.user().await;
        let d = w.create(&u, &u).await.1.unwrap();
        let answers = futures::future::join_all((0..8).map(|_| w.bind(&u, &u, &d))).await;
        answers.iter().filter(|a| a.status == 204).count()
    });
    assert_eq!(r.0, 1);
    assert!(r.1 > 1, "the race lets several binds win: {}", r.1);
}

#[tokio::test]
async fn bind_rebind_succeeds() {
    let r = compare!(Fault::BindRebindSucceeds, |w| {
        let (u, d) = w.bound_user().await;
        w.bind(&u, &u, &d).await.status
    });
    assert_eq!(r, (409, 204));
}

#[tokio::test]
async fn create_returns_200() {
    let r = compare!(Fault::CreateReturns200, |w| {
        let u = w.user().await;
        w.create(&u, &u).await.0.status
    });
    assert_eq!(r, (201, 200));
}

#[tokio::test]
async fn create_omits_seed() {
    let r = compare!(Fault::CreateOmitsSeed, |w| {
        let u = w.user().await;
        let a = w.create(&u, &u).await.0;
        (a.status, a.json["virtual_mfa_device"].get("base32_string_seed").is_some())
    });
    assert_eq!(r, ((201, true), (201, false)));
}

#[tokio::test]
async fn create_ignores_token_owner() {
    let r = compare!(Fault::CreateIgnoresTokenOwner, |w| {
        let u = w.user().await;
        let other = w.user().await;
        w.create(&other, &u).await.0.status
    });
    assert_eq!(r, (403, 201));
}

#[tokio::test]
async fn query_missing_serial() {
    let r = compare!(Fault::QueryMissingSerial, |w| {
        let (u, _) = w.bound_user().await;
        let a = w.query(&u, &u).await;
        (a.status, a.json["virtual_mfa_device"].get("serial_number").is_some())
    });
    assert_eq!(r, ((200, true), (200, false)));
}

#[tokio::test]
async fn query_leaks_seed() {
    let r = compare!(Fault::QueryLeaksSeed, |w| {
        let (u, d) = w.bound_user().await;
        let a = w.query(&u, &u).await;
        a.json["virtual_mfa_device"]["base32_string_seed"].as_str() == Some(d.seed.to_base32().as_str())
    });
    assert_eq!(r, (false, true));
}

#[tokio::test]
async fn query_wrong_serial() {
    let r = compare!(Fault::QueryWrongSerial, |w| {
        let (u, d) = w.bound_user().await;
        w.query(&u, &u).await.json["virtual_mfa_device"]["serial_number"] == d.serial.as_str()
    });
    assert_eq!(r, (true, false));
}

#[tokio::test]
async fn query_ignores_token_owner() {
    let r = compare!(Fault::QueryIgnoresTokenOwner, |w| {
        let (u, _) = w.bound_user().await;
        let other = w.user().await;
        w.query(&other, &u).await.status
    });
    assert_eq!(r, (403, 200));
}

#[tokio::test]
async fn list_allows_non_admin() {
    let r = compare!(Fault::ListAllowsNonAdmin, |w| {
        let u = w.user().await;
        w.send(&ops::list_devices(Some(&u.token))).await.status
    });
    assert_eq!(r, (403, 200));
}

#[tokio::test]
async fn unbind_ignores_code() {
    let r = compare!(Fault::UnbindIgnoresCode, |w| {
        let (u, d) = w.bound_user().await;
        w.unbind(&u, &u, &d, "999999").await.status
    });
    assert_eq!(r, (400, 204));
}

#[tokio::test]
async fn unbind_leaves_bound() {
    let r = compare!(Fault::UnbindLeavesBound, |w| {
        let (u, d) = w.bound_user().await;
        let admin = w.admin.clone();
        let unbind = w.unbind(&admin, &u, &d, "000000").await.status;
        (unbind, w.query(&u, &u).await.status)
    });
    assert_eq!(r, ((204, 404), (204, 200)));
}

#[tokio::test]
async fn delete_leaves_device() {
    let r = compare!(Fault::DeleteLeavesDevice, |w| {
        let u = w.user().await;
        let d = w.create(&u, &u).await.1.unwrap();
        let deleted = w.send(&ops::delete_device(Some(&w.admin.token), &u.id, &d.serial)).await.status;
        (deleted, w.create(&u, &u).await.0.status)
    });
    assert_eq!(r, ((204, 201), (204, 409)));
}

#[tokio::test]
async fn delete_ignores_token_owner() {
    let r = compare!(Fault::DeleteIgnoresTokenOwner, |w| {
        let u = w.user().await;
        let other = w.user().await;
        let d = w.create(&u, &u).await.1.unwrap();
        w.send(&ops::delete_device(Some(&other.token), &u.id, &d.serial)).await.status
    });
    assert_eq!(r, (403, 204));
}

#[tokio::test]
async fn missing_token_accepted() {
    let r = compare!(Fault::MissingTokenAccepted, |w| w.send(&ops::list_devices(None)).await.status);
    assert_eq!(r, (401, 200));
}

#[tokio::test]
async fn invalid_token_accepted() {
    let r = compare!(Fault::InvalidTokenAccepted, |w| w.send(&ops::list_devices(Some("MIInever-issued"))).await.status);
    assert_eq!(r, (401, 200));
}

#[tokio::test]
async fn error_body_keystone() {
    let r = compare!(Fault::ErrorBodyKeystone, |w| {
        let a = w.send(&ops::list_devices(None)).await;
        (a.status, a.json.get("error_code").is_some(), a.json["error"]["code"].as_u64())
    });
    assert_eq!(r, ((401, true, None), (401, false, Some(401))));
}

#[tokio::test]
async fn malformed_json_500() {
    let r = compare!(Fault::MalformedJson500, |w| {
        let mut op = ops::create_device(Some(&w.admin.token), "u", "n");
        op.body = mfa_harness::api::Body::Raw { content_type: "application/json".into(), bytes: b"{\"a\":".to_vec() };
        let a = w.send(&op).await;
        (a.status, a.code().to_string())
    });
    assert_eq!(r, ((400, "IAM.0011".to_string()), (500, "IAM.0006".to_string())));
}

#[tokio::test]
async fn text_content_type() {
    let r = compare!(Fault::TextContentType, |w| w.send(&ops::list_devices(Some(&w.admin.token))).await.content_type);
    assert!(r.0.starts_with("application/json") && r.1 == "text/plain", "{r:?}");
}

#[tokio::test]
async fn totp_token_ignores_passcode() {
    let r = compare!(Fault::TotpTokenIgnoresPasscode, |w| {
        let (u, _) = w.bound_user().await;
        let admin = w.admin.token.clone();
        assert_eq!(w.send(&ops::modify_login_protect(Some(&admin), &u.id, true, "vmfa")).await.status, 200);
        w.send(&ops::token_by_password_and_totp("acme", &u.name, "User-pass-1", &u.id, "000000")).await.status
    });
    assert_eq!(r, (400, 201));
}
