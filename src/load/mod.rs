//! `mfa-harness load`: full flows under load with goose, every answer checked against the
//! contract, thresholds, and a summary in text and JSON.
//!
//! goose schedules the users; each user sends its measured requests over its own transport
//! ([`transport`]: its own keep-alive connection, or goose's client) and records them in our
//! own [`recorder`], whose figures every report shows.

pub mod answers;
pub mod arrivals;
pub mod exchange;
pub mod flows;
pub mod hdr;
pub mod html;
pub mod merge;
pub mod metrics;
pub mod progress;
pub mod recorder;
pub mod session;
pub mod shape;
pub mod shard;
pub mod state;
pub mod step;
pub mod summary;
pub mod thresholds;
pub mod transport;
pub mod wire;

use crate::client::Network;
use crate::error::{InternalError, Interrupted, Result, UsageError};
use crate::schemas::Schemas;
use crate::signals::{Interrupts, Signal};
use crate::target::{Target, TargetSpec};
use futures::StreamExt;
use goose::config::GooseConfiguration;
use goose::prelude::*;
use state::LoadContext;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use summary::{LoadSummary, RunFacts};
use thresholds::Threshold;

/// What `load` runs.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    pub target: TargetSpec,
    pub flow: String,
    pub users: usize,
    /// Users started per second (default: all within the first second).
    pub increase_rate: Option<f64>,
    /// How long every user runs once all have started (unused with stages or iterations).
    pub run_time: Duration,
    /// `--stages`: users ramped stage by stage in place of `users`/`increase_rate`/`run_time`
    /// (`users` is then the peak).
    pub stages: Vec<shape::Stage>,
    /// `--iterations`: each user runs its flow this many times, then stops (no run time).
    pub iterations: Option<usize>,
    /// Constant arrival rate in flows per second (goose throttling).
    pub rate: Option<f64>,
    /// `--rate-stages`: a ramping arrival rate ([`arrivals`]) run by a pool of `users`, in
    /// place of `run_time`.
    pub rate_stages: Vec<arrivals::RateStage>,
    /// The command line's thresholds (the flow's own are added).
    pub thresholds: Vec<Threshold>,
    /// Reports by extension: .html (ours, [`html`]), .json or .md (goose's).
    pub report_files: Vec<PathBuf>,
    pub baseline_file: Option<PathBuf>,
    pub scenarios: Option<PathBuf>,
    /// How requests reach the target: timeout, `--max-body` (a measured answer over it is a
    /// violation), TLS, proxy, headers.
    pub network: Network,
    /// Least time left in the TOTP step for a bind to be sent (default: 2 s, 300 ms for the
    /// embedded server, which shares our clock).
    pub totp_margin: Option<Duration>,
    /// What sends the measured requests.
    pub client: LoadClient,
    /// `--shard K/N`: run this share of `users`, `rate` and `increase_rate`.
    pub shard: Option<shard::Shard>,
    /// `--start-at`: provision, then wait until this time to begin.
    pub start_at: Option<SystemTime>,
    /// `--threads`: the generator's worker threads (default: one per CPU).
    pub threads: Option<usize>,
}

/// What sends the measured requests of a load test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadClient {
    /// One HTTP/1.1 keep-alive connection per goose user, on hyper's connection API (what wrk
    /// does), TLS and proxies included.
    Connection,
    /// goose's own client (reqwest, with its connection pool).
    Goose,
}

/// Least time left in a TOTP step for a bind against a target with its own clock.
pub const REMOTE_TOTP_MARGIN: Duration = Duration::from_secs(2);
/// The same against the embedded server: one clock, answers in microseconds.
pub const EMBEDDED_TOTP_MARGIN: Duration = Duration::from_millis(300);

/// With `--rate-stages`, goose's run time is the schedule's and this much more: the schedule
/// ends the run itself, once its pool is set up.
const RATE_STAGES_SLACK_S: u64 = 40;

/// How an attack ended.
enum Stop {
    /// It ran to its end (or goose stopped it after a first signal).
    Ran(Result<()>),
    /// A signal came before goose had started: nothing to summarize.
    Abandoned,
    /// A second signal: waiting for goose was skipped.
    Forced,
}

/// What a run reports while it goes, besides its summary.
#[derive(Default)]
pub struct Hooks {
    /// Called with the counters every `.0` (the progress line).
    pub on_tick: Option<(Duration, progress::OnTick)>,
    /// Where `/metrics` is served during the run (`--metrics-listen`).
    pub metrics: Option<metrics::Listener>,
}

/// Runs the load test and returns its summary (thresholds evaluated). A signal (SIGINT, SIGTERM, SIGHUP): the first stops
/// goose gracefully (before goose has started, it abandons the run), a second skips the wait;
/// either way every user the run created is deleted before this returns.
pub async fn execute(plan: &LoadPlan, hooks: Hooks) -> Result<LoadSummary> {
    let Hooks { on_tick, metrics } = hooks;
    let flow = flows::find(&plan.flow, plan.scenarios.as_deref())?;
    let measured = flow.measured_steps();
    let mut thresholds = flow.thresholds.clone();
    for threshold in &plan.thresholds {
        threshold.check_steps(&flow.name, &measured)?;
        thresholds.push(threshold.clone());
    }
    check_options(plan)?;
    let total_users = plan.users;
    let plan = &plan.own_share()?;
    let schemas = Schemas::embedded().map_err(|e| InternalError::Schemas { detail: e.to_string() })?;
    let mut interrupts = Interrupts::listen();
    let target = tokio::select! {
        target = Target::open_shard(&plan.target, &plan.network, plan.shard) => target?,
        signal = interrupts.next() => return Err(Interrupted::before_any_user(signal).into()),
    };
    if let Some(capacity) = target.capacity().filter(|c| *c < plan.identities()) {
        target.close(&interrupts).await;
        let problem = match plan.stages.is_empty() {
            true => format!("--users {} needs as many identities; the pool file has {capacity}", plan.users),
            false => format!("--stages start {} users in all; the pool file has {capacity}", plan.identities()),
        };
        return Err(UsageError::Pool { problem }.into());
    }
    let ctx = Arc::new(LoadContext {
        identities: Mutex::new(Vec::new()),
        admin_token: target.admin.token.expose().to_string(),
        client: target.client.clone(),
        schemas,
        recorder: recorder::Recorder::new(plan.rate.map(|rate| Duration::from_secs_f64(plan.users as f64 / rate))),
        device_prefix: crate::ids::load_device_prefix(plan.shard.map(|s| s.tag()).as_deref()),
        step_margin: plan.totp_margin.unwrap_or(match plan.target {
            TargetSpec::Embedded { .. } => EMBEDDED_TOTP_MARGIN,
            _ => REMOTE_TOTP_MARGIN,
        }),
        endpoint: match plan.client {
            LoadClient::Connection => Some(
                url::Url::parse(target.client.base_url())
                    .map_err(|e| e.to_string())
                    .and_then(|base| wire::Endpoint::of(&base, &plan.network))
                    .map_err(|detail| InternalError::Load { what: "could not set up the load connection", detail })?,
            ),
            LoadClient::Goose => None,
        },
        // No gzip: the answers are a few hundred bytes, and wrk does not ask for it either.
        // `--header`s go on every request goose's client sends.
        goose_client: crate::client::reqwest_builder(&plan.network, target.client.base_url())
            .default_headers(plan.network.headers.iter().cloned().collect())
            .gzip(false)
            .build()
            .map_err(|e| InternalError::Load { what: "could not build the HTTP client", detail: e.to_string() })?,
        max_body: plan.network.max_body,
        headers: plan.network.headers.clone(),
        keys: target.client.keys().cloned(),
        arrivals: (!plan.rate_stages.is_empty()).then(|| {
            let schedule = arrivals::Schedule::new(plan.rate_stages.clone());
            (arrivals::Arrivals::new(schedule, plan.start_at), plan.users as u64)
        }),
        batch: plan.batch(),
    });
    let _metrics = metrics.map(|listener| metrics::Server::start(listener, ctx.clone())).transpose()?;
    let started = AtomicBool::new(false);
    let late = std::sync::OnceLock::new();
    let stop = {
        let attack = attack(plan, &flow, &target, &ctx, (&started, &late), on_tick);
        tokio::pin!(attack);
        tokio::select! {
            ran = &mut attack => Stop::Ran(ran),
            _ = interrupts.next() => {
                if started.load(Ordering::SeqCst) {
                    // goose clears its killswitch when its run starts, so it is set until goose stops.
                    loop {
                        goose::trigger_killswitch("a stop signal was received");
                        tokio::select! {
                            ran = &mut attack => break Stop::Ran(ran),
                            _ = interrupts.next() => break Stop::Forced,
                            () = tokio::time::sleep(Duration::from_millis(100)) => {}
                        }
                    }
                } else {
                    Stop::Abandoned
                }
            }
        }
    };
    let cleanup = target.close(&interrupts).await;
    // The first signal decides the exit code, also one heard during cleanup (never cut short).
    let (signal, signals) = (interrupts.first(), interrupts.count());
    drop(interrupts);
    let forced_stop = match stop {
        Stop::Ran(Err(e)) => return Err(e),
        Stop::Abandoned => {
            let (signal, forced) = (signal.unwrap_or(Signal::Interrupt), signals > 1);
            return Err(Interrupted { signal, after: None, summarized: false, forced, cleanup }.into());
        }
        Stop::Ran(Ok(())) => false,
        Stop::Forced => true,
    };
    let facts = RunFacts {
        flow: &flow.name,
        target: &crate::target::display_url(ctx.client.base_url()),
        users: plan.users,
        client: if ctx.endpoint.is_some() { "connection" } else { "goose" },
        flow_steps: measured.iter().map(|s| s.name().to_string()).collect(),
        flow_thresholds: flow.thresholds.iter().map(|t| t.text.clone()).collect(),
        shard: plan.shard.map(|shard| shard::ShardFacts {
            index: shard.index,
            count: shard.count,
            total_users,
            start_at: plan.start_at.map(shard::rfc3339_millis),
            late_by_s: plan.start_at.map(|_| late.get().map_or(0.0, Duration::as_secs_f64)),
        }),
        merged: None,
        dropped_flows: ctx.arrivals.as_ref().map(|(a, _)| a.dropped()),
        // goose stops the attack gracefully when its killswitch is set: by our first signal, or
        // by the arrival schedule's end.
        interrupted: forced_stop
            || (goose::is_killswitch_triggered() && !ctx.arrivals.as_ref().is_some_and(|(a, _)| a.is_done()))
            || signal.is_some(),
        signal,
        forced_stop,
        cleanup,
    };
    Ok(LoadSummary::build(&ctx.recorder.measured(), facts, &thresholds))
}

/// Whether `file` is an HTML report (ours), by its extension.
pub fn is_html_report(file: &std::path::Path) -> bool {
    matches!(file.extension().and_then(|e| e.to_str()), Some("html" | "htm"))
}

impl LoadPlan {
    /// This shard's part of the plan: its share of the users (and of each stage's), of the
    /// arrival rate and of the ramp (`rate × its users / all users`); the plan itself without
    /// `--shard`.
    fn own_share(&self) -> Result<LoadPlan> {
        let Some(shard) = self.shard else { return Ok(self.clone()) };
        let share = |rate: Option<f64>| rate.map(|r| shard.share_rate(r, self.users));
        Ok(LoadPlan {
            users: shard.users(self.users)?,
            rate: share(self.rate),
            increase_rate: share(self.increase_rate),
            // Each stage's target is shared as the users are (the peak's share is the shard's
            // users); `--iterations` counts per user, so it needs no share.
            stages: self.stages.iter().map(|s| shape::Stage { users: shard.share(s.users), ..*s }).collect(),
            rate_stages: self
                .rate_stages
                .iter()
                .map(|s| arrivals::RateStage { rate: shard.share_rate(s.rate, self.users), ..*s })
                .collect(),
            ..self.clone()
        })
    }

    /// Whether goose aggregates metrics of its own: only for its reports (.json, .md, a
    /// baseline); our recorder measures every request either way.
    fn goose_metrics(&self) -> bool {
        self.goose_report_files().next().is_some() || self.baseline_file.is_some()
    }

    /// Whether one goose iteration may run several flows in a row ([`state::LoadContext::batch`]):
    /// when goose has nothing to do between them — no iteration count, no throttle, no
    /// arrival schedule, and no metrics of its own, whose transaction counts would be short.
    pub fn batch(&self) -> bool {
        self.iterations.is_none() && self.rate.is_none() && self.rate_stages.is_empty() && !self.goose_metrics()
    }

    /// The report files goose writes (.json, .md); .html ones are ours.
    fn goose_report_files(&self) -> impl Iterator<Item = &PathBuf> {
        self.report_files.iter().filter(|f| !is_html_report(f))
    }

    /// Identities the run needs: one per user started (with stages, every ramp up starts new
    /// users).
    pub fn identities(&self) -> usize {
        if self.stages.is_empty() { self.users } else { shape::users_started(&self.stages) }
    }
}

/// Checks what can be checked before any user is made.
fn check_options(config: &LoadPlan) -> Result<()> {
    for file in &config.report_files {
        let extension = file.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(extension, "html" | "htm" | "json" | "md") {
            let problem = format!(
                "{}: the extension says which report to write: .html (ours), .json or .md (goose's)",
                file.display()
            );
            return Err(UsageError::Flag { flag: "--report-file", problem }.into());
        }
    }
    if let Some(file) = &config.baseline_file
        && let Err(e) = std::fs::metadata(file)
    {
        let problem =
            format!("{}: {e}; give the goose JSON report of an earlier run (--report-file x.json)", file.display());
        return Err(UsageError::Flag { flag: "--baseline-file", problem }.into());
    }
    if config.network.rate_limit.is_some() {
        let problem = "paces check and snapshot; load's request rate is goose's arrival rate: use --rate PER_S \
                       (flows started per second) and --users"
            .to_string();
        return Err(UsageError::Flag { flag: "--rate-limit", problem }.into());
    }
    if config.users == 0 {
        return Err(UsageError::Flag { flag: "--users", problem: "must be at least 1".into() }.into());
    }
    for (flag, value) in [("--rate", config.rate), ("--increase-rate", config.increase_rate)] {
        if value.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
            return Err(UsageError::Flag { flag, problem: format!("must be a number above 0, e.g. {flag} 50") }.into());
        }
    }
    if config.totp_margin.is_some_and(|m| m > Duration::from_secs(20)) {
        let problem = "must be at most 20s of the 30-s TOTP step".into();
        return Err(UsageError::Flag { flag: "--totp-margin", problem }.into());
    }
    if config.stages.is_empty() && config.iterations.is_none() && config.rate_stages.is_empty() {
        if config.run_time < Duration::from_secs(1) {
            return Err(UsageError::Flag { flag: "--run-time", problem: "must be at least 1s".into() }.into());
        }
        shape::whole_seconds(config.run_time).map_err(|problem| UsageError::Flag { flag: "--run-time", problem })?;
    }
    if config.iterations == Some(0) {
        return Err(UsageError::Flag { flag: "--iterations", problem: "must be at least 1".into() }.into());
    }
    if !config.stages.is_empty() && config.rate.is_some() {
        let problem = "a constant arrival rate needs a constant number of users (its coordinated-omission \
                       correction counts on it): use --stages or --rate, not both"
            .to_string();
        return Err(UsageError::Flag { flag: "--stages", problem }.into());
    }
    if !config.rate_stages.is_empty()
        && (config.rate.is_some() || !config.stages.is_empty() || config.iterations.is_some())
    {
        let problem = "the arrival rate's stages say when every flow starts: give no --rate, --stages or --iterations \
                       with them"
            .to_string();
        return Err(UsageError::Flag { flag: "--rate-stages", problem }.into());
    }
    if !config.stages.is_empty() && config.iterations.is_some() {
        let problem = "goose runs either a test plan or a number of iterations: give one of them".to_string();
        return Err(UsageError::Flag { flag: "--stages", problem }.into());
    }
    Ok(())
}

/// Provisions every user's identity, waits for `--start-at` (saying in `late` how late the run
/// began), then lets goose run the flow.
async fn attack(
    plan: &LoadPlan,
    flow: &flows::Flow,
    target: &Target,
    ctx: &Arc<LoadContext>,
    (started, late): (&AtomicBool, &std::sync::OnceLock<Duration>),
    on_tick: Option<(Duration, progress::OnTick)>,
) -> Result<()> {
    let identities: Vec<_> = futures::stream::iter(0..plan.identities())
        .map(|_| target.acquire())
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
    *ctx.identities.lock().unwrap_or_else(|e| e.into_inner()) = identities;
    // goose's shared client is built from this, and then replaced in every user by
    // `ctx.goose_client` (one client, one pool, no redirects: goose's builder has no such option).
    let client = goose::client::GooseClientBuilder::new().without_cookies().timeout(plan.network.timeout).gzip(false);
    let mut goose = GooseAttack::initialize_with_config(goose_configuration(plan, flow, target.client.base_url()))
        .and_then(|g| g.set_client_builder_without_cookies(client))
        .and_then(|g| match plan.stages.is_empty() {
            true => Ok(g),
            false => g.set_default(GooseDefault::TestPlan, shape::goose_test_plan(&plan.stages).as_str()).map(|g| *g),
        })
        .map_err(|e| InternalError::Load { what: "could not set up goose", detail: goose_error(&e) })?;
    for scenario in &flow.scenarios {
        let shared = Arc::new(scenario.clone());
        let start = Transaction::new(session::on_start(ctx.clone(), shared.clone())).set_name("start").set_on_start();
        let run =
            Transaction::new(session::iteration(ctx.clone(), shared)).set_name(&format!("flow:{}", scenario.name));
        let goose_scenario = Scenario::new(&scenario.name)
            .set_weight(scenario.weight)
            .map_err(|e| UsageError::Scenario {
                kind: "load flow",
                file: flow.name.clone(),
                item: Some(format!("scenario {}", scenario.name)),
                problem: e.to_string(),
            })?
            .register_transaction(start)
            .register_transaction(run);
        goose = goose.register_scenario(goose_scenario);
    }
    if let Some(at) = plan.start_at {
        // A signal while waiting abandons the run: nothing started, every user is deleted.
        if let Ok(ahead) = at.duration_since(SystemTime::now()) {
            tokio::time::sleep(ahead).await;
        }
        let _ = late.set(SystemTime::now().duration_since(at).unwrap_or_default());
    }
    let _ticker = on_tick.map(|(every, on_tick)| progress::Ticker::start(ctx.clone(), every, on_tick));
    started.store(true, Ordering::SeqCst);
    // With a test plan or iterations goose 0.19 prints "N users launched." on stdout whatever
    // `quiet` says; stdout is the summary's (and `--json -`'s), so goose's is silenced while it
    // runs (the core itself prints nothing; a second gag, or none possible, leaves it as it is).
    let _gag = (!plan.stages.is_empty() || plan.iterations.is_some()).then(gag::Gag::stdout).and_then(|g| g.ok());
    goose.execute().await.map_err(|e| match e {
        GooseError::InvalidOption { option, value, detail } => UsageError::Goose { option, value, detail }.into(),
        _ => crate::Error::from(InternalError::Load { what: "the load test failed to run", detail: goose_error(&e) }),
    })?;
    Ok(())
}

/// A goose error with the detail its `Display` leaves out.
fn goose_error(e: &GooseError) -> String {
    match e {
        GooseError::InvalidOption { option, value, detail } => format!("goose option {option} '{value}': {detail}"),
        GooseError::InvalidHost { host, detail, .. } => format!("goose host '{host}': {detail}"),
        other => other.to_string(),
    }
}

/// goose's configuration: only the target as host, no controller or dashboard listening, no
/// output of its own unless reports are asked for.
fn goose_configuration(config: &LoadPlan, flow: &flows::Flow, host: &str) -> GooseConfiguration {
    let mut g = GooseConfiguration::default();
    g.host = Some(host.to_string());
    // With stages, goose's test plan (set as a default) says how many users run when.
    if !config.rate_stages.is_empty() {
        // The pool: every user started at once; the schedule ends the run (its last flow
        // triggers goose's killswitch), the run time is only a bound.
        let schedule = arrivals::Schedule::new(config.rate_stages.clone());
        g.users = Some(config.users);
        g.increase_rate = Some(format!("{}", config.users.saturating_mul(20)));
        g.run_time = Some(format!("{}", schedule.seconds().ceil() as u64 + RATE_STAGES_SLACK_S));
    } else if config.stages.is_empty() {
        g.users = Some(config.users);
        g.increase_rate = Some(format!("{}", config.increase_rate.unwrap_or(config.users as f64)));
        match config.iterations {
            Some(iterations) => g.iterations = Some(iterations),
            None => g.run_time = Some(format!("{}", config.run_time.as_secs().max(1))),
        }
    }
    // The telnet controller listens on 127.0.0.1:5116 unless switched off; the WebSocket
    // controller and the dashboard are off by default in goose 0.19 (and `no_websocket` is
    // deprecated there), so they stay untouched.
    g.no_telnet = true;
    g.websocket = false;
    g.dashboard = false;
    g.no_autostart = false;
    g.no_print_metrics = true;
    g.no_error_summary = true;
    g.quiet = 1;
    g.timeout = Some(format!("{:.3}", config.network.timeout.as_secs_f64().max(0.001)));
    // goose resets its own metrics once every user has started (its reports show the steady
    // phase); `no_reset_metrics` would make it print to stdout whatever `quiet` says.
    // Our own recorder measures every request; goose's aggregation is only paid for when its
    // reports are asked for.
    g.no_metrics = !config.goose_metrics();
    if let Some(rate) = config.rate {
        g.throttle_requests = Some((rate * flow.requests_per_iteration()).ceil().max(1.0) as usize);
        if !g.no_metrics {
            g.co_mitigation = Some(GooseCoordinatedOmissionMitigation::Average);
        }
    }
    // goose's HTML report loads its chart library from a CDN (empty graphs offline): .html is ours.
    g.report_file = config.goose_report_files().map(|p| p.display().to_string()).collect();
    g.baseline_file = config.baseline_file.as_ref().map(|p| p.display().to_string());
    g
}
