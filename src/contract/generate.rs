//! Cases generated from the coverage axes of `scenarios/contract/matrix.toml`: every listed
//! operation from every listed kind of caller, every input class of every field, and every
//! operation in every device state. Each row becomes an ordinary [`Case`].

use super::case::Case;
use crate::error::{Result, UsageError};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::{Table, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Matrix {
    template: BTreeMap<String, Template>,
    #[serde(default)]
    callers: Vec<Callers>,
    #[serde(default)]
    inputs: Vec<Inputs>,
    #[serde(default)]
    states: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    state: Vec<States>,
}

/// How an operation is sent when only the axis under test is wrong, and what it needs first.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Template {
    setup: Vec<String>,
    step: Table,
    doc: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Callers {
    #[serde(rename = "as")]
    actor: String,
    what: String,
    expect: Vec<u16>,
    severity: String,
    doc: Vec<String>,
    ops: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Inputs {
    op: String,
    field: String,
    #[serde(default, rename = "as")]
    actor: Option<String>,
    #[serde(default)]
    codes: Option<String>,
    classes: Vec<InputClass>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputClass {
    class: String,
    #[serde(default)]
    remove: bool,
    #[serde(default)]
    null: bool,
    #[serde(default)]
    value: Option<Value>,
    expect: Vec<u16>,
    severity: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct States {
    op: String,
    cells: Vec<StateCell>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateCell {
    state: String,
    expect: Vec<u16>,
    severity: String,
    doc: Vec<String>,
}

/// The setup step a name in a template's `setup` or a `states` sequence stands for.
fn setup_step(name: &str) -> Option<Table> {
    let text = match name {
        "create" => "op = 'create'\nexpect = [201]",
        "create-again" => "op = 'create'\nexpect = [201]\nset = { '/virtual_mfa_device/name' = '{unique}-b' }",
        "bind" => "op = 'bind'\ncodes = 'valid'\nexpect = [204]",
        "unbind" => "op = 'unbind'\nas = 'admin'\ncodes = 'arbitrary'\nexpect = [204]",
        "delete" => "op = 'delete'\nas = 'admin'\nexpect = [204]",
        _ => return None,
    };
    let mut step: Table = toml::from_str(text).ok()?;
    step.insert("setup".into(), Value::Boolean(true));
    Some(step)
}

fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| Value::String(s.clone())).collect())
}

fn statuses(items: &[u16]) -> Value {
    Value::Array(items.iter().map(|s| Value::Integer(i64::from(*s))).collect())
}

/// Builds one case from its parts; `step` is the operation under test.
fn case(id: String, title: String, doc: Vec<String>, severity: &str, setup: &[String], step: Table) -> Result<Case> {
    let mut steps = Vec::new();
    for name in setup {
        steps.push(Value::Table(setup_step(name).ok_or_else(|| problem(&id, format!("unknown setup step '{name}'")))?));
    }
    steps.push(Value::Table(step));
    let mut table = Table::new();
    table.insert("id".into(), Value::String(id.clone()));
    table.insert("title".into(), Value::String(title));
    let mut unique = Vec::new();
    for page in doc {
        if !unique.contains(&page) {
            unique.push(page);
        }
    }
    table.insert("doc".into(), strings(&unique));
    table.insert("severity".into(), Value::String(severity.to_string()));
    table.insert("step".into(), Value::Array(steps));
    Value::Table(table).try_into().map_err(|e: toml::de::Error| problem(&id, e.to_string()))
}

fn problem(id: &str, problem: String) -> crate::Error {
    UsageError::Scenario { kind: "scenario file", file: "matrix.toml".into(), item: Some(format!("row {id}")), problem }
        .into()
}

/// The short name of a field's JSON pointer, for case ids: `/virtual_mfa_device/name` → `name`.
fn short(field: &str) -> String {
    let last = field.rsplit('/').find(|s| !s.is_empty()).unwrap_or("body");
    last.replace('_', "-")
}

/// The value of `key = "…"` in a line of TOML, at its start or inside an inline table.
fn value_in<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(&format!("{key} = \""))?;
    let before = line[..at].trim_end();
    if !(before.is_empty() || before.ends_with('{') || before.ends_with(',')) {
        return None;
    }
    let rest = &line[at + key.len() + 4..];
    rest.find('"').map(|end| &rest[..end])
}

/// The 1-based line of the matrix row a generated case comes from (0 when not found): its
/// caller row, input class or state cell.
pub fn line_of_case(text: &str, id: &str) -> usize {
    let mut parts = id.splitn(3, '.');
    let (Some(op), Some(axis), Some(rest)) = (parts.next(), parts.next(), parts.next()) else { return 0 };
    let (mut row_op, mut field): (Option<&str>, Option<String>) = (None, None);
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("[[") {
            (row_op, field) = (None, None);
        }
        row_op = value_in(line, "op").filter(|_| !line.contains("step")).or(row_op);
        field = value_in(line, "field").map(short).or(field);
        let found = match axis {
            "caller" => value_in(line, "as") == Some(rest) && !line.contains("step"),
            "input" => {
                row_op == Some(op)
                    && rest
                        .split_once('.')
                        .is_some_and(|(f, class)| field.as_deref() == Some(f) && value_in(line, "class") == Some(class))
            }
            "state" => row_op == Some(op) && value_in(line, "state") == Some(rest),
            _ => false,
        };
        if found {
            return i + 1;
        }
    }
    0
}

/// Every case the matrix describes.
pub fn cases(text: &str) -> Result<Vec<Case>> {
    let matrix: Matrix = toml::from_str(text).map_err(|e| problem("matrix", e.to_string()))?;
    let template = |op: &str| matrix.template.get(op).ok_or_else(|| problem(op, format!("no template for '{op}'")));
    let mut cases = Vec::new();
    for row in &matrix.callers {
        for op in &row.ops {
            let t = template(op)?;
            let mut step = t.step.clone();
            step.insert("as".into(), Value::String(row.actor.clone()));
            step.insert("expect".into(), statuses(&row.expect));
            let doc = std::iter::once(t.doc.clone()).chain(row.doc.iter().cloned()).collect();
            let title = format!("{op} {} is refused ({})", row.what, list(&row.expect));
            cases.push(case(format!("{op}.caller.{}", row.actor), title, doc, &row.severity, &t.setup, step)?);
        }
    }
    for row in &matrix.inputs {
        let t = template(&row.op)?;
        for class in &row.classes {
            let mut step = t.step.clone();
            if let Some(actor) = &row.actor {
                step.insert("as".into(), Value::String(actor.clone()));
            }
            if let Some(codes) = &row.codes {
                step.insert("codes".into(), Value::String(codes.clone()));
            }
            if class.remove {
                step.insert("remove".into(), strings(std::slice::from_ref(&row.field)));
            } else if class.null {
                step.insert("set_null".into(), strings(std::slice::from_ref(&row.field)));
            } else if let Some(value) = &class.value {
                let mut set = Table::new();
                set.insert(row.field.clone(), value.clone());
                step.insert("set".into(), Value::Table(set));
            }
            step.insert("expect".into(), statuses(&class.expect));
            let id = format!("{}.input.{}.{}", row.op, short(&row.field), class.class);
            let title = format!("{} with {} {} answers {}", row.op, row.field, class.class, list(&class.expect));
            cases.push(case(id, title, vec![t.doc.clone()], &class.severity, &t.setup, step)?);
        }
    }
    for row in &matrix.state {
        let t = template(&row.op)?;
        for cell in &row.cells {
            let setup =
                matrix.states.get(&cell.state).ok_or_else(|| problem(&row.op, format!("no state '{}'", cell.state)))?;
            let mut step = t.step.clone();
            if !setup.iter().any(|s| s.starts_with("create"))
                && step.get("codes").and_then(Value::as_str) == Some("valid")
            {
                // No device, so no seed: any six digits.
                step.insert("codes".into(), Value::String("arbitrary".into()));
            }
            step.insert("expect".into(), statuses(&cell.expect));
            let id = format!("{}.state.{}", row.op, cell.state);
            let title = format!("{} of a device in state '{}' answers {}", row.op, cell.state, list(&cell.expect));
            let doc = std::iter::once(t.doc.clone()).chain(cell.doc.iter().cloned()).collect();
            cases.push(case(id, title, doc, &cell.severity, setup, step)?);
        }
    }
    Ok(cases)
}

fn list(statuses: &[u16]) -> String {
    statuses.iter().map(u16::to_string).collect::<Vec<_>>().join(" or ")
}

/// How an input class changes one field of a request body.
#[derive(Debug, Clone, PartialEq)]
pub enum Mutation {
    Remove,
    Null,
    Set(Value),
}

/// One input class of one field, as the matrix gives it, for the model-based exploration.
#[derive(Debug, Clone)]
pub struct InputVariant {
    pub op: crate::api::OpKind,
    pub field: String,
    /// `name:past-max`: the field's short name and the class, as replay commands write it.
    pub name: String,
    pub mutation: Mutation,
    pub expect: Vec<u16>,
    pub severity: super::case::Severity,
    /// The caller the class is meant for (`None`: the template's).
    pub actor: Option<super::case::Actor>,
}

/// Every input class of every field of the matrix.
pub fn input_variants(text: &str) -> Result<Vec<InputVariant>> {
    let matrix: Matrix = toml::from_str(text).map_err(|e| problem("matrix", e.to_string()))?;
    let mut variants = Vec::new();
    for row in &matrix.inputs {
        let op = crate::api::OpKind::from_name(&row.op).ok_or_else(|| problem(&row.op, "unknown operation".into()))?;
        let actor = match &row.actor {
            Some(a) => {
                Some(Value::String(a.clone()).try_into().map_err(|e: toml::de::Error| problem(a, e.to_string()))?)
            }
            None => None,
        };
        for class in &row.classes {
            let mutation = match (&class.value, class.remove, class.null) {
                (_, true, _) => Mutation::Remove,
                (_, _, true) => Mutation::Null,
                (Some(v), _, _) => Mutation::Set(v.clone()),
                (None, false, false) => return Err(problem(&class.class, "an input class changes nothing".into())),
            };
            let severity = Value::String(class.severity.clone())
                .try_into()
                .map_err(|e: toml::de::Error| problem(&class.class, e.to_string()))?;
            variants.push(InputVariant {
                op,
                field: row.field.clone(),
                name: format!("{}:{}", short(&row.field), class.class),
                mutation,
                expect: class.expect.clone(),
                severity,
                actor,
            });
        }
    }
    Ok(variants)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generated_case_has_the_line_of_its_row() {
        let text = include_str!("../../scenarios/contract/matrix.toml");
        for case in cases(text).unwrap() {
            let line = line_of_case(text, &case.id);
            assert!(line > 0, "{} has no line", case.id);
            let row = text.lines().nth(line - 1).unwrap();
            let last = case.id.rsplit('.').next().unwrap();
            assert!(row.contains(&format!("\"{last}\"")), "{}: line {line} is {row}", case.id);
        }
    }

    #[test]
    fn the_embedded_matrix_expands_into_cases_with_their_setup() {
        let cases = cases(include_str!("../../scenarios/contract/matrix.toml")).unwrap();
        assert!(cases.len() > 80, "{} cases", cases.len());
        let query = cases.iter().find(|c| c.id == "query.caller.altered-token").unwrap();
        assert_eq!(query.steps.len(), 3, "create and bind first");
        assert!(query.steps[..2].iter().all(|s| s.setup));
        assert_eq!(query.steps[2].expect, vec![401]);
        let name = cases.iter().find(|c| c.id == "create.input.name.missing").unwrap();
        assert_eq!(name.steps[0].remove, vec!["/virtual_mfa_device/name".to_string()]);
        let recreated = cases.iter().find(|c| c.id == "bind.state.recreated").unwrap();
        assert_eq!(recreated.steps.len(), 4);
    }
}
