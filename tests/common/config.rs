//! The one place the tests build a `CheckPlan` or a `LoadPlan` and call `execute` on it,
//! so a change of those structs or of `execute` touches this file only.

use mfa_harness::contract::explore::ExplorePlan;
use mfa_harness::contract::report::Report;
use mfa_harness::contract::runner::CaseRun;
use mfa_harness::contract::{self, CheckPlan};
use mfa_harness::load::summary::LoadSummary;
use mfa_harness::load::thresholds::Threshold;
use mfa_harness::load::{self, LoadClient, LoadPlan};
use mfa_harness::reference::ServerConfig;
use mfa_harness::reference::faults::{Fault, FaultSet};
use mfa_harness::reference::readings::{Reading, ReadingSet};
use mfa_harness::target::{Redactor, TargetSpec};
use std::time::Duration;

/// A contract run: the embedded server with faults, or any target; every case, not strict,
/// 8 cases at a time, 10 s per request.
#[derive(Debug, Clone)]
pub struct Check {
    target: TargetSpec,
    only: Vec<String>,
    strict: bool,
    concurrency: usize,
    explore: Option<ExplorePlan>,
    slow: bool,
}

impl Check {
    /// Against the embedded reference server with `faults` switched on.
    pub fn embedded(faults: &[Fault]) -> Check {
        Check::target(TargetSpec::Embedded { faults: FaultSet::new(faults), readings: ReadingSet::default() })
    }

    /// The embedded server's alternative readings (`--reading`); nothing for another target.
    pub fn readings(mut self, readings: &[Reading]) -> Check {
        if let TargetSpec::Embedded { readings: set, .. } = &mut self.target {
            *set = ReadingSet::new(readings);
        }
        self
    }

    pub fn target(target: TargetSpec) -> Check {
        Check { target, only: Vec::new(), strict: false, concurrency: 8, explore: None, slow: false }
    }

    /// `--only` patterns.
    pub fn only(mut self, patterns: &[&str]) -> Check {
        self.only = patterns.iter().map(|p| p.to_string()).collect();
        self
    }

    pub fn strict(mut self, strict: bool) -> Check {
        self.strict = strict;
        self
    }

    /// Also runs the cases that wait for fresh TOTP steps (`--slow`).
    pub fn slow(mut self, slow: bool) -> Check {
        self.slow = slow;
        self
    }

    /// Explores as `plan` says (cases run only if `only` selects some).
    pub fn explore(mut self, plan: ExplorePlan) -> Check {
        self.explore = Some(plan);
        self
    }

    pub fn concurrency(mut self, concurrency: usize) -> Check {
        self.concurrency = concurrency;
        self
    }

    /// The full plan (the tests render the report themselves).
    pub fn config(&self) -> CheckPlan {
        CheckPlan {
            target: self.target.clone(),
            only: self.only.clone(),
            strict: self.strict,
            network: mfa_harness::client::Network::with_timeout(Duration::from_secs(10)),
            scenarios: None,
            schemas: None,
            concurrency: self.concurrency,
            explore: self.explore.clone(),
            slow: self.slow,
        }
    }

    /// Runs the cases: the report, every case's exchanges, the run's redactor.
    pub async fn execute(&self) -> (Report, Vec<CaseRun>, Redactor) {
        let run = contract::execute(&self.config()).await.expect("the harness runs");
        (run.report, run.runs, run.redactor)
    }

    /// Runs the cases and returns the report.
    pub async fn report(&self) -> Report {
        self.execute().await.0
    }
}

/// A load run in process against the embedded server: 2 users for 1 s on the connection
/// client, 5 s per request, no thresholds beyond the flow's own, no files.
#[derive(Debug, Clone)]
pub struct Load {
    target: TargetSpec,
    flow: String,
    users: usize,
    run_time: Duration,
    thresholds: Vec<Threshold>,
    client: LoadClient,
}

impl Load {
    /// `flow` against the embedded reference server with `faults` switched on.
    pub fn embedded(flow: &str, faults: &[Fault]) -> Load {
        Load {
            target: TargetSpec::Embedded { faults: FaultSet::new(faults), readings: ReadingSet::default() },
            flow: flow.to_string(),
            users: 2,
            run_time: Duration::from_secs(1),
            thresholds: Vec::new(),
            client: LoadClient::Connection,
        }
    }

    pub fn users(mut self, users: usize) -> Load {
        self.users = users;
        self
    }

    pub fn run_time(mut self, run_time: Duration) -> Load {
        self.run_time = run_time;
        self
    }

    /// `--threshold` expressions, added to the flow's own.
    pub fn thresholds(mut self, thresholds: &[&str]) -> Load {
        self.thresholds = thresholds.iter().map(|t| Threshold::parse(t).expect("a valid threshold")).collect();
        self
    }

    pub fn client(mut self, client: LoadClient) -> Load {
        self.client = client;
        self
    }

    /// The full configuration.
    pub fn config(&self) -> LoadPlan {
        LoadPlan {
            target: self.target.clone(),
            flow: self.flow.clone(),
            users: self.users,
            increase_rate: None,
            run_time: self.run_time,
            stages: Vec::new(),
            iterations: None,
            rate: None,
            rate_stages: Vec::new(),
            thresholds: self.thresholds.clone(),
            report_files: Vec::new(),
            baseline_file: None,
            scenarios: None,
            network: mfa_harness::client::Network::with_timeout(Duration::from_secs(5)),
            totp_margin: None,
            client: self.client,
            shard: None,
            start_at: None,
            threads: None,
        }
    }

    /// Runs the load and returns its summary.
    pub async fn execute(&self) -> LoadSummary {
        load::execute(&self.config(), load::Hooks::default()).await.expect("the load runs")
    }
}

/// The reference server's configuration (for `World` and `RunningServer`).
pub fn server(domain: &str, admin_name: &str, admin_password: &str, faults: &[Fault]) -> ServerConfig {
    server_with(domain, admin_name, admin_password, faults, &[])
}

/// The same with alternative readings.
pub fn server_with(
    domain: &str,
    admin_name: &str,
    admin_password: &str,
    faults: &[Fault],
    readings: &[Reading],
) -> ServerConfig {
    ServerConfig {
        domain: domain.into(),
        admin_name: admin_name.into(),
        admin_password: admin_password.into(),
        faults: FaultSet::new(faults),
        readings: ReadingSet::new(readings),
        delays: Default::default(),
        access_keys: Vec::new(),
    }
}
