//! `load`'s reports while it runs: the progress line and the live metrics.

use crate::app::ProgressMode;
use crate::flags::parse_duration;
use clap::{Args, ValueEnum};
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct LiveArgs {
    /// Serve live metrics (OpenMetrics text) at http://ADDR/metrics while the run goes, e.g.
    /// 127.0.0.1:9464; port 0 takes a free port and says which on stderr.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
    /// Progress on stderr: `tty`, one line redrawn every second; `plain`, a line every
    /// --progress-interval (for CI logs); `none`; `auto`, tty on a terminal, else plain.
    #[arg(long, value_enum, default_value_t = ProgressArg::Auto)]
    pub progress: ProgressArg,
    /// How often `--progress plain` prints its line, e.g. 10s, 1m.
    #[arg(long, value_name = "DUR", default_value = "10s", value_parser = parse_duration)]
    pub progress_interval: Duration,
}

/// `load --progress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressArg {
    Auto,
    Tty,
    Plain,
    None,
}

impl LiveArgs {
    /// The progress mode, `auto` resolved by whether stderr is a terminal.
    pub fn mode(&self, stderr_is_terminal: bool) -> ProgressMode {
        match self.progress {
            ProgressArg::Auto if stderr_is_terminal => ProgressMode::Tty,
            ProgressArg::Auto | ProgressArg::Plain => ProgressMode::Plain(self.progress_interval),
            ProgressArg::Tty => ProgressMode::Tty,
            ProgressArg::None => ProgressMode::None,
        }
    }
}
