//! `mfa-harness completions SHELL` (clap_complete) and `mfa-harness man` (clap_mangen): both
//! made from the clap definitions, so they never drift from the flags.

use crate::error::{ReportError, Result};

/// The completion script for `shell`.
pub fn completions(mut command: clap::Command, shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "mfa-harness", &mut out);
    if shell == clap_complete::Shell::Bash {
        // clap_complete 4.6 names a hyphenated binary's subcommand states two ways
        // (`mfa__harness__subcmd__check` where it sets them, `mfa__subcmd__harness__…` where it
        // matches them), so no subcommand's flags would complete; one spelling mends it
        // (tests/cli/config.rs completes `check --rate` with bash).
        let text = String::from_utf8_lossy(&out).replace("mfa__subcmd__harness", "mfa__harness");
        return text.into_bytes();
    }
    out
}

fn render(command: clap::Command) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut out)
        .map_err(|e| ReportError::Render { format: "man page", detail: e.to_string() })?;
    Ok(out)
}

/// The page of `mfa-harness` itself (its commands listed).
pub fn page(command: clap::Command) -> Result<Vec<u8>> {
    render(command)
}

/// `mfa-harness.1` and one `mfa-harness-COMMAND.1` per command.
pub fn pages(mut command: clap::Command) -> Result<Vec<(String, Vec<u8>)>> {
    command.build();
    let mut pages = vec![("mfa-harness.1".to_string(), render(command.clone())?)];
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("mfa-harness-{}", sub.get_name());
        let page = sub.clone().name(name.clone()).version(command.get_version().unwrap_or_default().to_string());
        pages.push((format!("{name}.1"), render(page)?));
    }
    Ok(pages)
}
