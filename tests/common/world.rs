//! An in-memory reference server with a controllable clock, driven through `oneshot`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use mfa_harness::api::models::{BindMfaDevice, UnbindMfaDevice};
use mfa_harness::api::{Operation, ops};
use mfa_harness::reference::faults::Fault;
use mfa_harness::reference::readings::Reading;
use mfa_harness::reference::{AppState, app};
use mfa_harness::totp::{self, Seed};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tower::ServiceExt;

/// A fixed instant well inside a 30-s step.
pub const T0: u64 = 1_800_000_015;
pub const ADMIN_PASSWORD: &str = "Admin-pass-1";
/// Every user's password.
pub const USER_PASSWORD: &str = "User-pass-1";

/// An answer: status, Content-Type, Content-Length (when the server set one), JSON body (Null
/// when empty or not JSON), raw body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub content_length: Option<String>,
    pub json: Value,
    pub raw: Vec<u8>,
    pub subject_token: Option<String>,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.json["error_code"].as_str().unwrap_or("")
    }
}

/// One user of the world.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub name: String,
    pub token: String,
}

/// A device made by [`World::create`].
#[derive(Debug, Clone)]
pub struct Device {
    pub serial: String,
    pub seed: Seed,
}

pub struct World {
    pub state: AppState,
    pub clock: Arc<AtomicU64>,
    pub admin: User,
    pub domain_id: String,
    next: u32,
}

impl World {
    pub async fn new(faults: &[Fault]) -> World {
        World::with(faults, &[]).await
    }

    /// A world whose server runs with `faults` and the alternative `readings`.
    pub async fn with(faults: &[Fault], readings: &[Reading]) -> World {
        let clock = Arc::new(AtomicU64::new(T0));
        let c = clock.clone();
        let config = super::config::server_with("acme", "root", ADMIN_PASSWORD, faults, readings);
        let state = AppState::new(&config, Arc::new(move || c.load(Ordering::SeqCst)));
        let mut world = World {
            state,
            clock,
            admin: User { id: String::new(), name: "root".into(), token: String::new() },
            domain_id: String::new(),
            next: 0,
        };
        let answer = world.send(&ops::token_by_password("acme", "root", ADMIN_PASSWORD)).await;
        assert_eq!(answer.status, 201, "{answer:?}");
        world.admin.token = answer.subject_token.clone().unwrap();
        world.admin.id = answer.json["token"]["user"]["id"].as_str().unwrap().to_string();
        world.domain_id = answer.json["token"]["user"]["domain"]["id"].as_str().unwrap().to_string();
        world
    }

    pub fn now(&self) -> u64 {
        self.clock.load(Ordering::SeqCst)
    }

    pub fn advance(&self, seconds: u64) {
        self.clock.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Sends an operation through the router in memory.
    pub async fn send(&self, op: &Operation) -> Answer {
        let mut builder = Request::builder().method(op.method.clone()).uri(op.path_and_query());
        if let Some(token) = &op.token {
            builder = builder.header("X-Auth-Token", token);
        }
        let body = match op.body_bytes() {
            Some((content_type, bytes)) => {
                builder = builder.header("Content-Type", content_type);
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        self.raw(builder.body(body).unwrap()).await
    }

    pub async fn raw(&self, request: Request<Body>) -> Answer {
        let response = app(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let header = |n: &str| response.headers().get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
        let content_type = header("content-type").unwrap_or_default();
        let content_length = header("content-length");
        let subject_token = header("x-subject-token");
        let raw = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        let json = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        if self.state.faults.is_empty() {
            assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "no 500 from the correct reference: {json}");
        }
        Answer { status: status.as_u16(), content_type, content_length, json, raw, subject_token }
    }

    /// A new IAM user with a password and a token.
    pub async fn user(&mut self) -> User {
        self.next += 1;
        let name = format!("user-{}", self.next);
        let create = mfa_harness::api::models::CreateUser {
            name: name.clone(),
            domain_id: self.domain_id.clone(),
            password: Some(USER_PASSWORD.into()),
            enabled: None,
            description: None,
        };
        let answer = self.send(&ops::create_user(Some(&self.admin.token), &create)).await;
        assert_eq!(answer.status, 201, "{answer:?}");
        let id = answer.json["user"]["id"].as_str().unwrap().to_string();
        let token = self.send(&ops::token_by_password("acme", &name, USER_PASSWORD)).await;
        assert_eq!(token.status, 201);
        User { id, name, token: token.subject_token.unwrap() }
    }

    pub async fn create(&self, as_user: &User, for_user: &User) -> (Answer, Option<Device>) {
        let answer = self
            .send(&ops::create_device(Some(&as_user.token), &for_user.id, &format!("phone-{}", for_user.name)))
            .await;
        let created = &answer.json["virtual_mfa_device"];
        let device = match (created["serial_number"].as_str(), created["base32_string_seed"].as_str()) {
            (Some(serial), Some(seed)) => Some(Device { serial: serial.to_string(), seed: Seed::parse(seed).unwrap() }),
            _ => None,
        };
        (answer, device)
    }

    pub async fn bind_codes(
        &self,
        as_user: &User,
        for_user: &User,
        device: &Device,
        first: &str,
        second: &str,
    ) -> Answer {
        let body = BindMfaDevice {
            user_id: for_user.id.clone(),
            serial_number: device.serial.clone(),
            authentication_code_first: first.into(),
            authentication_code_second: second.into(),
        };
        self.send(&ops::bind_device(Some(&as_user.token), &body)).await
    }

    /// Binds with the codes of steps t−1 and t.
    pub async fn bind(&self, as_user: &User, for_user: &User, device: &Device) -> Answer {
        let pair = totp::bind_pair(&device.seed, self.now());
        self.bind_codes(as_user, for_user, device, &pair.first, &pair.second).await
    }

    pub async fn unbind(&self, as_user: &User, for_user: &User, device: &Device, code: &str) -> Answer {
        let body = UnbindMfaDevice {
            user_id: for_user.id.clone(),
            authentication_code: code.into(),
            serial_number: device.serial.clone(),
        };
        self.send(&ops::unbind_device(Some(&as_user.token), &body)).await
    }

    pub async fn query(&self, as_user: &User, for_user: &User) -> Answer {
        self.send(&ops::show_device(Some(&as_user.token), &for_user.id)).await
    }

    pub async fn delete(&self, as_user: &User, for_user: &User, serial: &str) -> Answer {
        self.send(&ops::delete_device(Some(&as_user.token), &for_user.id, serial)).await
    }

    pub async fn list(&self, as_user: &User) -> Answer {
        self.send(&ops::list_devices(Some(&as_user.token))).await
    }

    /// The user ids `list` (as the administrator) shows, in its order.
    pub async fn listed(&self) -> Vec<String> {
        let answer = self.list(&self.admin).await;
        let items = answer.json["virtual_mfa_devices"].as_array().cloned().unwrap_or_default();
        items.iter().map(|d| d["user_id"].as_str().unwrap_or("?").to_string()).collect()
    }

    /// Modifies `for_user`'s login protection as `as_user`.
    pub async fn protect(&self, as_user: &User, for_user: &User, enabled: bool, method: &str) -> Answer {
        self.send(&ops::modify_login_protect(Some(&as_user.token), &for_user.id, enabled, method)).await
    }

    /// A password+TOTP token for `user` (totp.user.id `totp_user_id`) with `passcode`.
    pub async fn login(&self, user: &User, totp_user_id: &str, passcode: &str) -> Answer {
        self.send(&ops::token_by_password_and_totp("acme", &user.name, USER_PASSWORD, totp_user_id, passcode)).await
    }

    /// The code of the step `offset` steps from now.
    pub fn code(&self, device: &Device, offset: i64) -> String {
        device.seed.code((totp::step_at(self.now()) as i64 + offset) as u64)
    }

    /// A user with a created (not bound) device.
    pub async fn created_user(&mut self) -> (User, Device) {
        let user = self.user().await;
        let (_, device) = self.create(&user, &user).await;
        (user, device.expect("created"))
    }

    /// A user with a created and bound device.
    pub async fn bound_user(&mut self) -> (User, Device) {
        let (user, device) = self.created_user().await;
        assert!(matches!(self.bind(&user, &user, &device).await.status, 201 | 204), "bound");
        (user, device)
    }

    /// A user with a bound device and vmfa login protection, the clock one step on so that a
    /// fresh code exists.
    pub async fn protected_user(&mut self) -> (User, Device) {
        let (user, device) = self.bound_user().await;
        let admin = self.admin.clone();
        assert_eq!(self.protect(&admin, &user, true, "vmfa").await.status, 200);
        self.advance(totp::STEP_SECONDS);
        (user, device)
    }
}
