//! OpenAPI `links`: how the answer of one operation feeds the next, so that a stateful client
//! (Schemathesis's stateful phase) can walk token → create → bind → query → unbind → delete.

use crate::api::OpKind;
use serde_json::{Map, Value, json};

/// The token header an operation's link sets from the token operation's answer.
const TOKEN_HEADER: &str = "$response.header.X-Subject-Token";
const CREATED_SERIAL: &str = "$response.body#/virtual_mfa_device/serial_number";
const CREATED_USER: &str = "$request.body#/virtual_mfa_device/user_id";

fn link(op: OpKind, description: &str, parameters: Value, body: Option<Value>) -> Value {
    let mut link = json!({"operationId": op.name(), "description": description});
    if parameters.as_object().is_some_and(|p| !p.is_empty()) {
        link["parameters"] = parameters;
    }
    if let Some(body) = body {
        link["requestBody"] = body;
    }
    link
}

/// The links of `op`'s success answer, keyed by link name (empty: none).
pub fn links(op: OpKind) -> Map<String, Value> {
    let mut links = Map::new();
    let mut add = |name: &str, value: Value| {
        links.insert(name.to_string(), value);
    };
    match op {
        OpKind::Token => {
            for target in OpKind::ALL.into_iter().filter(|t| *t != OpKind::Token) {
                add(
                    &format!("{}WithToken", camel(target.name())),
                    link(
                        target,
                        "The issued token (X-Subject-Token) authenticates the call",
                        json!({"header.X-Auth-Token": TOKEN_HEADER}),
                        None,
                    ),
                );
            }
        }
        OpKind::Create => {
            let device = json!({"user_id": CREATED_USER, "serial_number": CREATED_SERIAL});
            add(
                "BindCreated",
                link(
                    OpKind::Bind,
                    "Bind the created device (codes from its base32_string_seed)",
                    json!({}),
                    Some(device.clone()),
                ),
            );
            add(
                "QueryOwner",
                link(
                    OpKind::Query,
                    "Query the device of the user it was created for",
                    json!({"path.user_id": CREATED_USER}),
                    None,
                ),
            );
            add("UnbindCreated", link(OpKind::Unbind, "Unbind the created device", json!({}), Some(device)));
            add(
                "DeleteCreated",
                link(
                    OpKind::Delete,
                    "Delete the created device",
                    json!({"query.user_id": CREATED_USER, "query.serial_number": CREATED_SERIAL}),
                    None,
                ),
            );
        }
        OpKind::Bind => {
            let device = json!({"user_id": "$request.body#/user_id", "serial_number": "$request.body#/serial_number"});
            add(
                "QueryBound",
                link(OpKind::Query, "Query the bound device", json!({"path.user_id": "$request.body#/user_id"}), None),
            );
            add("UnbindBound", link(OpKind::Unbind, "Unbind the bound device", json!({}), Some(device)));
        }
        OpKind::Unbind => {
            add(
                "DeleteUnbound",
                link(
                    OpKind::Delete,
                    "Delete the unbound device",
                    json!({"query.user_id": "$request.body#/user_id", "query.serial_number": "$request.body#/serial_number"}),
                    None,
                ),
            );
        }
        OpKind::UserCreate => {
            let user = "$response.body#/user/id";
            add(
                "CreateDeviceForUser",
                link(
                    OpKind::Create,
                    "Create a device for the new user",
                    json!({}),
                    Some(json!({"virtual_mfa_device": {"user_id": user}})),
                ),
            );
            add("QueryUser", link(OpKind::Query, "Query the new user's device", json!({"path.user_id": user}), None));
        }
        _ => {}
    }
    links
}

/// `login-protect-show` → `LoginProtectShow`.
fn camel(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_is_linked_and_token_reaches_everything() {
        let token = links(OpKind::Token);
        assert_eq!(token.len(), OpKind::ALL.len() - 1);
        assert_eq!(token["LoginProtectShowWithToken"]["parameters"]["header.X-Auth-Token"], TOKEN_HEADER);
        let create = links(OpKind::Create);
        assert_eq!(create["BindCreated"]["operationId"], "bind");
        assert_eq!(create["BindCreated"]["requestBody"]["serial_number"], CREATED_SERIAL);
        assert_eq!(create["DeleteCreated"]["parameters"]["query.user_id"], CREATED_USER);
        assert!(links(OpKind::Bind).contains_key("UnbindBound"));
        assert!(links(OpKind::Unbind).contains_key("DeleteUnbound"));
        assert!(links(OpKind::List).is_empty());
    }
}
