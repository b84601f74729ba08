//! What a load run shares between its goose users ([`LoadContext`]) and what each user keeps
//! ([`Session`]): identity, device, prepared requests, its own connection.

use super::recorder::Recorder;
use super::step::Step;
use super::wire::{Endpoint, Wire};
use crate::api::models::{BindMfaDevice, UnbindMfaDevice};
use crate::api::{Operation, ops};
use crate::client::HttpClient;
use crate::rules::SeedForms;
use crate::schemas::Schemas;
use crate::target::Identity;
use crate::totp::{self, Seed};
use bytes::Bytes;
use http::HeaderValue;
use std::sync::Mutex;
use std::time::Duration;

/// Shared by every goose user of a run.
pub struct LoadContext {
    pub identities: Mutex<Vec<Identity>>,
    pub admin_token: String,
    pub client: HttpClient,
    pub schemas: Schemas,
    pub recorder: Recorder,
    /// Start of every device name of this run, unique per run so that runs side by side
    /// against one target do not collide on serial numbers.
    pub device_prefix: String,
    /// Bind codes are sent only with at least this much of their 30-s step left.
    pub step_margin: Duration,
    /// Where each session opens its own connection; `None` sends through goose's client.
    pub endpoint: Option<Endpoint>,
    /// The client every goose user sends through when it has no connection of its own:
    /// [`crate::client::reqwest_builder`]'s, which follows no redirect (goose's would).
    pub goose_client: reqwest::Client,
    /// The most bytes of a measured answer's body that are read (`--max-body`).
    pub max_body: usize,
    /// `--header`s, sent on every request of the session's own connection too.
    pub headers: Vec<(http::HeaderName, HeaderValue)>,
    /// The administrator's requests are signed with these (`--access-key`), not given a token.
    pub keys: Option<crate::sign::Keys>,
    /// With `--rate-stages`: when each flow starts, and how many users the pool has.
    pub arrivals: Option<(super::arrivals::Arrivals, u64)>,
    /// Whether a goose iteration may run several flows in a row (up to [`BATCH_FLOWS`] or
    /// [`BATCH_TIME`]): goose's own work per iteration (its loop, its channels, a new boxed
    /// future) is then paid once for several flows. Only when nothing of goose's is needed
    /// between flows ([`super::LoadPlan`]'s `batch`); a scenario with a think time never does.
    pub batch: bool,
}

/// The most flows one goose iteration runs in a row.
pub const BATCH_FLOWS: usize = 16;
/// An iteration starts no further flow after this long: goose stops a user (a ramp down, the
/// end of the run) between iterations, so it waits at most this, and one flow, longer. At
/// the ≈ 1,000 query flows per second a user makes against a fast target, this lets a row
/// reach [`BATCH_FLOWS`].
pub const BATCH_TIME: Duration = Duration::from_millis(20);

impl AsRef<Recorder> for LoadContext {
    fn as_ref(&self) -> &Recorder {
        &self.recorder
    }
}

/// The device a session created.
#[derive(Clone)]
pub struct Device {
    pub serial: String,
    pub seed: Seed,
    /// The seed as create returned it, to find it in other answers.
    pub seed_forms: SeedForms,
}

/// A request that stays the same all session long (query, list), built once: its URL and
/// token for goose's client, and for the session's own connection its whole encoding.
#[derive(Clone)]
pub struct Prepared {
    pub url: url::Url,
    pub token: HeaderValue,
    pub method: http::Method,
    /// Request line, `Host`, `User-Agent`, the run's `--header`s and the token, as they go on
    /// the session's own connection ([`Wire::encode`]): written as they are for each request.
    /// It holds the token: never printed.
    pub encoded: Option<Bytes>,
}

/// Per goose user.
#[derive(Clone)]
pub struct Session {
    pub user_id: String,
    pub token: String,
    pub device: Option<Device>,
    pub device_name: String,
    query: Option<Prepared>,
    list: Option<Prepared>,
    /// The last answer that honoured the contract: its step, status and body.
    pub last_good: Option<(Step, u16, Bytes)>,
    /// The session's own connection for the measured steps (plain-HTTP targets).
    pub wire: Option<Wire>,
}

impl Session {
    pub fn new(identity: &Identity, device_name: String, endpoint: Option<Endpoint>) -> Session {
        Session {
            user_id: identity.user_id.clone(),
            token: identity.token.expose().to_string(),
            device: None,
            device_name,
            query: None,
            list: None,
            last_good: None,
            wire: endpoint.map(Wire::new),
        }
    }

    pub fn prepared(&self, step: Step) -> Option<&Prepared> {
        Self::slot(&self.query, &self.list, step)
    }

    /// The prepared request of `step` among the session's two.
    fn slot<'a>(query: &'a Option<Prepared>, list: &'a Option<Prepared>, step: Step) -> Option<&'a Prepared> {
        match step {
            Step::Query => query.as_ref(),
            Step::List => list.as_ref(),
            _ => None,
        }
    }

    /// The session's own connection and the request of `step` encoded for it, if both are there.
    pub fn wire_and_encoded(&mut self, step: Step) -> Option<(&mut Wire, &Prepared, &[u8])> {
        let prepared = Self::slot(&self.query, &self.list, step)?;
        let encoded = prepared.encoded.as_deref()?;
        Some((self.wire.as_mut()?, prepared, encoded))
    }

    pub fn prepare(&mut self, step: Step, prepared: Prepared) {
        match step {
            Step::Query => self.query = Some(prepared),
            Step::List => self.list = Some(prepared),
            _ => {}
        }
    }

    /// Whether this answer is the same, byte for byte, as the last good answer of `step`.
    pub fn is_last_good(&self, step: Step, status: u16, body: &[u8]) -> bool {
        self.last_good.as_ref().is_some_and(|(s, st, b)| *s == step && *st == status && b.as_ref() == body)
    }

    /// The request of a step, or `None` when the session has no device for it. Bind carries
    /// the codes of steps t−1 and t, where t is the step at `now`.
    pub fn operation(&self, step: Step, admin: &str, now: u64) -> Option<Operation> {
        let device = self.device.as_ref();
        Some(match step {
            Step::Create => ops::create_device(Some(&self.token), &self.user_id, &self.device_name),
            Step::Bind => {
                let device = device?;
                let pair = totp::bind_pair(&device.seed, now);
                ops::bind_device(
                    Some(&self.token),
                    &BindMfaDevice {
                        user_id: self.user_id.clone(),
                        serial_number: device.serial.clone(),
                        authentication_code_first: pair.first,
                        authentication_code_second: pair.second,
                    },
                )
            }
            Step::Query => ops::show_device(Some(&self.token), &self.user_id),
            Step::Unbind => ops::unbind_device(
                Some(admin),
                &UnbindMfaDevice {
                    user_id: self.user_id.clone(),
                    authentication_code: "000000".into(),
                    serial_number: device?.serial.clone(),
                },
            ),
            Step::Delete => ops::delete_device(Some(admin), &self.user_id, &device?.serial),
            Step::List => ops::list_devices(Some(admin)),
        })
    }

    /// What the session learns from an answer that honoured the contract.
    pub fn remember(&mut self, step: Step, body: &[u8]) {
        match step {
            Step::Create => {
                let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
                let d = &v["virtual_mfa_device"];
                if let (Some(serial), Some(seed)) = (d["serial_number"].as_str(), d["base32_string_seed"].as_str()) {
                    self.device = Seed::parse(seed).ok().map(|parsed| Device {
                        serial: serial.to_string(),
                        seed_forms: SeedForms::of(seed, &parsed),
                        seed: parsed,
                    });
                }
                self.last_good = None;
            }
            Step::Delete => {
                self.device = None;
                self.last_good = None;
            }
            _ => {}
        }
    }
}
