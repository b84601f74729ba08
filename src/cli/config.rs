//! `--config FILE`: a TOML file with the same keys as the flags, so a CI job does not repeat
//! ten flags. Keys at the top apply to every command that has such a flag; a table named
//! after a command (`[check]`, `[load]`, `[snapshot]`, `[serve]`) applies to it alone and
//! wins over the top. A flag on the command line wins over both (a list flag given on the
//! command line replaces the file's list). Values: strings, numbers, `true` (a switch is on;
//! `false` leaves it off) and arrays for repeatable flags. `load merge` takes none of them.
//!
//! ```toml
//! target = "https://iam.example.internal"
//! domain = "acme"
//! admin-name = "ci"          # the password from MFA_ADMIN_PASSWORD
//! header = ["X-Gateway-Key: k"]
//!
//! [check]
//! strict = true
//! format = "junit"
//! output = "contract.xml"
//!
//! [load]
//! users = 64
//! threshold = ["bind.p95<50ms", "errors<0.1%"]
//! ```

use crate::error::{Result, UsageError};
use clap::ArgAction;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The commands a config file may have a table for.
const COMMANDS: [&str; 4] = ["check", "load", "snapshot", "serve"];

/// The command line with the config file's settings put in front of the command's own flags;
/// unchanged when there is no `--config`. `cli` is the clap command the flags are of.
pub fn expand(args: Vec<OsString>, cli: &clap::Command) -> Result<Vec<OsString>> {
    let Some(path) = config_path(&args) else { return Ok(args) };
    let text = std::fs::read_to_string(&path).map_err(|source| UsageError::Read {
        what: "the config file",
        path: path.clone(),
        source,
    })?;
    let Some(at) = args.iter().position(|a| COMMANDS.iter().any(|c| a == c)) else {
        return Ok(args);
    };
    let command = args[at].to_string_lossy().into_owned();
    // `load merge` reads summaries, not a target: no run's settings apply to it.
    if command == "load" && args.get(at + 1).is_some_and(|a| a == "merge") {
        return Ok(args);
    }
    let settings = settings(&path, &text, &command)?;
    let flags = flags_of(cli, &path, &command, &settings, &args[at + 1..])?;
    let mut expanded = args[..=at].to_vec();
    expanded.extend(flags.into_iter().map(OsString::from));
    expanded.extend(args[at + 1..].iter().cloned());
    Ok(expanded)
}

/// `--config FILE` or `--config=FILE`, wherever it is.
fn config_path(args: &[OsString]) -> Option<PathBuf> {
    let mut words = args.iter().skip(1);
    while let Some(word) = words.next() {
        let word = word.to_string_lossy();
        if word == "--" {
            return None;
        }
        if word == "--config" {
            return words.next().map(PathBuf::from);
        }
        if let Some(value) = word.strip_prefix("--config=") {
            return Some(PathBuf::from(value));
        }
    }
    None
}

fn problem(path: &Path, problem: String) -> crate::error::Error {
    UsageError::Config { path: path.to_path_buf(), problem }.into()
}

/// The keys that apply to `command`: the top's, then its table's (which win); each with
/// whether it came from the table.
fn settings(path: &Path, text: &str, command: &str) -> Result<Vec<(String, toml::Value, bool)>> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| problem(path, e.message().to_string()))?;
    let mut top = Vec::new();
    let mut own = Vec::new();
    for (key, value) in table {
        match value {
            toml::Value::Table(section) if COMMANDS.contains(&key.as_str()) => {
                if key == command {
                    own.extend(section.into_iter().map(|(k, v)| (k.replace('_', "-"), v, true)));
                }
            }
            toml::Value::Table(_) => {
                return Err(problem(path, format!("[{key}] is not a command; the tables are {}", COMMANDS.join(", "))));
            }
            value => top.push((key.replace('_', "-"), value, false)),
        }
    }
    top.retain(|(key, _, _)| !own.iter().any(|(k, _, _)| k == key));
    top.extend(own);
    Ok(top)
}

/// The settings as flags of `command`, leaving out those the command line gives itself.
fn flags_of(
    cli: &clap::Command,
    path: &Path,
    command: &str,
    settings: &[(String, toml::Value, bool)],
    given: &[OsString],
) -> Result<Vec<String>> {
    let sub = cli.find_subcommand(command).expect("a command of COMMANDS");
    let mut flags = Vec::new();
    for (key, value, own) in settings {
        if key == "config" {
            return Err(problem(path, "a config file cannot name another one".into()));
        }
        let Some(arg) = sub.get_arguments().find(|a| a.get_long() == Some(key.as_str())) else {
            let elsewhere = COMMANDS
                .iter()
                .filter_map(|c| cli.find_subcommand(c))
                .any(|c| c.get_arguments().any(|a| a.get_long() == Some(key.as_str())));
            if *own || !elsewhere {
                let place = if *own { format!("[{command}]") } else { "the top".to_string() };
                return Err(problem(path, format!("'{key}' (in {place}) is not a flag of mfa-harness {command}")));
            }
            continue;
        };
        let short = arg.get_short().map(|c| format!("-{c}"));
        let on_command_line = given.iter().map(|g| g.to_string_lossy()).any(|g| {
            g == format!("--{key}")
                || g.starts_with(&format!("--{key}="))
                || short.as_ref().is_some_and(|s| g.starts_with(s.as_str()))
        });
        if on_command_line {
            continue;
        }
        let takes_values = arg.get_action().takes_values();
        let repeatable = matches!(arg.get_action(), ArgAction::Append);
        let scalar = |value: &toml::Value| -> Result<String> {
            match value {
                toml::Value::String(s) => Ok(s.clone()),
                toml::Value::Integer(n) => Ok(n.to_string()),
                toml::Value::Float(x) => Ok(x.to_string()),
                toml::Value::Boolean(b) => Ok(b.to_string()),
                _ => Err(problem(path, format!("'{key}' must be a string, a number or a boolean"))),
            }
        };
        match value {
            toml::Value::Boolean(on) if !takes_values => flags.extend(on.then(|| format!("--{key}"))),
            _ if !takes_values => {
                return Err(problem(path, format!("'{key}' is a switch: write {key} = true or leave it out")));
            }
            toml::Value::Array(items) if repeatable => {
                for item in items {
                    flags.push(format!("--{key}={}", scalar(item)?));
                }
            }
            toml::Value::Array(_) => {
                return Err(problem(path, format!("'{key}' takes one value, not a list")));
            }
            value => flags.push(format!("--{key}={}", scalar(value)?)),
        }
    }
    Ok(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli() -> clap::Command {
        <super::super::Cli as clap::CommandFactory>::command()
    }

    fn write(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file
    }

    fn run(text: &str, args: &[&str]) -> Result<Vec<String>> {
        let file = write(text);
        let mut words: Vec<OsString> = vec!["mfa-harness".into()];
        words.extend(args.iter().map(|a| a.replace("CONFIG", &file.path().display().to_string()).into()));
        expand(words, &cli()).map(|w| w.into_iter().map(|w| w.into_string().unwrap()).collect())
    }

    const FILE: &str = r#"
target = "http://127.0.0.1:9"
timeout = "3s"
header = ["X-A: 1", "X-B: 2"]
users = 5

[check]
strict = true
coverage = false
format = "json"
concurrency = 4
timeout = "4s"
"#;

    #[test]
    fn the_files_keys_become_flags_the_command_lines_win() {
        let words = run(FILE, &["check", "--config", "CONFIG", "--format", "junit"]).unwrap();
        let flags: Vec<&str> = words.iter().map(String::as_str).skip(2).collect();
        for expected in [
            "--target=http://127.0.0.1:9",
            "--header=X-A: 1",
            "--header=X-B: 2",
            "--strict",
            "--concurrency=4",
            "--timeout=4s",
        ] {
            assert!(flags.contains(&expected), "{expected} in {flags:?}");
        }
        // `users` is a load flag: left out of check; `coverage = false` leaves the switch off;
        // `--format` comes from the command line alone.
        assert!(
            !flags.iter().any(|f| f.starts_with("--users") || *f == "--coverage" || f.starts_with("--format=")),
            "{flags:?}"
        );
        assert!(!flags.contains(&"--timeout=3s"), "the [check] table wins over the top: {flags:?}");
    }

    #[test]
    fn a_list_on_the_command_line_replaces_the_files() {
        let words = run(FILE, &["load", "--config=CONFIG", "-H", "X-C: 3"]).unwrap();
        assert!(!words.iter().any(|w| w.starts_with("--header=")), "{words:?}");
        assert!(words.contains(&"--users=5".to_string()), "{words:?}");
    }

    #[test]
    fn parsed_by_clap_the_expansion_is_the_plan() {
        let words = run(FILE, &["check", "--config", "CONFIG"]).unwrap();
        let cli = <super::super::Cli as clap::Parser>::try_parse_from(words).unwrap();
        let super::super::Command::Check(args) = cli.command else { panic!("not check") };
        assert!(args.strict);
        assert_eq!(args.concurrency, 4);
        assert_eq!(args.target.network.headers.len(), 2);
        assert_eq!(args.target.network.timeout, std::time::Duration::from_secs(4));
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            ("[check]\nstirct = true\n", "'stirct' (in [check]) is not a flag of mfa-harness check"),
            ("frobnicate = 1\n", "'frobnicate' (in the top) is not a flag"),
            ("[chekc]\nstrict = true\n", "[chekc] is not a command"),
            ("[check]\nstrict = \"yes\"\n", "'strict' is a switch"),
            ("[check]\nformat = [\"json\"]\n", "'format' takes one value"),
            ("[check]\nconfig = \"x\"\n", "cannot name another"),
            ("target = \n", "config file"),
        ];
        for (text, expected) in cases {
            let err = run(text, &["check", "--config", "CONFIG"]).unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
        let missing =
            expand(vec!["mfa-harness".into(), "check".into(), "--config".into(), "/nonexistent/x.toml".into()], &cli());
        assert!(missing.unwrap_err().to_string().contains("could not read the config file"));
    }

    #[test]
    fn without_config_the_command_line_is_untouched() {
        let words: Vec<OsString> = ["mfa-harness", "check", "--strict"].iter().map(OsString::from).collect();
        assert_eq!(expand(words.clone(), &cli()).unwrap(), words);
    }
}
