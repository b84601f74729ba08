//! The administrator's requests signed with an access key and secret key (`--access-key`,
//! `--secret-key`) instead of carrying an `X-Auth-Token`: the signing rules are in
//! [`crate::sign`]; this is how every transport of the harness applies them.
//!
//! An identity whose requests are signed has [`SIGNED`] as its token. Every transport that
//! sends an operation with that token (the contract's and provisioning's client, both load
//! clients) sends no `X-Auth-Token` and the headers of [`headers`] instead. The marker is not a
//! valid header value, so a transport that forgot would fail rather than send it.

use crate::sign::Keys;
use http::{HeaderName, HeaderValue};
use std::time::SystemTime;

/// The token of an identity whose requests are signed rather than carrying a token.
pub const SIGNED: &str = "\u{1}signed with the access key";

/// Whether an operation's token says its request is to be signed.
pub fn is_signed(token: Option<&str>) -> bool {
    token == Some(SIGNED)
}

/// The `Host` header a client sends for `url`: the host, and the port unless it is the
/// scheme's default.
pub fn host_of(url: &url::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        _ => String::new(),
    }
}

/// The headers that sign a request for `url` (absolute, query included) with `keys`, now:
/// `Host`, `X-Sdk-Date`, `X-Sdk-Content-Sha256` for a body that is not JSON, `Authorization`.
/// `content_type` is the Content-Type the request is sent with, if any; it is signed.
pub fn headers(
    keys: &Keys,
    method: &http::Method,
    url: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("'{url}' is not a URL ({e})"))?;
    let host = host_of(&parsed);
    let mut signed: Vec<(String, String)> = vec![("Host".into(), host)];
    if let Some(content_type) = content_type {
        signed.push(("Content-Type".into(), content_type.to_string()));
    }
    let query = crate::sign::query_pairs(parsed.query());
    let request =
        crate::sign::Request { method: method.as_str(), path: parsed.path(), query: &query, headers: &signed, body };
    let result = crate::sign::sign(keys, &request, "", SystemTime::now()).map_err(|e| e.to_string())?;
    signed.retain(|(name, _)| name == "Host");
    signed.extend(result.added);
    signed.push(("Authorization".into(), result.authorization));
    signed
        .into_iter()
        .map(|(name, value)| {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
            let mut value = HeaderValue::from_str(&value).map_err(|e| format!("header {name}: {e}"))?;
            value.set_sensitive(true);
            Ok((name, value))
        })
        .collect()
}
