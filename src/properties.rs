//! Property tests (proptest) of everything that reads input the harness does not control:
//! seeds and bodies from a target nobody vouches for, the command line, scenario files, replay
//! texts. Each parser takes any input without panicking, and what it accepts round-trips.

use crate::contract::case::{Actor, CodeMode};
use crate::contract::explore::action::{Action, How, Op, actions_text, parse_actions};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 400, ..ProptestConfig::default() }
}

fn actor() -> impl Strategy<Value = Actor> {
    prop::sample::select(vec![
        Actor::Own,
        Actor::Other,
        Actor::Admin,
        Actor::Anonymous,
        Actor::InvalidToken,
        Actor::AlteredToken,
        Actor::TruncatedToken,
        Actor::ExtendedToken,
    ])
}

fn op() -> impl Strategy<Value = Op> {
    prop::sample::select(vec![
        Op::Create,
        Op::Bind,
        Op::Unbind,
        Op::Delete,
        Op::Query,
        Op::List,
        Op::Login,
        Op::ProtectVmfa,
        Op::ProtectEmail,
        Op::ProtectOff,
        Op::ProtectShow,
        Op::ProtectList,
        Op::UserDelete,
    ])
}

fn how() -> impl Strategy<Value = How> {
    prop_oneof![
        Just(How::Plain),
        prop::sample::select(vec![CodeMode::Valid, CodeMode::Stale, CodeMode::Replay, CodeMode::UsedStep])
            .prop_map(How::Codes),
        "[a-z-]{1,12}:[a-z-]{1,12}".prop_map(How::Input),
        prop::sample::select(vec![How::UnknownSerial, How::ForeignSerial, How::Malformed, How::RoleHeader]),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    (actor(), op(), prop::sample::select(vec![Actor::Own, Actor::Other]), how()).prop_map(|(who, op, on, how)| {
        Action::new(who, op, if op.has_subject() { on } else { Action::default_subject(who) }, how)
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_seed_from_a_target_parses_or_is_refused_and_round_trips(text in ".{0,80}") {
        if let Ok(seed) = crate::totp::Seed::parse(&text) {
            let again = crate::totp::Seed::parse(&seed.to_base32()).expect("canonical form parses");
            prop_assert_eq!(again.code(1), seed.code(1));
            prop_assert_eq!(seed.code(7).len(), 6);
        }
    }

    #[test]
    fn terminal_text_has_no_control_characters(text in "\\PC{0,40}[\\x00-\\x1f\\x7f\\u{9b}]{0,5}\\PC{0,40}") {
        let clean = crate::sanitize::for_terminal(&text);
        prop_assert!(!clean.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "{clean:?}");
        let cut = crate::sanitize::truncate(&text, 10);
        prop_assert!(cut.chars().count() <= 10 || cut.contains("more bytes"));
    }

    #[test]
    fn replay_texts_parse_or_are_refused_and_actions_round_trip(
        text in "[a-z0-9@=:; -]{0,60}",
        actions in prop::collection::vec(action(), 1..8),
    ) {
        let _ = parse_actions(&text);
        let written = actions_text(&actions);
        prop_assert_eq!(parse_actions(&written).expect("written actions read back"), actions);
    }

    #[test]
    fn command_line_values_parse_or_are_refused(text in "\\PC{0,24}") {
        let _ = crate::load::thresholds::Threshold::parse(&text);
        if let Ok(bytes) = crate::client::parse_max_body(&text) {
            prop_assert!(bytes > 0);
        }
        if let Ok(timeout) = crate::flags::parse_timeout(&text) {
            prop_assert!(!timeout.is_zero());
        }
        if let Ok(users) = crate::flags::parse_users(&text) {
            prop_assert!((1..=crate::flags::MAX_USERS).contains(&users));
        }
    }

    #[test]
    fn scenario_files_parse_or_are_refused(text in "(\\[\\[case\\]\\]\n|\\[\\[case.step\\]\\]\n|[a-z_]{1,8} = (\"[a-z.]{0,8}\"|[0-9]{1,3}|\\[[0-9, ]{0,8}\\])\n){0,12}") {
        let _ = crate::contract::case::parse("fuzz.toml", &text);
    }
}
