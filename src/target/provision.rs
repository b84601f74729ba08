//! Throw-away users, created through the admin API and always deleted again.
//!
//! A user's name goes into the ledger before its create request is sent, and the request runs
//! as a task of its own, so a stop at any moment (a signal drops the case or the load run that
//! asked for the user) neither loses the answer nor leaves the user unknown: [`Provisioner::close`]
//! waits for creates still in flight (a second signal skips that), asks the admin API for any
//! name whose create got no answer, and deletes every user the run created.
//!
//! Every request is retried as [`crate::client::retry`] says. A create is retried under a new
//! name: the name of an attempt whose answer was lost (or was a 502 or 504, which a gateway
//! may send after the create took effect) stays among the unknown ones, for `close` to find.
//!
//! A user whose case left it as it was made (the runner says which: none that may have had a
//! device) is kept with its token for the next case ([`Provisioner::recycle`], once the device
//! list and its own query show no device) instead of being deleted and another one created:
//! one token per user for its life, a fresh one only when it is near its expiry.

use super::identity::{
    Identity, Redactor, Secret, malformed, password_token, target_error, throttled, unexpected, unusable,
};
use crate::api::models::{CreateUser, CreateUserResponse, TokenResponse};
use crate::api::ops;
use crate::client::{Exchange, HttpClient, Safety, TransportError, retry};
use crate::error::{Cleanup, TargetError};
use crate::signals::Interrupts;
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// How many deletes the end of a run sends at once.
const DELETES_AT_ONCE: usize = 32;

const CREATE: &str = "could not create a test user";

/// What the run has created, by what it knows of each user.
#[derive(Default)]
struct Ledger {
    /// Created and not deleted yet: id → name.
    live: BTreeMap<String, String>,
    /// Names whose create was sent and whose answer is not known (still in flight, or lost
    /// with its connection): the user may exist.
    unknown: BTreeSet<String>,
    created: usize,
    deleted: usize,
}

/// Counts a create as in flight until dropped.
struct InFlight(Arc<watch::Sender<usize>>);

impl InFlight {
    fn start(counter: &Arc<watch::Sender<usize>>) -> InFlight {
        counter.send_modify(|n| *n += 1);
        InFlight(counter.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Creates users named `mfa-harness-<run>-<n>` and deletes them.
pub struct Provisioner {
    client: HttpClient,
    admin_token: Secret,
    domain: String,
    domain_id: String,
    run_id: String,
    next: AtomicU32,
    ledger: Arc<Mutex<Ledger>>,
    in_flight: Arc<watch::Sender<usize>>,
    redactor: Redactor,
    /// Users given back clean, with their tokens, for the next case.
    spare: Mutex<Vec<Identity>>,
    /// When each user's token was issued and expires (Unix seconds), where its answer said.
    expiry: Mutex<BTreeMap<String, (u64, u64)>>,
}

/// How long a kept token must still live to be handed out again: at least this, and at least
/// half its lifetime.
const TOKEN_LEFT: u64 = 120;

/// When a token body says its token was issued and expires.
fn lifetime(body: &TokenResponse) -> Option<(u64, u64)> {
    let unix = |t: &str| {
        humantime::parse_rfc3339_weak(t).ok()?.duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_secs())
    };
    Some((unix(&body.token.issued_at)?, unix(&body.token.expires_at)?))
}

impl Provisioner {
    pub fn new(client: HttpClient, admin_token: Secret, domain: String, domain_id: String, redactor: Redactor) -> Self {
        Provisioner {
            client,
            admin_token,
            domain,
            domain_id,
            run_id: crate::ids::random_hex(3),
            next: AtomicU32::new(0),
            ledger: Arc::default(),
            in_flight: Arc::new(watch::channel(0).0),
            redactor,
            spare: Mutex::default(),
            expiry: Mutex::default(),
        }
    }

    /// Puts `tag` in the name of every user made from now on: `mfa-harness-<run>-<tag>-<n>`.
    pub fn tag(&mut self, tag: &str) {
        self.run_id = format!("{}-{tag}", self.run_id);
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A user for a case: a kept one (its token renewed when near its expiry), or a new one.
    pub async fn create(&self) -> Result<Identity, TargetError> {
        while let Some(identity) = self.take_spare() {
            match self.renewed(identity).await {
                Ok(identity) => return Ok(identity),
                Err(user_id) => self.delete(&user_id).await,
            }
        }
        let mut schedule = retry::Schedule::new(self.client.retry_policy());
        let (user_id, name, password) = loop {
            let (created, again) = self.create_once(schedule.attempts()).await;
            match (created, again.and_then(|after| schedule.next(after))) {
                (Ok(created), _) => break created,
                (Err(_), Some(wait)) => tokio::time::sleep(wait).await,
                (Err(e), None) => return Err(e),
            }
        };
        let (token, body) = password_token(&self.client, &self.domain, &name, &password, &self.redactor).await?;
        if let Some(times) = lifetime(&body) {
            self.expiry.lock().unwrap_or_else(|e| e.into_inner()).insert(user_id.clone(), times);
        }
        Ok(Identity { user_id, name: Some(name), password: Some(password), token })
    }

    /// A kept user, if any (the lock is not held past this call).
    fn take_spare(&self) -> Option<Identity> {
        self.spare.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    /// A kept user whose token lives long enough yet, or has been renewed; its id when it
    /// could not be renewed.
    async fn renewed(&self, mut identity: Identity) -> Result<Identity, String> {
        let now = crate::totp::unix_now();
        let times = self.expiry.lock().unwrap_or_else(|e| e.into_inner()).get(&identity.user_id).copied();
        if times.is_some_and(|(issued, expires)| expires >= now + TOKEN_LEFT.max(expires.saturating_sub(issued) / 2)) {
            return Ok(identity);
        }
        let (Some(name), Some(password)) = (identity.name.clone(), identity.password.clone()) else {
            return Err(identity.user_id);
        };
        match password_token(&self.client, &self.domain, &name, &password, &self.redactor).await {
            Ok((token, body)) => {
                let mut expiry = self.expiry.lock().unwrap_or_else(|e| e.into_inner());
                match lifetime(&body) {
                    Some(times) => expiry.insert(identity.user_id.clone(), times),
                    None => expiry.remove(&identity.user_id),
                };
                identity.token = token;
                Ok(identity)
            }
            Err(_) => Err(identity.user_id),
        }
    }

    /// Keeps the users a case left as they were made, each once the administrator's list of
    /// devices shows none of it and its own query answers 404 (a query shows bound devices
    /// only, the list every one); deletes the others.
    pub async fn recycle(&self, identities: Vec<Identity>) {
        let list = ops::list_devices(Some(self.admin_token.expose()));
        let (listed, _) = self.client.send_retrying(&list, Safety::Idempotent).await;
        let owners: Option<BTreeSet<String>> =
            listed.ok().filter(|e| e.status == 200 && e.cut_at.is_none()).and_then(|e| {
                let devices = e.json()?.get("virtual_mfa_devices")?.as_array()?.clone();
                devices.iter().map(|d| d.get("user_id").and_then(|u| u.as_str()).map(str::to_string)).collect()
            });
        for identity in identities {
            let unlisted = owners.as_ref().is_some_and(|o| !o.contains(&identity.user_id));
            let clean = unlisted && {
                let query = ops::show_device(Some(identity.token.expose()), &identity.user_id);
                let (answer, _) = self.client.send_retrying(&query, Safety::Idempotent).await;
                answer.is_ok_and(|e| e.status == 404)
            };
            if clean && self.ledger().live.contains_key(&identity.user_id) {
                self.spare.lock().unwrap_or_else(|e| e.into_inner()).push(identity);
            } else {
                self.delete(&identity.user_id).await;
            }
        }
    }

    /// Sends one create under a new name; what came of it, and whether (with which
    /// `Retry-After`) another attempt is worth it.
    async fn create_once(
        &self,
        attempt: u32,
    ) -> (Result<(String, String, Secret), TargetError>, Option<Option<Duration>>) {
        let n = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let name = crate::ids::user_name(&self.run_id, n);
        let password = Secret::new(crate::ids::generate_password());
        self.redactor.add(password.expose());
        let user = CreateUser {
            name: name.clone(),
            domain_id: self.domain_id.clone(),
            password: Some(password.expose().to_string()),
            enabled: Some(true),
            description: Some("throw-away user of mfa-harness; safe to delete".into()),
        };
        let op = ops::create_user(Some(self.admin_token.expose()), &user);
        self.ledger().unknown.insert(name.clone());
        let in_flight = InFlight::start(&self.in_flight);
        let (client, ledger, redactor, named) =
            (self.client.clone(), self.ledger.clone(), self.redactor.clone(), name.clone());
        // Its own task: dropping the caller (a signal) does not drop the answer.
        let task = tokio::spawn(async move {
            let answer = client.send(&op).await;
            // Under a new name, a create whose answer was lost can be sent again.
            let again = match &answer {
                Ok(e) => retry::retryable_status(e.status, Safety::Idempotent).then(|| e.retry_after()),
                Err(e) => e.retryable(Safety::Idempotent).then_some(None),
            };
            let settled = settle(&ledger, &named, answer, &redactor, attempt);
            drop(in_flight);
            (settled, again)
        });
        match task.await {
            Ok((settled, again)) => (settled.map(|id| (id, name, password)), again),
            Err(e) => (Err(malformed(CREATE, format!("the create request's task failed ({e})"))), None),
        }
    }

    /// Deletes a user now (so few exist at once); one that could not be deleted stays for
    /// [`Provisioner::close`].
    pub async fn delete(&self, user_id: &str) {
        if delete(&self.client, &self.admin_token, user_id).await.is_ok() {
            let mut ledger = self.ledger();
            if ledger.live.remove(user_id).is_some() {
                ledger.deleted += 1;
            }
        }
    }

    /// Ids of the users this run created and has not deleted yet.
    pub fn live(&self) -> Vec<String> {
        self.ledger().live.keys().cloned().collect()
    }

    /// Waits for creates still in flight (until a second signal), finds through the admin API
    /// any user whose create got no answer, and deletes every user the run created.
    pub async fn close(&self, interrupts: &Interrupts) -> Cleanup {
        let mut in_flight = self.in_flight.subscribe();
        tokio::select! {
            _ = in_flight.wait_for(|n| *n == 0) => {},
            () = interrupts.until(2) => {},
        }
        let listed = if self.ledger().unknown.is_empty() { Ok(()) } else { self.find_unknown().await };
        let live: Vec<(String, String)> = self.ledger().live.clone().into_iter().collect();
        let results: Vec<_> = futures::stream::iter(live)
            .map(|(id, name)| async move {
                let result = delete(&self.client, &self.admin_token, &id).await;
                (id, name, result)
            })
            .buffer_unordered(DELETES_AT_ONCE)
            .collect()
            .await;
        let mut left = Vec::new();
        let mut ledger = self.ledger();
        for (id, name, result) in results {
            match result {
                Ok(()) => {
                    ledger.live.remove(&id);
                    ledger.deleted += 1;
                }
                Err(why) => left.push(format!("{name} (id {id}): {why}")),
            }
        }
        // A name the admin API does not list once no create is in flight was never created.
        let settled = *in_flight.borrow() == 0 && listed.is_ok();
        if !settled {
            let why = match &listed {
                Err(e) => format!("its create request got no answer and the users could not be listed: {e}"),
                Ok(()) => "its create request was still in flight when the run stopped; it may exist".into(),
            };
            left.extend(ledger.unknown.iter().map(|name| format!("{name}: {why}")));
        }
        ledger.unknown.clear();
        Cleanup { created: ledger.created, deleted: ledger.deleted, left }
    }

    /// Lists the account's users and takes every one whose create got no answer into the ledger.
    async fn find_unknown(&self) -> Result<(), String> {
        let (answer, _) =
            self.client.send_retrying(&ops::list_users(Some(self.admin_token.expose())), Safety::Idempotent).await;
        let exchange = answer.map_err(|e| format!("GET /v3/users: {e}"))?;
        if exchange.status != 200 || exchange.cut_at.is_some() {
            return Err(format!("GET /v3/users answered {}", exchange.status_line()));
        }
        let body: serde_json::Value =
            serde_json::from_slice(&exchange.body).map_err(|e| format!("GET /v3/users: the body is not JSON ({e})"))?;
        let users = body["users"].as_array().ok_or("GET /v3/users: the answer has no users list")?;
        let mut ledger = self.ledger();
        for user in users {
            if let (Some(id), Some(name)) = (user["id"].as_str(), user["name"].as_str())
                && ledger.unknown.remove(name)
            {
                ledger.live.insert(id.to_string(), name.to_string());
                ledger.created += 1;
            }
        }
        Ok(())
    }
}

/// Records a create's answer; returns the new user's id.
fn settle(
    ledger: &Mutex<Ledger>,
    name: &str,
    answer: Result<Exchange, TransportError>,
    redactor: &Redactor,
    attempts: u32,
) -> Result<String, TargetError> {
    // No answer: whether the user exists is unknown, and the name stays in `unknown`.
    let exchange = answer.map_err(|e| target_error(CREATE, e))?;
    let mut ledger = ledger.lock().unwrap_or_else(|e| e.into_inner());
    let accepted = matches!(exchange.status, 200 | 201);
    let parsed = if exchange.cut_at.is_none() && accepted {
        serde_json::from_slice::<CreateUserResponse>(&exchange.body).ok()
    } else {
        None
    };
    if let Some(created) = parsed {
        ledger.unknown.remove(name);
        ledger.live.insert(created.user.id.clone(), name.to_string());
        ledger.created += 1;
        return Ok(created.user.id);
    }
    if !accepted && !matches!(exchange.status, 502 | 504) {
        // Refused (or redirected): nothing was created. A gateway's 502 or 504 may come after
        // the create took effect: the user may exist.
        ledger.unknown.remove(name);
    }
    drop(ledger);
    unusable(CREATE, &exchange, redactor)?;
    if let Some(throttled) = throttled(CREATE, &exchange, attempts, redactor) {
        return Err(throttled);
    }
    if !accepted {
        return Err(unexpected("could not create a test user (may the admin create users?)", &exchange, redactor));
    }
    Err(malformed(CREATE, "the answer is not as documented".into()))
}

/// Deletes one user; a 404 (already gone) counts as deleted.
async fn delete(client: &HttpClient, admin_token: &Secret, user_id: &str) -> Result<(), String> {
    let (answer, _) =
        client.send_retrying(&ops::delete_user(Some(admin_token.expose()), user_id), Safety::Idempotent).await;
    match answer {
        Ok(e) if matches!(e.status, 200 | 204 | 404) => Ok(()),
        Ok(e) => Err(format!("delete answered {}", e.status_line())),
        Err(e) => Err(crate::error::chain(&e)),
    }
}
