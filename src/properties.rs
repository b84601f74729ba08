//! Property tests (proptest) of everything that reads input the harness does not control:
//! seeds and bodies from a target nobody vouches for, the command line, scenario files, replay
//! texts, and of the reference server's request parsing and TOTP verification. Each takes any
//! input without panicking, and what it accepts round-trips.

use crate::contract::case::{Actor, CodeMode};
use crate::contract::explore::action::{Action, How, Op, actions_text, parse_actions};
use proptest::prelude::*;

/// 400 cases a property in `cargo test` (under a second each); `PROPTEST_CASES=100000` for a
/// longer run (README, Development).
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(400);
    ProptestConfig { cases, ..ProptestConfig::default() }
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

/// The reference server in process (no socket), its admin token, and a runtime to drive it.
fn reference() -> &'static (tokio::runtime::Runtime, axum::Router, String) {
    static REFERENCE: std::sync::OnceLock<(tokio::runtime::Runtime, axum::Router, String)> = std::sync::OnceLock::new();
    REFERENCE.get_or_init(|| {
        use crate::reference::{faults::FaultSet, readings::ReadingSet, state::AppState, state::ServerConfig};
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let config = ServerConfig::generated("fuzz", "admin", FaultSet::default(), ReadingSet::default());
        let app = crate::reference::app(AppState::with_system_clock(&config));
        let body = crate::api::ops::token_by_password("fuzz", "admin", &config.admin_password).body_bytes();
        let token = runtime.block_on(async {
            let request = http::Request::post("/v3/auth/tokens?nocatalog=true")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.map(|(_, b)| b).unwrap_or_default()))
                .expect("a request");
            let response = tower::ServiceExt::oneshot(app.clone(), request).await.expect("an answer");
            response.headers().get("x-subject-token").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
        });
        assert!(!token.is_empty(), "the administrator gets a token");
        (runtime, app, token)
    })
}

fn route() -> impl Strategy<Value = (http::Method, String)> {
    let id = prop_oneof![Just("0000000000000000000000000000dead".to_string()), "[a-z0-9%._~-]{0,12}"];
    (
        prop::sample::select(vec![http::Method::GET, http::Method::POST, http::Method::PUT, http::Method::DELETE]),
        prop::sample::select(vec![
            "/v3.0/OS-MFA/virtual-mfa-devices",
            "/v3.0/OS-MFA/mfa-devices/bind",
            "/v3.0/OS-MFA/mfa-devices/unbind",
            "/v3.0/OS-MFA/users/{id}/virtual-mfa-device",
            "/v3/auth/tokens",
            "/v3.0/OS-USER/users",
            "/v3/users/{id}",
            "/v3.0/OS-USER/users/{id}/login-protect",
            "/v3.0/OS-USER/login-protects",
        ]),
        id,
        prop::option::of("[a-z_]{1,12}=[a-zA-Z0-9:/%]{0,20}"),
    )
        .prop_map(|(method, path, id, query)| {
            let path = path.replace("{id}", &id);
            (method, query.map_or(path.clone(), |q| format!("{path}?{q}")))
        })
}

/// A JSON value of any shape, a few levels deep.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "\\PC{0,12}".prop_map(serde_json::Value::from),
        "[0-9]{5,7}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "virtual_mfa_device",
                    "name",
                    "user_id",
                    "serial_number",
                    "authentication_code_first",
                    "authentication_code_second",
                    "authentication_code",
                    "login_protect",
                    "enabled",
                    "verification_method",
                    "auth",
                    "identity",
                    "methods",
                    "password",
                    "user",
                    "domain",
                    "totp",
                    "passcode",
                ])
                .prop_map(str::to_string),
                inner,
                0..4
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..200), json_value().prop_map(|v| v.to_string().into_bytes()),]
}

proptest! {
    #![proptest_config(config())]

    /// The reference server's request parsing and TOTP verification: any method, path, query,
    /// token and body gets a well-formed answer, never a 5xx (it has no fault switched on).
    #[test]
    fn the_reference_answers_any_request_without_a_server_error(
        (method, path) in route(),
        body in body(),
        token in prop::sample::select(vec![0u8, 1, 2]),
        json in any::<bool>(),
    ) {
        let (runtime, app, admin) = reference();
        let mut request = http::Request::builder().method(method).uri(&path);
        if json {
            request = request.header("content-type", "application/json;charset=UTF-8");
        }
        match token {
            1 => request = request.header("x-auth-token", admin.as_str()),
            2 => request = request.header("x-auth-token", "MII0000"),
            _ => {}
        }
        let request = request.body(axum::body::Body::from(body)).expect("a request");
        let status = runtime.block_on(tower::ServiceExt::oneshot(app.clone(), request)).expect("an answer").status();
        prop_assert!(status.as_u16() < 500, "{path}: {status}");
    }

    /// The harness's response handling: any status, Content-Type and body bytes, judged as the
    /// answer of any operation, by the case checks and the exploration's model, never panics.
    #[test]
    fn any_answer_is_judged_without_panicking(
        status in 100u16..600,
        content_type in prop::option::of("[a-z/;= +-]{0,30}"),
        body in body(),
        op in op(),
    ) {
        use crate::contract::explore::{judge, model::Model, request};
        let schemas = crate::schemas::Schemas::embedded().expect("the embedded schemas");
        let action = Action::new(Actor::Own, op, Actor::Own, How::Plain);
        let mut model = Model::new();
        let expect = model.expect(&action, &[]);
        let Some(step) = request::step(&action, &expect) else { return Ok(()) };
        let exchange = crate::client::Exchange {
            kind: step.op,
            method: http::Method::GET,
            path: "/".into(),
            token_sent: true,
            request_body: None,
            status,
            content_type,
            content_length: None,
            subject_token: None,
            location: None,
            retry_after: None,
            body,
            cut_at: None,
            elapsed: std::time::Duration::ZERO,
        };
        let state = crate::contract::build::CaseState::default();
        let redactor = crate::target::Redactor::default();
        let ctx = crate::contract::checks::StepContext {
            step: &step, number: 1, severity: expect.severity, state: &state, redactor: &redactor, schemas: &schemas, strict: true,
        };
        let _ = ctx.check(&exchange);
        let _ = judge::judge(&mut model, &action, &state, &exchange);
        judge::learn(&mut model, &action, status);
    }
}
