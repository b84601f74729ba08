//! Our own JSON outputs against their published schemas in `schemas/reports/`.

use serde_json::Value;

/// `schemas/reports/check-report.schema.json`: `check --format json`.
pub const CHECK_REPORT: &str = "check-report.schema.json";
/// `schemas/reports/load-summary.schema.json`: `load --json FILE`.
pub const LOAD_SUMMARY: &str = "load-summary.schema.json";

/// The compiled schema `schemas/reports/NAME`.
pub fn validator(name: &str) -> jsonschema::Validator {
    let path = format!("{}/schemas/reports/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let schema: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"));
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{path} does not compile: {e}"))
}

/// Every way `value` breaks the schema `schemas/reports/NAME`, with where.
pub fn errors(name: &str, value: &Value) -> Vec<String> {
    validator(name).iter_errors(value).map(|e| format!("{e} at {}", e.instance_path())).collect()
}

/// Fails the test unless `value` matches the schema `schemas/reports/NAME`.
pub fn assert_valid(name: &str, value: &Value) {
    let errors = errors(name, value);
    assert!(errors.is_empty(), "{name}: {errors:?}");
}
