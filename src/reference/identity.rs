//! Identity rules of the reference server: users, tokens and login protection (spec §1.7, §2).

use super::error::ApiError;
use super::faults::Fault;
use super::readings::Reading;
use super::store::{Caller, LoginProtectSetting, Store, TOKEN_TTL_SECONDS, TokenInfo, User};
use crate::api::models::{CreateUser, LoginProtect, TokenRequest};
use crate::ids::random_hex;
use axum::http::StatusCode;

/// A token issued by [`Store::issue_token`].
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub user_id: String,
    pub user_name: String,
    pub methods: Vec<String>,
    pub issued_at: u64,
    pub expires_at: u64,
}

fn user_error(code: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

fn valid_user_name(name: &str) -> bool {
    let length = name.chars().count();
    (1..=64).contains(&length)
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
        && !name.starts_with(|c: char| c.is_ascii_digit() || c == ' ')
}

fn strong_enough(password: &str) -> bool {
    let classes = [
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    (6..=32).contains(&password.chars().count()) && classes.iter().filter(|c| **c).count() >= 2
}

/// A timestamp in the token format, e.g. `2015-11-09T01:42:57.527363Z`.
pub fn format_time(unix: u64) -> String {
    let days = unix / 86_400;
    let secs = unix % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000000Z", secs / 3600, secs / 60 % 60, secs % 60)
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

impl Store {
    /// Adds the account administrator; returns its id.
    pub fn add_admin(&mut self, name: &str, password: &str, now: u64) -> String {
        let id = random_hex(16);
        self.insert_user(User {
            id: id.clone(),
            name: name.to_string(),
            password: Some(password.to_string()),
            is_admin: true,
            enabled: true,
            description: None,
            create_time: format_time(now),
            login_protect: None,
        });
        id
    }

    fn insert_user(&mut self, user: User) {
        self.user_ids_by_name.insert(user.name.clone(), user.id.clone());
        self.users.insert(user.id.clone(), user);
    }

    /// The user with this id.
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.get(id)
    }

    /// Every user, by name.
    pub fn users(&self) -> Vec<&User> {
        let mut users: Vec<&User> = self.users.values().collect();
        users.sort_by(|a, b| a.name.cmp(&b.name));
        users
    }

    /// `POST /v3/auth/tokens` by password, or password + TOTP [iam_30_0001][iam_03_0006].
    pub fn issue_token(&mut self, request: &TokenRequest, now: u64) -> Result<IssuedToken, ApiError> {
        let identity = &request.auth.identity;
        let has = |m: &str| identity.methods.iter().any(|x| x == m);
        let Some(password) = identity.password.as_ref().filter(|_| has("password")) else {
            return Err(ApiError::missing_field("Required property auth.identity.password is missing."));
        };
        let domain = &password.user.domain;
        let domain_matches =
            domain.name.as_deref() == Some(&self.domain_name) || domain.id.as_deref() == Some(&self.domain_id);
        let wrong = || ApiError::new(StatusCode::UNAUTHORIZED, "IAM.0062", "Incorrect IAM user name or password.");
        let user_id = self.user_ids_by_name.get(&password.user.name).filter(|_| domain_matches).ok_or_else(wrong)?;
        let user = &self.users[user_id];
        if user.password.as_deref() != Some(password.user.password.as_str()) {
            return Err(wrong());
        }
        if !user.enabled {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "IAM.0082", "The user is disabled."));
        }
        let user_id = user.id.clone();
        let user_name = user.name.clone();
        // The administrator's tokens keep 24 h whatever `--token-ttl` says: provisioning and
        // cleanup go on while the test users' tokens expire.
        let ttl = if user.is_admin { TOKEN_TTL_SECONDS } else { self.token_ttl };
        let mut methods = vec!["password".to_string()];
        if has("totp") {
            self.check_login_totp(request, &user_id, now)?;
            if !self.faults.has(Fault::TotpTokenMethodsPasswordOnly) {
                methods.push("totp".to_string());
            }
        }
        let token = crate::ids::random_token();
        let expires_at = now + ttl;
        self.tokens.insert(token.clone(), TokenInfo { user_id: user_id.clone(), expires_at });
        Ok(IssuedToken { token, user_id, user_name, methods, issued_at: now, expires_at })
    }

    fn check_login_totp(&mut self, request: &TokenRequest, user_id: &str, now: u64) -> Result<(), ApiError> {
        let Some(totp_user) = request.auth.identity.totp.as_ref().map(|t| &t.user) else {
            return Err(ApiError::missing_field("Required property auth.identity.totp is missing."));
        };
        let named = totp_user.id.as_deref() == Some(user_id)
            || totp_user.name.as_deref() == self.users.get(user_id).map(|u| u.name.as_str());
        let other = totp_user.id.as_deref().filter(|id| self.users.contains_key(*id));
        let user_id = match other {
            _ if named => user_id,
            Some(other) if self.faults.has(Fault::LoginTotpUserUnchecked) => other,
            _ => return Err(ApiError::invalid_field("auth.identity.totp.user.id")),
        };
        let protected = self.users[user_id].login_protect.as_ref().is_some_and(|p| p.is_vmfa());
        let Some(device) = self.devices.get(user_id).filter(|d| d.bound && protected) else {
            return Err(user_error("IAM.0007", "Login protection by virtual MFA is not enabled for this user."));
        };
        if self.faults.has(Fault::TotpTokenIgnoresPasscode) {
            return Ok(());
        }
        let replay_ok = self.faults.has(Fault::LoginAcceptsReplay);
        let Some(step) = self.verify_code(device, &totp_user.passcode, now, replay_ok) else {
            if self.readings.has(Reading::MfaLogin401) {
                return Err(ApiError::unauthenticated("Authentication failed: the TOTP passcode is invalid."));
            }
            return Err(ApiError::bad_passcode());
        };
        if let Some(device) = self.devices.get_mut(user_id) {
            device.last_step = Some(device.last_step.map_or(step, |l| l.max(step)));
        }
        Ok(())
    }

    /// `POST /v3.0/OS-USER/users` [iam_08_0015].
    pub fn create_user(&mut self, caller: &Caller, body: &CreateUser, now: u64) -> Result<&User, ApiError> {
        if !caller.is_admin {
            return Err(ApiError::forbidden());
        }
        if !valid_user_name(&body.name) {
            return Err(user_error("1101", "The user name is invalid."));
        }
        if body.domain_id != self.domain_id {
            return Err(ApiError::forbidden());
        }
        if self.user_ids_by_name.contains_key(&body.name) {
            return Err(user_error("1109", "The user name already exists."));
        }
        if body.password.as_deref().is_some_and(|p| !strong_enough(p)) {
            return Err(user_error("1103", "The password does not meet the password policy."));
        }
        let id = random_hex(16);
        self.insert_user(User {
            id: id.clone(),
            name: body.name.clone(),
            password: body.password.clone(),
            is_admin: false,
            enabled: body.enabled.unwrap_or(true),
            description: body.description.clone(),
            create_time: format_time(now),
            login_protect: None,
        });
        Ok(&self.users[&id])
    }

    /// `DELETE /v3/users/{user_id}` [iam_08_0009]: also revokes its tokens and removes its device.
    pub fn delete_user(&mut self, caller: &Caller, user_id: &str) -> Result<(), ApiError> {
        if !caller.is_admin {
            return Err(ApiError::forbidden());
        }
        let user = self.users.get(user_id).ok_or_else(|| ApiError::not_found("user", user_id))?;
        if user.is_admin {
            return Err(user_error("1107", "The account administrator cannot be deleted."));
        }
        let user = self.users.remove(user_id).expect("checked above");
        self.user_ids_by_name.remove(&user.name);
        self.tokens.retain(|_, t| t.user_id != user_id);
        if !self.faults.has(Fault::DeleteUserKeepsDevice)
            && let Some(device) = self.devices.remove(user_id)
        {
            self.serial_owner.remove(&device.serial);
        }
        Ok(())
    }

    /// Show one user's login protection [iam_08_0016]; never configured → 404.
    pub fn login_protect(&self, caller: &Caller, user_id: &str) -> Result<LoginProtect, ApiError> {
        self.require(caller.may_act_for(user_id), Fault::LoginProtectShowOtherUser)?;
        let user = self.users.get(user_id).ok_or_else(|| ApiError::not_found("user", user_id))?;
        let setting = user.login_protect.as_ref().ok_or_else(|| ApiError::not_found("login protect", user_id))?;
        let shown = if self.faults.has(Fault::LoginProtectShowWrongUser) { &caller.user_id } else { user_id };
        Ok(LoginProtect {
            user_id: shown.to_string(),
            enabled: setting.enabled,
            verification_method: setting.method.clone(),
        })
    }

    /// List the users whose login protection is enabled [iam_08_0014] (configured, with the
    /// `login-protects-configured` reading).
    pub fn login_protects(&self, caller: &Caller) -> Result<Vec<LoginProtect>, ApiError> {
        self.require(caller.is_admin, Fault::LoginProtectListNonAdmin)?;
        let configured = self.readings.has(Reading::LoginProtectsConfigured);
        let mut list: Vec<LoginProtect> = self
            .users
            .values()
            .filter_map(|u| {
                let p = u.login_protect.as_ref().filter(|p| p.enabled || configured)?;
                Some(LoginProtect { user_id: u.id.clone(), enabled: p.enabled, verification_method: p.method.clone() })
            })
            .collect();
        list.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        Ok(list)
    }

    /// Modify login protection [iam_08_0021]; `vmfa` needs a bound device.
    pub fn set_login_protect(
        &mut self,
        caller: &Caller,
        user_id: &str,
        enabled: bool,
        method: &str,
    ) -> Result<LoginProtect, ApiError> {
        self.require(caller.is_admin, Fault::LoginProtectModifyByNonAdmin)?;
        if !matches!(method, "sms" | "email" | "vmfa") && !self.faults.has(Fault::LoginProtectAcceptsUnknownMethod) {
            return Err(ApiError::invalid_field("login_protect.verification_method"));
        }
        if !self.users.contains_key(user_id) {
            return Err(ApiError::not_found("user", user_id));
        }
        if enabled && method == "vmfa" && !self.devices.get(user_id).is_some_and(|d| d.bound) {
            return Err(user_error("IAM.0007", "Bind a virtual MFA device before enabling vmfa login protection."));
        }
        let user = self.users.get_mut(user_id).expect("checked above");
        if user.login_protect.is_none() || !self.faults.has(Fault::LoginProtectNotSaved) {
            user.login_protect = Some(LoginProtectSetting { enabled, method: method.to_string() });
        }
        Ok(LoginProtect { user_id: user_id.to_string(), enabled, verification_method: method.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_token_timestamps_in_utc() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(format_time(1_447_033_377), "2015-11-09T01:42:57.000000Z");
        assert_eq!(format_time(951_782_400), "2000-02-29T00:00:00.000000Z");
    }

    #[test]
    fn user_names_and_passwords_follow_iam_08_0015() {
        assert!(valid_user_name("mfa-harness_user.1"));
        assert!(!valid_user_name("1abc") && !valid_user_name(" abc") && !valid_user_name(""));
        assert!(!valid_user_name(&"a".repeat(65)) && !valid_user_name("a/b"));
        assert!(strong_enough("Passw0rd") && !strong_enough("password") && !strong_enough("Ab1"));
    }
}
