//! `mfa-harness snapshot`: every exchange of the contract suite as a normalized transcript,
//! stored as insta `.snap` files, compared with the stored baseline, with a unified diff.

pub mod normalize;

use crate::client::Network;
use crate::contract::CheckPlan;
use crate::contract::report::CaseStatus;
use crate::error::{Incomplete, Outcome, ReportError, Result};
use crate::target::{TargetSpec, host_label};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What `snapshot` runs with.
#[derive(Debug, Clone)]
pub struct SnapshotPlan {
    pub target: TargetSpec,
    /// How requests reach the target (timeout, `--max-body`, TLS, proxy, headers, rate).
    pub network: Network,
    pub only: Vec<String>,
    pub scenarios: Option<PathBuf>,
    pub dir: PathBuf,
    pub name: Option<String>,
    pub accept: bool,
    /// In CI (`--ci`, or `CI` set): a missing baseline fails instead of being recorded.
    pub ci: bool,
}

/// The insta `.snap` text of a transcript.
pub fn snap_text(case_id: &str, content: &str) -> String {
    format!("---\nsource: mfa-harness snapshot\nexpression: {case_id}\n---\n{content}")
}

/// The content of a `.snap` file, without insta's metadata header.
pub fn snap_content(text: &str) -> &str {
    text.strip_prefix("---\n").and_then(|rest| rest.split_once("\n---\n")).map_or(text, |(_, content)| content)
}

/// What a comparison found.
#[derive(Debug, Default)]
pub struct Comparison {
    pub recorded_baseline: bool,
    /// Snapshot files written (baseline or accepted).
    pub written: usize,
    pub unchanged: usize,
    /// Case id and the unified diff (stored → new).
    pub changed: Vec<(String, String)>,
    pub new: Vec<String>,
    pub removed: Vec<String>,
    pub folder: PathBuf,
}

impl Comparison {
    pub fn differs(&self) -> bool {
        !(self.changed.is_empty() && self.new.is_empty() && self.removed.is_empty())
    }

    /// The verdict: a difference that was neither the first baseline nor accepted fails.
    pub fn outcome(&self, accept: bool) -> Outcome {
        if self.differs() && !accept && !self.recorded_baseline { Outcome::Failed } else { Outcome::Passed }
    }
}

fn io(path: &Path, source: std::io::Error) -> crate::Error {
    ReportError::Write { what: "snapshots", path: path.to_path_buf(), source }.into()
}

/// The folder name: `--name`, `reference` for the embedded server, else the target's host.
pub fn folder_name(config: &SnapshotPlan) -> String {
    match (&config.name, &config.target) {
        (Some(name), _) => name.clone(),
        (None, TargetSpec::Embedded { .. }) => "reference".into(),
        (None, TargetSpec::Remote { url, .. } | TargetSpec::Pool { url, .. }) => host_label(url),
    }
}

/// Runs the contract suite and returns each case's normalized transcript, by case id.
pub async fn record(config: &SnapshotPlan) -> Result<BTreeMap<String, String>> {
    let check = CheckPlan {
        target: config.target.clone(),
        only: config.only.clone(),
        strict: false,
        network: config.network.clone(),
        scenarios: config.scenarios.clone(),
        schemas: None,
        concurrency: 8,
        // Walks are drawn at random and TOTP-timed, so they make no stable transcript.
        explore: None,
        slow: false,
    };
    let run = crate::contract::execute(&check).await?;
    let redactor = run.redactor;
    // A case that could not be carried out has no behaviour to record or compare.
    let errors: Vec<_> = run.runs.iter().filter(|r| r.result.status == CaseStatus::Error).map(|r| &r.result).collect();
    if let Some(first) = errors.first() {
        let why = first.reason.as_deref().map_or("no reason given".into(), |r| redactor.redact(r));
        let why = crate::sanitize::for_terminal(&crate::sanitize::truncate(&why, 300));
        return Err(Incomplete {
            cases: errors.iter().map(|r| r.id.clone()).collect(),
            reason: Some(format!("the first, {}: {why}", first.id)),
            during: "no snapshot was recorded or compared",
        }
        .into());
    }
    Ok(run
        .runs
        .into_iter()
        .map(|run| (run.result.id.clone(), redactor.redact(&normalize::transcript(&run.exchanges))))
        .collect())
}

/// Records the transcripts and compares them with the stored ones (storing what the plan says).
pub async fn execute(plan: &SnapshotPlan) -> Result<Comparison> {
    let folder = plan.dir.join(folder_name(plan));
    if plan.ci && !plan.accept && stored(&folder)?.is_empty() {
        return Err(crate::error::Error::NoBaseline { name: folder_name(plan), folder });
    }
    let transcripts = record(plan).await?;
    compare_and_store(&folder, &transcripts, plan.accept, !plan.only.is_empty())
}

fn stored(folder: &Path) -> Result<BTreeMap<String, String>> {
    let mut snaps = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(folder) else { return Ok(snaps) };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(id) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".snap")) else {
            continue;
        };
        let text = std::fs::read_to_string(&path).map_err(|source| crate::error::UsageError::Read {
            what: "the snapshot",
            path: path.clone(),
            source,
        })?;
        snaps.insert(id.to_string(), snap_content(&text).to_string());
    }
    Ok(snaps)
}

/// Compares transcripts with the stored ones and writes what the options say: a first
/// baseline, `.snap.new` files for `cargo insta review`, or accepted `.snap` files.
pub fn compare_and_store(
    folder: &Path,
    transcripts: &BTreeMap<String, String>,
    accept: bool,
    partial: bool,
) -> Result<Comparison> {
    let old = stored(folder)?;
    std::fs::create_dir_all(folder).map_err(|e| io(folder, e))?;
    let mut cmp =
        Comparison { folder: folder.to_path_buf(), recorded_baseline: old.is_empty(), ..Comparison::default() };
    for (id, content) in transcripts {
        let snap = folder.join(format!("{id}.snap"));
        let pending = folder.join(format!("{id}.snap.new"));
        let write = |path: &Path| std::fs::write(path, snap_text(id, content)).map_err(|e| io(path, e));
        match old.get(id) {
            Some(previous) if previous.trim_end() == content.trim_end() => {
                cmp.unchanged += 1;
                let _ = std::fs::remove_file(&pending);
                continue;
            }
            Some(previous) => {
                let diff = similar::TextDiff::from_lines(previous.as_str(), content.as_str())
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("{id} (stored)"), &format!("{id} (now)"))
                    .to_string();
                cmp.changed.push((id.clone(), diff));
            }
            None if !cmp.recorded_baseline => cmp.new.push(id.clone()),
            None => {}
        }
        if accept || cmp.recorded_baseline {
            write(&snap)?;
            cmp.written += 1;
            let _ = std::fs::remove_file(&pending);
        } else {
            write(&pending)?;
        }
    }
    if !partial {
        for id in old.keys().filter(|id| !transcripts.contains_key(*id)) {
            cmp.removed.push(id.clone());
            if accept {
                let path = folder.join(format!("{id}.snap"));
                std::fs::remove_file(&path).map_err(|e| io(&path, e))?;
            }
        }
    }
    Ok(cmp)
}

/// Writes the text report of a comparison; diff lines coloured when `colour`.
pub fn render(cmp: &Comparison, accept: bool, colour: bool, out: &mut impl std::io::Write) -> std::io::Result<()> {
    out.write_all(text(cmp, accept, colour).as_bytes())
}

fn text(cmp: &Comparison, accept: bool, colour: bool) -> String {
    use std::fmt::Write;
    let paint = |code: &str, line: &str| if colour { format!("\x1b[{code}m{line}\x1b[0m") } else { line.to_string() };
    let mut out = String::new();
    for (id, diff) in &cmp.changed {
        let _ = writeln!(out, "changed: {id}");
        for line in diff.lines() {
            let line = crate::sanitize::for_terminal(line);
            let painted = if line.starts_with("+++") || line.starts_with("---") {
                paint("1", &line)
            } else if line.starts_with('+') {
                paint("32", &line)
            } else if line.starts_with('-') {
                paint("31", &line)
            } else if line.starts_with("@@") {
                paint("36", &line)
            } else {
                line
            };
            let _ = writeln!(out, "{painted}");
        }
    }
    for id in &cmp.new {
        let _ = writeln!(out, "new case: {id}");
    }
    for id in &cmp.removed {
        let _ = writeln!(out, "removed case: {id}");
    }
    let folder = cmp.folder.display();
    if cmp.recorded_baseline {
        let _ = writeln!(out, "recorded {} snapshots in {folder} (there was no baseline)", cmp.written);
        let _ = writeln!(out, "{}", paint("32;1", "RECORDED"));
        return out;
    }
    let _ = writeln!(
        out,
        "{} unchanged, {} changed, {} new, {} removed (snapshots in {folder})",
        cmp.unchanged,
        cmp.changed.len(),
        cmp.new.len(),
        cmp.removed.len()
    );
    let verdict = match (cmp.differs(), accept) {
        (false, _) => paint("32;1", "UNCHANGED"),
        (true, true) => paint("33;1", "ACCEPTED: the new snapshots are stored"),
        (true, false) => paint(
            "31;1",
            "CHANGED: review the diffs above (the new versions are the .snap.new files beside the baseline); \
                 accept them all with `mfa-harness snapshot --accept`, or one with `--accept --only CASE`",
        ),
    };
    let _ = writeln!(out, "{verdict}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snap_files_round_trip_their_content() {
        let text = snap_text("query.success", "[\n  1\n]\n");
        assert!(text.starts_with("---\nsource: mfa-harness snapshot\nexpression: query.success\n---\n"));
        assert_eq!(snap_content(&text), "[\n  1\n]\n");
        assert_eq!(snap_content("no header"), "no header");
    }

    #[test]
    fn baseline_then_unchanged_then_changed_new_removed_then_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("reference");
        let mut t: BTreeMap<String, String> = [("a".to_string(), "1\n".to_string()), ("b".into(), "2\n".into())].into();
        assert!(compare_and_store(&folder, &t, false, false).unwrap().recorded_baseline);
        let same = compare_and_store(&folder, &t, false, false).unwrap();
        assert!(!same.differs() && same.unchanged == 2);
        t.insert("a".into(), "1\nx\n".into());
        t.remove("b");
        t.insert("c".into(), "3\n".into());
        let changed = compare_and_store(&folder, &t, false, false).unwrap();
        assert_eq!(changed.changed.len(), 1);
        assert!(changed.changed[0].1.contains("+x"), "{}", changed.changed[0].1);
        assert_eq!((changed.new.clone(), changed.removed.clone()), (vec!["c".to_string()], vec!["b".to_string()]));
        assert!(folder.join("a.snap.new").exists() && !folder.join("c.snap").exists());
        let accepted = compare_and_store(&folder, &t, true, false).unwrap();
        assert!(accepted.differs());
        assert!(
            !folder.join("a.snap.new").exists() && !folder.join("b.snap").exists() && folder.join("c.snap").exists()
        );
        assert!(!compare_and_store(&folder, &t, false, false).unwrap().differs());
    }
}
