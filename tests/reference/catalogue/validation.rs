//! Input validation: names, user ids, types, serial numbers, the form of TOTP codes.

use super::{Entry, case, run};
use crate::common::world::User;
use mfa_harness::api::ops;
use serde_json::json;

/// A code written in fullwidth digits (U+FF10 …).
fn fullwidth(code: &str) -> String {
    code.chars().map(|c| char::from_u32(0xFF10 + c.to_digit(10).unwrap()).unwrap()).collect()
}

pub fn table() -> Vec<Entry> {
    vec![
        case!(
            CreateAcceptsLongName,
            |w| {
                let u = w.user().await;
                w.send(&ops::create_device(Some(&u.token), &u.id, &"n".repeat(65))).await.status
            },
            400,
            201
        ),
        case!(
            CreateAcceptsEmptyName,
            |w| {
                let u = w.user().await;
                w.send(&ops::create_device(Some(&u.token), &u.id, "")).await.status
            },
            400,
            201
        ),
        case!(
            CreateDefaultsUserId,
            |w| {
                let u = w.user().await;
                let op = ops::create_device(Some(&u.token), &u.id, "x")
                    .with_json(json!({"virtual_mfa_device": {"name": "x"}}));
                let a = w.send(&op).await;
                (a.status, a.code().to_string())
            },
            (400, "IAM.0072"),
            (201, "")
        ),
        case!(
            CreateUsesTokenOwner,
            |w| {
                let u = w.user().await;
                let other = w.user().await;
                (w.create(&other, &u).await.0.status, w.create(&other, &other).await.0.status)
            },
            (403, 201),
            (201, 409)
        ),
        case!(
            CreateForUnknownUser,
            |w| {
                let admin = w.admin.clone();
                let ghost = User { id: "f".repeat(32), name: "ghost".into(), token: String::new() };
                w.create(&admin, &ghost).await.0.status
            },
            404,
            201
        ),
        case!(
            NullField500,
            |w| {
                let u = w.user().await;
                let body = json!({"virtual_mfa_device": {"name": null, "user_id": u.id}});
                let a = w.send(&ops::create_device(Some(&u.token), &u.id, "x").with_json(body)).await;
                (a.status, a.code().to_string())
            },
            (400, "IAM.0073"),
            (500, "IAM.0006")
        ),
        case!(
            WrongTypeCoerced,
            |w| {
                let u = w.user().await;
                let body = json!({"virtual_mfa_device": {"name": 12345, "user_id": u.id}});
                w.send(&ops::create_device(Some(&u.token), &u.id, "x").with_json(body)).await.status
            },
            400,
            201
        ),
        case!(
            BindAcceptsOtherUsersSerial,
            |w| {
                let (u, _) = w.created_user().await;
                let (v, dv) = w.created_user().await;
                (w.bind(&u, &u, &dv).await.status, w.query(&v, &v).await.status)
            },
            (404, 404),
            (204, 200)
        ),
        case!(
            UnbindAcceptsOtherUsersSerial,
            |w| {
                let (u, _) = w.bound_user().await;
                let (v, dv) = w.bound_user().await;
                w.advance(30);
                let code = w.code(&dv, 0);
                (w.unbind(&u, &u, &dv, &code).await.status, w.query(&v, &v).await.status)
            },
            (404, 200),
            (204, 404)
        ),
        case!(
            DeleteAcceptsOtherUsersSerial,
            |w| {
                let (u, _) = w.created_user().await;
                let (v, dv) = w.created_user().await;
                (w.delete(&u, &u, &dv.serial).await.status, w.create(&v, &v).await.0.status)
            },
            (404, 409),
            (204, 201)
        ),
        case!(
            DeleteIgnoresSerial,
            |w| {
                let (u, _) = w.created_user().await;
                (w.delete(&u, &u, "iam:0000:mfa/nothing").await.status, w.create(&u, &u).await.0.status)
            },
            (404, 409),
            (204, 201)
        ),
        case!(
            CodesTrimmed,
            |w| {
                let (u, d) = w.created_user().await;
                let (first, second) = (format!(" {} ", w.code(&d, -1)), format!(" {} ", w.code(&d, 0)));
                w.bind_codes(&u, &u, &d, &first, &second).await.status
            },
            400,
            204
        ),
        case!(
            CodesComparedAsNumbers,
            |w| {
                let (u, d) = w.created_user().await;
                let (first, second) = (format!("0{}", w.code(&d, -1)), format!("0{}", w.code(&d, 0)));
                w.bind_codes(&u, &u, &d, &first, &second).await.status
            },
            400,
            204
        ),
        case!(
            NonAsciiDigitsAccepted,
            |w| {
                let (u, d) = w.created_user().await;
                let (first, second) = (fullwidth(&w.code(&d, -1)), fullwidth(&w.code(&d, 0)));
                w.bind_codes(&u, &u, &d, &first, &second).await.status
            },
            400,
            204
        ),
        case!(
            LoginProtectAcceptsUnknownMethod,
            |w| {
                let u = w.user().await;
                let admin = w.admin.clone();
                w.protect(&admin, &u, true, "fax").await.status
            },
            400,
            200
        ),
    ]
}

#[tokio::test]
async fn validation_faults_change_what_they_say() {
    run(&table()).await;
}
