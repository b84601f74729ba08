//! In-memory state of the reference server and the MFA device rules. Every method runs under
//! the caller's lock, so each change of one user's MFA state is atomic.

use super::error::ApiError;
use super::faults::{Fault, FaultSet};
use crate::api::models::{BindMfaDevice, MfaDevice, UnbindMfaDevice};
use crate::ids::random_hex;
use crate::totp::{self, Seed};
use std::collections::HashMap;

/// Longest device name [iam_08_0019/eu-2025].
pub const MAX_DEVICE_NAME: usize = 64;

/// Who a request acts as, from its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user_id: String,
    pub is_admin: bool,
}

impl Caller {
    /// The caller is `user_id` itself, or an administrator.
    pub fn may_act_for(&self, user_id: &str) -> bool {
        self.is_admin || self.user_id == user_id
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub name: String,
    pub password: Option<String>,
    pub is_admin: bool,
    pub enabled: bool,
    pub description: Option<String>,
    pub create_time: String,
    pub login_protect: Option<LoginProtectSetting>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginProtectSetting {
    pub enabled: bool,
    pub method: String,
}

#[derive(Debug, Clone)]
pub struct Device {
    pub serial: String,
    pub seed: Seed,
    pub bound: bool,
    /// The last time step accepted for this device; codes of it or earlier steps are replays.
    pub last_step: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub user_id: String,
    pub expires_at: u64,
}

/// The whole state of one reference server.
#[derive(Debug)]
pub struct Store {
    pub domain_id: String,
    pub domain_name: String,
    pub faults: FaultSet,
    pub(super) users: HashMap<String, User>,
    pub(super) user_ids_by_name: HashMap<String, String>,
    pub(super) tokens: HashMap<String, TokenInfo>,
    pub(super) devices: HashMap<String, Device>,
    pub(super) serial_owner: HashMap<String, String>,
}

impl Store {
    pub fn new(domain_name: &str, faults: FaultSet) -> Store {
        Store {
            domain_id: random_hex(16),
            domain_name: domain_name.to_string(),
            faults,
            users: HashMap::new(),
            user_ids_by_name: HashMap::new(),
            tokens: HashMap::new(),
            devices: HashMap::new(),
            serial_owner: HashMap::new(),
        }
    }

    /// Resolves a request's `X-Auth-Token` to its caller.
    pub fn authenticate(&self, token: Option<&str>, now: u64) -> Result<Caller, ApiError> {
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            if self.faults.has(Fault::MissingTokenAccepted) {
                return Ok(self.admin_caller());
            }
            return Err(ApiError::unauthenticated("Authentication required: the X-Auth-Token header is missing."));
        };
        match self.tokens.get(token) {
            Some(info) if info.expires_at > now => match self.users.get(&info.user_id) {
                Some(user) if user.enabled => Ok(Caller { user_id: user.id.clone(), is_admin: user.is_admin }),
                _ => Err(ApiError::unauthenticated("The token must be updated.")),
            },
            _ if self.faults.has(Fault::InvalidTokenAccepted) => Ok(self.admin_caller()),
            _ => Err(ApiError::unauthenticated("The token must be updated.")),
        }
    }

    fn admin_caller(&self) -> Caller {
        let id = self.users.values().find(|u| u.is_admin).map(|u| u.id.clone()).unwrap_or_default();
        Caller { user_id: id, is_admin: true }
    }

    fn require(&self, allowed: bool, fault: Fault) -> Result<(), ApiError> {
        if allowed || self.faults.has(fault) { Ok(()) } else { Err(ApiError::forbidden()) }
    }

    /// The user's device if its serial is `serial`.
    fn device_of(&self, user_id: &str, serial: &str) -> Result<&Device, ApiError> {
        if !self.users.contains_key(user_id) {
            return Err(ApiError::not_found("user", user_id));
        }
        self.devices
            .get(user_id)
            .filter(|d| d.serial == serial)
            .ok_or_else(|| ApiError::not_found("virtual MFA device", serial))
    }

    /// Create a virtual MFA device [iam_08_0019]; one device per user, serials unique per account.
    pub fn mfa_create(&mut self, caller: &Caller, user_id: &str, name: &str) -> Result<(String, Seed), ApiError> {
        let length = name.chars().count();
        if length == 0 || length > MAX_DEVICE_NAME {
            return Err(ApiError::invalid_field("virtual_mfa_device.name"));
        }
        if user_id.is_empty() {
            return Err(ApiError::invalid_field("virtual_mfa_device.user_id"));
        }
        self.require(caller.may_act_for(user_id), Fault::CreateIgnoresTokenOwner)?;
        if !self.users.contains_key(user_id) {
            return Err(ApiError::not_found("user", user_id));
        }
        if self.devices.contains_key(user_id) {
            return Err(ApiError::conflict("The user already has a virtual MFA device."));
        }
        let serial = format!("iam:{}:mfa/{}", self.domain_id, name);
        if self.serial_owner.contains_key(&serial) {
            return Err(ApiError::conflict(format!("A virtual MFA device named {name} already exists.")));
        }
        let seed = Seed::random();
        self.serial_owner.insert(serial.clone(), user_id.to_string());
        self.devices.insert(
            user_id.to_string(),
            Device { serial: serial.clone(), seed: seed.clone(), bound: false, last_step: None },
        );
        Ok((serial, seed))
    }

    /// Every check of bind [iam_08_0017], without changing anything. Returns the step of the
    /// second code, which commit records as used.
    pub fn mfa_bind_check(&self, caller: &Caller, body: &BindMfaDevice, now: u64) -> Result<u64, ApiError> {
        for (field, value) in [("user_id", &body.user_id), ("serial_number", &body.serial_number)] {
            if value.is_empty() {
                return Err(ApiError::invalid_field(field));
            }
        }
        self.require(caller.may_act_for(&body.user_id), Fault::BindIgnoresTokenOwner)?;
        let device = self.device_of(&body.user_id, &body.serial_number)?;
        if device.bound {
            if self.faults.has(Fault::BindRebindSucceeds) {
                return Ok(device.last_step.unwrap_or_else(|| totp::step_at(now)));
            }
            return Err(ApiError::conflict("The virtual MFA device is already bound."));
        }
        if self.faults.has(Fault::BindAcceptsAnyCode) {
            return Ok(totp::step_at(now));
        }
        let fresh = |s: &u64| self.faults.has(Fault::BindAcceptsReplay) || device.last_step.is_none_or(|l| *s > l);
        let window = totp::window(now);
        let (first, second) = (&body.authentication_code_first, &body.authentication_code_second);
        // Any two consecutive fresh steps of the window whose codes are the two sent, not the
        // first step each code happens to match: two steps may share a code (one in a million).
        let consecutive =
            window.windows(2).map(|pair| (pair[0], pair[1])).filter(|(a, b)| fresh(a) && fresh(b)).find(|(a, b)| {
                device.seed.matching_step(first, [*a]).is_some() && device.seed.matching_step(second, [*b]).is_some()
            });
        if let Some((_, b)) = consecutive {
            return Ok(b);
        }
        let any = |code: &str| device.seed.matching_step(code, window.into_iter().filter(fresh));
        match (any(first), any(second)) {
            (Some(_), Some(b)) if self.faults.has(Fault::BindAcceptsNonConsecutive) => Ok(b),
            _ => Err(ApiError::bad_passcode()),
        }
    }

    /// Records a checked bind.
    pub fn mfa_bind_commit(&mut self, user_id: &str, step: u64) {
        if let Some(device) = self.devices.get_mut(user_id) {
            device.bound = true;
            device.last_step = Some(device.last_step.map_or(step, |l| l.max(step)));
        }
    }

    /// Bind, checked and committed in one step.
    pub fn mfa_bind(&mut self, caller: &Caller, body: &BindMfaDevice, now: u64) -> Result<(), ApiError> {
        let step = self.mfa_bind_check(caller, body, now)?;
        self.mfa_bind_commit(&body.user_id, step);
        Ok(())
    }

    /// Unbind [iam_08_0018]: the user's own code is verified, an administrator's is not.
    pub fn mfa_unbind(&mut self, caller: &Caller, body: &UnbindMfaDevice, now: u64) -> Result<(), ApiError> {
        for (field, value) in [("user_id", &body.user_id), ("serial_number", &body.serial_number)] {
            if value.is_empty() {
                return Err(ApiError::invalid_field(field));
            }
        }
        if !caller.may_act_for(&body.user_id) {
            return Err(ApiError::forbidden());
        }
        let device = self.device_of(&body.user_id, &body.serial_number)?;
        if !device.bound {
            return Err(ApiError::conflict("The virtual MFA device is not bound."));
        }
        let protect = self.users.get(&body.user_id).and_then(|u| u.login_protect.as_ref());
        if protect.is_some_and(|p| p.enabled && p.method == "vmfa") {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "IAM.1062",
                "Login protection uses virtual MFA; change it before unbinding.",
            ));
        }
        let mut used = None;
        if caller.user_id == body.user_id && !self.faults.has(Fault::UnbindIgnoresCode) {
            let steps = totp::window(now).into_iter().filter(|s| device.last_step.is_none_or(|l| *s > l));
            used =
                Some(device.seed.matching_step(&body.authentication_code, steps).ok_or_else(ApiError::bad_passcode)?);
        } else if body.authentication_code.is_empty() {
            return Err(ApiError::invalid_field("authentication_code"));
        }
        if self.faults.has(Fault::UnbindLeavesBound) {
            return Ok(());
        }
        if let Some(device) = self.devices.get_mut(&body.user_id) {
            device.bound = false;
            if let Some(step) = used {
                device.last_step = Some(step);
            }
        }
        Ok(())
    }

    /// Delete [iam_08_0020]: the owner or an administrator; a bound device must be unbound first.
    pub fn mfa_delete(&mut self, caller: &Caller, user_id: &str, serial: &str) -> Result<(), ApiError> {
        if user_id.is_empty() {
            return Err(ApiError::invalid_parameter("user_id"));
        }
        if serial.is_empty() {
            return Err(ApiError::invalid_parameter("serial_number"));
        }
        self.require(caller.may_act_for(user_id), Fault::DeleteIgnoresTokenOwner)?;
        let device = self.device_of(user_id, serial)?;
        if device.bound {
            return Err(ApiError::conflict("The virtual MFA device is bound; unbind it before deleting it."));
        }
        if self.faults.has(Fault::DeleteLeavesDevice) {
            return Ok(());
        }
        self.devices.remove(user_id);
        self.serial_owner.remove(serial);
        Ok(())
    }

    /// Query one user's bound device [iam_08_0013]; none → 404 (spec §1.5, inferred).
    pub fn mfa_show(&self, caller: &Caller, user_id: &str) -> Result<&Device, ApiError> {
        self.require(caller.may_act_for(user_id), Fault::QueryIgnoresTokenOwner)?;
        if !self.users.contains_key(user_id) {
            return Err(ApiError::not_found("user", user_id));
        }
        self.devices
            .get(user_id)
            .filter(|d| d.bound)
            .ok_or_else(|| ApiError::not_found("virtual MFA device of user", user_id))
    }

    /// List every bound device [iam_08_0012]; administrators only.
    pub fn mfa_list(&self, caller: &Caller) -> Result<Vec<MfaDevice>, ApiError> {
        self.require(caller.is_admin, Fault::ListAllowsNonAdmin)?;
        let mut devices: Vec<MfaDevice> = self
            .devices
            .iter()
            .filter(|(_, d)| d.bound)
            .map(|(user_id, d)| MfaDevice { serial_number: d.serial.clone(), user_id: user_id.clone() })
            .collect();
        devices.sort();
        Ok(devices)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With the RFC 6238 key, steps 56188870 and 56188871 share the code 617002 (found by a
    /// search; the test checks it). A bind with the codes of those two steps is a valid pair.
    #[test]
    fn a_pair_whose_two_steps_share_a_code_still_binds() {
        let seed = Seed::from_bytes(b"12345678901234567890".to_vec());
        let t = 56_188_871;
        assert_eq!(seed.code(t - 1), seed.code(t), "the fixture's two steps share a code");
        let now = t * totp::STEP_SECONDS + 5;
        let mut store = Store::new("d", FaultSet::default());
        store.add_admin("admin", "Admin-pass1", now);
        let admin = store.admin_caller();
        let (serial, _) = store.mfa_create(&admin, &admin.user_id, "dev").unwrap();
        store.devices.get_mut(&admin.user_id).unwrap().seed = seed.clone();
        let bind = |first: u64, second: u64| BindMfaDevice {
            user_id: admin.user_id.clone(),
            serial_number: serial.clone(),
            authentication_code_first: seed.code(first),
            authentication_code_second: seed.code(second),
        };
        assert!(store.mfa_bind_check(&admin, &bind(t - 3, t - 2), now).is_err(), "a stale pair is still refused");
        store.mfa_bind(&admin, &bind(t - 1, t), now).unwrap();
        assert_eq!(store.devices[&admin.user_id].last_step, Some(t));
    }
}
