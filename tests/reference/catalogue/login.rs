//! The password+TOTP token and login protection.

use super::{Entry, case, run};

pub fn table() -> Vec<Entry> {
    vec![
        case!(
            LoginAcceptsReplay,
            |w| {
                let (u, d) = w.protected_user().await;
                let code = w.code(&d, 0);
                (w.login(&u, &u.id, &code).await.status, w.login(&u, &u.id, &code).await.status)
            },
            (201, 400),
            (201, 201)
        ),
        case!(
            LoginTotpUserUnchecked,
            |w| {
                let u = w.user().await;
                let (v, dv) = w.protected_user().await;
                w.login(&u, &v.id, &w.code(&dv, 0)).await.status
            },
            400,
            201
        ),
        case!(
            UnbindAllowedWithVmfa,
            |w| {
                let (u, d) = w.protected_user().await;
                let admin = w.admin.clone();
                let a = w.unbind(&admin, &u, &d, "000000").await;
                (a.status, a.code().to_string())
            },
            (400, "IAM.1062"),
            (204, "")
        ),
    ]
}

#[tokio::test]
async fn login_faults_change_what_they_say() {
    run(&table()).await;
}
