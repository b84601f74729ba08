//! In-memory state of the reference server and the MFA device rules. Every method runs under
//! the caller's lock, so each change of one user's MFA state is atomic. TOTP verification is
//! in `verify.rs`, the identity rules in `identity.rs`.

use super::error::ApiError;
use super::faults::{Fault, FaultSet};
use super::readings::{Reading, ReadingSet};
use crate::api::models::{BindMfaDevice, MfaDevice, UnbindMfaDevice};
use crate::ids::random_hex;
use crate::totp::{self, Seed};
use axum::http::StatusCode;
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

impl LoginProtectSetting {
    /// Login protection is on and uses virtual MFA.
    pub fn is_vmfa(&self) -> bool {
        self.enabled && self.method == "vmfa"
    }
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

/// A bind that passed its checks: whose device to bind, and the step its codes used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedBind {
    pub user_id: String,
    pub step: u64,
}

/// Token validity: 24 hours [iam_30_0001].
pub const TOKEN_TTL_SECONDS: u64 = 24 * 3600;

/// The whole state of one reference server.
#[derive(Debug)]
pub struct Store {
    pub domain_id: String,
    pub domain_name: String,
    pub faults: FaultSet,
    pub readings: ReadingSet,
    pub(super) users: HashMap<String, User>,
    pub(super) user_ids_by_name: HashMap<String, String>,
    pub(super) tokens: HashMap<String, TokenInfo>,
    pub(super) devices: HashMap<String, Device>,
    pub(super) serial_owner: HashMap<String, String>,
    /// Deleted devices, kept only for the `list-shows-deleted` fault.
    pub(super) retired: Vec<MfaDevice>,
    /// How long a non-admin user's token lives, in seconds: 24 h (iam_30_0001) unless
    /// `serve --token-ttl`.
    pub token_ttl: u64,
}

impl Store {
    pub fn new(domain_name: &str, faults: FaultSet, readings: ReadingSet) -> Store {
        Store {
            domain_id: random_hex(16),
            domain_name: domain_name.to_string(),
            faults,
            readings,
            users: HashMap::new(),
            user_ids_by_name: HashMap::new(),
            tokens: HashMap::new(),
            devices: HashMap::new(),
            serial_owner: HashMap::new(),
            retired: Vec::new(),
            token_ttl: TOKEN_TTL_SECONDS,
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
        let fresh = |info: &TokenInfo| info.expires_at > now || self.faults.has(Fault::ExpiredTokenAccepted);
        match self.tokens.get(token) {
            Some(info) if fresh(info) => match self.users.get(&info.user_id) {
                Some(user) if user.enabled => Ok(Caller { user_id: user.id.clone(), is_admin: user.is_admin }),
                _ => Err(ApiError::unauthenticated("The token must be updated.")),
            },
            _ if self.faults.has(Fault::InvalidTokenAccepted) => Ok(self.admin_caller()),
            _ => Err(ApiError::unauthenticated("The token must be updated.")),
        }
    }

    /// The account administrator as a caller.
    pub fn admin_caller(&self) -> Caller {
        let id = self.users.values().find(|u| u.is_admin).map(|u| u.id.clone()).unwrap_or_default();
        Caller { user_id: id, is_admin: true }
    }

    /// 403 unless `allowed`, or `fault` is switched on.
    pub(super) fn require(&self, allowed: bool, fault: Fault) -> Result<(), ApiError> {
        if allowed || self.faults.has(fault) { Ok(()) } else { Err(ApiError::forbidden()) }
    }

    /// The user's device, if any.
    pub fn device(&self, user_id: &str) -> Option<&Device> {
        self.devices.get(user_id)
    }

    /// Whether query and list show `device`: bound ones (unbound ones too with the
    /// `query-shows-unbound` reading).
    fn shown(&self, device: &Device) -> bool {
        device.bound || self.readings.has(Reading::QueryShowsUnbound)
    }

    /// The device whose serial is `serial` if it is `user_id`'s, with its owner's id. With
    /// `by_serial` switched on, the device of whoever owns the serial.
    fn device_of(&self, user_id: &str, serial: &str, by_serial: Fault) -> Result<(String, &Device), ApiError> {
        if !self.users.contains_key(user_id) {
            return Err(ApiError::not_found("user", user_id));
        }
        let owner = match self.serial_owner.get(serial) {
            Some(owner) if self.faults.has(by_serial) => owner.as_str(),
            _ => user_id,
        };
        self.devices
            .get(owner)
            .filter(|d| d.serial == serial)
            .map(|d| (owner.to_string(), d))
            .ok_or_else(|| ApiError::not_found("virtual MFA device", serial))
    }

    fn set_bound(&mut self, user_id: &str, bound: bool) {
        if let Some(device) = self.devices.get_mut(user_id) {
            device.bound = bound;
        }
    }

    /// A second device or a taken serial: 409 IAM.0005, or 400 with the `create-conflict-400`
    /// reading.
    fn create_conflict(&self, details: String) -> ApiError {
        if self.readings.has(Reading::CreateConflict400) {
            ApiError::new(StatusCode::BAD_REQUEST, "IAM.0007", format!("Request parameter is invalid: {details}"))
        } else {
            ApiError::conflict(details)
        }
    }

    /// Create a virtual MFA device [iam_08_0019]; one device per user, serials unique per account.
    /// `user_id` is None when the body has none.
    pub fn mfa_create(
        &mut self,
        caller: &Caller,
        user_id: Option<&str>,
        name: &str,
    ) -> Result<(String, Seed), ApiError> {
        let user_id = match user_id {
            _ if self.faults.has(Fault::CreateUsesTokenOwner) => caller.user_id.clone(),
            Some(id) => id.to_string(),
            None if self.faults.has(Fault::CreateDefaultsUserId) => caller.user_id.clone(),
            None => return Err(ApiError::missing_field("Required property `user_id` is missing.")),
        };
        let length = name.chars().count();
        let name_ok = (1..=MAX_DEVICE_NAME).contains(&length)
            || length == 0 && self.faults.has(Fault::CreateAcceptsEmptyName)
            || length > MAX_DEVICE_NAME && self.faults.has(Fault::CreateAcceptsLongName);
        let refused = (!name_ok).then(|| ApiError::invalid_field("virtual_mfa_device.name"));
        if let Some(error) = &refused
            && !self.faults.has(Fault::CreateRefusalStillCreates)
        {
            return Err(error.clone());
        }
        if user_id.is_empty() {
            return Err(ApiError::invalid_field("virtual_mfa_device.user_id"));
        }
        self.require(caller.may_act_for(&user_id), Fault::CreateIgnoresTokenOwner)?;
        if !self.users.contains_key(&user_id) && !self.faults.has(Fault::CreateForUnknownUser) {
            return Err(ApiError::not_found("user", &user_id));
        }
        if let Some(old) = self.devices.get(&user_id) {
            if !self.faults.has(Fault::CreateReplacesExisting) {
                return Err(self.create_conflict("The user already has a virtual MFA device.".into()));
            }
            let old = old.serial.clone();
            self.serial_owner.remove(&old);
        }
        let serial = if self.readings.has(Reading::SerialIamMfa) {
            format!("iam/mfa/{user_id}")
        } else {
            format!("iam:{}:mfa/{}", self.domain_id, name)
        };
        if self.serial_owner.contains_key(&serial) {
            return Err(self.create_conflict(format!("A virtual MFA device named {name} already exists.")));
        }
        let seed = Seed::random();
        self.serial_owner.insert(serial.clone(), user_id.clone());
        self.devices
            .insert(user_id, Device { serial: serial.clone(), seed: seed.clone(), bound: false, last_step: None });
        match refused {
            Some(error) => Err(error),
            None => Ok((serial, seed)),
        }
    }

    /// Every check of bind [iam_08_0017], without changing anything: whose device to bind and
    /// the step of its second code, which commit records as used (None: nothing to commit).
    pub fn mfa_bind_check(
        &self,
        caller: &Caller,
        body: &BindMfaDevice,
        now: u64,
    ) -> Result<Option<CheckedBind>, ApiError> {
        for (field, value) in [("user_id", &body.user_id), ("serial_number", &body.serial_number)] {
            if value.is_empty() {
                return Err(ApiError::invalid_field(field));
            }
        }
        self.require(caller.may_act_for(&body.user_id), Fault::BindIgnoresTokenOwner)?;
        let (user_id, device) =
            match self.device_of(&body.user_id, &body.serial_number, Fault::BindAcceptsOtherUsersSerial) {
                Err(_) if self.faults.has(Fault::BindUnknownSerial204) && self.users.contains_key(&body.user_id) => {
                    return Ok(None);
                }
                found => found?,
            };
        let checked = |step: u64| Ok(Some(CheckedBind { user_id: user_id.clone(), step }));
        if device.bound {
            if self.faults.has(Fault::BindRebindSucceeds) {
                return checked(device.last_step.unwrap_or_else(|| totp::step_at(now)));
            }
            return Err(ApiError::conflict("The virtual MFA device is already bound."));
        }
        if self.faults.has(Fault::BindAcceptsAnyCode) {
            return checked(totp::step_at(now));
        }
        match self.verify_bind_pair(device, &body.authentication_code_first, &body.authentication_code_second, now) {
            Some(step) => checked(step),
            None => Err(ApiError::bad_passcode()),
        }
    }

    /// Records a checked bind.
    pub fn mfa_bind_commit(&mut self, checked: &CheckedBind) {
        let bound = !self.faults.has(Fault::BindNotRecorded);
        if let Some(device) = self.devices.get_mut(&checked.user_id) {
            device.bound = bound;
            device.last_step = Some(device.last_step.map_or(checked.step, |l| l.max(checked.step)));
        }
    }

    /// Bind, checked and committed in one step.
    pub fn mfa_bind(&mut self, caller: &Caller, body: &BindMfaDevice, now: u64) -> Result<(), ApiError> {
        match self.mfa_bind_check(caller, body, now) {
            Ok(checked) => {
                if let Some(checked) = checked {
                    self.mfa_bind_commit(&checked);
                }
                Ok(())
            }
            Err(error) if error.code == "IAM.1061" && self.faults.has(Fault::BindRefusalStillBinds) => {
                self.set_bound(&body.user_id, true);
                Err(error)
            }
            Err(error) => Err(error),
        }
    }

    /// Unbind [iam_08_0018]: the user's own code is verified, an administrator's is not.
    pub fn mfa_unbind(&mut self, caller: &Caller, body: &UnbindMfaDevice, now: u64) -> Result<(), ApiError> {
        for (field, value) in [("user_id", &body.user_id), ("serial_number", &body.serial_number)] {
            if value.is_empty() {
                return Err(ApiError::invalid_field(field));
            }
        }
        self.require(caller.may_act_for(&body.user_id), Fault::UnbindIgnoresTokenOwner)?;
        let (user_id, device) =
            self.device_of(&body.user_id, &body.serial_number, Fault::UnbindAcceptsOtherUsersSerial)?;
        if !device.bound {
            if self.faults.has(Fault::UnbindUnbound204) {
                return Ok(());
            }
            return Err(ApiError::conflict("The virtual MFA device is not bound."));
        }
        let protected = self.users.get(&user_id).and_then(|u| u.login_protect.as_ref()).is_some_and(|p| p.is_vmfa());
        if protected && !self.faults.has(Fault::UnbindAllowedWithVmfa) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "IAM.1062",
                "Login protection uses virtual MFA; change it before unbinding.",
            ));
        }
        let own = caller.user_id == body.user_id;
        let verified = own && !self.faults.has(Fault::UnbindIgnoresCode)
            || !own && self.faults.has(Fault::UnbindVerifiesAdminCode);
        let mut used = None;
        if verified {
            let Some(step) = self.verify_code(device, &body.authentication_code, now, false) else {
                if self.faults.has(Fault::UnbindRefusalStillUnbinds) {
                    self.set_bound(&user_id, false);
                }
                return Err(ApiError::bad_passcode());
            };
            used = Some(step).filter(|_| !self.faults.has(Fault::UnbindCodeNotConsumed));
        } else if body.authentication_code.is_empty() {
            return Err(ApiError::invalid_field("authentication_code"));
        }
        if self.faults.has(Fault::UnbindLeavesBound) {
            return Ok(());
        }
        if let Some(device) = self.devices.get_mut(&user_id) {
            device.bound = false;
            if let Some(step) = used {
                device.last_step = Some(step);
            }
        }
        Ok(())
    }

    /// Delete [iam_08_0020]: the owner or an administrator (an administrator only with the
    /// `delete-admin-only` reading); a bound device must be unbound first.
    pub fn mfa_delete(&mut self, caller: &Caller, user_id: &str, serial: &str) -> Result<(), ApiError> {
        if user_id.is_empty() {
            return Err(ApiError::invalid_parameter("user_id"));
        }
        if serial.is_empty() {
            return Err(ApiError::invalid_parameter("serial_number"));
        }
        let allowed =
            if self.readings.has(Reading::DeleteAdminOnly) { caller.is_admin } else { caller.may_act_for(user_id) };
        self.require(allowed, Fault::DeleteIgnoresTokenOwner)?;
        let serial = match self.devices.get(user_id) {
            Some(device) if self.faults.has(Fault::DeleteIgnoresSerial) => device.serial.clone(),
            _ => serial.to_string(),
        };
        let (owner, device) = self.device_of(user_id, &serial, Fault::DeleteAcceptsOtherUsersSerial)?;
        if device.bound {
            if self.faults.has(Fault::DeleteBoundAnswers204) {
                return Ok(());
            }
            return Err(ApiError::conflict("The virtual MFA device is bound; unbind it before deleting it."));
        }
        if self.faults.has(Fault::DeleteLeavesDevice) {
            return Ok(());
        }
        self.devices.remove(&owner);
        self.serial_owner.remove(&serial);
        if self.faults.has(Fault::ListShowsDeleted) {
            self.retired.push(MfaDevice { serial_number: serial, user_id: owner });
        }
        Ok(())
    }

    /// Query one user's bound device [iam_08_0013]; none → 404 (spec §1.5, inferred).
    pub fn mfa_show(&self, caller: &Caller, user_id: &str) -> Result<&Device, ApiError> {
        let user_id = if self.faults.has(Fault::QueryUsesCallerId) { caller.user_id.as_str() } else { user_id };
        let bound = self.devices.get(user_id).is_some_and(|d| d.bound);
        let allowed = caller.may_act_for(user_id) || bound && self.faults.has(Fault::QueryOtherWhenBound);
        self.require(allowed, Fault::QueryIgnoresTokenOwner)?;
        if !self.users.contains_key(user_id) {
            return Err(ApiError::not_found("user", user_id));
        }
        self.devices
            .get(user_id)
            .filter(|d| self.shown(d))
            .ok_or_else(|| ApiError::not_found("virtual MFA device of user", user_id))
    }

    /// List every bound device [iam_08_0012]; administrators only.
    pub fn mfa_list(&self, caller: &Caller) -> Result<Vec<MfaDevice>, ApiError> {
        self.require(caller.is_admin, Fault::ListAllowsNonAdmin)?;
        let mut devices: Vec<MfaDevice> = self
            .devices
            .iter()
            .filter(|(_, d)| self.shown(d))
            .map(|(user_id, d)| MfaDevice { serial_number: d.serial.clone(), user_id: user_id.clone() })
            .chain(self.retired.iter().cloned())
            .collect();
        devices.sort();
        if self.faults.has(Fault::ListDuplicatesDevices) {
            devices = devices.into_iter().flat_map(|d| [d.clone(), d]).collect();
        }
        if self.faults.has(Fault::ListOmitsLastDevice) {
            devices.pop();
        }
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
        let mut store = Store::new("d", FaultSet::default(), ReadingSet::default());
        store.add_admin("admin", "Admin-pass1", now);
        let admin = store.admin_caller();
        let (serial, _) = store.mfa_create(&admin, Some(&admin.user_id), "dev").unwrap();
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
