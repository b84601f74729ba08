//! Live metrics while a load runs (`load --metrics-listen ADDR`): OpenMetrics text at
//! `/metrics`, encoded by `prometheus-client` from what the [`Recorder`] holds at the moment of
//! the scrape (nothing extra is recorded per request).
//!
//! - `mfa_harness_requests_total{step,status,outcome}`: measured answers; `status` is the HTTP
//!   status (`none`: no answer, `other`: outside 100–599), `outcome` ok, violation or
//!   totp_window.
//! - `mfa_harness_request_duration_seconds{step}`: a histogram (buckets from 0.5 ms to 10 s),
//!   computed from the step's HDR histogram (3 significant digits; with `--rate`, corrected for
//!   coordinated omission like every other figure).
//! - `mfa_harness_flows_total{outcome}`: flows completed and failed.
//! - `mfa_harness_users`: goose users running the flow.
//! - `mfa_harness_violations_total{step,reason}`: contract violations by reason (at most 64
//!   distinct reasons, as in the summary).
//! - `mfa_harness_totp_window_retries_total`: binds retried because their TOTP step ended in flight.

use super::recorder::Recorder;
use super::state::LoadContext;
use crate::error::{Result, UsageError};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};
use std::net::SocketAddr;
use std::sync::Arc;

/// The OpenMetrics text format's content type.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds of the latency histogram's buckets, in seconds (+Inf added).
const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The exposition of what `recorder` holds now.
pub fn exposition(recorder: &Arc<RecorderView>) -> String {
    let mut registry = Registry::with_prefix("mfa_harness");
    registry.register_collector(Box::new(recorder.clone()));
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    out
}

/// What a scrape reads: a recorder (the run's shared context holds it).
pub struct RecorderView(pub Arc<dyn AsRef<Recorder> + Send + Sync>);

impl std::fmt::Debug for RecorderView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecorderView")
    }
}

impl RecorderView {
    fn recorder(&self) -> &Recorder {
        (*self.0).as_ref()
    }
}

/// A label value as the text format allows it: no quote, backslash or line break (the encoder
/// writes label values as they are, and reasons quote what a target answered).
fn label(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

impl Collector for RecorderView {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::result::Result<(), std::fmt::Error> {
        let recorder = self.recorder();
        let help = "Measured answers by step, HTTP status (none: no answer) and outcome";
        let mut family = encoder.encode_descriptor("requests", help, None, MetricType::Counter)?;
        for (step, status, outcome, count) in recorder.answers.all() {
            let status = match status {
                None => "none".to_string(),
                Some(0) => "other".to_string(),
                Some(s) => s.to_string(),
            };
            let labels = [("step", step.name().to_string()), ("status", status), ("outcome", outcome.name().into())];
            ConstCounter::new(count).encode(family.encode_family(&labels)?)?;
        }
        let help = "Latency of measured requests by step";
        let mut family =
            encoder.encode_descriptor("request_duration", help, Some(&Unit::Seconds), MetricType::Histogram)?;
        for (step, _, _, histogram) in recorder.step_totals() {
            let mut buckets = Vec::with_capacity(BUCKETS.len() + 1);
            let mut below = 0;
            for bound in BUCKETS {
                let upto = histogram.count_between(0, (bound * 1e6) as u64);
                buckets.push((bound, upto.saturating_sub(below)));
                below = upto;
            }
            buckets.push((f64::MAX, histogram.len().saturating_sub(below)));
            let sum = histogram.mean() * histogram.len() as f64 / 1e6;
            let labels = [("step", step.name())];
            family.encode_family(&labels)?.encode_histogram::<NoLabelSet>(sum, histogram.len(), &buckets, None)?;
        }
        let progress = recorder.progress();
        let mut family = encoder.encode_descriptor("flows", "Flows by outcome", None, MetricType::Counter)?;
        for (outcome, count) in [("completed", progress.flows_completed), ("failed", progress.flows_failed)] {
            ConstCounter::new(count).encode(family.encode_family(&[("outcome", outcome)])?)?;
        }
        let help = "goose users running the flow";
        let family = encoder.encode_descriptor("users", help, None, MetricType::Gauge)?;
        ConstGauge::new(recorder.users_started() as i64).encode(family)?;
        let help = "Contract violations by step and reason";
        let mut family = encoder.encode_descriptor("violations", help, None, MetricType::Counter)?;
        for (step, reason, count) in recorder.error_counts() {
            let labels = [("step", label(&step)), ("reason", label(&reason))];
            ConstCounter::new(count).encode(family.encode_family(&labels)?)?;
        }
        let help = "Binds retried because their TOTP step ended in flight";
        let family = encoder.encode_descriptor("totp_window_retries", help, None, MetricType::Counter)?;
        ConstCounter::new(progress.totp_window).encode(family)?;
        Ok(())
    }
}

/// The socket `--metrics-listen` asked for, bound before the run starts (so a taken port is a
/// usage error, not a surprise half-way).
pub struct Listener {
    listener: std::net::TcpListener,
}

impl Listener {
    pub fn bind(address: SocketAddr) -> Result<Listener> {
        let fail =
            |e: std::io::Error| UsageError::Flag { flag: "--metrics-listen", problem: format!("{address}: {e}") };
        let listener = std::net::TcpListener::bind(address).map_err(fail)?;
        listener.set_nonblocking(true).map_err(fail)?;
        Ok(Listener { listener })
    }

    /// Where it listens (with the port the system chose for port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }
}

/// Serves `/metrics` until dropped.
pub struct Server {
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub fn start(listener: Listener, context: Arc<LoadContext>) -> Result<Server> {
        let view = Arc::new(RecorderView(context as Arc<dyn AsRef<Recorder> + Send + Sync>));
        let listener = tokio::net::TcpListener::from_std(listener.listener)
            .map_err(|e| UsageError::Flag { flag: "--metrics-listen", problem: format!("could not serve: {e}") })?;
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let view = view.clone();
                async move { ([(http::header::CONTENT_TYPE, CONTENT_TYPE)], exposition(&view)) }
            }),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Server { task })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::load::answers::Outcome;
    use crate::load::step::Step;
    use std::time::Duration;

    #[test]
    fn the_exposition_shows_what_the_recorder_holds() {
        let recorder = Arc::new(Recorder::default());
        recorder.request(Step::Query, Duration::from_micros(700), None);
        recorder.answers.count(Step::Query, Some(200), Outcome::Ok);
        recorder.request(Step::Query, Duration::from_millis(30), Some("status 500 \"x\"\nnext"));
        recorder.answers.count(Step::Query, Some(500), Outcome::Violation);
        recorder.answers.count(Step::Bind, None, Outcome::Violation);
        recorder.answers.count(Step::Bind, Some(999), Outcome::TotpWindow);
        recorder.flow(true);
        recorder.user_started();
        let text = exposition(&Arc::new(RecorderView(recorder)));
        for line in [
            r#"mfa_harness_requests_total{step="query",status="200",outcome="ok"} 1"#,
            r#"mfa_harness_requests_total{step="query",status="500",outcome="violation"} 1"#,
            r#"mfa_harness_requests_total{step="bind",status="none",outcome="violation"} 1"#,
            r#"mfa_harness_requests_total{step="bind",status="other",outcome="totp_window"} 1"#,
            r#"mfa_harness_request_duration_seconds_bucket{le="0.001",step="query"} 1"#,
            r#"mfa_harness_request_duration_seconds_bucket{le="0.025",step="query"} 1"#,
            r#"mfa_harness_request_duration_seconds_bucket{le="0.05",step="query"} 2"#,
            r#"mfa_harness_request_duration_seconds_bucket{le="+Inf",step="query"} 2"#,
            r#"mfa_harness_request_duration_seconds_count{step="query"} 2"#,
            r#"mfa_harness_flows_total{outcome="completed"} 1"#,
            r#"mfa_harness_users 1"#,
            r#"mfa_harness_violations_total{step="query",reason="status 500 'x' next"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in:\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn label_values_cannot_break_the_text_format() {
        assert_eq!(label("status 500 \"x\"\n\\y"), "status 500 'x' /y");
    }
}
