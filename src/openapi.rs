//! The OpenAPI 3.1 document of the contract, built from `schemas/` and the operation table.

use crate::api::OpKind;
use crate::schemas::{CONTRACTS, ErrorShape, Schemas};
use serde_json::{Map, Value, json};

mod links;

fn component_name(file: &str) -> String {
    file.trim_end_matches(".json").replace('.', "_")
}

fn schema_ref(file: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{}", component_name(file))})
}

/// The documented examples of a schema file as an OpenAPI `examples` map (`None`: it has none).
fn examples(schemas: &Schemas, files: &[&str]) -> Option<Value> {
    let mut out = Map::new();
    for file in files {
        let Some(list) = schemas.source(file).and_then(|s| s.get("examples")).and_then(Value::as_array) else {
            continue;
        };
        for (i, value) in list.iter().enumerate() {
            let name = format!("{}-{}", component_name(file), i + 1);
            out.insert(name, json!({"summary": format!("Documented example {} of {file}", i + 1), "value": value}));
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

fn media(schemas: &Schemas, schema: Value, files: &[&str]) -> Value {
    let mut media = json!({"schema": schema});
    if let Some(examples) = examples(schemas, files) {
        media["examples"] = examples;
    }
    json!({"application/json": media})
}

const USER_ID_EXAMPLE: &str = "09f99d8f6a001d4f1f01c00c31968...";
const SERIAL_EXAMPLE: &str = "iam:09f6bd6a96801de40f01c00c85691...:mfa/{device_name}";

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Invalid request or parameters",
        401 => "Authentication failed",
        403 => "No permission / access denied",
        404 => "The requested resource was not found",
        405 => "Method not allowed",
        409 => "Conflict when saving the resource",
        413 => "Request entity too large",
        500 => "Internal server error",
        503 => "Service unavailable",
        _ => "Documented status",
    }
}

fn parameters(op: OpKind, template: &str) -> Vec<Value> {
    let mut params = Vec::new();
    if template.contains("{user_id}") {
        params.push(json!({"name": "user_id", "in": "path", "required": true, "description": "IAM user ID", "schema": {"type": "string"}, "example": USER_ID_EXAMPLE}));
    }
    match op {
        OpKind::Delete => {
            params.push(json!({"name": "user_id", "in": "query", "required": true,
                "description": "The IAM user whose device is deleted (intl-2023: the administrator's own ID) [iam_08_0020]", "schema": {"type": "string", "minLength": 1}, "example": USER_ID_EXAMPLE}));
            params.push(json!({"name": "serial_number", "in": "query", "required": true,
                "description": "Serial number of the device; contains ':' and '/', percent-encode it", "schema": {"type": "string", "minLength": 1}, "example": SERIAL_EXAMPLE}));
        }
        OpKind::Token => params.push(json!({"name": "nocatalog", "in": "query", "required": false,
            "description": "Any non-empty value drops the catalog from the answer [iam_30_0001]", "schema": {"type": "string"}, "example": "true"})),
        _ => {}
    }
    params
}

fn responses(schemas: &Schemas, contract: &crate::schemas::OpContract) -> Value {
    let mut responses = Map::new();
    let unlisted: &[u16] = match contract.op {
        OpKind::Delete => &[400, 404, 409],
        OpKind::Create => &[404],
        _ => &[],
    };
    for status in contract.documented.iter().chain(unlisted) {
        let mut response = json!({"description": reason(*status)});
        if unlisted.contains(status) {
            response["description"] =
                json!(format!("{} (not listed by [{}]; implementations answer it)", reason(*status), contract.doc));
        }
        if let Some((_, schema)) = contract.success.iter().find(|(s, _)| s == status) {
            if let Some(file) = schema {
                response["content"] = media(schemas, schema_ref(file), &[file]);
            }
            let links = links::links(contract.op);
            if !links.is_empty() {
                response["links"] = Value::Object(links);
            }
            if contract.op == OpKind::Token {
                response["headers"] =
                    json!({"X-Subject-Token": {"description": "The issued token", "schema": {"type": "string"}}});
            }
        } else if *status >= 400 {
            response["content"] = match contract.errors {
                ErrorShape::Iam => media(schemas, schema_ref("error.json"), &["error.json"]),
                ErrorShape::IamOrKeystone => media(
                    schemas,
                    json!({"oneOf": [schema_ref("error.json"), schema_ref("error-keystone.json")]}),
                    &["error.json", "error-keystone.json"],
                ),
            };
        }
        responses.insert(status.to_string(), response);
    }
    Value::Object(responses)
}

/// The document.
pub fn document(schemas: &Schemas) -> Value {
    let mut components = Map::new();
    for name in schemas.names() {
        let mut schema = schemas.source(name).cloned().unwrap_or(Value::Null);
        if let Value::Object(map) = &mut schema {
            map.remove("$schema");
            map.remove("$id");
        }
        components.insert(component_name(name), schema);
    }
    let mut paths: Map<String, Value> = Map::new();
    for contract in CONTRACTS {
        let (method, template) = contract.op.route();
        let mut operation = json!({
            "operationId": contract.op.name(),
            "summary": format!("{} [{}]", contract.op.name(), contract.doc),
            "tags": [if template.contains("OS-MFA") { "virtual-mfa" } else { "identity" }],
            "responses": responses(schemas, contract),
        });
        let params = parameters(contract.op, template);
        if !params.is_empty() {
            operation["parameters"] = Value::Array(params);
        }
        if let Some(file) = contract.request {
            operation["requestBody"] = json!({"required": true, "content": media(schemas, schema_ref(file), &[file])});
        }
        // The token operation is how a caller authenticates: it needs no token (`security: []`).
        operation["security"] = if contract.op == OpKind::Token { json!([]) } else { json!([{"authToken": []}]) };
        let item = paths.entry(template.to_string()).or_insert_with(|| json!({}));
        item[method.as_str().to_ascii_lowercase()] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Huawei Cloud IAM virtual MFA device API (as checked by mfa-harness)",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The documented contract of the IAM v3.0 OS-MFA endpoints and the identity calls used to provision test users. Every schema cites its documentation page id.",
            "license": {"name": env!("CARGO_PKG_LICENSE"), "identifier": env!("CARGO_PKG_LICENSE")},
        },
        "servers": [{"url": "https://iam.myhuaweicloud.com"}],
        "tags": [
            {"name": "virtual-mfa", "description": "Virtual MFA devices: create, bind, unbind, delete, query, list (IAM v3.0 OS-MFA)"},
            {"name": "identity", "description": "Tokens, users and login protection: what a check needs to provision its test users"},
        ],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"authToken": {"type": "apiKey", "in": "header", "name": "X-Auth-Token",
                "description": "Token from POST /v3/auth/tokens (its X-Subject-Token header)"}},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_and_schema_is_in_the_document() {
        let schemas = Schemas::embedded().unwrap();
        let doc = document(&schemas);
        for op in OpKind::ALL {
            let (method, template) = op.route();
            let operation = &doc["paths"][template][method.as_str().to_ascii_lowercase()];
            assert_eq!(operation["operationId"], op.name(), "{op}");
            for status in crate::schemas::documented_statuses(op) {
                assert!(operation["responses"][status.to_string()].is_object(), "{op} {status}");
            }
        }
        let token = &doc["paths"]["/v3/auth/tokens"]["post"];
        assert_eq!(token["security"], json!([]));
        assert!(token["responses"]["201"]["links"]["BindWithToken"].is_object());
        let create = &doc["paths"]["/v3.0/OS-MFA/virtual-mfa-devices"]["post"];
        assert_eq!(create["responses"]["201"]["links"]["BindCreated"]["operationId"], "bind");
        assert!(create["requestBody"]["content"]["application/json"]["examples"].is_object());
        assert!(create["responses"]["201"]["content"]["application/json"]["examples"].is_object());
        assert!(create["responses"]["400"]["content"]["application/json"]["examples"].is_object());
        let delete = &doc["paths"]["/v3.0/OS-MFA/virtual-mfa-devices"]["delete"]["parameters"];
        assert_eq!(delete.as_array().unwrap().len(), 2);
        for name in schemas.names() {
            let component = &doc["components"]["schemas"][component_name(name)];
            assert!(component.is_object() && component.get("$id").is_none(), "{name}");
        }
        let text = serde_json::to_string(&doc).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), doc);
    }
}
