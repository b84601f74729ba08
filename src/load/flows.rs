//! Named load flows, read from `scenarios/load/*.toml` (embedded) and `--scenarios DIR`.

use super::step::Step;
use super::thresholds::Threshold;
use crate::error::{Detail, Result, UsageError};
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

/// A goose scenario of a flow.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowScenario {
    pub name: String,
    #[serde(default = "one")]
    pub weight: usize,
    /// Unmeasured steps run once when a user starts.
    #[serde(default)]
    pub setup: Vec<Step>,
    /// The measured steps of one iteration.
    pub steps: Vec<Step>,
    /// Unmeasured steps after each iteration, so the next can start again.
    #[serde(default)]
    pub recycle: Vec<Step>,
    /// Pause between iterations, e.g. "10ms".
    #[serde(default, with = "humantime_serde_opt")]
    pub think_time: Option<Duration>,
}

fn one() -> usize {
    1
}

mod humantime_serde_opt {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| humantime::parse_duration(&t).map_err(serde::de::Error::custom)).transpose()
    }
}

/// A named flow.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Default thresholds, in the `--threshold` grammar (parsed by the loader into `thresholds`).
    #[serde(default, rename = "thresholds")]
    threshold_texts: Vec<String>,
    /// The default thresholds.
    #[serde(skip)]
    pub thresholds: Vec<Threshold>,
    #[serde(rename = "scenario")]
    pub scenarios: Vec<FlowScenario>,
}

impl Flow {
    /// The steps some scenario measures, in [`Step::ALL`] order.
    pub fn measured_steps(&self) -> Vec<Step> {
        Step::ALL.into_iter().filter(|step| self.scenarios.iter().any(|s| s.steps.contains(step))).collect()
    }

    /// Measured requests of one iteration, weighted over the scenarios.
    pub fn requests_per_iteration(&self) -> f64 {
        let total: usize = self.scenarios.iter().map(|s| s.weight).sum();
        self.scenarios.iter().map(|s| s.weight as f64 * s.steps.len() as f64).sum::<f64>() / total.max(1) as f64
    }
}

const EMBEDDED: &[(&str, &str)] = &[
    ("create-bind-query.toml", include_str!("../../scenarios/load/create-bind-query.toml")),
    ("lifecycle.toml", include_str!("../../scenarios/load/lifecycle.toml")),
    ("query-only.toml", include_str!("../../scenarios/load/query-only.toml")),
    ("mixed.toml", include_str!("../../scenarios/load/mixed.toml")),
];

fn parse(source: &str, text: &str) -> Result<Flow> {
    let mut flow: Flow = toml::from_str(text).map_err(|e| UsageError::Invalid {
        what: "load flow",
        path: source.into(),
        source: Detail(e.to_string()),
    })?;
    let invalid = |item: Option<String>, problem: String| UsageError::Scenario {
        kind: "load flow",
        file: source.to_string(),
        item,
        problem,
    };
    if flow.scenarios.is_empty() || flow.scenarios.iter().any(|s| s.steps.is_empty() || s.weight == 0) {
        return Err(invalid(None, "every [[scenario]] needs steps and a weight ≥ 1".into()).into());
    }
    for s in &flow.scenarios {
        for (i, step) in s.setup.iter().chain(&s.steps).enumerate() {
            let before: Vec<Step> = s.setup.iter().chain(&s.steps).take(i).copied().collect();
            if step.needs_device() && !before.contains(&Step::Create) {
                let problem = format!("step '{}' needs a 'create' before it", step.name());
                return Err(invalid(Some(format!("scenario {}", s.name)), problem).into());
            }
        }
    }
    let measured = flow.measured_steps();
    for text in &flow.threshold_texts {
        let threshold = Threshold::parse(text)
            .and_then(|t| t.check_steps(&flow.name, &measured).map(|()| t))
            .map_err(|e| invalid(None, crate::error::chain(&e)))?;
        flow.thresholds.push(threshold);
    }
    Ok(flow)
}

/// Every flow: the embedded ones, then those of `dir` (replacing by name).
pub fn load_all(dir: Option<&Path>) -> Result<Vec<Flow>> {
    let mut flows = Vec::new();
    for (name, text) in EMBEDDED {
        flows.push(parse(name, text)?);
    }
    if let Some(dir) = dir {
        for (source, text) in crate::scenarios::files(dir)? {
            let flow = parse(&source, &text)?;
            flows.retain(|f: &Flow| f.name != flow.name);
            flows.push(flow);
        }
    }
    Ok(flows)
}

/// The flow called `name`.
pub fn find(name: &str, dir: Option<&Path>) -> Result<Flow> {
    let flows = load_all(dir)?;
    let names: Vec<String> = flows.iter().map(|f| f.name.clone()).collect();
    flows
        .into_iter()
        .find(|f| f.name == name)
        .ok_or_else(|| UsageError::UnknownFlow { name: name.to_string(), known: names }.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_flows_load() {
        let flows = load_all(None).unwrap();
        let names: Vec<&str> = flows.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, vec!["create-bind-query", "lifecycle", "query-only", "mixed"]);
        let mixed = find("mixed", None).unwrap();
        assert_eq!(mixed.scenarios.len(), 3);
        assert!((mixed.requests_per_iteration() - (2.0 * 3.0 + 7.0 + 1.0) / 10.0).abs() < 1e-9);
    }

    #[test]
    fn bad_flows_are_usage_errors() {
        assert!(find("nope", None).unwrap_err().to_string().contains("create-bind-query"));
        let err = parse("x.toml", "name='x'\n[[scenario]]\nname='s'\nsteps=['bind']\n").unwrap_err();
        assert!(err.to_string().contains("needs a 'create'"), "{err}");
        let err =
            parse("x.toml", "name='x'\nthresholds=['p99 lower than 3']\n[[scenario]]\nname='s'\nsteps=['list']\n")
                .unwrap_err();
        assert!(matches!(err, crate::Error::Usage(UsageError::Scenario { .. })), "{err}");
    }
}
