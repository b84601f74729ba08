//! The JSON Schemas of `schemas/` (embedded at build time, overridable with a directory),
//! compiled once, and the table of which schema judges which operation and status.

use crate::api::OpKind;
use jsonschema::{Draft, Validator};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The schema files embedded in the binary.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("create.request.json", include_str!("../schemas/create.request.json")),
    ("create.201.json", include_str!("../schemas/create.201.json")),
    ("bind.request.json", include_str!("../schemas/bind.request.json")),
    ("unbind.request.json", include_str!("../schemas/unbind.request.json")),
    ("query.200.json", include_str!("../schemas/query.200.json")),
    ("list.200.json", include_str!("../schemas/list.200.json")),
    ("token.request.json", include_str!("../schemas/token.request.json")),
    ("token.201.json", include_str!("../schemas/token.201.json")),
    ("user-create.request.json", include_str!("../schemas/user-create.request.json")),
    ("user-create.201.json", include_str!("../schemas/user-create.201.json")),
    ("login-protect-show.200.json", include_str!("../schemas/login-protect-show.200.json")),
    ("login-protect-list.200.json", include_str!("../schemas/login-protect-list.200.json")),
    ("login-protect-modify.request.json", include_str!("../schemas/login-protect-modify.request.json")),
    ("login-protect-modify.200.json", include_str!("../schemas/login-protect-modify.200.json")),
    ("error.json", include_str!("../schemas/error.json")),
    ("error-keystone.json", include_str!("../schemas/error-keystone.json")),
];

/// Which error bodies an operation may answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorShape {
    /// `{error_msg, error_code}` only: the v3.0 OS-* extension APIs (spec §3.1 shape 1).
    Iam,
    /// Shape 1 or the Keystone shape: `/v3/…` calls whose error shape is not verified.
    IamOrKeystone,
}

/// What the documentation says one operation answers.
#[derive(Debug, Clone, Copy)]
pub struct OpContract {
    pub op: OpKind,
    /// Schema of the request body, if it has one.
    pub request: Option<&'static str>,
    /// Success statuses and the schema of their body (`None`: no body).
    pub success: &'static [(u16, Option<&'static str>)],
    /// Every status the documentation lists.
    pub documented: &'static [u16],
    pub errors: ErrorShape,
    /// Doc page ids.
    pub doc: &'static str,
}

/// The contract of every operation (spec §1–2).
pub const CONTRACTS: &[OpContract] = &[
    OpContract {
        op: OpKind::Create,
        request: Some("create.request.json"),
        success: &[(201, Some("create.201.json"))],
        documented: &[201, 400, 401, 403, 409, 500],
        errors: ErrorShape::Iam,
        doc: "iam_08_0019",
    },
    OpContract {
        op: OpKind::Bind,
        request: Some("bind.request.json"),
        success: &[(204, None)],
        documented: &[204, 400, 401, 403, 404, 409, 500],
        errors: ErrorShape::Iam,
        doc: "iam_08_0017",
    },
    OpContract {
        op: OpKind::Unbind,
        request: Some("unbind.request.json"),
        success: &[(204, None)],
        documented: &[204, 400, 401, 403, 404, 409, 500],
        errors: ErrorShape::Iam,
        doc: "iam_08_0018",
    },
    OpContract {
        op: OpKind::Delete,
        request: None,
        success: &[(204, None)],
        documented: &[204, 401, 403, 500],
        errors: ErrorShape::Iam,
        doc: "iam_08_0020",
    },
    OpContract {
        op: OpKind::Query,
        request: None,
        success: &[(200, Some("query.200.json"))],
        documented: &[200, 401, 403, 404, 500],
        errors: ErrorShape::Iam,
        doc: "iam_08_0013",
    },
    OpContract {
        op: OpKind::List,
        request: None,
        success: &[(200, Some("list.200.json"))],
        documented: &[200, 401, 403, 404, 500],
        errors: ErrorShape::Iam,
        doc: "iam_08_0012",
    },
    OpContract {
        op: OpKind::Token,
        request: Some("token.request.json"),
        success: &[(201, Some("token.201.json"))],
        documented: &[201, 400, 401, 403, 404, 500, 503],
        errors: ErrorShape::IamOrKeystone,
        doc: "iam_30_0001, iam_03_0006",
    },
    OpContract {
        op: OpKind::UserCreate,
        request: Some("user-create.request.json"),
        success: &[(201, Some("user-create.201.json"))],
        documented: &[201, 400, 401, 403, 404, 405, 409, 413, 500, 503],
        errors: ErrorShape::Iam,
        doc: "iam_08_0015",
    },
    OpContract {
        op: OpKind::UserDelete,
        request: None,
        success: &[(204, None)],
        documented: &[204, 400, 401, 403, 404, 405, 413, 500, 503],
        errors: ErrorShape::IamOrKeystone,
        doc: "iam_08_0009",
    },
    OpContract {
        op: OpKind::UserList,
        request: None,
        success: &[(200, None)],
        documented: &[200, 401, 403, 500],
        errors: ErrorShape::IamOrKeystone,
        doc: "Keystone users (not in the spec)",
    },
    OpContract {
        op: OpKind::LoginProtectShow,
        request: None,
        success: &[(200, Some("login-protect-show.200.json"))],
        documented: &[200, 401, 403, 404, 500],
        errors: ErrorShape::Iam,
        doc: "iam_08_0016",
    },
    OpContract {
        op: OpKind::LoginProtectList,
        request: None,
        success: &[(200, Some("login-protect-list.200.json"))],
        documented: &[200, 401, 403, 404, 500],
        errors: ErrorShape::Iam,
        doc: "iam_08_0014",
    },
    OpContract {
        op: OpKind::LoginProtectModify,
        request: Some("login-protect-modify.request.json"),
        success: &[(200, Some("login-protect-modify.200.json"))],
        documented: &[200, 400, 401, 403, 404, 500],
        errors: ErrorShape::Iam,
        doc: "iam_08_0021",
    },
];

/// The contract of one operation.
pub fn contract(op: OpKind) -> &'static OpContract {
    CONTRACTS.iter().find(|c| c.op == op).expect("every OpKind has a contract")
}

/// Every status the documentation lists for `op`.
pub fn documented_statuses(op: OpKind) -> &'static [u16] {
    contract(op).documented
}

/// Why schemas could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("could not read the schema directory {dir}: {reason}")]
    Read { dir: String, reason: String },
    #[error("schema {file} is not valid JSON: {reason}")]
    Json { file: String, reason: String },
    #[error("schema {file} does not compile as JSON Schema 2020-12: {reason}")]
    Compile { file: String, reason: String },
    #[error("schema {file} is referenced by the contract table but missing")]
    Missing { file: String },
}

/// One way a body broke its schema.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaViolation {
    pub schema: String,
    pub keyword: String,
    /// JSON pointer into the body.
    pub instance_pointer: String,
    /// JSON pointer into the schema.
    pub schema_pointer: String,
    /// A short message that never repeats the body.
    pub message: String,
}

struct Compiled {
    source: Value,
    lenient: Validator,
    strict: Validator,
}

/// Every schema, compiled once in a lenient and a strict variant; cheap to share.
pub struct Schemas {
    compiled: BTreeMap<String, Compiled>,
}

impl std::fmt::Debug for Schemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schemas").field("files", &self.compiled.keys().collect::<Vec<_>>()).finish()
    }
}

/// The strict variant: `additionalProperties: false` wherever `x-closed: true` marks an
/// object whose every field the documentation lists.
pub fn close(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out: serde_json::Map<String, Value> = map.iter().map(|(k, v)| (k.clone(), close(v))).collect();
            if map.get("x-closed") == Some(&Value::Bool(true)) && !map.contains_key("additionalProperties") {
                out.insert("additionalProperties".into(), Value::Bool(false));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(close).collect()),
        other => other.clone(),
    }
}

fn compile(file: &str, schema: &Value) -> Result<Validator, SchemaError> {
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .build(schema)
        .map_err(|e| SchemaError::Compile { file: file.to_string(), reason: e.to_string() })
}

impl Schemas {
    fn from_texts(texts: BTreeMap<String, String>) -> Result<Schemas, SchemaError> {
        let mut compiled = BTreeMap::new();
        for (file, text) in texts {
            let source: Value = serde_json::from_str(&text)
                .map_err(|e| SchemaError::Json { file: file.clone(), reason: e.to_string() })?;
            let lenient = compile(&file, &source)?;
            let strict = compile(&file, &close(&source))?;
            compiled.insert(file, Compiled { source, lenient, strict });
        }
        for c in CONTRACTS {
            let names = c.request.into_iter().chain(c.success.iter().filter_map(|(_, s)| *s));
            for name in names.chain(["error.json", "error-keystone.json"]) {
                if !compiled.contains_key(name) {
                    return Err(SchemaError::Missing { file: name.to_string() });
                }
            }
        }
        Ok(Schemas { compiled })
    }

    /// The schemas built into the binary.
    pub fn embedded() -> Result<Schemas, SchemaError> {
        Schemas::from_texts(EMBEDDED.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect())
    }

    /// The embedded schemas, with every `*.json` of `dir` replacing or adding to them.
    pub fn from_dir(dir: &Path) -> Result<Schemas, SchemaError> {
        let read = |e: std::io::Error| SchemaError::Read { dir: dir.display().to_string(), reason: e.to_string() };
        let mut texts: BTreeMap<String, String> =
            EMBEDDED.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        for entry in std::fs::read_dir(dir).map_err(read)? {
            let path = entry.map_err(read)?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()).filter(|n| n.ends_with(".json")) else {
                continue;
            };
            texts.insert(name.to_string(), std::fs::read_to_string(&path).map_err(read)?);
        }
        Schemas::from_texts(texts)
    }

    /// The file names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.compiled.keys().map(String::as_str)
    }

    /// The schema document of a file, as written.
    pub fn source(&self, name: &str) -> Option<&Value> {
        self.compiled.get(name).map(|c| &c.source)
    }

    /// Validates `value` against schema `name`.
    pub fn validate(&self, name: &str, value: &Value, strict: bool) -> Vec<SchemaViolation> {
        let Some(c) = self.compiled.get(name) else { return Vec::new() };
        let validator = if strict { &c.strict } else { &c.lenient };
        validator
            .iter_errors(value)
            .map(|e| SchemaViolation {
                schema: name.to_string(),
                keyword: e.kind().keyword().to_string(),
                instance_pointer: e.instance_path().as_str().to_string(),
                schema_pointer: e.schema_path().as_str().to_string(),
                message: e.masked().to_string(),
            })
            .collect()
    }

    /// Validates a request body of `op` (for tools; the harness builds its own requests).
    pub fn validate_request(&self, op: OpKind, body: &Value) -> Vec<SchemaViolation> {
        contract(op).request.map(|name| self.validate(name, body, false)).unwrap_or_default()
    }

    /// Judges an answer's body by its operation and status: the success schema, an empty body
    /// for 204, the error schema for 4xx/5xx. Statuses the table does not cover pass.
    pub fn validate_response(&self, op: OpKind, status: u16, body: &[u8], strict: bool) -> Vec<SchemaViolation> {
        let c = contract(op);
        let violation = |schema: &str, keyword: &str, message: &str| {
            vec![SchemaViolation {
                schema: schema.to_string(),
                keyword: keyword.to_string(),
                instance_pointer: String::new(),
                schema_pointer: String::new(),
                message: message.to_string(),
            }]
        };
        let parse = |schema: &str| -> Result<Value, Vec<SchemaViolation>> {
            serde_json::from_slice(body).map_err(|_| violation(schema, "json", "the body is not JSON"))
        };
        if (200..300).contains(&status) {
            return match c.success.iter().find(|(s, _)| *s == status) {
                Some((_, None)) if !body.is_empty() && status == 204 => {
                    violation("(no content)", "empty", "a 204 answer carries a body")
                }
                Some((_, Some(name))) => match parse(name) {
                    Ok(value) => self.validate(name, &value, strict),
                    Err(v) => v,
                },
                _ => Vec::new(),
            };
        }
        if status < 400 {
            return Vec::new();
        }
        if body.is_empty() {
            return match c.errors {
                ErrorShape::Iam => violation("error.json", "required", "an error answer without the error body"),
                ErrorShape::IamOrKeystone => Vec::new(),
            };
        }
        let value = match parse("error.json") {
            Ok(v) => v,
            Err(v) => return v,
        };
        let iam = self.validate("error.json", &value, strict);
        if iam.is_empty() || c.errors == ErrorShape::Iam {
            return iam;
        }
        let keystone = self.validate("error-keystone.json", &value, strict);
        if keystone.is_empty() { keystone } else { iam }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schemas() -> Schemas {
        Schemas::embedded().expect("embedded schemas compile")
    }

    #[test]
    fn every_example_validates_lenient_and_strict_and_cites_a_page() {
        let s = schemas();
        for name in s.names() {
            let source = s.source(name).unwrap();
            let text = source["description"].as_str().unwrap_or_default();
            assert!(text.contains("iam_") || text.contains("spec §"), "{name} cites no doc page");
            let examples = source["examples"].as_array().unwrap_or_else(|| panic!("{name} has no examples"));
            assert!(!examples.is_empty(), "{name}");
            for example in examples {
                for strict in [false, true] {
                    assert_eq!(s.validate(name, example, strict), vec![], "{name} strict={strict}");
                }
            }
        }
        assert_eq!(s.names().count(), EMBEDDED.len());
    }

    #[test]
    fn the_table_covers_every_operation() {
        for op in OpKind::ALL {
            let c = contract(op);
            assert!(c.success.iter().all(|(s, _)| c.documented.contains(s)), "{op}");
        }
    }

    #[test]
    fn a_query_without_serial_fails_at_its_pointer() {
        let body = json!({"virtual_mfa_device": {"user_id": "u1"}}).to_string();
        let v = schemas().validate_response(OpKind::Query, 200, body.as_bytes(), false);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!((v[0].keyword.as_str(), v[0].instance_pointer.as_str()), ("required", "/virtual_mfa_device"));
        assert_eq!(v[0].schema, "query.200.json");
    }

    #[test]
    fn a_seed_in_a_query_fails_even_leniently() {
        let body = json!({"virtual_mfa_device": {"user_id": "u", "serial_number": "s", "base32_string_seed": "ABCD"}});
        let v = schemas().validate_response(OpKind::Query, 200, body.to_string().as_bytes(), false);
        assert_eq!(v.iter().map(|v| v.keyword.as_str()).collect::<Vec<_>>(), vec!["not"]);
        assert!(!v[0].message.contains("ABCD"), "messages never repeat the body: {}", v[0].message);
    }

    #[test]
    fn unknown_fields_pass_leniently_and_fail_strictly_where_closed() {
        let body = json!({"virtual_mfa_device": {"user_id": "u", "serial_number": "s", "enabled": true}}).to_string();
        let s = schemas();
        assert!(s.validate_response(OpKind::Query, 200, body.as_bytes(), false).is_empty());
        let strict = s.validate_response(OpKind::Query, 200, body.as_bytes(), true);
        assert_eq!(strict[0].keyword, "additionalProperties");
        let token = json!({"token": {"methods": [], "expires_at": "x", "issued_at": "y", "extra": 1,
            "user": {"id": "i", "name": "n", "domain": {"id": "d", "name": "e"}}}});
        assert!(
            s.validate_response(OpKind::Token, 201, token.to_string().as_bytes(), true).is_empty(),
            "token bodies are open"
        );
    }

    #[test]
    fn bodies_that_are_not_as_documented_are_violations_not_panics() {
        let s = schemas();
        assert_eq!(s.validate_response(OpKind::Create, 201, b"<html>", false)[0].keyword, "json");
        assert_eq!(s.validate_response(OpKind::Bind, 204, b"{}", false)[0].keyword, "empty");
        assert_eq!(s.validate_response(OpKind::Bind, 404, b"", false)[0].keyword, "required");
        let keystone = json!({"error": {"code": 401, "message": "m", "title": "Unauthorized"}}).to_string();
        assert!(
            !s.validate_response(OpKind::Query, 401, keystone.as_bytes(), false).is_empty(),
            "OS-MFA errors are shape 1"
        );
        assert!(
            s.validate_response(OpKind::Token, 401, keystone.as_bytes(), false).is_empty(),
            "token errors may be Keystone's"
        );
        assert!(s.validate_response(OpKind::Create, 302, b"", false).is_empty());
    }

    #[test]
    fn a_directory_replaces_schemas_and_reports_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("query.200.json"), r#"{"type": "object", "required": ["x"]}"#).unwrap();
        let s = Schemas::from_dir(dir.path()).unwrap();
        assert_eq!(s.validate_response(OpKind::Query, 200, b"{}", false)[0].keyword, "required");
        std::fs::write(dir.path().join("broken.json"), "{").unwrap();
        let err = Schemas::from_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("broken.json"), "{err}");
        std::fs::write(dir.path().join("broken.json"), r#"{"type": 12}"#).unwrap();
        assert!(matches!(Schemas::from_dir(dir.path()), Err(SchemaError::Compile { .. })));
    }
}
