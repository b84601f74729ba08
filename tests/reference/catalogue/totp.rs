//! TOTP: the window, the order and number of bind codes, used steps, the administrator's code.

use super::{Entry, case, run};

pub fn table() -> Vec<Entry> {
    vec![
        case!(
            TotpWindow3Steps,
            |w| {
                let (u, d) = w.created_user().await;
                w.bind_codes(&u, &u, &d, &w.code(&d, -3), &w.code(&d, -2)).await.status
            },
            400,
            204
        ),
        case!(
            BindAcceptsReversedPair,
            |w| {
                let (u, d) = w.created_user().await;
                w.bind_codes(&u, &u, &d, &w.code(&d, 0), &w.code(&d, -1)).await.status
            },
            400,
            204
        ),
        case!(
            BindChecksFirstCodeOnly,
            |w| {
                let (u, d) = w.created_user().await;
                w.bind_codes(&u, &u, &d, &w.code(&d, -1), "000000").await.status
            },
            400,
            204
        ),
        case!(
            UnbindCodeNotConsumed,
            |w| {
                let (u, d) = w.bound_user().await;
                w.advance(60);
                let unbind = w.unbind(&u, &u, &d, &w.code(&d, 0)).await.status;
                (unbind, w.bind_codes(&u, &u, &d, &w.code(&d, -1), &w.code(&d, 0)).await.status)
            },
            (204, 400),
            (204, 204)
        ),
        case!(
            UnbindVerifiesAdminCode,
            |w| {
                let (u, d) = w.bound_user().await;
                let admin = w.admin.clone();
                w.unbind(&admin, &u, &d, "000000").await.status
            },
            204,
            400
        ),
    ]
}

#[tokio::test]
async fn totp_faults_change_what_they_say() {
    run(&table()).await;
}
