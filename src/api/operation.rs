//! [`Operation`]: one call of one documented endpoint, its kind, route, headers and body.

use http::Method;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::Value;

/// Name of the header that carries a token into a request.
pub const AUTH_HEADER: &str = "X-Auth-Token";
/// Name of the header that carries a newly issued token out of `POST /v3/auth/tokens`.
pub const SUBJECT_TOKEN_HEADER: &str = "X-Subject-Token";
/// Content-Type the SDK sends with a JSON body (spec, preamble).
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// Which documented call an operation is; the key for schemas, metrics and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpKind {
    Create,
    Bind,
    Unbind,
    Delete,
    Query,
    List,
    Token,
    UserCreate,
    UserDelete,
    UserList,
    LoginProtectShow,
    LoginProtectList,
    LoginProtectModify,
}

impl OpKind {
    pub const ALL: [OpKind; 13] = [
        OpKind::Create,
        OpKind::Bind,
        OpKind::Unbind,
        OpKind::Delete,
        OpKind::Query,
        OpKind::List,
        OpKind::Token,
        OpKind::UserCreate,
        OpKind::UserDelete,
        OpKind::UserList,
        OpKind::LoginProtectShow,
        OpKind::LoginProtectList,
        OpKind::LoginProtectModify,
    ];

    /// The stable short name used in scenario files, schema file names and reports.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Create => "create",
            OpKind::Bind => "bind",
            OpKind::Unbind => "unbind",
            OpKind::Delete => "delete",
            OpKind::Query => "query",
            OpKind::List => "list",
            OpKind::Token => "token",
            OpKind::UserCreate => "user-create",
            OpKind::UserDelete => "user-delete",
            OpKind::UserList => "user-list",
            OpKind::LoginProtectShow => "login-protect-show",
            OpKind::LoginProtectList => "login-protect-list",
            OpKind::LoginProtectModify => "login-protect-modify",
        }
    }

    /// Parses [`OpKind::name`].
    pub fn from_name(name: &str) -> Option<OpKind> {
        OpKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The method and path template of the endpoint, with `{user_id}` placeholders.
    pub fn route(self) -> (Method, &'static str) {
        match self {
            OpKind::Create => (Method::POST, "/v3.0/OS-MFA/virtual-mfa-devices"),
            OpKind::Bind => (Method::PUT, "/v3.0/OS-MFA/mfa-devices/bind"),
            OpKind::Unbind => (Method::PUT, "/v3.0/OS-MFA/mfa-devices/unbind"),
            OpKind::Delete => (Method::DELETE, "/v3.0/OS-MFA/virtual-mfa-devices"),
            OpKind::Query => (Method::GET, "/v3.0/OS-MFA/users/{user_id}/virtual-mfa-device"),
            OpKind::List => (Method::GET, "/v3.0/OS-MFA/virtual-mfa-devices"),
            OpKind::Token => (Method::POST, "/v3/auth/tokens"),
            OpKind::UserCreate => (Method::POST, "/v3.0/OS-USER/users"),
            OpKind::UserDelete => (Method::DELETE, "/v3/users/{user_id}"),
            OpKind::UserList => (Method::GET, "/v3/users"),
            OpKind::LoginProtectShow => (Method::GET, "/v3.0/OS-USER/users/{user_id}/login-protect"),
            OpKind::LoginProtectList => (Method::GET, "/v3.0/OS-USER/login-protects"),
            OpKind::LoginProtectModify => (Method::PUT, "/v3.0/OS-USER/users/{user_id}/login-protect"),
        }
    }
}

impl std::fmt::Display for OpKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What an operation carries as its request body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    None,
    Json(Value),
    /// Bytes sent as they are, for malformed-input cases.
    Raw {
        content_type: String,
        bytes: Vec<u8>,
    },
}

/// One call of one endpoint, ready for any transport.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub kind: OpKind,
    pub method: Method,
    /// The concrete path, its parameters already percent-encoded.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// The `X-Auth-Token` to send; `None` sends no such header.
    pub token: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

const QUERY: &AsciiSet = &SEGMENT.add(b'&').add(b'=').add(b'+').add(b':');

impl Operation {
    /// A request of `kind` with its template's `{user_id}` filled in (percent-encoded).
    pub fn new(kind: OpKind, user_id: Option<&str>) -> Operation {
        let (method, template) = kind.route();
        let path = match user_id {
            Some(id) => template.replace("{user_id}", &utf8_percent_encode(id, SEGMENT).to_string()),
            None => template.to_string(),
        };
        Operation { kind, method, path, query: Vec::new(), token: None, headers: Vec::new(), body: Body::None }
    }

    pub fn with_token(mut self, token: Option<&str>) -> Operation {
        self.token = token.map(str::to_string);
        self
    }

    pub fn with_json(mut self, body: Value) -> Operation {
        self.body = Body::Json(body);
        self
    }

    pub fn with_query(mut self, key: &str, value: &str) -> Operation {
        self.query.push((key.to_string(), value.to_string()));
        self
    }

    /// Path and query string, percent-encoded, to append to a base URL.
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let query = self
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", utf8_percent_encode(k, QUERY), utf8_percent_encode(v, QUERY)))
            .collect::<Vec<_>>()
            .join("&");
        format!("{}?{}", self.path, query)
    }

    /// The full URL below `base` (which may end in a slash or carry a path prefix).
    pub fn url(&self, base: &str) -> String {
        format!("{}{}", base.trim_end_matches('/'), self.path_and_query())
    }

    /// The body as bytes and its Content-Type, if any.
    pub fn body_bytes(&self) -> Option<(String, Vec<u8>)> {
        match &self.body {
            Body::None => None,
            Body::Json(v) => Some((JSON_CONTENT_TYPE.to_string(), serde_json::to_vec(v).unwrap_or_default())),
            Body::Raw { content_type, bytes } => Some((content_type.clone(), bytes.clone())),
        }
    }

    /// The JSON body, if this operation carries one.
    pub fn json(&self) -> Option<&Value> {
        match &self.body {
            Body::Json(v) => Some(v),
            _ => None,
        }
    }
}
