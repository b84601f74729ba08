//! Device state transitions (and the login-protection setting).

use super::{Entry, case, run};
use crate::common::world::Device;
use mfa_harness::api::ops;

pub fn table() -> Vec<Entry> {
    vec![
        case!(
            CreateReplacesExisting,
            |w| {
                let (u, _) = w.bound_user().await;
                (w.create(&u, &u).await.0.status, w.query(&u, &u).await.status)
            },
            (409, 200),
            (201, 404)
        ),
        case!(
            CreateRefusalStillCreates,
            |w| {
                let u = w.user().await;
                let long = w.send(&ops::create_device(Some(&u.token), &u.id, &"n".repeat(65))).await.status;
                (long, w.create(&u, &u).await.0.status)
            },
            (400, 201),
            (400, 409)
        ),
        case!(
            BindUnknownSerial204,
            |w| {
                let (u, d) = w.created_user().await;
                let unknown = Device { serial: "iam:0000:mfa/nothing".into(), seed: d.seed.clone() };
                (w.bind(&u, &u, &unknown).await.status, w.query(&u, &u).await.status)
            },
            (404, 404),
            (204, 404)
        ),
        case!(
            BindNotRecorded,
            |w| {
                let (u, d) = w.created_user().await;
                (w.bind(&u, &u, &d).await.status, w.query(&u, &u).await.status, w.listed().await.len())
            },
            (204, 200, 1),
            (204, 404, 0)
        ),
        case!(
            BindRefusalStillBinds,
            |w| {
                let (u, d) = w.created_user().await;
                (w.bind_codes(&u, &u, &d, "000000", "111111").await.status, w.query(&u, &u).await.status)
            },
            (400, 404),
            (400, 200)
        ),
        case!(
            UnbindUnbound204,
            |w| {
                let (u, d) = w.created_user().await;
                let admin = w.admin.clone();
                w.unbind(&admin, &u, &d, "000000").await.status
            },
            409,
            204
        ),
        case!(
            UnbindRefusalStillUnbinds,
            |w| {
                let (u, d) = w.bound_user().await;
                w.advance(30);
                (w.unbind(&u, &u, &d, "000000").await.status, w.query(&u, &u).await.status)
            },
            (400, 200),
            (400, 404)
        ),
        case!(
            DeleteBoundAnswers204,
            |w| {
                let (u, d) = w.bound_user().await;
                let admin = w.admin.clone();
                (w.delete(&admin, &u, &d.serial).await.status, w.query(&u, &u).await.status, w.listed().await.len())
            },
            (409, 200, 1),
            (204, 200, 1)
        ),
        case!(
            QueryUsesCallerId,
            |w| {
                let (u, _) = w.bound_user().await;
                let admin = w.admin.clone();
                w.query(&admin, &u).await.status
            },
            200,
            404
        ),
        case!(
            ListOmitsLastDevice,
            |w| {
                w.bound_user().await;
                w.bound_user().await;
                w.listed().await.len()
            },
            2,
            1
        ),
        case!(
            ListShowsDeleted,
            |w| {
                let (u, d) = w.bound_user().await;
                let admin = w.admin.clone();
                assert_eq!(w.unbind(&admin, &u, &d, "000000").await.status, 204);
                assert_eq!(w.delete(&admin, &u, &d.serial).await.status, 204);
                w.listed().await.contains(&u.id)
            },
            false,
            true
        ),
        case!(
            ListDuplicatesDevices,
            |w| {
                let (u, _) = w.bound_user().await;
                w.listed().await == vec![u.id.clone()]
            },
            true,
            false
        ),
        case!(
            DeleteUserKeepsDevice,
            |w| {
                let (u, _) = w.bound_user().await;
                let admin = w.admin.clone();
                assert_eq!(w.send(&ops::delete_user(Some(&admin.token), &u.id)).await.status, 204);
                w.listed().await.contains(&u.id)
            },
            false,
            true
        ),
        case!(
            LoginProtectNotSaved,
            |w| {
                let u = w.user().await;
                let admin = w.admin.clone();
                assert_eq!(w.protect(&admin, &u, true, "sms").await.status, 200);
                let off = w.protect(&admin, &u, false, "sms").await;
                let shown = w.send(&ops::show_login_protect(Some(&admin.token), &u.id)).await;
                (
                    off.status,
                    off.json["login_protect"]["enabled"].clone(),
                    shown.json["login_protect"]["enabled"].clone(),
                )
            },
            (200, false, false),
            (200, false, true)
        ),
    ]
}

#[tokio::test]
async fn state_faults_change_what_they_say() {
    run(&table()).await;
}
