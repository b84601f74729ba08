//! Named, deliberate deviations from the contract, switched on with `serve --fault NAME`, so the
//! harness's own tests can prove each check catches what it is meant to catch.

use std::fmt;
use std::str::FromStr;

macro_rules! faults {
    ($($variant:ident => $name:literal, $description:literal;)*) => {
        /// One deliberate deviation from the documented contract.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Fault { $($variant),* }

        impl Fault {
            /// Every fault, in the order `--list-faults` prints them.
            pub const ALL: &'static [Fault] = &[$(Fault::$variant),*];

            /// The name used on the command line.
            pub fn name(self) -> &'static str {
                match self { $(Fault::$variant => $name),* }
            }

            /// One line saying what the fault breaks.
            pub fn description(self) -> &'static str {
                match self { $(Fault::$variant => $description),* }
            }
        }
    };
}

faults! {
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
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Fault, String> {
        Fault::ALL.iter().copied().find(|f| f.name() == s).ok_or_else(|| {
            format!("unknown fault '{s}'; `mfa-harness serve --list-faults` lists the {} faults", Fault::ALL.len())
        })
    }
}

/// The set of faults a server runs with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultSet(u64);

impl FaultSet {
    pub fn new(faults: &[Fault]) -> FaultSet {
        FaultSet(faults.iter().fold(0, |acc, f| acc | (1 << *f as u64)))
    }

    /// Whether `fault` is switched on.
    pub fn has(self, fault: Fault) -> bool {
        self.0 & (1 << fault as u64) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The faults switched on, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Fault> {
        Fault::ALL.iter().copied().filter(move |f| self.has(*f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        assert!(Fault::ALL.len() >= 15);
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
        let set = FaultSet::new(&[Fault::QueryLeaksSeed, Fault::BindNotAtomic]);
        assert!(set.has(Fault::QueryLeaksSeed) && set.has(Fault::BindNotAtomic));
        assert!(!set.has(Fault::CreateReturns200));
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![Fault::BindNotAtomic, Fault::QueryLeaksSeed]);
        assert!(FaultSet::default().is_empty());
    }
}
