//! `--rate-limit N/s`: every request of a run waits for a slot of its own, `1/N` s after the
//! one before, whichever task or clone of the client sends it.
//!
//! A small interval scheduler rather than a token bucket (such as `governor`'s): the flag
//! promises "at most N per second", and spacing each request by `1/N` keeps that over every
//! window, with no burst at the start; it is a few lines and one lock held for no `await`.

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// The next free slot of a shared rate.
#[derive(Debug)]
pub struct Pace {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pace {
    /// `rate` requests a second (above 0; parsed and checked by the flag).
    pub fn per_second(rate: f64) -> Pace {
        let interval = Duration::try_from_secs_f64(1.0 / rate).unwrap_or(Duration::from_secs(3600));
        Pace { interval, next: Mutex::new(None) }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Takes the next slot and waits for it.
    pub async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slots_are_one_interval_apart_across_tasks() {
        let pace = std::sync::Arc::new(Pace::per_second(100.0));
        assert_eq!(pace.interval(), Duration::from_millis(10));
        let started = Instant::now();
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let pace = pace.clone();
                tokio::spawn(async move { pace.wait().await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        // The first goes at once, each of the nine others 10 ms after the one before.
        assert!(started.elapsed() >= Duration::from_millis(90), "{:?}", started.elapsed());
    }
}
