//! The coverage matrix: the contract's axes as data (`scenarios/coverage.toml`, with the input
//! classes of `scenarios/contract/matrix.toml`), each cell with the severity the spec gives it,
//! and the cases whose steps cover it. What a step covers is derived from the step itself (who
//! sends it, the state its subject's device is in by then, its codes, the aspects every answer
//! is judged on), never declared by hand.

use super::case::{Actor, Case, CodeMode, Severity, Step};
use crate::api::OpKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The embedded axes.
const AXES: &str = include_str!("../../scenarios/coverage.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Axes {
    caller: BTreeMap<String, BTreeMap<String, Severity>>,
    state: BTreeMap<String, BTreeMap<String, Severity>>,
    totp: BTreeMap<String, BTreeMap<String, Severity>>,
    aspect: BTreeMap<String, BTreeMap<String, Severity>>,
}

/// One cell: an axis, an operation, a value on that axis.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Cell {
    pub axis: String,
    pub op: String,
    pub value: String,
}

/// A cell, how strongly the spec binds it, and the cases that cover it.
#[derive(Debug, Clone, Serialize)]
pub struct CellCoverage {
    #[serde(flatten)]
    pub cell: Cell,
    pub severity: Severity,
    pub cases: Vec<String>,
}

/// The whole matrix of a run's cases.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub cells: Vec<CellCoverage>,
    pub covered: usize,
    /// Cells no case covers, by severity.
    pub uncovered_must: usize,
    pub uncovered_should: usize,
    pub uncovered_open: usize,
}

fn caller(step: &Step) -> &'static str {
    match (step.actor, step.subject) {
        (Actor::Own, Actor::Other) | (Actor::Other, Actor::Own) => "other",
        (Actor::Own | Actor::Other, _) => "self",
        (Actor::Admin, _) => "admin",
        (Actor::Anonymous, _) => "anonymous",
        (Actor::InvalidToken, _) => "invalid-token",
        (Actor::AlteredToken, _) => "altered-token",
        (Actor::TruncatedToken, _) => "truncated-token",
        (Actor::ExtendedToken, _) => "extended-token",
    }
}

fn code_mode(step: &Step) -> Option<&'static str> {
    let mode = match (step.op, step.codes) {
        (_, Some(mode)) => mode,
        (OpKind::Bind, None) if step.raw_body.is_none() => CodeMode::Valid,
        (OpKind::Unbind, None) => CodeMode::Arbitrary,
        _ => return None,
    };
    Some(match mode {
        CodeMode::Valid => "valid",
        CodeMode::SameCodeTwice => "same-code-twice",
        CodeMode::NonConsecutive => "non-consecutive",
        CodeMode::Stale => "stale",
        CodeMode::Wrong => "wrong",
        CodeMode::Replay => "replay",
        CodeMode::UsedStep => "used-step",
        CodeMode::Arbitrary => "arbitrary",
        CodeMode::Reversed => "reversed",
        CodeMode::LeadingZero => "leading-zero",
        CodeMode::Padded => "padded",
        CodeMode::NonAsciiDigits => "non-ascii-digits",
    })
}

/// The state the subject's device is in after a step that succeeds as the case expects (only
/// when every status it accepts is a success).
fn next_state(state: &str, step: &Step) -> String {
    if step.expect.iter().any(|s| !(200..300).contains(s)) {
        return state.to_string();
    }
    match step.op {
        OpKind::Create if state == "deleted" => "recreated",
        OpKind::Create => "created",
        OpKind::Bind => "bound",
        OpKind::Unbind => "unbound",
        OpKind::Delete => "deleted",
        _ => state,
    }
    .to_string()
}

/// The cells one case covers.
pub fn cells_of(case: &Case) -> BTreeSet<Cell> {
    let mut cells = BTreeSet::new();
    let mut states: BTreeMap<Actor, String> = BTreeMap::new();
    let cell =
        |axis: &str, op: OpKind, value: &str| Cell { axis: axis.into(), op: op.name().into(), value: value.into() };
    for step in &case.steps {
        let subject = step.subject.owner();
        let state = states.get(&subject).cloned().unwrap_or_else(|| "none".to_string());
        if !step.setup {
            cells.insert(cell("caller", step.op, caller(step)));
            cells.insert(cell("state", step.op, &state));
            if let Some(mode) = code_mode(step) {
                cells.insert(cell("totp", step.op, mode));
            }
            for aspect in ["status", "content-type", "no-seed"] {
                cells.insert(cell("aspect", step.op, aspect));
            }
            if step.schema {
                cells.insert(cell("aspect", step.op, "schema"));
            }
            if step.expect.iter().any(|s| *s >= 400) {
                cells.insert(cell("aspect", step.op, "error-code"));
            }
            if step.expect.contains(&204) {
                cells.insert(cell("aspect", step.op, "empty-204"));
            }
        }
        states.insert(subject, next_state(&state, step));
    }
    if case.source == "matrix.toml"
        && let Some((op, rest)) = case.id.split_once(".input.")
        && let Some((field, class)) = rest.rsplit_once('.')
    {
        cells.insert(Cell { axis: "input".into(), op: op.into(), value: format!("{field}:{class}") });
    }
    cells
}

/// The input cells of the matrix: every generated input case is one, with its severity.
fn input_cells(cases: &[Case]) -> Vec<(Cell, Severity)> {
    cases
        .iter()
        .filter(|c| c.source == "matrix.toml" && c.id.contains(".input."))
        .flat_map(|c| cells_of(c).into_iter().filter(|cell| cell.axis == "input").map(|cell| (cell, c.severity)))
        .collect()
}

/// The matrix of `cases` against the embedded axes; `all` are every case of the suite (the
/// input cells come from the generated ones, whether selected or not).
pub fn matrix(cases: &[Case], all: &[Case]) -> Coverage {
    let axes: Axes = toml::from_str(AXES).expect("the embedded coverage axes parse (a unit test proves it)");
    let mut defined: Vec<(Cell, Severity)> = Vec::new();
    for (axis, table) in
        [("caller", &axes.caller), ("state", &axes.state), ("totp", &axes.totp), ("aspect", &axes.aspect)]
    {
        for (op, values) in table {
            for (value, severity) in values {
                defined.push((Cell { axis: axis.into(), op: op.clone(), value: value.clone() }, *severity));
            }
        }
    }
    defined.extend(input_cells(all));
    let covering: Vec<(String, BTreeSet<Cell>)> = cases.iter().map(|c| (c.id.clone(), cells_of(c))).collect();
    let cells: Vec<CellCoverage> = defined
        .into_iter()
        .map(|(cell, severity)| {
            let cases = covering.iter().filter(|(_, cells)| cells.contains(&cell)).map(|(id, _)| id.clone()).collect();
            CellCoverage { cell, severity, cases }
        })
        .collect();
    let uncovered = |severity: Severity| cells.iter().filter(|c| c.cases.is_empty() && c.severity == severity).count();
    Coverage {
        covered: cells.iter().filter(|c| !c.cases.is_empty()).count(),
        uncovered_must: uncovered(Severity::Must),
        uncovered_should: uncovered(Severity::Should),
        uncovered_open: uncovered(Severity::Open),
        cells,
    }
}

/// The matrix as text: one line per cell, the uncovered ones marked.
pub fn render(coverage: &Coverage) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "coverage: {} cells, {} covered; not covered: {} must, {} should, {} open",
        coverage.cells.len(),
        coverage.covered,
        coverage.uncovered_must,
        coverage.uncovered_should,
        coverage.uncovered_open
    );
    let width = coverage.cells.iter().map(|c| c.cell.op.len() + c.cell.value.len() + 3).max().unwrap_or(0);
    for c in &coverage.cells {
        let name = format!("{} × {}", c.cell.op, c.cell.value);
        let cases = if c.cases.is_empty() {
            "NOT COVERED".to_string()
        } else if c.cases.len() > 4 {
            format!("{} and {} more", c.cases[..4].join(", "), c.cases.len() - 4)
        } else {
            c.cases.join(", ")
        };
        let _ = writeln!(out, "  {:7} {name:width$} {:6} {cases}", c.cell.axis, c.severity.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axes_parse_and_every_must_cell_has_a_case() {
        let cases = super::super::suite::load(None).unwrap();
        let coverage = matrix(&cases, &cases);
        assert!(coverage.cells.len() > 150, "{} cells", coverage.cells.len());
        let missing: Vec<String> = coverage
            .cells
            .iter()
            .filter(|c| c.severity == Severity::Must && c.cases.is_empty())
            .map(|c| format!("{} {} × {}", c.cell.axis, c.cell.op, c.cell.value))
            .collect();
        assert!(missing.is_empty(), "must cells no case covers: {missing:#?}");
    }

    #[test]
    fn a_step_covers_its_caller_state_codes_and_aspects() {
        let cases = super::super::suite::load(None).unwrap();
        let case = cases.iter().find(|c| c.id == "bind.rejects-stale-codes").unwrap();
        let cells = cells_of(case);
        let has = |axis: &str, value: &str| cells.iter().any(|c| c.axis == axis && c.op == "bind" && c.value == value);
        assert!(has("caller", "self") && has("state", "created") && has("totp", "stale"));
        assert!(has("aspect", "error-code") && !has("aspect", "empty-204"));
        assert!(!cells.iter().any(|c| c.op == "create"), "setup steps cover nothing: {cells:?}");
    }
}
