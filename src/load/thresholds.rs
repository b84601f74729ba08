//! Pass/fail thresholds: `bind.p95<50ms`, `query.p99<=20ms`, `errors<0.1%`, `errors<5`,
//! `flows/s>500`, `req/s>1000`, `create.errors<1%`, `query.max<1s`.

use super::step::Step;
use crate::error::{Result, UsageError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

/// What a threshold measures.
#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    /// Latency statistic of a step (or of all steps with `all`): p50, p90, p95, p99, max, mean.
    Latency {
        step: String,
        stat: String,
    },
    /// Failed requests of a step or of all, as a fraction (`%`) or a count.
    Errors {
        step: Option<String>,
        percent: bool,
    },
    FlowsPerSecond,
    RequestsPerSecond,
}

/// One parsed threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub text: String,
    pub metric: Metric,
    pub op: Op,
    /// Milliseconds for latencies, percent or count for errors, per second for rates.
    pub value: f64,
}

const STATS: [&str; 6] = ["p50", "p90", "p95", "p99", "max", "mean"];

fn usage(text: &str, why: &str) -> crate::Error {
    UsageError::Threshold { text: text.to_string(), problem: why.to_string() }.into()
}

impl Threshold {
    pub fn parse(text: &str) -> Result<Threshold> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let (at, op, width) = ["<=", ">=", "<", ">"]
            .iter()
            .find_map(|sym| compact.find(sym).map(|i| (i, *sym, sym.len())))
            .ok_or_else(|| usage(text, "no comparison (<, <=, >, >=)"))?;
        let op = match op {
            "<=" => Op::Le,
            ">=" => Op::Ge,
            "<" => Op::Lt,
            _ => Op::Gt,
        };
        let (left, right) = (&compact[..at], &compact[at + width..]);
        let number = |s: &str| match s.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
            Ok(v) if v.is_finite() => Err(usage(text, &format!("{v} is below 0; a threshold compares with 0 or more"))),
            _ => Err(usage(text, &format!("'{s}' is not a number"))),
        };
        let metric = match left {
            "flows/s" => Metric::FlowsPerSecond,
            "req/s" => Metric::RequestsPerSecond,
            "errors" => Metric::Errors { step: None, percent: right.ends_with('%') },
            _ => {
                let (step, stat) = left.rsplit_once('.').ok_or_else(|| usage(text, "unknown metric"))?;
                if stat == "errors" {
                    let step = (step != "all").then(|| step.to_string());
                    Metric::Errors { step, percent: right.ends_with('%') }
                } else if STATS.contains(&stat) {
                    Metric::Latency { step: step.to_string(), stat: stat.to_string() }
                } else {
                    return Err(usage(text, &format!("'{stat}' is not one of {}", STATS.join(", "))));
                }
            }
        };
        let value = match &metric {
            Metric::Latency { .. } => {
                let (digits, scale) = if let Some(d) = right.strip_suffix("ms") {
                    (d, 1.0)
                } else if let Some(d) = right.strip_suffix("us") {
                    (d, 0.001)
                } else if let Some(d) = right.strip_suffix('s') {
                    (d, 1000.0)
                } else {
                    return Err(usage(text, "a latency needs a unit: us, ms or s"));
                };
                number(digits)? * scale
            }
            Metric::Errors { percent: true, .. } => {
                let percent = number(right.trim_end_matches('%'))?;
                if percent > 100.0 {
                    return Err(usage(text, &format!("{percent}% is over 100%; a percentage is from 0 to 100")));
                }
                percent
            }
            _ => number(right)?,
        };
        let never = match op {
            Op::Lt => value == 0.0,
            Op::Gt => matches!(metric, Metric::Errors { percent: true, .. }) && value >= 100.0,
            _ => false,
        };
        if never {
            return Err(usage(text, "it can never hold; compare with <= or >= at this bound"));
        }
        Ok(Threshold { text: text.to_string(), metric, op, value })
    }

    /// Checks that the step a threshold names is one `flow` measures.
    pub fn check_steps(&self, flow: &str, measured: &[Step]) -> Result<()> {
        let step = match &self.metric {
            Metric::Latency { step, .. } if step != "all" => step,
            Metric::Errors { step: Some(step), .. } => step,
            _ => return Ok(()),
        };
        let names: Vec<&str> = measured.iter().map(|s| s.name()).collect();
        if names.contains(&step.as_str()) {
            return Ok(());
        }
        let why = if Step::ALL.iter().any(|s| s.name() == step) {
            format!("the flow {flow} does not measure '{step}'; it measures {} (or use all)", names.join(", "))
        } else {
            let all: Vec<&str> = Step::ALL.iter().map(|s| s.name()).collect();
            format!("'{step}' is not a step; the steps are {}, and all", all.join(", "))
        };
        Err(usage(&self.text, &why))
    }

    /// The unit of the measured value.
    pub fn unit(&self) -> &'static str {
        match &self.metric {
            Metric::Latency { .. } => "ms",
            Metric::Errors { percent: true, .. } => "%",
            Metric::Errors { percent: false, .. } => "requests",
            Metric::FlowsPerSecond | Metric::RequestsPerSecond => "/s",
        }
    }

    /// Whether `measured` meets the threshold.
    pub fn holds(&self, measured: f64) -> bool {
        match self.op {
            Op::Lt => measured < self.value,
            Op::Le => measured <= self.value,
            Op::Gt => measured > self.value,
            Op::Ge => measured >= self.value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let t = Threshold::parse("bind.p95<50ms").unwrap();
        assert_eq!(t.metric, Metric::Latency { step: "bind".into(), stat: "p95".into() });
        assert_eq!((t.op, t.value), (Op::Lt, 50.0));
        assert_eq!(Threshold::parse("query.p99 <= 1.5s").unwrap().value, 1500.0);
        assert_eq!(Threshold::parse("query.max<800us").unwrap().value, 0.8);
        let e = Threshold::parse("errors<0.1%").unwrap();
        assert_eq!((e.metric, e.value), (Metric::Errors { step: None, percent: true }, 0.1));
        assert_eq!(Threshold::parse("errors<5").unwrap().metric, Metric::Errors { step: None, percent: false });
        assert_eq!(Threshold::parse("flows/s>500").unwrap().metric, Metric::FlowsPerSecond);
        assert_eq!(Threshold::parse("req/s>=10").unwrap().op, Op::Ge);
        assert!(Threshold::parse("create.errors<1%").is_ok());
    }

    #[test]
    fn explains_what_is_wrong() {
        for (text, why) in [
            ("bind.p95 50ms", "no comparison"),
            ("bind.p97<5ms", "not one of"),
            ("bind.p95<50", "needs a unit"),
            ("bind.p95<fastms", "not a number"),
            ("latency<5ms", "unknown metric"),
            ("errors<-1%", "below 0"),
        ] {
            let err = Threshold::parse(text).unwrap_err();
            assert!(matches!(err, crate::Error::Usage(UsageError::Threshold { .. })));
            assert!(err.to_string().contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn values_out_of_range_are_refused() {
        for (text, problem) in [
            ("errors<-1%", "-1 is below 0; a threshold compares with 0 or more"),
            ("bind.p95<-5ms", "-5 is below 0"),
            ("flows/s>-1", "-1 is below 0"),
            ("errors<101%", "101% is over 100%; a percentage is from 0 to 100"),
            ("query.errors<250%", "250% is over 100%"),
            ("errors<0%", "it can never hold"),
            ("bind.p99<0ms", "it can never hold"),
            ("errors>100%", "it can never hold"),
            ("req/s>NaN", "'NaN' is not a number"),
            ("req/s>inf", "'inf' is not a number"),
        ] {
            let error = Threshold::parse(text).unwrap_err().to_string();
            assert!(error.starts_with(&format!("threshold '{text}': {problem}")), "{text}: {error}");
        }
        for text in ["errors<=0%", "errors<=100%", "errors<100%", "bind.p95<=0ms", "flows/s>0", "errors>=0"] {
            assert!(Threshold::parse(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn steps_must_be_measured_by_the_flow() {
        let measured = [Step::Query];
        assert!(Threshold::parse("query.p99<20ms").unwrap().check_steps("query-only", &measured).is_ok());
        assert!(Threshold::parse("all.p99<20ms").unwrap().check_steps("query-only", &measured).is_ok());
        assert!(Threshold::parse("all.errors<1%").unwrap().check_steps("query-only", &measured).is_ok());
        assert!(Threshold::parse("errors<1%").unwrap().check_steps("query-only", &measured).is_ok());
        let err = Threshold::parse("bind.p95<50ms").unwrap().check_steps("query-only", &measured).unwrap_err();
        assert!(matches!(err, crate::Error::Usage(UsageError::Threshold { .. })));
        assert!(err.to_string().contains("does not measure 'bind'; it measures query"), "{err}");
        let err = Threshold::parse("bnid.p95<50ms").unwrap().check_steps("query-only", &measured).unwrap_err();
        assert!(err.to_string().contains("'bnid' is not a step; the steps are create, bind"), "{err}");
        let err = Threshold::parse("bnid.errors<1").unwrap().check_steps("query-only", &measured).unwrap_err();
        assert!(err.to_string().contains("'bnid' is not a step"), "{err}");
    }

    #[test]
    fn units_follow_the_metric() {
        let unit = |t: &str| Threshold::parse(t).unwrap().unit();
        assert_eq!(
            [unit("bind.p95<50ms"), unit("errors<0.1%"), unit("errors<3"), unit("flows/s>500"), unit("req/s>1")],
            ["ms", "%", "requests", "/s", "/s"]
        );
    }

    #[test]
    fn comparisons_hold_as_written() {
        let t = Threshold::parse("flows/s>500").unwrap();
        assert!(t.holds(501.0) && !t.holds(500.0));
        let t = Threshold::parse("bind.p99<=20ms").unwrap();
        assert!(t.holds(20.0) && !t.holds(20.1));
    }
}
