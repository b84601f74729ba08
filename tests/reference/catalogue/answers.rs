//! Aspects of the answer: statuses, bodies, error bodies, headers.

use super::{Entry, case, run};
use mfa_harness::api::ops;

pub fn table() -> Vec<Entry> {
    vec![
        case!(
            NoContentWithBody,
            |w| {
                let (u, d) = w.created_user().await;
                let a = w.bind(&u, &u, &d).await;
                (a.status, String::from_utf8(a.raw).unwrap(), a.content_type)
            },
            (204, "", ""),
            (204, "{}", "application/json")
        ),
        case!(
            NoContentLength,
            |w| {
                let (u, d) = w.created_user().await;
                let a = w.bind(&u, &u, &d).await;
                (a.status, a.content_length.unwrap_or_default(), a.raw.len())
            },
            (204, "0", 0),
            (204, "2", 0)
        ),
        case!(
            BindReturns201,
            |w| {
                let (u, d) = w.created_user().await;
                w.bind(&u, &u, &d).await.status
            },
            204,
            201
        ),
        case!(
            UnbindReturns200,
            |w| {
                let (u, d) = w.bound_user().await;
                let admin = w.admin.clone();
                let a = w.unbind(&admin, &u, &d, "000000").await;
                (a.status, a.raw.is_empty())
            },
            (204, true),
            (200, false)
        ),
        case!(
            QueryEmptyBody,
            |w| {
                let (u, _) = w.bound_user().await;
                let a = w.query(&u, &u).await;
                (a.status, a.raw.is_empty())
            },
            (200, false),
            (200, true)
        ),
        case!(
            ListSerialNumeric,
            |w| {
                w.bound_user().await;
                w.list(&w.admin).await.json["virtual_mfa_devices"][0]["serial_number"].is_string()
            },
            true,
            false
        ),
        case!(
            ListLeaksSeed,
            |w| {
                let (_, d) = w.bound_user().await;
                let a = w.list(&w.admin).await;
                a.json["virtual_mfa_devices"][0]["base32_string_seed"] == d.seed.to_base32().as_str()
            },
            false,
            true
        ),
        case!(
            ForbiddenCodeMismatch,
            |w| {
                let u = w.user().await;
                let a = w.list(&u).await;
                (a.status, a.code().to_string())
            },
            (403, "IAM.0002"),
            (403, "IAM.0004")
        ),
        case!(
            NotFoundCodeMismatch,
            |w| {
                let u = w.user().await;
                let a = w.query(&u, &u).await;
                (a.status, a.code().to_string())
            },
            (404, "IAM.0004"),
            (404, "IAM.0001")
        ),
        case!(
            ErrorMsgMissing,
            |w| {
                let u = w.user().await;
                let a = w.list(&u).await;
                (a.status, a.json.get("error_msg").is_some())
            },
            (403, true),
            (403, false)
        ),
        case!(
            ErrorCodeNumeric,
            |w| {
                let u = w.user().await;
                w.list(&u).await.json["error_code"].clone()
            },
            "IAM.0002",
            2
        ),
        case!(JsonContentTypeMissing, |w| { w.list(&w.admin).await.content_type }, "application/json", ""),
        case!(
            LoginProtectShowWrongUser,
            |w| {
                let u = w.user().await;
                let admin = w.admin.clone();
                assert_eq!(w.protect(&admin, &u, true, "sms").await.status, 200);
                let shown = w.send(&ops::show_login_protect(Some(&admin.token), &u.id)).await;
                shown.json["login_protect"]["user_id"] == u.id.as_str()
            },
            true,
            false
        ),
        case!(
            TotpTokenMethodsPasswordOnly,
            |w| {
                let (u, d) = w.protected_user().await;
                let a = w.login(&u, &u.id, &w.code(&d, 0)).await;
                (a.status, a.json["token"]["methods"].clone())
            },
            (201, ["password", "totp"].as_slice()),
            (201, ["password"].as_slice())
        ),
    ]
}

#[tokio::test]
async fn answer_faults_change_what_they_say() {
    run(&table()).await;
}
