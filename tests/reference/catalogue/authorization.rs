//! Authorization per operation and caller.

use super::{Entry, case, run};
use axum::body::Body;
use axum::http::Request;
use mfa_harness::api::ops;

pub fn table() -> Vec<Entry> {
    vec![
        case!(
            UnbindIgnoresTokenOwner,
            |w| {
                let (u, d) = w.bound_user().await;
                let other = w.user().await;
                w.unbind(&other, &u, &d, "000000").await.status
            },
            403,
            204
        ),
        case!(
            AdminHeaderTrusted,
            |w| {
                let u = w.user().await;
                let request = Request::get("/v3.0/OS-MFA/virtual-mfa-devices")
                    .header("X-Auth-Token", &u.token)
                    .header("X-Role", "admin")
                    .body(Body::empty())
                    .unwrap();
                w.raw(request).await.status
            },
            403,
            200
        ),
        case!(
            QueryOtherWhenBound,
            |w| {
                let (bound, _) = w.bound_user().await;
                let (unbound, _) = w.created_user().await;
                let other = w.user().await;
                (w.query(&other, &bound).await.status, w.query(&other, &unbound).await.status)
            },
            (403, 403),
            (200, 403)
        ),
        case!(
            ExpiredTokenAccepted,
            |w| {
                let u = w.user().await;
                w.advance(24 * 3600 + 1);
                w.query(&u, &u).await.status
            },
            401,
            404
        ),
        case!(
            LoginProtectModifyByNonAdmin,
            |w| {
                let u = w.user().await;
                w.protect(&u, &u, true, "sms").await.status
            },
            403,
            200
        ),
        case!(
            LoginProtectShowOtherUser,
            |w| {
                let u = w.user().await;
                let other = w.user().await;
                let admin = w.admin.clone();
                assert_eq!(w.protect(&admin, &u, true, "sms").await.status, 200);
                w.send(&ops::show_login_protect(Some(&other.token), &u.id)).await.status
            },
            403,
            200
        ),
        case!(
            LoginProtectListNonAdmin,
            |w| {
                let u = w.user().await;
                w.send(&ops::list_login_protects(Some(&u.token))).await.status
            },
            403,
            200
        ),
    ]
}

#[tokio::test]
async fn authorization_faults_change_what_they_say() {
    run(&table()).await;
}
