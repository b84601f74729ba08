//! Alternative readings: correct behaviours the documentation allows where the reference
//! server picks another one by default (spec §5, the README's "Choices on open points of the
//! documentation"), switched on with `serve --reading NAME`. Each is a branch where the rule is
//! applied; a server with any set of readings still honours the contract.

use super::switches::switches;

switches! {
    /// One documented alternative to the reference server's default choice.
    Reading,
    /// The set of readings a server runs with.
    ReadingSet, "reading", "--list-readings";
    CreateConflict400 => "create-conflict-400", "a second create for a user who has a device answers 400 IAM.0007, not 409 (Huawei's create lists no 409; spec §1.1, §5.4, §5.16)";
    SerialIamMfa => "serial-iam-mfa", "serial numbers are iam/mfa/{user_id}, as the Query and List examples show, in create, query and list (spec §5.3)";
    DeleteAdminOnly => "delete-admin-only", "only an administrator may delete a device; a user deleting its own gets 403 (intl-2023, SDK; spec §1.4, §5.1)";
    QueryShowsUnbound => "query-shows-unbound", "query and list also show created but unbound devices (the pages do not say bound only; spec §1.5, §1.6, §5.16)";
    MfaLogin401 => "mfa-login-401", "a wrong passcode on the password+TOTP token answers 401 IAM.0001, not 400 IAM.1061 (spec §2.2: 401 is plausible)";
    OtherErrorTexts => "other-error-texts", "every error_msg has another wording, error_code unchanged (only the codes are documented; spec §3.1, §5.18)";
    LoginProtectsConfigured => "login-protects-configured", "the login-protects list shows every configured user, disabled ones too (OTC example; spec §1.7, §5.9)";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_every_reading_cites_the_spec() {
        for r in Reading::ALL {
            assert_eq!(r.name().parse::<Reading>(), Ok(*r));
            assert!(r.description().contains("spec §"), "{r}");
        }
        assert!("no-such".parse::<Reading>().unwrap_err().contains("--list-readings"));
        let set = ReadingSet::new(&[Reading::SerialIamMfa]);
        assert!(set.has(Reading::SerialIamMfa) && !set.has(Reading::MfaLogin401));
    }
}
