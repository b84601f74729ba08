//! Progress while a load runs: a tick every second (or as often as asked) with the counters so
//! far, and the line shown for it. Where the line goes is the app's choice.

use super::recorder::{Progress, Recorder};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The counters at one tick and at the one before.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tick {
    pub elapsed: Duration,
    pub now: Progress,
    pub before: Progress,
    pub every: Duration,
}

/// Called at every tick while a load runs.
pub type OnTick = Arc<dyn Fn(&Tick) + Send + Sync>;

/// One progress line: elapsed time, flows and requests with their rates over the last tick.
pub fn line(tick: &Tick) -> String {
    let (now, before) = (tick.now, tick.before);
    let per_s = |n: u64, m: u64| n.saturating_sub(m) as f64 / tick.every.as_secs_f64().max(1e-3);
    format!(
        "{:>5.0}s  flows {} ({:.0}/s, {} failed)  requests {} ({:.0}/s, {} failed)  totp-window {}",
        tick.elapsed.as_secs_f64(),
        now.flows_completed,
        per_s(now.flows_completed, before.flows_completed),
        now.flows_failed,
        now.requests,
        per_s(now.requests, before.requests),
        now.failed_requests,
        now.totp_window
    )
}

/// Calls `on_tick` every `every` with the recorder's counters until dropped.
pub struct Ticker {
    task: tokio::task::JoinHandle<()>,
}

impl Ticker {
    pub fn start(context: Arc<super::state::LoadContext>, every: Duration, on_tick: OnTick) -> Ticker {
        let task = tokio::spawn(async move {
            let recorder: &Recorder = &context.recorder;
            let started = Instant::now();
            let mut before = recorder.progress();
            let mut interval = tokio::time::interval(every);
            interval.tick().await;
            loop {
                interval.tick().await;
                let now = recorder.progress();
                on_tick(&Tick { elapsed: started.elapsed(), now, before, every });
                before = now;
            }
        });
        Ticker { task }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_totals_and_rates_over_the_tick() {
        let before = Progress { flows_completed: 10, requests: 30, ..Progress::default() };
        let now = Progress { flows_completed: 60, flows_failed: 1, requests: 180, failed_requests: 2, totp_window: 1 };
        let tick = Tick { elapsed: Duration::from_secs(3), now, before, every: Duration::from_secs(1) };
        assert_eq!(line(&tick), "    3s  flows 60 (50/s, 1 failed)  requests 180 (150/s, 2 failed)  totp-window 1");
    }
}
