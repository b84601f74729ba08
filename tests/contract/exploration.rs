//! `check --explore`: the model-based exploration alone catches most faults of the reference
//! server from fixed seeds, passes the correct server and every alternative reading with no
//! finding, draws the same walks from the same seed, and shrinks a failure to a sequence that
//! replays it.

use crate::common::config::Check;
use futures::StreamExt;
use mfa_harness::contract::case::Severity;
use mfa_harness::contract::explore::{self, ExplorePlan, action};
use mfa_harness::contract::report::{CaseStatus, Report};
use mfa_harness::reference::faults::Fault;
use mfa_harness::reference::readings::Reading;
use std::time::Duration;

/// The budget the detection figure is stated for: 1,000 actions in walks of 25, no waits for
/// a TOTP step (so a fault takes well under a second), seeds 1 and 2.
const ACTIONS: usize = 1000;
const SEEDS: [u64; 2] = [1, 2];

fn plan(seed: u64, actions: usize) -> ExplorePlan {
    ExplorePlan {
        ticks: 0,
        time: Duration::from_secs(60),
        ..ExplorePlan::full(actions, seed, "mfa-harness check".into())
    }
}

async fn explore(faults: &[Fault], readings: &[Reading], plan: ExplorePlan) -> Report {
    Check::embedded(faults).readings(readings).only(&["explore"]).strict(true).explore(plan).report().await
}

fn explored(report: &Report) -> &mfa_harness::contract::report::CaseResult {
    assert_eq!(
        report.cases.len(),
        1,
        "only the exploration runs: {:?}",
        report.cases.iter().map(|c| &c.id).collect::<Vec<_>>()
    );
    &report.cases[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exploration_alone_catches_at_least_80_percent_of_the_faults_from_fixed_seeds() {
    let results: Vec<(Fault, Option<String>)> = futures::stream::iter(Fault::ALL.iter().copied())
        .map(|fault| async move {
            for seed in SEEDS {
                let report = explore(&[fault], &[], plan(seed, ACTIONS)).await;
                let case = explored(&report);
                if case.status == CaseStatus::Failed {
                    let f = case.findings.iter().find(|f| f.severity.fails(true)).expect("a failing finding");
                    let shrunk =
                        report.exploration.as_ref().and_then(|e| e.failures.first()).map(|x| x.actions.clone());
                    return (
                        fault,
                        Some(format!("seed {seed}: {} {} · {}", f.operation, f.check, shrunk.unwrap_or_default())),
                    );
                }
            }
            (fault, None)
        })
        .buffered(4)
        .collect()
        .await;
    let caught = results.iter().filter(|(_, c)| c.is_some()).count();
    let table: Vec<String> = results
        .iter()
        .map(|(fault, how)| format!("{:36} {}", fault.name(), how.as_deref().unwrap_or("MISSED")))
        .collect();
    println!(
        "exploration alone ({ACTIONS} actions in walks of 25, no TOTP waits, --strict, seeds {SEEDS:?}): \
         {caught} of {} faults caught\n{}",
        results.len(),
        table.join("\n")
    );
    assert!(
        caught * 100 >= results.len() * 80,
        "only {caught} of {} faults caught:\n{}",
        results.len(),
        table.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exploration_passes_the_correct_server_and_every_reading_with_no_finding() {
    for seed in [1, 2, 3] {
        let runs = std::iter::once(None).chain(Reading::ALL.iter().copied().map(Some));
        for reading in runs {
            let readings: Vec<Reading> = reading.into_iter().collect();
            let report = explore(&[], &readings, plan(seed, 400)).await;
            let case = explored(&report);
            let failing: Vec<&String> =
                case.findings.iter().filter(|f| f.severity != Severity::Open).map(|f| &f.message).collect();
            assert!(failing.is_empty(), "seed {seed}, reading {reading:?}: {failing:?}");
            assert_eq!(case.status, CaseStatus::Passed, "seed {seed}, {reading:?}: {:?}", case.reason);
            assert_eq!(report.outcome(), Ok(mfa_harness::Outcome::Passed));
            let e = report.exploration.as_ref().expect("the report says how it explored");
            assert_eq!(e.seed, seed);
            assert!(e.actions >= 300 && e.requests > e.actions, "{e:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_draws_the_same_walks_and_another_seed_others() {
    let a = explore(&[], &[], plan(42, 200)).await;
    let b = explore(&[], &[], plan(42, 200)).await;
    let c = explore(&[], &[], plan(43, 200)).await;
    let (a, b, c) = (a.exploration.unwrap(), b.exploration.unwrap(), c.exploration.unwrap());
    assert_eq!((a.actions, a.requests), (b.actions, b.requests));
    assert_ne!((a.actions, a.requests), (c.actions, c.requests), "another seed draws other walks");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_is_shrunk_to_a_sequence_whose_replay_fails_the_same_check() {
    let report = explore(&[Fault::BindAcceptsReplay], &[], plan(1, ACTIONS)).await;
    let e = report.exploration.as_ref().expect("explored");
    let failure = e.failures.first().expect("the replay fault is found");
    let actions = action::parse_actions(&failure.actions).expect("the shrunk sequence reads back");
    assert!(actions.len() <= failure.found_after, "{failure:?}");
    assert!(actions.len() <= 5, "a replayed bind needs create, bind, unbind, bind: {}", failure.actions);
    assert!(failure.replay.contains("--only explore --replay '") && failure.replay.contains(&failure.actions));
    let check = explored(&report)
        .findings
        .iter()
        .find(|f| f.severity.fails(true))
        .map(|f| (f.operation.clone(), f.check.clone()));
    let replayed = explore(&[Fault::BindAcceptsReplay], &[], ExplorePlan { replay: Some(actions), ..plan(1, 1) }).await;
    let case = explored(&replayed);
    assert_eq!(case.status, CaseStatus::Failed, "the replay fails again: {:?}", case.findings);
    let again = case.findings.iter().find(|f| f.severity.fails(true)).map(|f| (f.operation.clone(), f.check.clone()));
    assert_eq!(again, check);
    // And against the correct server the same sequence passes.
    let clean =
        explore(&[], &[], ExplorePlan { replay: Some(action::parse_actions(&failure.actions).unwrap()), ..plan(1, 1) })
            .await;
    assert_eq!(explored(&clean).status, CaseStatus::Passed, "{:?}", explored(&clean).findings);
    assert_eq!(explore::CASE_ID, "explore");
}
