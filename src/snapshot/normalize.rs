//! Turns a case's exchanges into a stable transcript: volatile values are replaced by their
//! kind (`[user_id#1]`, `[serial#1]`, `[seed]`, `[code#1]`, `[timestamp]` …), equal values
//! keep equal placeholders, keys are sorted, parallel answers are counted.

use crate::api::OpKind;
use crate::client::Exchange;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The kind of volatile value a key carries.
fn kind_of_key(key: &str) -> Option<&'static str> {
    Some(match key {
        "user_id" | "id" => "user_id",
        "domain_id" => "domain_id",
        "serial_number" => "serial",
        "base32_string_seed" => "seed",
        "authentication_code" | "authentication_code_first" | "authentication_code_second" | "passcode" => "code",
        "expires_at" | "issued_at" | "create_time" | "password_expires_at" | "mfa_authn_at" => "timestamp",
        "password" => "password",
        _ => return None,
    })
}

fn is_hex_id(s: &str) -> bool {
    (16..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Placeholders for one case: the same value always gets the same placeholder.
#[derive(Default)]
pub struct Normalizer {
    seen: BTreeMap<String, String>,
    counts: BTreeMap<&'static str, usize>,
}

impl Normalizer {
    fn placeholder(&mut self, kind: &'static str, value: &str) -> String {
        if matches!(kind, "timestamp" | "password" | "seed") {
            return format!("[{kind}]");
        }
        if let Some(p) = self.seen.get(value) {
            return p.clone();
        }
        let n = self.counts.entry(kind).or_default();
        *n += 1;
        let p = format!("[{kind}#{n}]");
        self.seen.insert(value.to_string(), p.clone());
        p
    }

    /// Recognises a volatile value by its shape, whatever key holds it.
    fn by_shape(&mut self, s: &str) -> Option<String> {
        if s.starts_with("iam:") && s.contains(":mfa/") {
            return Some(self.placeholder("serial", s));
        }
        if s.starts_with("MII") && s.len() > 20 {
            return Some("[token]".into());
        }
        if is_hex_id(s) {
            return Some(self.placeholder("user_id", s));
        }
        if let Some(rest) = s.strip_prefix("mfa-harness-")
            && !rest.is_empty()
            && rest.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        {
            let kind = if rest.contains('-') { "user_name" } else { "device_name" };
            return Some(self.placeholder(kind, s));
        }
        None
    }

    /// A string with every value seen so far, and every id-shaped word, replaced.
    pub fn text(&mut self, s: &str) -> String {
        if let Some(p) = self.by_shape(s) {
            return p;
        }
        let mut out = s.to_string();
        let mut known: Vec<(String, String)> = self.seen.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        known.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        for (value, placeholder) in known {
            if value.len() >= 6 {
                out = out.replace(&value, &placeholder);
            }
        }
        let words: Vec<String> = out
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == ':' || c == '/'))
            .filter(|w| !w.is_empty())
            .map(|w| w.trim_end_matches(['.', ':', '/']).to_string())
            .collect();
        for word in words {
            if let Some(p) = self.by_shape(&word) {
                out = out.replace(&word, &p);
            }
        }
        out
    }

    /// A code that is not six ASCII digits but carries one (padded, a leading zero, other
    /// digits): its generated digits become a placeholder, the disguise stays visible.
    fn disguised_code(&mut self, s: &str) -> String {
        let trimmed = s.trim();
        let digits = trimmed.strip_prefix('0').filter(|d| d.len() == 6).unwrap_or(trimmed);
        if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
            let placeholder = self.placeholder("code", digits);
            return s.replacen(digits, &placeholder, 1);
        }
        if !trimmed.is_empty() && trimmed.chars().all(|c| c.is_numeric() && !c.is_ascii_digit()) {
            return format!("[non-ascii digits ×{}]", trimmed.chars().count());
        }
        self.text(s)
    }

    /// A JSON value normalized by key and by shape; object keys come out sorted.
    pub fn value(&mut self, key: Option<&str>, v: &Value) -> Value {
        match v {
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), self.value(Some(k), v))).collect::<Map<_, _>>())
            }
            Value::Array(items) => Value::Array(items.iter().map(|i| self.value(key, i)).collect()),
            Value::String(s) if s.is_empty() => v.clone(),
            Value::String(s) => Value::String(match key.and_then(kind_of_key) {
                Some("code") if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) => self.placeholder("code", s),
                Some("code") => self.disguised_code(s),
                Some(kind) => self.placeholder(kind, s),
                None => self.text(s),
            }),
            other => other.clone(),
        }
    }

    fn body(&mut self, bytes: &[u8]) -> Value {
        if bytes.is_empty() {
            return Value::Null;
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => self.value(None, &v),
            Err(_) => Value::String(self.text(&String::from_utf8_lossy(bytes))),
        }
    }

    /// Method, path template and the query with normalized values.
    fn request_line(&mut self, e: &Exchange) -> String {
        let (_, template) = e.kind.route();
        let mut line = format!("{} {}", e.method, template);
        let query = e.path.split_once('?').map(|(_, q)| q).unwrap_or("");
        if !query.is_empty() {
            let pairs: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| {
                    let v = match kind_of_key(&k) {
                        Some(kind) if !v.is_empty() => self.placeholder(kind, &v),
                        _ => self.text(&v),
                    };
                    format!("{k}={v}")
                })
                .collect();
            line.push('?');
            line.push_str(&pairs.join("&"));
        }
        line
    }

    /// One exchange: request line, path id, whether a token was sent, bodies, status,
    /// Content-Type. Headers other than Content-Type (tokens among them) are never kept.
    fn exchange(&mut self, step: usize, e: &Exchange) -> Value {
        let mut request = json!({"line": self.request_line(e), "token": e.token_sent});
        let path = e.path.split('?').next().unwrap_or("");
        if e.kind.route().1.contains("{user_id}")
            && let Some(id) = path.split('/').rev().nth(1)
        {
            let id = percent_encoding::percent_decode_str(id).decode_utf8_lossy().to_string();
            request["user_id"] = Value::String(self.placeholder("user_id", &id));
        }
        if let Some(body) = &e.request_body {
            request["body"] = self.body(body);
        }
        let body = match (e.cut_at, e.kind) {
            // Whatever a runaway body held up to the limit is not behaviour worth keeping.
            (Some(limit), _) => Value::String(format!("[body over {limit} bytes, cut]")),
            (None, OpKind::List) => self.own_devices_only(&e.body),
            (None, _) => self.body(&e.body),
        };
        json!({
            "step": step,
            "request": request,
            "status": e.status,
            "content_type": e.content_type.clone(),
            "body": body,
        })
    }

    /// A list answer names every device of the target, other runs' and other cases' too:
    /// only the devices of users this case knows are kept, so the transcript is stable.
    fn own_devices_only(&mut self, bytes: &[u8]) -> Value {
        let Ok(mut value) = serde_json::from_slice::<Value>(bytes) else { return self.body(bytes) };
        if let Some(items) = value.get_mut("virtual_mfa_devices").and_then(Value::as_array_mut) {
            items.retain(|d| d.get("user_id").and_then(Value::as_str).is_some_and(|id| self.seen.contains_key(id)));
            if let Some(map) = value.as_object_mut() {
                map.insert("(devices of other users)".into(), Value::String("omitted".into()));
            }
        }
        self.value(None, &value)
    }
}

/// The transcript of one case, as stable pretty JSON.
pub fn transcript(exchanges: &[(usize, Exchange)]) -> String {
    let mut n = Normalizer::default();
    let mut out = Vec::new();
    let mut i = 0;
    while i < exchanges.len() {
        let step = exchanges[i].0;
        let group: Vec<&Exchange> = exchanges[i..].iter().take_while(|(s, _)| *s == step).map(|(_, e)| e).collect();
        i += group.len();
        if group.len() == 1 {
            out.push(n.exchange(step, group[0]));
            continue;
        }
        let first = n.exchange(step, group[0]);
        let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
        let mut bodies: Vec<Value> = Vec::new();
        for e in &group {
            *statuses.entry(e.status.to_string()).or_default() += 1;
            let body = match e.cut_at {
                Some(limit) => Value::String(format!("[body over {limit} bytes, cut]")),
                None => n.body(&e.body),
            };
            if !bodies.contains(&body) {
                bodies.push(body);
            }
        }
        bodies.sort_by_key(|b| b.to_string());
        out.push(json!({
            "step": step,
            "parallel": group.len(),
            "request": first["request"],
            "statuses": statuses,
            "bodies": bodies,
        }));
    }
    serde_json::to_string_pretty(&Value::Array(out)).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn exchange(kind: OpKind, path: &str, request: Option<Value>, status: u16, body: Value) -> Exchange {
        Exchange {
            kind,
            method: kind.route().0,
            path: path.into(),
            token_sent: true,
            request_body: request.map(|r| r.to_string().into_bytes()),
            status,
            content_type: Some("application/json".into()),
            content_length: None,
            subject_token: Some("MIIsecret-token-value".into()),
            location: None,
            retry_after: None,
            body: if body.is_null() { Vec::new() } else { body.to_string().into_bytes() },
            cut_at: None,
            elapsed: Duration::from_millis(3),
        }
    }

    #[test]
    fn equal_values_share_placeholders_and_secrets_vanish() {
        let uid = "0123456789abcdef0123456789abcdef";
        let serial = "iam:fedcba9876543210fedcba9876543210:mfa/mfa-harness-1a2b3c4d";
        let seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        let create = json!({"virtual_mfa_device": {"name": "mfa-harness-1a2b3c4d", "user_id": uid}});
        let bind = json!({"user_id": uid, "serial_number": serial,
            "authentication_code_first": "123456", "authentication_code_second": "654321"});
        let run = vec![
            (
                1,
                exchange(
                    OpKind::Create,
                    "/v3.0/OS-MFA/virtual-mfa-devices",
                    Some(create),
                    201,
                    json!({"virtual_mfa_device": {"serial_number": serial, "base32_string_seed": seed}}),
                ),
            ),
            (2, exchange(OpKind::Bind, "/v3.0/OS-MFA/mfa-devices/bind", Some(bind), 204, Value::Null)),
            (
                3,
                exchange(
                    OpKind::Query,
                    &format!("/v3.0/OS-MFA/users/{uid}/virtual-mfa-device"),
                    None,
                    404,
                    json!({"error_msg": format!("Could not find user: {uid}."), "error_code": "IAM.0004"}),
                ),
            ),
        ];
        let text = transcript(&run);
        for secret in [uid, serial, seed, "123456", "654321", "MIIsecret"] {
            assert!(!text.contains(secret), "{secret} in\n{text}");
        }
        assert_eq!(text.matches("[user_id#1]").count(), 4, "{text}");
        assert_eq!(text.matches("[serial#1]").count(), 2);
        assert!(text.contains("[seed]") && text.contains("[code#1]") && text.contains("[code#2]"));
        assert!(text.contains("Could not find user: [user_id#1]."), "{text}");
        assert!(text.contains("GET /v3.0/OS-MFA/users/{user_id}/virtual-mfa-device"));
    }

    #[test]
    fn transcripts_of_different_ids_are_identical_and_parallel_answers_are_counted() {
        let make = |uid: &str, order: &[u16]| {
            let body = json!({"virtual_mfa_device": {"user_id": uid, "serial_number": format!("iam:{uid}:mfa/x")}});
            let path = format!("/v3.0/OS-MFA/users/{uid}/virtual-mfa-device");
            let mut run = vec![(1, exchange(OpKind::Query, &path, None, 200, body))];
            for status in order {
                run.push((2, exchange(OpKind::Bind, "/v3.0/OS-MFA/mfa-devices/bind", None, *status, Value::Null)));
            }
            transcript(&run)
        };
        let a = make("0123456789abcdef0123456789abcdef", &[204, 409, 409]);
        let b = make("ffffffffffffffffffffffffffffffff", &[409, 409, 204]);
        assert_eq!(a, b);
        assert!(a.contains("\"parallel\": 3") && a.contains("\"409\": 2"), "{a}");
    }
}
