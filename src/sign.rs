//! AK/SK request signing as Huawei Cloud's API gateway checks it: the `SDK-HMAC-SHA256` scheme
//! of the official SDKs (`huaweicloudsdkcore/signer/signer.py`, whose every rule this follows:
//! `scripts/sdk-signature.sh` compares the two on a set of requests).
//!
//! Shared by the harness (which signs the administrator's requests, and `mfa-harness sign`)
//! and the reference server (which recomputes the signature of what it received); pure
//! functions, nothing is sent here.
//!
//! The canonical request is, one per line: the method, the canonical URI (the path
//! percent-decoded, each segment encoded again keeping only `A–Z a–z 0–9 - _ . ~`, always
//! ending in `/`), the canonical query (pairs sorted by key then value, both encoded the same
//! way, `k=v` joined by `&`), the canonical headers (`name:value` for each signed header,
//! names lowercased, values trimmed, each line ending in a newline), the signed header names
//! (lowercased, sorted, `;`-joined; every header is signed but those whose name holds `_`),
//! and the hex SHA-256 of the body (`UNSIGNED-PAYLOAD` for a body whose Content-Type is
//! neither JSON nor BSON). The string to sign is `SDK-HMAC-SHA256`, the `X-Sdk-Date` and the
//! hex SHA-256 of the canonical request, one per line; the signature is its hex HMAC-SHA256
//! under the secret key.

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime};

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
pub const DATE_HEADER: &str = "X-Sdk-Date";
pub const CONTENT_HASH_HEADER: &str = "X-Sdk-Content-Sha256";
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// The SHA-256 of nothing: the payload hash of a request without a body.
pub const EMPTY_HASH: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// How far an `X-Sdk-Date` may be from the verifier's clock (the API gateway's 15 minutes).
pub const DATE_TOLERANCE: Duration = Duration::from_secs(15 * 60);

/// Python's `quote(s, safe='~')`: everything but letters, digits and `_.-~` is escaped.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// An access key and its secret key. The secret's `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Keys {
    pub access: String,
    secret: String,
}

impl Keys {
    pub fn new(access: impl Into<String>, secret: impl Into<String>) -> Keys {
        Keys { access: access.into(), secret: secret.into() }
    }

    /// The secret key, for adding it to a redactor; never for printing.
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("access", &self.access).field("secret", &"[redacted]").finish()
    }
}

/// A request as it is signed.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as it goes on the wire (percent-encoded, as the URL has it).
    pub path: &'a str,
    /// The query's parameters, percent-decoded, in any order.
    pub query: &'a [(String, String)],
    /// Every header (names in any case), `Host` and `X-Sdk-Date` among them.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// What signing adds to a request's headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// Headers the request did not have and must be sent with, in the order the SDK adds
    /// them: `X-Sdk-Content-Sha256`, `X-Sdk-Date`, `Host`.
    pub added: Vec<(String, String)>,
    /// The `Authorization` header's value.
    pub authorization: String,
}

/// Why a date is not an `X-Sdk-Date`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an X-Sdk-Date: write it as YYYYMMDDTHHMMSSZ (UTC), e.g. 20240102T030405Z")]
pub struct BadDate(pub String);

/// `time` as an `X-Sdk-Date`: `YYYYMMDDTHHMMSSZ`.
pub fn format_date(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string().replace(['-', ':'], "")
}

/// Reads an `X-Sdk-Date` (`YYYYMMDDTHHMMSSZ`, UTC).
pub fn parse_date(text: &str) -> Result<SystemTime, BadDate> {
    let bad = || BadDate(text.to_string());
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| range.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' || !digits(0..8) || !digits(9..15) {
        return Err(bad());
    }
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &text[0..4],
        &text[4..6],
        &text[6..8],
        &text[9..11],
        &text[11..13],
        &text[13..15]
    );
    humantime::parse_rfc3339(&rfc3339).map_err(|_| bad())
}

fn hex_sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn escape(text: &str) -> String {
    utf8_percent_encode(text, ESCAPED).to_string()
}

/// The canonical URI: each segment of the decoded path encoded again, ending in `/`.
pub fn canonical_uri(path: &str) -> String {
    let decoded = percent_decode_str(path).decode_utf8_lossy();
    let mut uri = decoded.split('/').map(escape).collect::<Vec<_>>().join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// The canonical query string: pairs sorted by key then value (as decoded), each encoded.
pub fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<&(String, String)> = query.iter().collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{}={}", escape(k), escape(v))).collect::<Vec<_>>().join("&")
}

/// The query of a URL, decoded into pairs (`+` is a space, a key without `=` has an empty value).
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// The signed header names: every header's lowercased name but those holding `_`, sorted.
pub fn signed_headers(headers: &[(String, String)]) -> Vec<String> {
    let mut names: Vec<String> =
        headers.iter().filter(|(name, _)| !name.contains('_')).map(|(name, _)| name.to_ascii_lowercase()).collect();
    names.sort();
    names
}

/// The value a signed header is signed with: trimmed; the last of several with one name.
fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers.iter().rev().find(|(n, _)| n.eq_ignore_ascii_case(name)).map_or("", |(_, v)| v.trim())
}

/// The payload hash: of nothing, the declared `X-Sdk-Content-Sha256`, or of the body.
fn payload_hash(request: &Request<'_>) -> String {
    if request.body.is_empty() {
        return EMPTY_HASH.to_string();
    }
    match header_value(request.headers, CONTENT_HASH_HEADER) {
        "" => hex_sha256(request.body),
        declared => declared.to_string(),
    }
}

/// The canonical request over the headers named in `signed`.
pub fn canonical_request(request: &Request<'_>, signed: &[String]) -> String {
    let headers: String =
        signed.iter().map(|name| format!("{name}:{}\n", header_value(request.headers, name))).collect();
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method.to_ascii_uppercase(),
        canonical_uri(request.path),
        canonical_query(request.query),
        headers,
        signed.join(";"),
        payload_hash(request)
    )
}

/// The hex HMAC-SHA256 signature of a canonical request at `date` (an `X-Sdk-Date`).
pub fn signature(secret: &str, canonical_request: &str, date: &str) -> String {
    let string_to_sign = format!("{ALGORITHM}\n{date}\n{}", hex_sha256(canonical_request.as_bytes()));
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Signs a request as the SDK does: its `X-Sdk-Date` if it has one, else `date`; `host`
/// unless it has a `Host` header; `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` when its
/// `Content-Type` is neither JSON nor BSON. Returns the headers to add and the Authorization.
pub fn sign(keys: &Keys, request: &Request<'_>, host: &str, date: SystemTime) -> Result<Signed, BadDate> {
    let mut added = Vec::new();
    // The SDK looks up `Content-Type` by that exact name here.
    if let Some((_, content_type)) = request.headers.iter().find(|(name, _)| name == "Content-Type")
        && !content_type.starts_with("application/json")
        && !content_type.starts_with("application/bson")
    {
        added.push((CONTENT_HASH_HEADER.to_string(), UNSIGNED_PAYLOAD.to_string()));
    }
    let has = |name: &str| request.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let date = if has(DATE_HEADER) {
        // Read and written again, as the SDK's strptime/strftime do.
        format_date(parse_date(header_value(request.headers, DATE_HEADER))?)
    } else {
        let date = format_date(date);
        added.push((DATE_HEADER.to_string(), date.clone()));
        date
    };
    if !has("host") {
        added.push(("Host".to_string(), host.to_string()));
    }
    let mut headers = request.headers.to_vec();
    headers.extend(added.iter().cloned());
    let with_added = Request { headers: &headers, ..*request };
    let signed = signed_headers(&headers);
    let canonical = canonical_request(&with_added, &signed);
    let signature = signature(&keys.secret, &canonical, &date);
    let authorization =
        format!("{ALGORITHM} Access={}, SignedHeaders={}, Signature={signature}", keys.access, signed.join(";"));
    Ok(Signed { added, authorization })
}

/// Signs a request for `url` (what `mfa-harness sign` does): the host is the URL's authority
/// as written (without any `user:password@`), the path as written, the query decoded.
pub fn sign_url(
    keys: &Keys,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
    date: SystemTime,
) -> Result<Signed, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("'{url}' is not a URL ({e})"))?;
    let after_scheme = url.split_once("://").map_or("", |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let path_end = after_scheme[authority.len()..].find(['?', '#']).map_or(after_scheme.len(), |i| authority.len() + i);
    let path = match &after_scheme[authority.len()..path_end] {
        "" => "/",
        path => path,
    };
    let query = query_pairs(parsed.query());
    let request = Request { method, path, query: &query, headers, body };
    sign(keys, &request, host, date).map_err(|e| e.to_string())
}

/// An `Authorization: SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…` read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Reads an Authorization header of this scheme; `None` when it is not one.
pub fn parse_authorization(value: &str) -> Option<Authorization> {
    let rest = value.trim().strip_prefix(ALGORITHM)?.strip_prefix(' ')?;
    let (mut access, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, value) = part.trim().split_once('=')?;
        match key {
            "Access" => access = Some(value.to_string()),
            "SignedHeaders" => signed = Some(value.split(';').map(str::to_string).collect()),
            "Signature" => signature = Some(value.to_string()),
            _ => return None,
        }
    }
    Some(Authorization { access: access?, signed_headers: signed?, signature: signature? })
}

/// Whether two signatures are equal, in time that does not depend on where they differ.
pub fn same_signature(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn dates_are_basic_iso_utc() {
        let time = parse_date("20240102T030405Z").unwrap();
        assert_eq!(format_date(time), "20240102T030405Z");
        assert_eq!(time.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(), 1_704_164_645);
        for bad in ["2024-01-02T03:04:05Z", "20240102T030405", "20241302T030405Z", ""] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn uris_are_decoded_then_encoded_segment_by_segment() {
        assert_eq!(canonical_uri("/v3/users"), "/v3/users/");
        assert_eq!(canonical_uri("/v3/users/"), "/v3/users/");
        assert_eq!(canonical_uri("/a%20b/c:d/%7Eé"), "/a%20b/c%3Ad/~%C3%A9/");
        assert_eq!(canonical_uri("/"), "/");
    }

    #[test]
    fn queries_are_sorted_by_key_then_value() {
        let query = pairs(&[("b", "2"), ("a", "z"), ("a", "y"), ("serial", "iam:x:mfa/d"), ("e", "")]);
        assert_eq!(canonical_query(&query), "a=y&a=z&b=2&e=&serial=iam%3Ax%3Amfa%2Fd");
        assert_eq!(query_pairs(Some("a=1&b&c=x+y")), pairs(&[("a", "1"), ("b", ""), ("c", "x y")]));
    }

    /// A vector checked by hand: every step written out, then the HMAC of the string to sign.
    #[test]
    fn a_hand_checked_vector() {
        let headers = pairs(&[("Content-Type", "application/json "), ("X-Sdk-Date", "20240102T030405Z")]);
        let query = pairs(&[("user_id", "u1")]);
        let body = br#"{"a":1}"#;
        let request = Request { method: "post", path: "/v3/x", query: &query, headers: &headers, body };
        let signed = sign(&Keys::new("AK", "SK"), &request, "h:8080", SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(signed.added, pairs(&[("Host", "h:8080")]));
        let all = [headers.clone(), signed.added.clone()].concat();
        let canonical = canonical_request(&Request { headers: &all, ..request }, &signed_headers(&all));
        let expected = format!(
            "POST\n/v3/x/\nuser_id=u1\ncontent-type:application/json\nhost:h:8080\nx-sdk-date:20240102T030405Z\n\n\
             content-type;host;x-sdk-date\n{}",
            hex_sha256(body)
        );
        assert_eq!(canonical, expected);
        let sts = format!("SDK-HMAC-SHA256\n20240102T030405Z\n{}", hex_sha256(expected.as_bytes()));
        let mut mac = Hmac::<Sha256>::new_from_slice(b"SK").unwrap();
        mac.update(sts.as_bytes());
        let want = hex::encode(mac.finalize().into_bytes());
        assert_eq!(
            signed.authorization,
            format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=content-type;host;x-sdk-date, Signature={want}")
        );
        let parsed = parse_authorization(&signed.authorization).unwrap();
        assert_eq!((parsed.access.as_str(), parsed.signature.as_str()), ("AK", want.as_str()));
        assert!(same_signature(&want, &parsed.signature) && !same_signature(&want, "00"));
    }

    #[test]
    fn a_non_json_body_is_an_unsigned_payload_and_names_with_underscores_are_not_signed() {
        let headers = pairs(&[("Content-Type", "text/plain"), ("X_Odd", "v")]);
        let request = Request { method: "PUT", path: "/", query: &[], headers: &headers, body: b"x" };
        let signed = sign(&Keys::new("AK", "SK"), &request, "h", parse_date("20240102T030405Z").unwrap()).unwrap();
        assert_eq!(signed.added[0], (CONTENT_HASH_HEADER.to_string(), UNSIGNED_PAYLOAD.to_string()));
        assert!(signed.authorization.contains("SignedHeaders=content-type;host;x-sdk-content-sha256;x-sdk-date,"));
    }
}
