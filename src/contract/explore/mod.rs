//! `check --explore`: model-based exploration. Random walks over two users and their devices,
//! drawn from the coverage axes, judged by an executable model of the spec ([`model`]) that
//! allows every documented outcome and follows the branch the target chose. Seeded and
//! replayable; TOTP-aware (codes only for steps no request used, future codes only when they
//! are what is tested); bounded by actions, TOTP waits and time. A failing walk is shrunk to a
//! shortest sequence that still fails the same check, reported with the command that replays
//! it.

pub mod action;
pub mod draw;
pub mod judge;
pub mod model;
pub mod request;
pub mod walk;

use super::case::Severity;
use super::report::{CaseResult, CaseStatus, Exploration, ExploreFailure, status_from};
use crate::schemas::Schemas;
use crate::target::Target;
use action::Action;
use futures::StreamExt;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::{Duration, Instant};
use walk::{Actions, Explorer, Walked};

/// The case id the exploration reports under (and `--only explore` selects).
pub const CASE_ID: &str = "explore";

/// At most this many failing walks are shrunk; further ones are reported as found.
const MAX_SHRUNK: usize = 3;
/// At most this many candidate walks per shrink.
const MAX_CANDIDATES: usize = 80;

/// How much exploring a run does.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplorePlan {
    pub seed: u64,
    pub walks: usize,
    /// Actions per walk.
    pub steps: usize,
    /// Waits for the next TOTP step allowed per walk (each up to 30 s).
    pub ticks: u32,
    /// The whole exploration, shrinking included, stops after this.
    pub time: Duration,
    /// Replay exactly these actions instead of drawing walks.
    pub replay: Option<Vec<Action>>,
    /// How the report's replay command starts (`mfa-harness check --target …`).
    pub command: String,
}

impl ExplorePlan {
    /// The budget of `check --explore N`: N actions in walks of 25, two TOTP waits per walk
    /// (a rebind after an unbind needs two fresh steps), two minutes.
    pub fn full(actions: usize, seed: u64, command: String) -> ExplorePlan {
        let steps = 25.min(actions.max(1));
        ExplorePlan {
            seed,
            walks: actions.div_ceil(steps),
            steps,
            ticks: 2,
            time: Duration::from_secs(120),
            replay: None,
            command,
        }
    }

    /// The budget plain `check` spends: 8 walks of 12 actions and no TOTP waits, which keeps
    /// the default check against the embedded server well under a second.
    pub fn quick(seed: u64, command: String) -> ExplorePlan {
        ExplorePlan {
            walks: 8,
            steps: 12,
            ticks: 0,
            time: Duration::from_secs(20),
            ..ExplorePlan::full(96, seed, command)
        }
    }
}

/// A random seed for a run that did not give one.
pub fn random_seed() -> u64 {
    rand::random::<u64>() % 1_000_000_000
}

fn walk_rng(seed: u64, walk: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ (walk as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// The failing check of a walk, to tell whether a shrunk candidate fails the same way.
fn signature(walked: &Walked) -> Option<(String, String)> {
    walked.failure.as_ref().map(|(_, f)| (f.operation.clone(), f.check.clone()))
}

/// Explores `target` as `plan` says; returns the exploration as one case and its summary.
pub async fn explore(
    target: &Target,
    schemas: &Schemas,
    strict: bool,
    plan: &ExplorePlan,
    concurrency: usize,
) -> (CaseResult, Exploration) {
    let started = Instant::now();
    let variants = super::suite::input_variants().unwrap_or_default();
    let explorer =
        Explorer { target, schemas, variants: &variants, strict, ticks: plan.ticks, deadline: started + plan.time };
    let walks: Vec<(usize, Walked)> = match &plan.replay {
        Some(actions) => vec![(0, walk::walk(&explorer, Actions::Given(actions)).await)],
        None => {
            let mut walks: Vec<(usize, Walked)> = futures::stream::iter(0..plan.walks)
                .map(|i| {
                    let explorer = &explorer;
                    async move {
                        (
                            i,
                            walk::walk(
                                explorer,
                                Actions::Drawn { rng: Box::new(walk_rng(plan.seed, i)), steps: plan.steps },
                            )
                            .await,
                        )
                    }
                })
                .buffer_unordered(concurrency.max(1))
                .collect()
                .await;
            walks.sort_by_key(|(i, _)| *i);
            walks
        }
    };
    let mut findings = Vec::new();
    let mut failures = Vec::new();
    let mut errors = Vec::new();
    let mut readings = Vec::new();
    let (mut actions, mut requests, mut stopped_by_time) = (0, 0, false);
    for (i, walked) in &walks {
        actions += walked.actions.len();
        requests += walked.requests;
        stopped_by_time |= walked.timed_out;
        readings.extend(walked.readings.iter().cloned());
        findings.extend(walked.open.iter().take(3).cloned());
        if let Some(error) = &walked.error {
            errors.push(format!("walk {i}: {error}"));
        }
    }
    let mut failed: Vec<&(usize, Walked)> = walks.iter().filter(|(_, w)| w.failure.is_some()).collect();
    failed.sort_by_key(|(i, w)| (w.failure.as_ref().map_or(0, |(index, _)| *index), *i));
    // One finding per failing check: the shortest walk that failed it, shrunk; the others
    // that failed the same way are counted.
    let mut kinds: Vec<((String, String), Vec<usize>)> = Vec::new();
    for (i, walked) in &failed {
        let Some(kind) = signature(walked) else { continue };
        match kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, walks)) => walks.push(*i),
            None => kinds.push((kind, vec![*i])),
        }
    }
    for (_, walks) in &kinds {
        let Some((i, walked)) = failed.iter().find(|(i, _)| *i == walks[0]) else { continue };
        let Some((index, _)) = &walked.failure else { continue };
        let found_after = index + 1;
        let shrunk = if failures.len() < MAX_SHRUNK && plan.replay.is_none() {
            shrink(&explorer, walked).await
        } else {
            walked.clone()
        };
        let Some((_, mut finding)) = shrunk.failure.clone() else { continue };
        let text = action::actions_text(&shrunk.actions);
        let replay = format!("{} --only explore --replay '{text}'", plan.command);
        let others = match walks.len() - 1 {
            0 => String::new(),
            n => format!(" ({n} more walks failed the same check)"),
        };
        finding.message = format!(
            "{} — walk {i}, found after {found_after} actions, shrunk to {}{others}; replay: {replay}",
            finding.message,
            shrunk.actions.len()
        );
        failures.push(ExploreFailure {
            walk: *i,
            found_after,
            actions: text,
            replay,
            message: finding.message.clone(),
        });
        findings.push(finding);
    }
    readings.sort();
    readings.dedup();
    let budget = match &plan.replay {
        Some(actions) => format!("a replay of {} actions", actions.len()),
        None => format!(
            "{} walks of up to {} actions, {} TOTP waits each, at most {} s",
            plan.walks,
            plan.steps,
            plan.ticks,
            plan.time.as_secs()
        ),
    };
    let exploration = Exploration {
        seed: plan.seed,
        walks: walks.len(),
        actions,
        requests,
        budget: budget.clone(),
        stopped_by_time,
        failures,
    };
    let mut status = status_from(&findings, strict);
    let reason = (!errors.is_empty()).then(|| errors.join("; "));
    if reason.is_some() && status == CaseStatus::Passed {
        status = CaseStatus::Error;
    }
    let result = CaseResult {
        id: CASE_ID.into(),
        title: format!("Model-based exploration, seed {}: {budget}", plan.seed),
        doc: vec!["spec §1–§5".into()],
        severity: Severity::Must,
        status,
        duration_ms: started.elapsed().as_millis() as u64,
        requests,
        findings,
        reason,
        readings,
        file: None,
        line: None,
    };
    (result, exploration)
}

/// Shrinks a failing walk: drops ever smaller runs of actions while the rest still fails the
/// same check (each candidate is a fresh walk with fresh users), within the candidate and
/// time budgets.
async fn shrink(explorer: &Explorer<'_>, failed: &Walked) -> Walked {
    let Some(wanted) = signature(failed) else { return failed.clone() };
    let mut best = failed.clone();
    if let Some((index, _)) = best.failure {
        best.actions.truncate(index + 1);
    }
    let mut candidates = 0;
    // Waits for a TOTP step cost up to 30 s each: first try without any.
    if best.actions.iter().any(|a| a.op == action::Op::Tick) {
        let candidate: Vec<Action> = best.actions.iter().filter(|a| a.op != action::Op::Tick).cloned().collect();
        candidates += 1;
        let mut walked = walk::walk(explorer, Actions::Given(&candidate)).await;
        if signature(&walked) == Some(wanted.clone()) {
            if let Some((index, _)) = walked.failure {
                walked.actions.truncate(index + 1);
            }
            best = walked;
        }
    }
    let mut chunk = best.actions.len().div_ceil(2);
    while chunk >= 1 && candidates < MAX_CANDIDATES && Instant::now() < explorer.deadline {
        let mut at = 0;
        let mut shrank = false;
        while at < best.actions.len() && candidates < MAX_CANDIDATES && Instant::now() < explorer.deadline {
            let mut candidate = best.actions.clone();
            candidate.drain(at..(at + chunk).min(candidate.len()));
            candidates += 1;
            let walked = walk::walk(explorer, Actions::Given(&candidate)).await;
            if signature(&walked) == Some(wanted.clone()) {
                let mut walked = walked;
                if let Some((index, _)) = walked.failure {
                    walked.actions.truncate(index + 1);
                }
                best = walked;
                shrank = true;
            } else {
                at += chunk;
            }
        }
        if !shrank {
            chunk /= 2;
        }
    }
    best
}
