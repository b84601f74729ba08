//! The one shape of the reference server's named switches, faults and readings: an enum with
//! kebab-case names and one-line descriptions, parsed from the command line, and a bitset.

/// Declares a switch enum (`ALL`, `name`, `description`, `Display`, `FromStr` whose error
/// names the listing flag) and its set type (a `u128` bitset, so at most 128 variants).
macro_rules! switches {
    (
        $(#[$doc:meta])* $enum:ident, $(#[$set_doc:meta])* $set:ident, $what:literal, $list_flag:literal;
        $($variant:ident => $name:literal, $description:literal;)*
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $enum { $($variant),* }

        impl $enum {
            /// Every variant, in the order the listing prints them.
            pub const ALL: &'static [$enum] = &[$($enum::$variant),*];

            /// The name used on the command line.
            pub fn name(self) -> &'static str {
                match self { $($enum::$variant => $name),* }
            }

            /// One line saying what it does.
            pub fn description(self) -> &'static str {
                match self { $($enum::$variant => $description),* }
            }
        }

        const _: () = assert!($enum::ALL.len() <= 128, "the set is a u128 bitset");

        impl std::fmt::Display for $enum {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $enum {
            type Err = String;

            fn from_str(s: &str) -> Result<$enum, String> {
                $enum::ALL.iter().copied().find(|v| v.name() == s).ok_or_else(|| {
                    format!(
                        concat!("unknown ", $what, " '{}'; `mfa-harness serve ", $list_flag, "` lists the {} ", $what, "s"),
                        s,
                        $enum::ALL.len()
                    )
                })
            }
        }

        $(#[$set_doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $set(u128);

        impl $set {
            pub fn new(items: &[$enum]) -> $set {
                $set(items.iter().fold(0, |acc, v| acc | (1u128 << *v as u32)))
            }

            /// Whether `item` is switched on.
            pub fn has(self, item: $enum) -> bool {
                self.0 & (1u128 << item as u32) != 0
            }

            pub fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// The items switched on, in declaration order.
            pub fn iter(self) -> impl Iterator<Item = $enum> {
                $enum::ALL.iter().copied().filter(move |v| self.has(*v))
            }
        }
    };
}

pub(crate) use switches;
