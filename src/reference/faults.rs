//! Named, deliberate deviations from the contract, switched on with `serve --fault NAME`, so the
//! harness's own tests can prove each check catches what it is meant to catch. Each is one
//! small branch where the rule it breaks is applied (store.rs, identity.rs, verify.rs, the
//! handlers, shape.rs); none is a documented reading (those are `readings.rs`).

use super::switches::switches;

switches! {
    /// One deliberate deviation from the documented contract.
    Fault,
    /// The set of faults a server runs with.
    FaultSet, "fault", "--list-faults";
    BindAcceptsAnyCode => "bind-accepts-any-code", "bind succeeds whatever authentication codes are sent";
    BindAcceptsNonConsecutive => "bind-accepts-non-consecutive", "bind accepts two valid codes that are not consecutive (or the same code twice)";
    BindAcceptsReplay => "bind-accepts-replay", "a TOTP time step already used by this device is accepted again";
    BindIgnoresTokenOwner => "bind-ignores-token-owner", "any authenticated user may bind another user's device";
    BindNotAtomic => "bind-not-atomic", "bind checks and commits under separate locks, so concurrent binds all succeed";
    BindRebindSucceeds => "bind-rebind-succeeds", "binding an already bound device answers 204 instead of 409";
    CreateReturns200 => "create-returns-200", "create answers 200 instead of the documented 201";
    CreateOmitsSeed => "create-omits-seed", "create's response has no base32_string_seed";
    CreateIgnoresTokenOwner => "create-ignores-token-owner", "any authenticated user may create a device for another user";
    QueryMissingSerial => "query-missing-serial", "query's response omits virtual_mfa_device.serial_number";
    QueryLeaksSeed => "query-leaks-seed", "query's response also carries the device's base32_string_seed";
    QueryWrongSerial => "query-wrong-serial", "query reports a serial number other than the one create returned";
    QueryIgnoresTokenOwner => "query-ignores-token-owner", "any authenticated user may query another user's device";
    ListAllowsNonAdmin => "list-allows-non-admin", "list of all devices is answered for non-administrators";
    UnbindIgnoresCode => "unbind-ignores-code", "a user's own unbind succeeds with a wrong authentication code";
    UnbindLeavesBound => "unbind-leaves-bound", "unbind answers 204 but the device stays bound";
    DeleteLeavesDevice => "delete-leaves-device", "delete answers 204 but the device remains";
    DeleteIgnoresTokenOwner => "delete-ignores-token-owner", "any authenticated user may delete another user's device";
    MissingTokenAccepted => "missing-token-accepted", "requests without X-Auth-Token are served as the administrator";
    InvalidTokenAccepted => "invalid-token-accepted", "an unknown X-Auth-Token is served as the administrator";
    ErrorBodyKeystone => "error-body-keystone", "error bodies use {\"error\":{code,message,title}} instead of {error_msg,error_code}";
    MalformedJson500 => "malformed-json-500", "a malformed JSON body answers 500 instead of 400";
    TextContentType => "text-content-type", "JSON responses are labelled Content-Type: text/plain";
    TotpTokenIgnoresPasscode => "totp-token-ignores-passcode", "password+totp token is issued whatever passcode is sent";
    // Authorization per operation and caller.
    UnbindIgnoresTokenOwner => "unbind-ignores-token-owner", "any authenticated user may unbind another user's device (its code is then not verified, as an administrator's)";
    AdminHeaderTrusted => "admin-header-trusted", "a non-admin token sent with the header X-Role: admin is served as an administrator";
    QueryOtherWhenBound => "query-other-when-bound", "another user's query is refused only while the user has no bound device; a bound one is shown";
    ExpiredTokenAccepted => "expired-token-accepted", "a token past its 24-hour expires_at is still accepted";
    LoginProtectModifyByNonAdmin => "login-protect-modify-by-non-admin", "a non-admin user may modify login protection (its own or any user's)";
    LoginProtectShowOtherUser => "login-protect-show-other-user", "any authenticated user may see another user's login protection";
    LoginProtectListNonAdmin => "login-protect-list-non-admin", "the list of login protections is answered for non-administrators";
    // Device state transitions.
    CreateReplacesExisting => "create-replaces-existing", "a second create for a user who has a device answers 201 and silently replaces it (new seed, unbound)";
    CreateRefusalStillCreates => "create-refusal-still-creates", "a create refused for its name (400) stores the device all the same";
    BindUnknownSerial204 => "bind-unknown-serial-204", "bind of a serial number that does not exist answers 204 (and binds nothing)";
    BindNotRecorded => "bind-not-recorded", "bind answers 204 but the device is not recorded as bound (query 404, not listed)";
    BindRefusalStillBinds => "bind-refusal-still-binds", "a bind refused for wrong codes (400) binds the device all the same";
    UnbindUnbound204 => "unbind-unbound-204", "unbind of a device that is not bound answers 204 instead of 409";
    UnbindRefusalStillUnbinds => "unbind-refusal-still-unbinds", "a user's unbind refused for a wrong code (400) unbinds the device all the same";
    DeleteBoundAnswers204 => "delete-bound-answers-204", "delete of a bound device answers 204 but the device stays bound and listed";
    QueryUsesCallerId => "query-uses-caller-id", "query looks up the caller's device instead of the path user's (an administrator sees its own)";
    ListOmitsLastDevice => "list-omits-last-device", "list leaves out its last device (an off-by-one)";
    ListShowsDeleted => "list-shows-deleted", "a deleted device is still listed";
    ListDuplicatesDevices => "list-duplicates-devices", "list shows every device twice";
    DeleteUserKeepsDevice => "delete-user-keeps-device", "deleting an IAM user leaves its virtual MFA device behind, still listed";
    LoginProtectNotSaved => "login-protect-not-saved", "modifying an existing login protection answers 200 with the new setting but keeps the old one";
    // Input validation.
    CreateAcceptsLongName => "create-accepts-long-name", "a device name longer than 64 characters is accepted";
    CreateAcceptsEmptyName => "create-accepts-empty-name", "an empty device name is accepted";
    CreateDefaultsUserId => "create-defaults-user-id", "a create body without virtual_mfa_device.user_id creates a device for the caller instead of 400";
    CreateUsesTokenOwner => "create-uses-token-owner", "create ignores the body's user_id and creates the device for the token's owner";
    CreateForUnknownUser => "create-for-unknown-user", "an administrator's create for a user that does not exist answers 201";
    NullField500 => "null-field-500", "a JSON null where a string is expected answers 500 instead of 400";
    WrongTypeCoerced => "wrong-type-coerced", "a number where a string is expected is accepted as its decimal text";
    BindAcceptsOtherUsersSerial => "bind-accepts-other-users-serial", "bind with the caller's user_id and another user's serial number binds that user's device";
    UnbindAcceptsOtherUsersSerial => "unbind-accepts-other-users-serial", "unbind with the caller's user_id and another user's serial number unbinds that user's device";
    DeleteAcceptsOtherUsersSerial => "delete-accepts-other-users-serial", "delete with the caller's user_id and another user's serial number deletes that user's device";
    DeleteIgnoresSerial => "delete-ignores-serial", "delete removes the user's device whatever serial_number names, even one that does not exist";
    CodesTrimmed => "codes-trimmed", "TOTP codes with surrounding whitespace (\" 123456 \") are accepted";
    CodesComparedAsNumbers => "codes-compared-as-numbers", "TOTP codes are compared as integers, so 7 digits with a leading zero (\"0123456\") pass";
    NonAsciiDigitsAccepted => "non-ascii-digits-accepted", "TOTP codes written in non-ASCII digits (fullwidth, Arabic-Indic, Devanagari) are accepted";
    LoginProtectAcceptsUnknownMethod => "login-protect-accepts-unknown-method", "login protection accepts a verification_method other than sms, email or vmfa";
    // TOTP.
    TotpWindow3Steps => "totp-window-3-steps", "codes up to 3 steps (90 s) away are accepted, not just ±1 step";
    BindAcceptsReversedPair => "bind-accepts-reversed-pair", "bind accepts two consecutive codes in reverse order (steps t, t−1)";
    BindChecksFirstCodeOnly => "bind-checks-first-code-only", "bind verifies authentication_code_first only; the second code is ignored";
    UnbindCodeNotConsumed => "unbind-code-not-consumed", "a user's unbind does not record its code's time step, so that code binds the device again";
    UnbindVerifiesAdminCode => "unbind-verifies-admin-code", "an administrator's unbind is refused unless its code is the device's current one (documented: not verified)";
    // Answer aspects.
    NoContentWithBody => "no-content-with-body", "204 answers carry the JSON body {} and Content-Type application/json (hyper drops the bytes on the wire)";
    NoContentLength => "no-content-length", "204 answers declare Content-Length: 2 but send no body";
    BindReturns201 => "bind-returns-201", "bind answers 201 instead of 204";
    UnbindReturns200 => "unbind-returns-200", "unbind answers 200 with a JSON body instead of 204";
    QueryEmptyBody => "query-empty-body", "query answers 200 with an empty body";
    ListSerialNumeric => "list-serial-numeric", "list reports serial_number as a number (an internal row id)";
    ListLeaksSeed => "list-leaks-seed", "list items also carry the device's base32_string_seed";
    ForbiddenCodeMismatch => "forbidden-code-mismatch", "403 answers carry error_code IAM.0004 (the not-found code)";
    NotFoundCodeMismatch => "not-found-code-mismatch", "404 answers carry error_code IAM.0001 (the authentication code)";
    ErrorMsgMissing => "error-msg-missing", "error bodies have no error_msg";
    ErrorCodeNumeric => "error-code-numeric", "error_code is a JSON number (IAM.0002 → 2) instead of a string";
    JsonContentTypeMissing => "json-content-type-missing", "JSON answers carry no Content-Type header";
    LoginProtectShowWrongUser => "login-protect-show-wrong-user", "login-protect show reports the caller's user_id instead of the path's";
    TotpTokenMethodsPasswordOnly => "totp-token-methods-password-only", "a password+TOTP token lists only \"password\" in token.methods";
    // MFA login and login protection.
    LoginAcceptsReplay => "login-accepts-replay", "password+TOTP login accepts a passcode whose time step the device already used";
    LoginTotpUserUnchecked => "login-totp-user-unchecked", "password+TOTP login verifies the passcode with the device of totp.user.id, even another user's";
    UnbindAllowedWithVmfa => "unbind-allowed-with-vmfa", "unbind succeeds while login protection uses vmfa (documented: 400 IAM.1062)";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        assert!(Fault::ALL.len() >= 60);
        for f in Fault::ALL {
            assert_eq!(f.name().parse::<Fault>(), Ok(*f));
            assert!(!f.description().is_empty());
        }
        let mut names: Vec<_> = Fault::ALL.iter().map(|f| f.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Fault::ALL.len());
        assert!("no-such-fault".parse::<Fault>().unwrap_err().contains("--list-faults"));
    }

    #[test]
    fn fault_set_holds_exactly_what_it_was_given() {
        let set = FaultSet::new(&[Fault::QueryLeaksSeed, Fault::BindNotAtomic, Fault::UnbindAllowedWithVmfa]);
        assert!(set.has(Fault::QueryLeaksSeed) && set.has(Fault::BindNotAtomic));
        assert!(set.has(Fault::UnbindAllowedWithVmfa), "variants past 64 fit");
        assert!(!set.has(Fault::CreateReturns200));
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            vec![Fault::BindNotAtomic, Fault::QueryLeaksSeed, Fault::UnbindAllowedWithVmfa]
        );
        assert!(FaultSet::default().is_empty());
    }
}
