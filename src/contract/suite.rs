//! The suite: every case a run can select — the embedded scenario files, the cases the
//! coverage matrix generates, and the files of `--scenarios DIR`.

use super::case::{Case, parse, validate};
use crate::error::{Result, UsageError};
use std::path::Path;

/// The coverage matrix the generated cases come from.
const MATRIX: &str = include_str!("../../scenarios/contract/matrix.toml");

/// The embedded scenario files.
const EMBEDDED: &[(&str, &str)] = &[
    ("create.toml", include_str!("../../scenarios/contract/create.toml")),
    ("bind.toml", include_str!("../../scenarios/contract/bind.toml")),
    ("unbind.toml", include_str!("../../scenarios/contract/unbind.toml")),
    ("delete.toml", include_str!("../../scenarios/contract/delete.toml")),
    ("query.toml", include_str!("../../scenarios/contract/query.toml")),
    ("list.toml", include_str!("../../scenarios/contract/list.toml")),
    ("general.toml", include_str!("../../scenarios/contract/general.toml")),
];

/// The input classes of the embedded matrix, which the exploration draws from.
pub fn input_variants() -> Result<Vec<super::generate::InputVariant>> {
    super::generate::input_variants(MATRIX)
}

/// Loads the embedded cases, then the `*.toml` files of `dir` (a case with the id of an
/// embedded one replaces it). Ids must be unique.
pub fn load(dir: Option<&Path>) -> Result<Vec<Case>> {
    let mut cases = Vec::new();
    for (name, text) in EMBEDDED {
        cases.extend(parse(name, text)?);
    }
    for mut case in super::generate::cases(MATRIX)? {
        if cases.iter().all(|c: &Case| c.id != case.id) {
            case.source = "matrix.toml".into();
            case.line = super::generate::line_of_case(MATRIX, &case.id);
            validate(&case).map_err(|e| UsageError::Scenario {
                kind: "scenario file",
                file: "matrix.toml".into(),
                item: Some(format!("case '{}'", case.id)),
                problem: e,
            })?;
            cases.push(case);
        }
    }
    if let Some(dir) = dir {
        for (source, text) in crate::scenarios::files(dir)? {
            for case in parse(&source, &text)? {
                match cases.iter_mut().find(|c: &&mut Case| c.id == case.id) {
                    Some(existing) => *existing = case,
                    None => cases.push(case),
                }
            }
        }
    }
    let mut ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    ids.sort();
    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
        return Err(UsageError::DuplicateCase { id: w[0].to_string() }.into());
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_and_generated_cases_load_and_each_cites_its_pages() {
        let cases = load(None).unwrap();
        assert!(cases.len() >= 150, "{} cases", cases.len());
        assert!(cases.iter().any(|c| c.source == "matrix.toml"), "the matrix adds cases");
        for case in &cases {
            assert!(!case.doc.is_empty(), "{} cites no doc page", case.id);
        }
    }
}
