//! Long pseudo-random sequences of operations on three users' virtual MFA devices, sent by the
//! user, another user or the administrator to the reference server in memory. Every answer is compared with a small
//! model of the documented rules and of the README's "Choices on open points of the
//! documentation", and after every step query and list must show exactly what the model holds.
//! A failure names its seed and step; `MODEL_SEEDS=0x1234,7 cargo test --test reference model::`
//! replays chosen seeds.

mod reach;

use crate::common::world::{Answer, Device, User, World};
use mfa_harness::api::ops;
use mfa_harness::reference::faults::Fault;
use mfa_harness::totp::{self, STEP_SECONDS, Seed};
use serde_json::{Value, json};

const USERS: usize = 3;
const SEEDS: [u64; 4] = [0x5eed_0001, 0x5eed_0002, 0xdead_beef, 0x0123_4567_89ab_cdef];
const STEPS: usize = 300;

/// A 64-bit linear congruential generator (Knuth's MMIX constants): one seed, one sequence.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn digits(&mut self) -> String {
        format!("{:06}", self.below(1_000_000))
    }
}

/// Who sends a request about a user's device: the user, the administrator, or another user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Owner,
    Admin,
    Other,
}

/// The answer the model expects: a success status, or an error status with its error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Ok(u16),
    Err(u16, &'static str),
}

const FORBIDDEN: Expect = Expect::Err(403, "IAM.0002");
const NOT_FOUND: Expect = Expect::Err(404, "IAM.0004");
const CONFLICT: Expect = Expect::Err(409, "IAM.0005");
const BAD_CODE: Expect = Expect::Err(400, "IAM.1061");

struct ModelDevice {
    name: String,
    serial: String,
    seed: Seed,
    bound: bool,
    /// The last time step a bind or the user's unbind used; it and earlier steps are spent.
    last_step: Option<u64>,
}

impl ModelDevice {
    fn fresh(&self, step: u64) -> bool {
        self.last_step.is_none_or(|last| step > last)
    }
}

/// The documented rules over three users' devices.
struct Model {
    domain_id: String,
    user_ids: Vec<String>,
    devices: Vec<Option<ModelDevice>>,
}

impl Model {
    fn serial(&self, name: &str) -> String {
        format!("iam:{}:mfa/{name}", self.domain_id)
    }

    /// The user's device, if `serial` names it.
    fn device(&mut self, user: usize, serial: &str) -> Option<&mut ModelDevice> {
        self.devices[user].as_mut().filter(|d| d.serial == serial)
    }

    /// One device per user; a name (hence a serial) used by any device of the account is taken.
    fn create(&self, caller: Caller, user: usize, name: &str) -> Expect {
        if caller == Caller::Other {
            FORBIDDEN
        } else if self.devices[user].is_some() || self.devices.iter().flatten().any(|d| d.name == name) {
            CONFLICT
        } else {
            Expect::Ok(201)
        }
    }

    /// Two codes of consecutive steps of the window t−1 … t+1, both later than the last used step.
    fn bind(&mut self, caller: Caller, user: usize, serial: &str, codes: (&str, &str), now: u64) -> Expect {
        if caller == Caller::Other {
            return FORBIDDEN;
        }
        let Some(d) = self.device(user, serial) else { return NOT_FOUND };
        if d.bound {
            return CONFLICT;
        }
        let t = totp::step_at(now);
        for a in [t - 1, t] {
            if d.fresh(a) && d.fresh(a + 1) && d.seed.code(a) == codes.0 && d.seed.code(a + 1) == codes.1 {
                d.bound = true;
                d.last_step = Some(a + 1);
                return Expect::Ok(204);
            }
        }
        BAD_CODE
    }

    /// The user's own code must be of an unused step of the window; the administrator's is not read.
    fn unbind(&mut self, caller: Caller, user: usize, serial: &str, code: &str, now: u64) -> Expect {
        if caller == Caller::Other {
            return FORBIDDEN;
        }
        let Some(d) = self.device(user, serial) else { return NOT_FOUND };
        if !d.bound {
            return CONFLICT;
        }
        if caller == Caller::Owner {
            let t = totp::step_at(now);
            let Some(step) = [t - 1, t, t + 1].into_iter().find(|s| d.fresh(*s) && d.seed.code(*s) == code) else {
                return BAD_CODE;
            };
            d.last_step = Some(step);
        }
        d.bound = false;
        Expect::Ok(204)
    }

    /// The owner or an administrator deletes an unbound device.
    fn delete(&mut self, caller: Caller, user: usize, serial: &str) -> Expect {
        if caller == Caller::Other {
            return FORBIDDEN;
        }
        match self.device(user, serial) {
            None => NOT_FOUND,
            Some(d) if d.bound => CONFLICT,
            Some(_) => {
                self.devices[user] = None;
                Expect::Ok(204)
            }
        }
    }

    /// What query and list show of a user: its device once bound.
    fn shown(&self, user: usize) -> Option<Value> {
        let device = self.devices[user].as_ref().filter(|d| d.bound)?;
        Some(json!({"serial_number": device.serial, "user_id": self.user_ids[user]}))
    }
}

fn compare(answer: &Answer, expect: Expect) -> Result<(), String> {
    let want = match expect {
        Expect::Ok(status) => (status, ""),
        Expect::Err(status, code) => (status, code),
    };
    if (answer.status, answer.code()) != want {
        return Err(format!("expected {want:?}, got {} {}", answer.status, answer.json));
    }
    if answer.status == 204 && !answer.raw.is_empty() {
        return Err(format!("204 with a body: {}", String::from_utf8_lossy(&answer.raw)));
    }
    Ok(())
}

/// A serial as the log shows it: its device name.
fn short(serial: &str) -> &str {
    serial.rsplit_once(':').map_or(serial, |(_, name)| name)
}

/// One run: a server, its three users, the model and the generator.
struct Run {
    seed: u64,
    rng: Lcg,
    w: World,
    users: Vec<User>,
    model: Model,
    /// The device create last returned for each user; kept after delete, so stale serials are sent.
    known: Vec<Option<Device>>,
    log: Vec<String>,
}

impl Run {
    async fn new(seed: u64, faults: &[Fault]) -> Run {
        let mut w = World::new(faults).await;
        let mut users = Vec::new();
        for _ in 0..USERS {
            users.push(w.user().await);
        }
        let model = Model {
            domain_id: w.domain_id.clone(),
            user_ids: users.iter().map(|u| u.id.clone()).collect(),
            devices: (0..USERS).map(|_| None).collect(),
        };
        Run { seed, rng: Lcg(seed), w, users, model, known: vec![None; USERS], log: Vec::new() }
    }

    fn caller(&mut self, owner: u64, admin: u64) -> Caller {
        match self.rng.below(100) {
            p if p < owner => Caller::Owner,
            p if p < owner + admin => Caller::Admin,
            _ => Caller::Other,
        }
    }

    /// The identity `caller` acts as about `user`'s device.
    fn acting(&mut self, caller: Caller, user: usize) -> User {
        match caller {
            Caller::Owner => self.users[user].clone(),
            Caller::Admin => self.w.admin.clone(),
            Caller::Other => self.users[(user + 1 + self.rng.below(USERS as u64 - 1) as usize) % USERS].clone(),
        }
    }

    /// The device a request names: mostly the one create last returned to the user (its current
    /// or a deleted one), sometimes the serial of any user's device name.
    fn target(&mut self, user: usize) -> Device {
        let seed = self.known[user].as_ref().map_or_else(|| Seed::from_bytes(vec![7; 20]), |d| d.seed.clone());
        let serial = match &self.known[user] {
            Some(d) if !self.rng.chance(15) => d.serial.clone(),
            _ => {
                let k = self.rng.below(USERS as u64) as usize;
                self.model.serial(&format!("phone-{}", self.users[k].name))
            }
        };
        Device { serial, seed }
    }

    /// The last step the user's device used, or the current one.
    fn last_step(&self, user: usize) -> u64 {
        self.model.devices[user].as_ref().and_then(|d| d.last_step).unwrap_or(totp::step_at(self.w.now()))
    }

    /// One operation on a random user's device: a quarter of the steps advance the clock, a third
    /// follow the device's state (create when it has none; bind or delete when unbound; unbind,
    /// or bind again, when bound), the rest are any operation.
    async fn step(&mut self) -> Result<String, String> {
        let user = self.rng.below(USERS as u64) as usize;
        let state = self.model.devices[user].as_ref().map(|d| d.bound);
        match (state, self.rng.below(100)) {
            (_, 0..=24) => Ok(self.advance()),
            (None, 25..=59) => self.create(user).await,
            (Some(false), 25..=49) | (Some(true), 25..=29) => self.bind(user).await,
            (Some(false), 50..=59) => self.delete(user).await,
            (Some(true), 30..=59) => self.unbind(user).await,
            (_, 60..=64) => self.create(user).await,
            (_, 65..=79) => self.bind(user).await,
            (_, 80..=89) => self.unbind(user).await,
            (_, 90..=94) => self.delete(user).await,
            (_, 95..=98) => self.query(user).await,
            _ => self.list_as_user(user).await,
        }
    }

    async fn create(&mut self, user: usize) -> Result<String, String> {
        let caller = self.caller(70, 20);
        let as_user = self.acting(caller, user);
        let k = if self.rng.chance(80) { user } else { self.rng.below(USERS as u64) as usize };
        let name = format!("phone-{}", self.users[k].name);
        let expect = self.model.create(caller, user, &name);
        let answer = self.w.send(&ops::create_device(Some(&as_user.token), &self.users[user].id, &name)).await;
        let op = format!("create {name} for {} as {caller:?} → {}", self.users[user].name, answer.status);
        compare(&answer, expect).map_err(|e| format!("{op}: {e}"))?;
        if expect == Expect::Ok(201) {
            let serial = self.model.serial(&name);
            let created = &answer.json["virtual_mfa_device"];
            if created["serial_number"] != json!(serial) {
                return Err(format!("{op}: serial {} instead of {serial}", created["serial_number"]));
            }
            let seed = created["base32_string_seed"].as_str().and_then(|s| Seed::parse(s).ok());
            let seed = seed.ok_or_else(|| format!("{op}: no usable seed in {}", answer.json))?;
            let device =
                ModelDevice { name, serial: serial.clone(), seed: seed.clone(), bound: false, last_step: None };
            self.model.devices[user] = Some(device);
            self.known[user] = Some(Device { serial, seed });
        }
        Ok(op)
    }

    async fn bind(&mut self, user: usize) -> Result<String, String> {
        let caller = self.caller(70, 20);
        let as_user = self.acting(caller, user);
        let device = self.target(user);
        let (now, last) = (self.w.now(), self.last_step(user));
        let t = totp::step_at(now);
        let c = |s: u64| device.seed.code(s);
        let (kind, first, second) = match self.rng.below(20) {
            0..=8 => ("t-1,t", c(t - 1), c(t)),
            9..=10 => ("t,t+1", c(t), c(t + 1)),
            11 => ("stale t-3,t-2", c(t - 3), c(t - 2)),
            12 => ("t,t", c(t), c(t)),
            13 => ("t-1,t+1", c(t - 1), c(t + 1)),
            14 => ("future t+2,t+3", c(t + 2), c(t + 3)),
            15 => ("t,t-1", c(t), c(t - 1)),
            16..=17 => ("the last used step and the one before", c(last - 1), c(last)),
            18 => ("random digits", self.rng.digits(), self.rng.digits()),
            _ => ("five digits", c(t - 1)[1..].to_string(), c(t)),
        };
        let expect = self.model.bind(caller, user, &device.serial, (&first, &second), now);
        let answer = self.w.bind_codes(&as_user, &self.users[user], &device, &first, &second).await;
        let op = format!(
            "bind {} of {} as {caller:?} with {kind} → {}",
            short(&device.serial),
            self.users[user].name,
            answer.status
        );
        compare(&answer, expect).map_err(|e| format!("{op}: {e}"))?;
        Ok(op)
    }

    async fn unbind(&mut self, user: usize) -> Result<String, String> {
        let caller = self.caller(55, 35);
        let as_user = self.acting(caller, user);
        let device = self.target(user);
        let (now, last) = (self.w.now(), self.last_step(user));
        let t = totp::step_at(now);
        let c = |s: u64| device.seed.code(s);
        let (kind, code) = match self.rng.below(20) {
            _ if caller != Caller::Owner => ("any six digits", self.rng.digits()),
            0..=6 => ("t+1", c(t + 1)),
            7..=10 => ("t", c(t)),
            11..=13 => ("t-1", c(t - 1)),
            14 => ("t+2", c(t + 2)),
            15 => ("t-2", c(t - 2)),
            16..=17 => ("the last used step", c(last)),
            _ => ("random digits", self.rng.digits()),
        };
        let expect = self.model.unbind(caller, user, &device.serial, &code, now);
        let answer = self.w.unbind(&as_user, &self.users[user], &device, &code).await;
        let op = format!(
            "unbind {} of {} as {caller:?} with {kind} → {}",
            short(&device.serial),
            self.users[user].name,
            answer.status
        );
        compare(&answer, expect).map_err(|e| format!("{op}: {e}"))?;
        Ok(op)
    }

    async fn delete(&mut self, user: usize) -> Result<String, String> {
        let caller = self.caller(55, 30);
        let as_user = self.acting(caller, user);
        let device = self.target(user);
        let expect = self.model.delete(caller, user, &device.serial);
        let answer = self.w.send(&ops::delete_device(Some(&as_user.token), &self.users[user].id, &device.serial)).await;
        let op =
            format!("delete {} of {} as {caller:?} → {}", short(&device.serial), self.users[user].name, answer.status);
        compare(&answer, expect).map_err(|e| format!("{op}: {e}"))?;
        Ok(op)
    }

    async fn query(&mut self, user: usize) -> Result<String, String> {
        let caller = self.caller(40, 40);
        let as_user = self.acting(caller, user);
        let answer = self.w.query(&as_user, &self.users[user]).await;
        let op = format!("query {} as {caller:?} → {}", self.users[user].name, answer.status);
        let checked = match caller {
            Caller::Other => compare(&answer, FORBIDDEN),
            _ => compare_query(&answer, self.model.shown(user)),
        };
        checked.map_err(|e| format!("{op}: {e}"))?;
        Ok(op)
    }

    async fn list_as_user(&mut self, user: usize) -> Result<String, String> {
        let answer = self.w.send(&ops::list_devices(Some(&self.users[user].token))).await;
        let op = format!("list as {} → {}", self.users[user].name, answer.status);
        compare(&answer, FORBIDDEN).map_err(|e| format!("{op}: {e}"))?;
        Ok(op)
    }

    fn advance(&mut self) -> String {
        let seconds = match self.rng.below(4) {
            0..=1 => 1 + self.rng.below(10),
            2 => STEP_SECONDS,
            _ => STEP_SECONDS + 1 + self.rng.below(2 * STEP_SECONDS),
        };
        self.w.advance(seconds);
        format!("advance the clock {seconds} s to {}", self.w.now())
    }

    /// Every user's query of itself and the administrator's list show exactly the model's bound devices.
    async fn check_views(&self) -> Result<(), String> {
        let mut expected = Vec::new();
        for user in 0..USERS {
            let answer = self.w.query(&self.users[user], &self.users[user]).await;
            compare_query(&answer, self.model.shown(user))
                .map_err(|e| format!("query {}: {e}", self.users[user].name))?;
            expected.extend(self.model.shown(user));
        }
        let answer = self.w.send(&ops::list_devices(Some(&self.w.admin.token))).await;
        compare(&answer, Expect::Ok(200)).map_err(|e| format!("list: {e}"))?;
        let mut listed = match &answer.json {
            Value::Object(o) if o.len() == 1 => o["virtual_mfa_devices"].as_array().cloned().unwrap_or_default(),
            _ => return Err(format!("list: not {{\"virtual_mfa_devices\": [...]}}: {}", answer.json)),
        };
        listed.sort_by_key(Value::to_string);
        expected.sort_by_key(Value::to_string);
        if listed != expected {
            return Err(format!("list shows {listed:?}, the model {expected:?}"));
        }
        Ok(())
    }

    fn failure(&self, step: usize, why: &str) -> String {
        let tail = self.log[self.log.len().saturating_sub(8)..].join("\n  ");
        format!("seed {:#x}, step {step}: {why}\nthe steps before:\n  {tail}", self.seed)
    }
}

/// A query shows the user's bound device, or answers 404 when it has none.
fn compare_query(answer: &Answer, shown: Option<Value>) -> Result<(), String> {
    let Some(device) = shown else { return compare(answer, NOT_FOUND) };
    compare(answer, Expect::Ok(200))?;
    let want = json!({"virtual_mfa_device": device});
    if answer.json != want {
        return Err(format!("expected {want}, got {}", answer.json));
    }
    Ok(())
}

/// Runs `steps` pseudo-random operations from `seed`, checking every answer and the views after
/// each; returns the log of operations.
async fn run(seed: u64, steps: usize, faults: &[Fault]) -> Result<Vec<String>, String> {
    let mut run = Run::new(seed, faults).await;
    for i in 0..steps {
        let op = run.step().await.map_err(|e| run.failure(i, &e))?;
        run.log.push(format!("{i}: {op}"));
        run.check_views().await.map_err(|e| run.failure(i, &format!("after the step, {e}")))?;
    }
    Ok(run.log)
}

/// The seeds of `MODEL_SEEDS`, if set.
fn chosen_seeds() -> Option<Vec<u64>> {
    let parse = |s: &str| match s.trim().strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.trim().parse(),
    };
    let list = std::env::var("MODEL_SEEDS").ok()?;
    Some(list.split(',').map(|s| parse(s).expect("MODEL_SEEDS: comma-separated u64, decimal or 0x…")).collect())
}

#[tokio::test]
async fn random_operation_sequences_agree_with_the_model_of_the_documented_rules() {
    let chosen = chosen_seeds();
    let mut log = Vec::new();
    for seed in chosen.clone().unwrap_or(SEEDS.to_vec()) {
        match run(seed, STEPS, &[]).await {
            Ok(steps) => log.extend(steps),
            Err(failure) => panic!("{failure}\nreplay: MODEL_SEEDS={seed:#x} cargo test --test reference_model"),
        }
    }
    if chosen.is_some() {
        return;
    }
    let coverage = [
        ("create", ""),
        ("bind", "as Owner"),
        ("bind", "as Admin"),
        ("unbind", "as Owner"),
        ("unbind", "as Admin"),
        ("delete", ""),
    ];
    for (op, by) in coverage {
        let done = log.iter().filter(|l| l.split(' ').nth(1) == Some(op) && l.contains(by));
        let changed = done.filter(|l| l.ends_with("→ 201") || l.ends_with("→ 204")).count();
        assert!(changed >= 10, "the seeds' sequences have only {changed} successful {op} {by}");
    }
}
