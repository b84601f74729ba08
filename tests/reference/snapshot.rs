//! The reference server's behaviour, pinned: every contract case's normalized transcript is an
//! insta snapshot under `snapshots/reference/` (the same files `mfa-harness snapshot` reads), so
//! any change of the reference shows up as a snapshot diff in review. No secret of the run may
//! reach a transcript or a stored snapshot.

use crate::common::config::Check;
use mfa_harness::snapshot::normalize::transcript;
use std::path::Path;

fn looks_secret(text: &str) -> Option<String> {
    for word in text.split(|c: char| !c.is_ascii_alphanumeric() && c != '-') {
        let base32 = word.len() >= 16 && word.chars().all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c));
        let token = word.starts_with("MII") && word.len() > 20;
        let password = word.starts_with("Mh-");
        if base32 || token || password {
            return Some(word.to_string());
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_transcripts_match_their_snapshots_and_hold_no_secret() {
    let (report, runs, redactor) = Check::embedded(&[]).execute().await;
    assert_eq!(report.summary.failed, 0);
    // A skipped case (one that waits for a TOTP step, without --slow) sends nothing.
    let transcripts: Vec<(String, String)> = runs
        .iter()
        .filter(|run| run.result.status != mfa_harness::contract::report::CaseStatus::Skipped)
        .map(|run| (run.result.id.clone(), transcript(&run.exchanges)))
        .collect();
    for (id, text) in &transcripts {
        assert_eq!(redactor.redact(text), *text, "{id}: a secret of this run reached its transcript");
        assert_eq!(looks_secret(text), None, "{id}");
    }

    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/reference");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(&folder);
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for (id, text) in &transcripts {
            insta::assert_snapshot!(id.as_str(), text);
        }
    });

    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(looks_secret(&text), None, "{} holds a secret-looking value", path.display());
    }
}
