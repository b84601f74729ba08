//! Every fault of the reference server is caught by the contract gate, by the cases expected
//! to catch it; the correct server passes even under --strict.

use crate::common::config::Check;
use mfa_harness::contract::report::{CaseStatus, Report};
use mfa_harness::reference::faults::Fault;

async fn check(faults: &[Fault], strict: bool) -> Report {
    Check::embedded(faults).strict(strict).report().await
}

fn failing(report: &Report) -> Vec<&str> {
    report.cases.iter().filter(|c| c.status == CaseStatus::Failed).map(|c| c.id.as_str()).collect()
}

/// Fault → the cases that must catch it, and whether only `--strict` fails on it.
fn expected(fault: Fault) -> (&'static [&'static str], bool) {
    use Fault::*;
    match fault {
        BindAcceptsAnyCode => (&["bind.rejects-wrong-codes", "bind.rejects-stale-codes"], false),
        BindAcceptsNonConsecutive => (&["bind.rejects-non-consecutive-codes", "bind.rejects-same-code-twice"], true),
        BindAcceptsReplay => (&["bind.rejects-replayed-codes"], true),
        BindIgnoresTokenOwner => (&["bind.forbids-other-user"], false),
        BindNotAtomic => (&["bind.parallel-exactly-one-wins"], false),
        BindRebindSucceeds => (&["bind.double-bind-conflicts"], false),
        CreateReturns200 => (&["create.success", "lifecycle.full"], false),
        CreateOmitsSeed => (&["create.success"], false),
        CreateIgnoresTokenOwner => (&["create.forbids-other-user"], false),
        QueryMissingSerial => (&["query.success", "query.admin-success", "lifecycle.full"], false),
        QueryLeaksSeed => (&["query.never-returns-seed", "query.success"], false),
        QueryWrongSerial => (&["query.success", "lifecycle.full"], false),
        QueryIgnoresTokenOwner => (&["query.forbids-other-user"], false),
        ListAllowsNonAdmin => (&["list.forbids-non-admin"], false),
        UnbindIgnoresCode => (&["unbind.rejects-wrong-code"], false),
        UnbindLeavesBound => (&["lifecycle.full"], false),
        DeleteLeavesDevice => (&["delete.device-is-gone"], false),
        DeleteIgnoresTokenOwner => (&["delete.forbids-other-user"], false),
        MissingTokenAccepted => (&["create.requires-token", "bind.requires-token", "query.requires-token"], false),
        InvalidTokenAccepted => (&["create.rejects-invalid-token", "list.rejects-invalid-token"], false),
        ErrorBodyKeystone => (&["query.forbids-other-user", "create.requires-token"], false),
        MalformedJson500 => (&["create.rejects-malformed-json", "bind.rejects-malformed-json"], false),
        TextContentType => (&["create.success", "query.success"], true),
        TotpTokenIgnoresPasscode => (&["login.totp-token-rejects-wrong-passcode"], false),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_server_passes_strict() {
    let report = check(&[], true).await;
    assert!(report.summary.total >= 40, "only {} cases", report.summary.total);
    let not_passed: Vec<_> =
        report.cases.iter().filter(|c| c.status != CaseStatus::Passed).map(|c| (&c.id, c.status, &c.reason)).collect();
    assert!(not_passed.is_empty(), "{not_passed:?}");
    assert_eq!(report.outcome(), Ok(mfa_harness::Outcome::Passed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_is_caught_by_its_cases() {
    let mut matrix = Vec::new();
    let mut missed = Vec::new();
    for fault in Fault::ALL {
        let (cases, strict_only) = expected(*fault);
        let report = check(&[*fault], true).await;
        let caught = failing(&report);
        for case in cases {
            if !caught.contains(case) {
                missed.push(format!("{fault}: {case} did not fail (failing: {caught:?})"));
            }
        }
        if !strict_only {
            let lenient = check(&[*fault], false).await;
            if lenient.outcome() != Ok(mfa_harness::Outcome::Failed) {
                missed.push(format!("{fault}: check without --strict did not fail"));
            }
        }
        matrix.push(format!(
            "{:30} {}{}",
            fault.name(),
            caught.join(", "),
            if strict_only { "  (--strict)" } else { "" }
        ));
    }
    println!("detection matrix (fault → failing cases):\n{}", matrix.join("\n"));
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}
