//! The live progress line on stderr, redrawn every second while a load runs (only on a terminal).

use super::recorder::Progress;
use super::session::LoadContext;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One progress line: elapsed time, flows and requests with their rates over the last tick.
pub fn line(elapsed: Duration, now: Progress, before: Progress, tick: Duration) -> String {
    let per_s = |n: u64, m: u64| n.saturating_sub(m) as f64 / tick.as_secs_f64().max(1e-3);
    format!(
        "{:>5.0}s  flows {} ({:.0}/s, {} failed)  requests {} ({:.0}/s, {} failed)  totp-window {}",
        elapsed.as_secs_f64(),
        now.flows_completed,
        per_s(now.flows_completed, before.flows_completed),
        now.flows_failed,
        now.requests,
        per_s(now.requests, before.requests),
        now.failed_requests,
        now.totp_window
    )
}

/// Draws the progress line until dropped; the line is cleared then.
pub struct ProgressLine {
    task: tokio::task::JoinHandle<()>,
}

impl ProgressLine {
    /// Starts drawing what `read` gives when stderr is a terminal; otherwise draws nothing.
    pub fn start(read: impl Fn() -> Progress + Send + 'static) -> Option<ProgressLine> {
        if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            return None;
        }
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let tick = Duration::from_secs(1);
            let mut before = read();
            let mut interval = tokio::time::interval(tick);
            interval.tick().await;
            loop {
                interval.tick().await;
                let now = read();
                let mut stderr = std::io::stderr().lock();
                let _ = write!(stderr, "\r\x1b[2K{}", line(started.elapsed(), now, before, tick));
                let _ = stderr.flush();
                before = now;
            }
        });
        Some(ProgressLine { task })
    }

    /// A progress line of a run's recorder.
    pub fn of(ctx: Arc<LoadContext>) -> Option<ProgressLine> {
        ProgressLine::start(move || ctx.recorder.progress())
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.task.abort();
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[2K");
        let _ = stderr.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_totals_and_rates_over_the_tick() {
        let before = Progress { flows_completed: 10, requests: 30, ..Progress::default() };
        let now = Progress { flows_completed: 60, flows_failed: 1, requests: 180, failed_requests: 2, totp_window: 1 };
        let text = line(Duration::from_secs(3), now, before, Duration::from_secs(1));
        assert_eq!(text, "    3s  flows 60 (50/s, 1 failed)  requests 180 (150/s, 2 failed)  totp-window 1");
    }
}
