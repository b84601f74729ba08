//! `load merge FILE...`: the JSON summaries of a distributed run's shards joined into one
//! exact summary. Counts are added; the HDR histograms (whole run, and per second, lined up on
//! wall-clock seconds) are added, which loses nothing, and every percentile is read from the
//! sums; rates are over the union of the shards' spans (earliest first request to latest last
//! answer); the flow's thresholds and the command line's are evaluated on the whole.
//!
//! Summaries that do not belong together are refused: different flows, steps, targets, clients,
//! shard counts or `--start-at`, a shard given twice, a summary that is not a shard's. So is a
//! partial run (a shard of the N missing) unless `--partial` asks for it.

use super::hdr::{self, histogram};
use super::recorder::{Interval, MAX_SECONDS, Measured, MeasuredError, StepMeasured};
use super::shard::{MergedFacts, ShardFacts};
use super::step::Step;
use super::summary::{LoadSummary, RunFacts};
use super::thresholds::Threshold;
use crate::error::{Cleanup, Result, UsageError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What `load merge` joins and checks.
#[derive(Debug, Clone)]
pub struct MergePlan {
    /// The shards' JSON summaries.
    pub files: Vec<PathBuf>,
    /// The command line's thresholds (the flow's own, recorded in the summaries, are added).
    pub thresholds: Vec<Threshold>,
    /// HTML reports of the merged run.
    pub report_files: Vec<PathBuf>,
    /// Merge even when shards are missing (`--partial`).
    pub partial: bool,
}

/// Largest summary file read (a day-long run with every step writes a few hundred MB).
const MAX_FILE_BYTES: u64 = 1 << 30;

/// The parts of a shard's summary a merge needs (`schemas/reports/load-summary.schema.json`).
#[derive(Deserialize)]
struct ShardFile {
    tool: String,
    flow: String,
    target: String,
    client: String,
    users: usize,
    started_at: String,
    ended_at: String,
    series_start_unix: u64,
    flow_steps: Vec<Step>,
    flow_thresholds: Vec<String>,
    shard: Option<ShardFacts>,
    merged: Option<serde::de::IgnoredAny>,
    flows_completed: u64,
    flows_failed: u64,
    totp_window_retries: u64,
    co_expected_interval_ms: Option<f64>,
    #[serde(default)]
    dropped_flows: Option<u64>,
    steps: Vec<StepFile>,
    errors: Vec<ErrorFile>,
    interrupted: bool,
}

#[derive(Deserialize)]
struct StepFile {
    name: Step,
    count: u64,
    failures: u64,
    series: Vec<SecondFile>,
    series_truncated: bool,
    histogram: String,
}

#[derive(Deserialize)]
struct SecondFile {
    second: u64,
    count: u64,
    errors: u64,
    histogram: String,
}

#[derive(Deserialize)]
struct ErrorFile {
    step: String,
    reason: String,
    count: u64,
    per_second: Vec<SecondCount>,
}

#[derive(Deserialize)]
struct SecondCount {
    second: u64,
    count: u64,
}

fn refuse(problem: String) -> crate::Error {
    UsageError::Merge { problem }.into()
}

/// A shard's summary, read and checked on its own.
struct ShardSummary {
    path: PathBuf,
    file: ShardFile,
    shard: ShardFacts,
    started: SystemTime,
    ended: SystemTime,
}

/// Joins the summaries `plan` names into one (thresholds evaluated).
pub fn merge(plan: &MergePlan) -> Result<LoadSummary> {
    let mut shards = plan.files.iter().map(|path| read(path)).collect::<Result<Vec<_>>>()?;
    shards.sort_by_key(|s| s.shard.index);
    let first = shards.first().ok_or_else(|| refuse("give the shards' JSON summaries".into()))?;
    check_together(&shards)?;
    let mut thresholds = Vec::new();
    for text in &first.file.flow_thresholds {
        let threshold = Threshold::parse(text)
            .map_err(|e| refuse(format!("{}: the flow's threshold does not parse: {e}", first.path.display())))?;
        thresholds.push(threshold);
    }
    for threshold in &plan.thresholds {
        threshold.check_steps(&first.file.flow, &first.file.flow_steps)?;
        thresholds.push(threshold.clone());
    }
    let count = first.shard.count;
    let missing: Vec<u32> = (0..count).filter(|k| !shards.iter().any(|s| s.shard.index == *k)).collect();
    if !missing.is_empty() && !plan.partial {
        let names: Vec<String> = missing.iter().map(u32::to_string).collect();
        return Err(refuse(format!(
            "no summary of shard {} of {count}: a partial run is not the run that was asked for \
             (--partial merges what is given)",
            names.join(", ")
        )));
    }
    let merged = MergedFacts { count, shards: shards.iter().map(|s| s.shard.clone()).collect(), missing };
    // Decoding every histogram is the costly part: only once the files are known to join.
    let measured = combine(&shards)?;
    let facts = RunFacts {
        flow: &first.file.flow,
        target: &first.file.target,
        users: shards.iter().fold(0usize, |sum, s| sum.saturating_add(s.file.users)),
        client: &first.file.client,
        flow_steps: first.file.flow_steps.iter().map(|s| s.name().to_string()).collect(),
        flow_thresholds: first.file.flow_thresholds.clone(),
        shard: None,
        merged: Some(merged),
        dropped_flows: shards
            .iter()
            .filter_map(|s| s.file.dropped_flows)
            .fold(None, |sum: Option<u64>, d| Some(sum.unwrap_or(0).saturating_add(d))),
        interrupted: shards.iter().any(|s| s.file.interrupted),
        signal: None,
        forced_stop: false,
        cleanup: Cleanup::default(),
    };
    Ok(LoadSummary::build(&measured, facts, &thresholds))
}

/// Reads one summary and checks it is a shard's.
fn read(path: &Path) -> Result<ShardSummary> {
    let read_error = |source| UsageError::Read { what: "the shard summary", path: path.to_path_buf(), source };
    let mut text = String::new();
    std::fs::File::open(path).and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_string(&mut text)).map_err(read_error)?;
    let name = path.display();
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(refuse(format!("{name} is larger than {} MiB; it is no load summary", MAX_FILE_BYTES >> 20)));
    }
    // `--json -` output collected from a log: the summary is its last line.
    let json = text.trim_end().rsplit('\n').next().unwrap_or("");
    let file: ShardFile = serde_json::from_str(json)
        .or_else(|_| serde_json::from_str(&text))
        .map_err(|e| refuse(format!("{name} is not a load summary written by load --shard K/N --json ({e})")))?;
    if file.tool != "mfa-harness" {
        return Err(refuse(format!("{name} is not an mfa-harness load summary")));
    }
    if file.merged.is_some() {
        return Err(refuse(format!("{name} is already a merged summary; merge the shards' own summaries")));
    }
    let Some(shard) = file.shard.clone() else {
        return Err(refuse(format!("{name} is the summary of a whole run, not of a shard (load --shard K/N)")));
    };
    if shard.count == 0 || shard.index >= shard.count {
        return Err(refuse(format!("{name} names shard {}/{}, which cannot be", shard.index, shard.count)));
    }
    let time = |text: &str| {
        humantime::parse_rfc3339(text).map_err(|_| refuse(format!("{name}: '{text}' is not an RFC 3339 time")))
    };
    let (started, ended) = (time(&file.started_at)?, time(&file.ended_at)?);
    Ok(ShardSummary { path: path.to_path_buf(), file, shard, started, ended })
}

/// Refuses shards of different runs, and a shard given twice.
fn check_together(shards: &[ShardSummary]) -> Result<()> {
    let first = &shards[0];
    for other in &shards[1..] {
        let (a, b) = (first.path.display(), other.path.display());
        let differ = |what: &str, x: &dyn std::fmt::Display, y: &dyn std::fmt::Display| {
            refuse(format!("{a} and {b} are of different runs: {what} {x} and {y}"))
        };
        let (f, o) = (&first.file, &other.file);
        if f.flow != o.flow {
            return Err(differ("flows", &f.flow, &o.flow));
        }
        if f.flow_steps != o.flow_steps || f.flow_thresholds != o.flow_thresholds {
            return Err(refuse(format!("{a} and {b} ran different definitions of the flow {}", f.flow)));
        }
        if f.target != o.target {
            return Err(differ("targets", &f.target, &o.target));
        }
        if f.client != o.client {
            return Err(differ("clients", &f.client, &o.client));
        }
        if first.shard.count != other.shard.count {
            return Err(differ("shard counts (N)", &first.shard.count, &other.shard.count));
        }
        if first.shard.total_users != other.shard.total_users {
            return Err(differ("--users", &first.shard.total_users, &other.shard.total_users));
        }
        if first.shard.start_at != other.shard.start_at {
            let at = |s: &ShardFacts| s.start_at.clone().unwrap_or_else(|| "none".into());
            return Err(differ("--start-at", &at(&first.shard), &at(&other.shard)));
        }
    }
    for pair in shards.windows(2) {
        if pair[0].shard.index == pair[1].shard.index {
            return Err(refuse(format!(
                "{} and {} are both shard {}/{}; give each shard once",
                pair[0].path.display(),
                pair[1].path.display(),
                pair[0].shard.index,
                pair[0].shard.count
            )));
        }
    }
    Ok(())
}

/// One second of one step, from several shards.
#[derive(Default)]
struct SecondParts<'a> {
    count: u64,
    failures: u64,
    histograms: Vec<(&'a Path, &'a str)>,
}

fn decoded(path: &Path, step: Step, text: &str) -> Result<hdrhistogram::Histogram<u64>> {
    hdr::from_base64(text)
        .map_err(|why| refuse(format!("{}: the {} histogram is not valid: {why}", path.display(), step.name())))
}

/// A sum that stops at the largest count rather than overflowing (on hostile files).
fn total(counts: impl Iterator<Item = u64>) -> u64 {
    counts.fold(0, u64::saturating_add)
}

/// What the shards measured, as if one recorder had: seconds on the earliest shard's clock.
fn combine(shards: &[ShardSummary]) -> Result<Measured> {
    let started = shards.iter().map(|s| s.started).min().unwrap_or(UNIX_EPOCH);
    let ended = shards.iter().map(|s| s.ended).max().unwrap_or(started);
    let origin = shards.iter().map(|s| s.file.series_start_unix).min().unwrap_or(0);
    let mut steps = Vec::new();
    let mut scratch = histogram();
    let mut encoder = hdr::Encoder::default();
    for step in Step::ALL {
        let parts: Vec<(&ShardSummary, &StepFile)> =
            shards.iter().flat_map(|s| s.file.steps.iter().filter(|x| x.name == step).map(move |x| (s, x))).collect();
        if parts.is_empty() {
            continue;
        }
        let mut whole = histogram();
        let mut seconds: BTreeMap<u64, SecondParts> = BTreeMap::new();
        for (shard, data) in &parts {
            let add = decoded(&shard.path, step, &data.histogram)?;
            whole.add(&add).map_err(|e| refuse(format!("{}: {e:?}", shard.path.display())))?;
            for second in &data.series {
                let at = shard.file.series_start_unix.saturating_add(second.second) - origin;
                let entry = seconds.entry(at).or_default();
                entry.count = entry.count.saturating_add(second.count);
                entry.failures = entry.failures.saturating_add(second.errors);
                entry.histograms.push((&shard.path, &second.histogram));
            }
        }
        let truncated = parts.iter().any(|(_, d)| d.series_truncated) || seconds.len() as u64 > MAX_SECONDS;
        let mut series = Vec::with_capacity(seconds.len());
        for (second, parts) in seconds.into_iter().take(MAX_SECONDS as usize) {
            scratch.reset();
            for (path, text) in parts.histograms {
                scratch.add(decoded(path, step, text)?).map_err(|e| refuse(format!("{}: {e:?}", path.display())))?;
            }
            series.push(Interval {
                second,
                count: parts.count,
                failures: parts.failures,
                p50_us: scratch.value_at_quantile(0.50),
                p90_us: scratch.value_at_quantile(0.90),
                p99_us: scratch.value_at_quantile(0.99),
                histogram: encoder.encode(&scratch),
            });
        }
        steps.push(StepMeasured {
            step,
            histogram: whole,
            count: total(parts.iter().map(|(_, d)| d.count)),
            failures: total(parts.iter().map(|(_, d)| d.failures)),
            series,
            series_truncated: truncated,
        });
    }
    let mut errors: BTreeMap<(String, String), (u64, BTreeMap<u64, u64>)> = BTreeMap::new();
    for shard in shards {
        for e in &shard.file.errors {
            let entry = errors.entry((e.step.clone(), e.reason.clone())).or_default();
            entry.0 = entry.0.saturating_add(e.count);
            for at in &e.per_second {
                let second = shard.file.series_start_unix.saturating_add(at.second) - origin;
                let n = entry.1.entry(second).or_default();
                *n = n.saturating_add(at.count);
            }
        }
    }
    let interval = shards
        .iter()
        .filter_map(|s| s.file.co_expected_interval_ms)
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
    Ok(Measured {
        span: ended.duration_since(started).unwrap_or(Duration::ZERO),
        started_at: started,
        ended_at: ended,
        series_start_unix: origin,
        steps,
        errors: errors
            .into_iter()
            .map(|((step, reason), (count, per_second))| MeasuredError {
                step,
                reason,
                count,
                per_second: per_second.into_iter().collect(),
            })
            .collect(),
        flows_completed: total(shards.iter().map(|s| s.file.flows_completed)),
        flows_failed: total(shards.iter().map(|s| s.file.flows_failed)),
        totp_window: total(shards.iter().map(|s| s.file.totp_window_retries)),
        expected_interval_us: interval.map(|ms| (ms * 1000.0).round() as u64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::recorder::Recorder;
    use serde_json::{Value, json};

    /// A shard summary of `query-only` whose queries took `latencies` ms, edited by `edit`.
    fn shard(dir: &Path, index: u32, latencies: std::ops::RangeInclusive<u64>, edit: fn(&mut Value)) -> PathBuf {
        let recorder = Recorder::default();
        for ms in latencies {
            recorder.request(Step::Query, Duration::from_millis(ms), None);
            recorder.flow(true);
        }
        let facts = RunFacts {
            flow: "query-only",
            target: "http://127.0.0.1:1",
            users: 2,
            client: "connection",
            flow_steps: vec!["query".into()],
            flow_thresholds: vec!["errors<0.1%".into()],
            shard: Some(ShardFacts { index, count: 2, total_users: 4, start_at: None, late_by_s: None }),
            merged: None,
            dropped_flows: None,
            interrupted: false,
            signal: None,
            forced_stop: false,
            cleanup: Cleanup::default(),
        };
        let mut value = serde_json::to_value(LoadSummary::build(&recorder.measured(), facts, &[])).unwrap();
        edit(&mut value);
        let path = dir.join(format!("shard-{index}-{}.json", crate::ids::random_hex(4)));
        std::fs::write(&path, value.to_string()).unwrap();
        path
    }

    fn plan(files: Vec<PathBuf>, thresholds: &[&str]) -> MergePlan {
        let thresholds = thresholds.iter().map(|t| Threshold::parse(t).unwrap()).collect();
        MergePlan { files, thresholds, report_files: Vec::new(), partial: false }
    }

    fn partial(files: Vec<PathBuf>) -> MergePlan {
        MergePlan { partial: true, ..plan(files, &[]) }
    }

    #[test]
    fn merged_percentiles_are_those_of_every_sample_in_one_histogram() {
        let dir = tempfile::tempdir().unwrap();
        let files = vec![shard(dir.path(), 1, 101..=300, |_| {}), shard(dir.path(), 0, 1..=100, |_| {})];
        let merged = merge(&plan(files, &["query.p50<=100ms"])).unwrap();
        let mut one = histogram();
        for ms in 1..=300 {
            one.record(ms * 1000).unwrap();
        }
        let query = &merged.steps[0];
        assert_eq!((query.count, merged.requests, merged.flows_completed, merged.users), (300, 300, 300, 4));
        assert_eq!(query.latency, crate::load::summary::Latency::of(&one));
        assert_eq!(hdr::decode(&query.histogram).unwrap(), one);
        assert_eq!(query.series.iter().map(|s| s.count).sum::<u64>(), 300);
        let facts = merged.merged.as_ref().unwrap();
        assert_eq!((facts.count, facts.shards.len(), facts.missing.len()), (2, 2, 0));
        assert_eq!(facts.shards[0].index, 0, "shards in index order");
        let texts: Vec<&str> = merged.thresholds.iter().map(|t| t.threshold.as_str()).collect();
        assert_eq!(texts, ["errors<0.1%", "query.p50<=100ms"], "the flow's threshold, then the command line's");
        assert!(!merged.thresholds[1].passed && !merged.passed, "p50 of 1..=300 ms is about 150 ms");
        assert_eq!(merged.verdict().unwrap(), crate::Outcome::Failed);
    }

    #[test]
    fn summaries_of_different_runs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let zero = shard(d, 0, 1..=3, |_| {});
        type Edit = fn(&mut Value);
        let cases: [(Edit, &str); 8] = [
            (|v| v["shard"]["count"] = json!(3), "shard counts (N) 2 and 3"),
            (|v| v["target"] = json!("http://127.0.0.1:2"), "targets http://127.0.0.1:1 and http://127.0.0.1:2"),
            (|v| v["flow_steps"] = json!(["query", "list"]), "ran different definitions of the flow query-only"),
            (|v| v["shard"]["index"] = json!(0), "are both shard 0/2"),
            (|v| v["merged"] = json!({"count": 2}), "is already a merged summary"),
            (|v| v["steps"][0]["histogram"] = json!("HISTFAAAAA=="), "the query histogram is not valid"),
            (|v| v["shard"]["index"] = json!(5), "names shard 5/2, which cannot be"),
            (|v| v["shard"]["start_at"] = json!("2026-12-04T10:00:00.000Z"), "--start-at none and 2026-12-04T10"),
        ];
        for (edit, why) in cases {
            let err = merge(&plan(vec![zero.clone(), shard(d, 1, 1..=3, edit)], &[])).unwrap_err();
            assert!(matches!(err, crate::Error::Usage(UsageError::Merge { .. })), "{why}: {err}");
            let err = err.to_string();
            assert!(err.starts_with("load merge: ") && err.contains(why), "{why}: {err}");
        }
        let err = merge(&plan(vec![zero.clone()], &["bind.p95<50ms"])).unwrap_err().to_string();
        assert!(err.contains("does not measure 'bind'"), "{err}");
        let log = d.join("kubectl-logs.txt");
        let line = std::fs::read_to_string(&zero).unwrap();
        std::fs::write(&log, format!("mfa-harness load · flow query-only\nPASSED\n{line}\n")).unwrap();
        assert_eq!(merge(&partial(vec![log])).unwrap().requests, 3, "a log whose last line is the summary");
    }

    #[test]
    fn a_partial_run_is_merged_only_when_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let one = shard(dir.path(), 1, 1..=3, |_| {});
        let err = merge(&plan(vec![one.clone()], &[])).unwrap_err();
        assert!(matches!(err, crate::Error::Usage(UsageError::Merge { .. })), "{err}");
        let err = err.to_string();
        assert!(err.contains("no summary of shard 0 of 2") && err.contains("--partial"), "{err}");
        let merged = merge(&partial(vec![one])).unwrap();
        assert_eq!(merged.merged.as_ref().unwrap().missing, [0]);
        assert_eq!(merged.requests, 3);
    }
}
