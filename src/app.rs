//! The app layer: runs one plan on the one tokio runtime and decides where its output goes
//! (stdout, stderr, files). Everything below it returns data.

use crate::contract::{self, CheckPlan, Format};
use crate::error::{InternalError, ReportError, Result, UsageError};
use crate::load::{self, LoadPlan, progress};
use crate::serve::ServePlan;
use crate::snapshot::{self, SnapshotPlan};
use crate::totp::{self, Seed};
use crate::{Outcome, openapi, reference, sanitize, schemas, signals};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// One command, as plain data.
#[derive(Debug)]
pub enum Plan {
    Check(CheckPlan, CheckOutput),
    /// `check --list`: the cases a run would select.
    ListCases {
        scenarios: Option<PathBuf>,
        only: Vec<String>,
    },
    Load(LoadPlan, LoadOutput),
    /// `load merge`: shard summaries joined, reported as `load` reports.
    LoadMerge(load::merge::MergePlan, LoadOutput),
    Snapshot(SnapshotPlan),
    Serve(ServePlan),
    Openapi {
        output: Option<PathBuf>,
    },
    Totp(TotpPlan),
    /// Bytes for stdout (a completion script, the man page).
    Print(Vec<u8>),
    /// Files to write into a directory (the man pages).
    WriteFiles {
        dir: PathBuf,
        files: Vec<(String, Vec<u8>)>,
    },
    Sign(crate::cli::sign::SignPlan),
}

/// How `check` reports.
#[derive(Debug, Clone)]
pub struct CheckOutput {
    pub format: Format,
    /// The report goes to this file, and a text report still goes to stdout.
    pub output: Option<PathBuf>,
    /// Print the coverage matrix after the text report.
    pub coverage: bool,
    /// `--report FORMAT:FILE`: more reports of the same run, each in its file.
    pub reports: Vec<(Format, PathBuf)>,
}

/// How `load` reports, beyond the text summary on stdout.
#[derive(Debug, Clone, Default)]
pub struct LoadOutput {
    /// The summary as JSON (`schemas/reports/load-summary.schema.json`).
    pub json: Option<SummaryJson>,
    /// `--metrics-listen`.
    pub metrics_listen: Option<std::net::SocketAddr>,
    pub progress: ProgressMode,
}

/// Where `load`'s progress goes (stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgressMode {
    /// One line redrawn every second.
    Tty,
    /// A line of its own at this interval.
    Plain(Duration),
    #[default]
    None,
}

/// Where the JSON summary goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SummaryJson {
    File(PathBuf),
    /// `--json -`: one line, the last of stdout, after the text summary.
    Stdout,
}

impl From<PathBuf> for SummaryJson {
    fn from(path: PathBuf) -> SummaryJson {
        if path.as_os_str() == "-" { SummaryJson::Stdout } else { SummaryJson::File(path) }
    }
}

/// What `totp` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpOnly {
    Code,
    Bind,
}

/// What `totp` computes.
#[derive(Debug)]
pub struct TotpPlan {
    pub seed: Seed,
    pub at: Option<u64>,
    pub only: Option<TotpOnly>,
}

/// Starts the tokio runtime every command shares.
fn runtime() -> Result<tokio::runtime::Runtime> {
    runtime_of(None)
}

/// The same with this many worker threads (`None`: tokio's default, one per CPU). One thread is
/// tokio's current-thread runtime: everything runs on the calling thread, so no worker has to
/// be woken from another.
fn runtime_of(threads: Option<usize>) -> Result<tokio::runtime::Runtime> {
    let mut builder = match threads {
        Some(1) => tokio::runtime::Builder::new_current_thread(),
        Some(threads) => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(threads);
            builder
        }
        None => tokio::runtime::Builder::new_multi_thread(),
    };
    builder.enable_all().build().map_err(|source| InternalError::Start { what: "the async runtime", source }.into())
}

/// Tells stderr what the run's network set-up must warn of (`--insecure`), before it starts.
fn warn(network: &crate::client::Network) {
    let mut stderr = std::io::stderr().lock();
    for warning in network.warnings() {
        let _ = writeln!(stderr, "{warning}");
    }
}

/// Runs one plan.
pub fn run(plan: Plan) -> Result<Outcome> {
    match &plan {
        Plan::Check(plan, _) => warn(&plan.network),
        Plan::Load(plan, _) => warn(&plan.network),
        Plan::Snapshot(plan) => warn(&plan.network),
        _ => {}
    }
    match plan {
        Plan::Check(plan, output) => check(plan, output),
        Plan::ListCases { scenarios, only } => list_cases(scenarios, &only),
        Plan::Load(plan, output) => load(plan, output),
        Plan::LoadMerge(plan, output) => load_merge(&plan, &output),
        Plan::Snapshot(plan) => snapshot(plan),
        Plan::Serve(plan) => serve(plan),
        Plan::Openapi { output } => openapi(output),
        Plan::Totp(plan) => totp(plan),
        Plan::Print(bytes) => {
            stdout(&bytes);
            Ok(Outcome::Passed)
        }
        Plan::WriteFiles { dir, files } => {
            std::fs::create_dir_all(&dir).map_err(|source| ReportError::Write {
                what: "the directory",
                path: dir.clone(),
                source,
            })?;
            for (name, bytes) in files {
                write_file("the page", &dir.join(name), &bytes)?;
            }
            Ok(Outcome::Passed)
        }
        Plan::Sign(plan) => sign(&plan),
    }
}

fn write_file(what: &'static str, path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|source| ReportError::Write { what, path: path.to_path_buf(), source }.into())
}

/// Fails before the run when a report could not be written where asked (its directory is
/// missing), so a long run is not lost at its end.
pub fn check_writable(what: &'static str, path: &Path) -> Result<()> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if parent.is_dir() {
        return Ok(());
    }
    let source =
        std::io::Error::new(std::io::ErrorKind::NotFound, format!("the directory {} does not exist", parent.display()));
    Err(ReportError::Write { what, path: path.to_path_buf(), source }.into())
}

/// Writes to stdout; a closed stdout (`| head`) is not an error worth a message.
fn stdout(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}

fn list_cases(scenarios: Option<PathBuf>, only: &[String]) -> Result<Outcome> {
    let exploring = only.is_empty() || only.iter().any(|p| contract::case::matches(p, contract::explore::CASE_ID));
    let (cases, _) = contract::select_cases(scenarios.as_deref(), only, exploring)?;
    let width = cases.iter().map(|c| c.id.len()).max().unwrap_or(0).max(contract::explore::CASE_ID.len());
    let docs: Vec<String> = cases.iter().map(|c| c.doc.join(",")).collect();
    let doc_width = docs.iter().map(String::len).max().unwrap_or(0).max("spec model".len());
    let mut out = String::new();
    for (case, doc) in cases.iter().zip(&docs) {
        out.push_str(&format!(
            "{:width$}  {:6}  {doc:doc_width$}  {}\n",
            case.id,
            case.severity.to_string(),
            case.title
        ));
    }
    if exploring {
        let title = "the model-based exploration (--explore; a quick one in every check)";
        out.push_str(&format!(
            "{:width$}  {:6}  {:doc_width$}  {title}\n",
            contract::explore::CASE_ID,
            "must",
            "spec model"
        ));
    }
    stdout(out.as_bytes());
    Ok(Outcome::Passed)
}

fn check(plan: CheckPlan, output: CheckOutput) -> Result<Outcome> {
    for path in output.output.iter().chain(output.reports.iter().map(|(_, p)| p)) {
        check_writable("the report", path)?;
    }
    let run = runtime()?.block_on(contract::execute(&plan))?;
    let report = &run.report;
    let terminal = std::io::stdout().is_terminal();
    for (format, path) in &output.reports {
        let mut bytes = Vec::new();
        contract::render(report, *format, false, &mut bytes)?;
        write_file("the report", path, &bytes)?;
    }
    let mut rendered = Vec::new();
    contract::render(report, output.format, output.output.is_none() && terminal, &mut rendered)?;
    match &output.output {
        Some(path) => {
            write_file("the report", path, &rendered)?;
            if output.format != Format::Text {
                let mut text = Vec::new();
                contract::render(report, Format::Text, terminal, &mut text)?;
                stdout(&text);
            }
        }
        None => stdout(&rendered),
    }
    if output.coverage {
        stdout(contract::coverage::render(&report.coverage).as_bytes());
    }
    Ok(report.outcome()?)
}

fn load(plan: LoadPlan, output: LoadOutput) -> Result<Outcome> {
    if let Some(SummaryJson::File(path)) = &output.json {
        check_writable("the summary", path)?;
    }
    for path in &plan.report_files {
        check_writable(if load::is_html_report(path) { "the HTML report" } else { "the goose report" }, path)?;
    }
    let on_tick: Option<(Duration, progress::OnTick)> = match output.progress {
        ProgressMode::Tty => Some((
            Duration::from_secs(1),
            Arc::new(|tick: &progress::Tick| {
                let mut stderr = std::io::stderr().lock();
                let _ = write!(stderr, "\r\x1b[2K{}", progress::line(tick));
                let _ = stderr.flush();
            }),
        )),
        ProgressMode::Plain(every) => Some((
            every,
            Arc::new(|tick: &progress::Tick| {
                let _ = writeln!(std::io::stderr().lock(), "progress: {}", progress::line(tick).trim_start());
            }),
        )),
        ProgressMode::None => None,
    };
    let metrics = output.metrics_listen.map(load::metrics::Listener::bind).transpose()?;
    if let Some(address) = metrics.as_ref().and_then(|m| m.local_addr()) {
        let _ = writeln!(std::io::stderr().lock(), "metrics: serving OpenMetrics at http://{address}/metrics");
    }
    let summary = runtime_of(plan.threads)?.block_on(load::execute(&plan, load::Hooks { on_tick, metrics }));
    if output.progress == ProgressMode::Tty {
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[2K");
        let _ = stderr.flush();
    }
    let summary = summary?;
    report_load(&summary, &output, plan.report_files.iter().filter(|p| load::is_html_report(p)))?;
    summary.verdict()
}

/// The text summary on stdout, the JSON summary (to a file, or as stdout's last line) and the
/// HTML reports: of a run, or of a merge.
fn report_load<'a>(
    summary: &load::summary::LoadSummary,
    output: &LoadOutput,
    html_reports: impl Iterator<Item = &'a PathBuf>,
) -> Result<()> {
    let render = |e: std::io::Error| ReportError::Render { format: "load summary", detail: e.to_string() };
    let mut text = Vec::new();
    load::summary::render(summary, &mut text).map_err(render)?;
    stdout(&text);
    for path in html_reports {
        write_file("the HTML report", path, load::html::render(summary).as_bytes())?;
    }
    match &output.json {
        Some(SummaryJson::File(path)) => {
            let mut json = Vec::new();
            load::summary::render_json(summary, &mut json).map_err(render)?;
            write_file("the summary", path, &json)?;
        }
        Some(SummaryJson::Stdout) => {
            let mut line = Vec::new();
            load::summary::render_json_line(summary, &mut line).map_err(render)?;
            stdout(&line);
        }
        None => {}
    }
    Ok(())
}

fn load_merge(plan: &load::merge::MergePlan, output: &LoadOutput) -> Result<Outcome> {
    let files = plan.report_files.iter().map(|p| ("the HTML report", p));
    for (what, path) in files.chain(output.json.iter().filter_map(|j| match j {
        SummaryJson::File(path) => Some(("the summary", path)),
        SummaryJson::Stdout => None,
    })) {
        check_writable(what, path)?;
    }
    let summary = load::merge::merge(plan)?;
    report_load(&summary, output, plan.report_files.iter())?;
    summary.verdict()
}

fn snapshot(plan: SnapshotPlan) -> Result<Outcome> {
    let comparison = runtime()?.block_on(snapshot::execute(&plan))?;
    let mut text = Vec::new();
    snapshot::render(&comparison, plan.accept, std::io::stdout().is_terminal(), &mut text)
        .map_err(|e| ReportError::Render { format: "snapshot", detail: e.to_string() })?;
    stdout(&text);
    Ok(comparison.outcome(plan.accept))
}

fn serve(plan: ServePlan) -> Result<Outcome> {
    if plan.list_faults || plan.list_readings {
        let faults = if plan.list_faults { crate::serve::fault_list() } else { String::new() };
        let readings = if plan.list_readings { crate::serve::reading_list() } else { String::new() };
        stdout(format!("{faults}{readings}").as_bytes());
        return Ok(Outcome::Passed);
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
    let config = plan.server_config();
    let tls =
        match &plan.tls {
            Some(files) => Some(files.config().map_err(|e| UsageError::Flag {
                flag: e.flag,
                problem: format!("{}: {}", e.path.display(), e.problem),
            })?),
            None => None,
        };
    runtime()?.block_on(async move {
        let shutdown = signals::shutdown();
        let started = match tls {
            Some(tls) => reference::RunningServer::start_tls(config.clone(), plan.listen, tls).await,
            None => reference::RunningServer::start(config.clone(), plan.listen).await,
        };
        let server = started.map_err(|source| UsageError::Listen { address: plan.listen, source })?;
        stdout(format!("{}\n", server.base_url).as_bytes());
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "domain: {}  admin: {}", config.domain, config.admin_name);
        if !config.access_keys.is_empty() {
            let keys: Vec<&str> = config.access_keys.iter().map(|k| k.access.as_str()).collect();
            let _ = writeln!(
                stderr,
                "signed requests (SDK-HMAC-SHA256) act as the admin with access keys: {}",
                keys.join(", ")
            );
        }
        if plan.admin_password.is_none() {
            let _ = writeln!(stderr, "admin password (generated, shown once): {}", config.admin_password);
        }
        for fault in &plan.faults {
            let _ = writeln!(stderr, "fault on: {} — {}", fault.name(), fault.description());
        }
        for reading in &plan.readings {
            let _ = writeln!(stderr, "reading: {} — {}", reading.name(), reading.description());
        }
        drop(stderr);
        shutdown.await;
        tracing::info!("shutting down");
        server.stop().await;
        Ok(Outcome::Passed)
    })
}

fn openapi(output: Option<PathBuf>) -> Result<Outcome> {
    if let Some(path) = &output {
        check_writable("the document", path)?;
    }
    let schemas = schemas::Schemas::embedded()
        .map_err(|e| InternalError::Schemas { detail: sanitize::for_terminal(&e.to_string()) })?;
    let text = serde_json::to_string_pretty(&openapi::document(&schemas))
        .map_err(|e| ReportError::Render { format: "OpenAPI", detail: e.to_string() })?;
    match output {
        Some(path) => write_file("the document", &path, (text + "\n").as_bytes())?,
        None => stdout((text + "\n").as_bytes()),
    }
    Ok(Outcome::Passed)
}

fn totp(plan: TotpPlan) -> Result<Outcome> {
    let now = plan.at.unwrap_or_else(totp::unix_now);
    let code = plan.seed.code(totp::step_at(now));
    let pair = totp::bind_pair(&plan.seed, now);
    let text = match plan.only {
        Some(TotpOnly::Code) => format!("{code}\n"),
        Some(TotpOnly::Bind) => format!("{} {}\n", pair.first, pair.second),
        None => format!(
            "code: {code}  ({} s left in this step)\nbind: {} {}\n",
            totp::seconds_left_in_step(now),
            pair.first,
            pair.second
        ),
    };
    stdout(text.as_bytes());
    Ok(Outcome::Passed)
}

/// `sign`: the headers signing adds, one `Name: value` a line (curl -H takes each).
fn sign(plan: &crate::cli::sign::SignPlan) -> Result<Outcome> {
    let signed = crate::sign::sign_url(&plan.keys, &plan.method, &plan.url, &plan.headers, &plan.body, plan.date)
        .map_err(|problem| UsageError::Flag { flag: "--url", problem })?;
    let mut out = std::io::stdout().lock();
    for (name, value) in signed.added.iter().filter(|(name, _)| name != "Host") {
        let _ = writeln!(out, "{name}: {value}");
    }
    let _ = writeln!(out, "Authorization: {}", signed.authorization);
    Ok(Outcome::Passed)
}
