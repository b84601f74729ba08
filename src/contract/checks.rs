//! Judges one exchange against its step: status, schema, values, and the rules every answer
//! must keep (no seed outside create, JSON labelled as JSON).

use super::build::CaseState;
use super::case::{Severity, Step};
use super::report::{Finding, RequestView, ResponseView, SchemaFailure};
use crate::api::OpKind;
use crate::client::Exchange;
use crate::sanitize;
use crate::schemas::Schemas;
use crate::target::Redactor;
use serde_json::Value;

/// Longest body excerpt a finding shows.
const BODY_EXCERPT: usize = 600;
/// At most this many schema findings per answer.
const MAX_SCHEMA_FINDINGS: usize = 3;

/// What a check of one step knows.
pub struct StepContext<'a> {
    pub step: &'a Step,
    pub number: usize,
    pub severity: Severity,
    pub state: &'a CaseState,
    pub redactor: &'a Redactor,
    pub schemas: &'a Schemas,
    pub strict: bool,
}

/// The request of an exchange as a finding shows it: tokens never, other secrets redacted.
pub fn request_view(exchange: &Exchange, redactor: &Redactor) -> RequestView {
    RequestView {
        method: exchange.method.to_string(),
        path: sanitize::for_terminal(&redactor.redact(&exchange.path)),
        token: if exchange.token_sent { "[redacted]" } else { "none" },
        body: exchange.request_body.as_ref().map(|b| {
            sanitize::for_terminal(&sanitize::truncate(&redactor.redact(&String::from_utf8_lossy(b)), BODY_EXCERPT))
        }),
    }
}

/// The answer of an exchange as a finding shows it.
pub fn response_view(exchange: &Exchange, redactor: &Redactor) -> ResponseView {
    // Redacted before it is cut: a secret cut in half would no longer match.
    let body = sanitize::truncate(&redactor.redact(&String::from_utf8_lossy(&exchange.body)), BODY_EXCERPT);
    ResponseView {
        status: exchange.status,
        content_type: exchange.content_type.as_deref().map(sanitize::for_terminal),
        body: sanitize::for_terminal(&body),
        location: exchange.location.as_deref().map(|l| location_view(l, redactor)),
    }
}

/// A `Location` header as findings show it: no userinfo, secrets redacted, truncated.
fn location_view(location: &str, redactor: &Redactor) -> String {
    let shown = redactor.redact(&crate::target::display_url(location));
    sanitize::for_terminal(&sanitize::truncate(&shown, 200))
}

impl StepContext<'_> {
    fn finding(&self, exchange: &Exchange, severity: Severity, check: &str, message: String) -> Finding {
        Finding {
            severity,
            step: self.number,
            operation: self.step.op.name().to_string(),
            check: check.to_string(),
            message: sanitize::for_terminal(&self.redactor.redact(&message)),
            request: Some(request_view(exchange, self.redactor)),
            response: Some(response_view(exchange, self.redactor)),
            schema: None,
        }
    }

    /// Every finding of one exchange.
    pub fn check(&self, exchange: &Exchange) -> Vec<Finding> {
        let mut findings = Vec::new();
        let step = self.step;
        let status = exchange.status;
        if !step.expect.contains(&status) {
            let answered = match (&exchange.location, exchange.is_redirect()) {
                (Some(l), true) => {
                    format!("{} to {} (never followed)", exchange.status_line(), location_view(l, self.redactor))
                }
                (None, true) => format!("{} (never followed)", exchange.status_line()),
                _ => status.to_string(),
            };
            let message = format!("answered {answered}; the contract allows {}", list(&step.expect));
            findings.push(self.finding(exchange, self.severity, "status", message));
        } else if !step.prefer.is_empty() && !step.prefer.contains(&status) {
            let message = format!("answered {status}; the documentation prefers {}", list(&step.prefer));
            findings.push(self.finding(exchange, Severity::Should, "preferred-status", message));
        }
        let json = exchange.json();
        // A body cut at --max-body is judged by its size alone (see `universal`).
        if step.schema && exchange.cut_at.is_none() {
            for violation in self
                .schemas
                .validate_response(step.op, status, &exchange.body, self.strict)
                .into_iter()
                .take(MAX_SCHEMA_FINDINGS)
            {
                let mut f = self.finding(exchange, self.severity, "schema", violation.message.clone());
                f.schema = Some(SchemaFailure {
                    schema: violation.schema.clone(),
                    keyword: violation.keyword.clone(),
                    pointer: violation.instance_pointer.clone(),
                    schema_pointer: violation.schema_pointer.clone(),
                });
                findings.push(f);
            }
        }
        for (pointer, template) in &step.equals {
            let expected = self.state.expand(template);
            let actual = json.as_ref().and_then(|v| v.pointer(pointer));
            if actual.and_then(Value::as_str) != Some(expected.as_str()) {
                let shown = actual.map_or("nothing".to_string(), |v| sanitize::truncate(&v.to_string(), 120));
                let message = format!("{pointer} is {shown}; expected \"{expected}\"");
                findings.push(self.finding(exchange, self.severity, "equals", message));
            }
        }
        for (pointer, wanted) in &step.contains {
            let array = json.as_ref().and_then(|v| v.pointer(pointer)).and_then(Value::as_array);
            if !array.is_some_and(|items| items.iter().any(|i| i.as_str() == Some(wanted.as_str()))) {
                let shown = json
                    .as_ref()
                    .and_then(|v| v.pointer(pointer))
                    .map_or("nothing".to_string(), |v| sanitize::truncate(&v.to_string(), 120));
                let message = format!("{pointer} is {shown}; it must contain \"{wanted}\"");
                findings.push(self.finding(exchange, self.severity, "contains", message));
            }
        }
        for pointer in &step.absent {
            if json.as_ref().and_then(|v| v.pointer(pointer)).is_some() {
                let message = format!("{pointer} is present; the contract never returns it here");
                findings.push(self.finding(exchange, self.severity, "absent", message));
            }
        }
        if let (Some(expected), true) = (step.lists_subject, (200..300).contains(&status)) {
            let user_id = self.state.user_id(step.subject);
            let serial = self.state.serial(step.subject);
            let listed =
                json.as_ref().and_then(|v| v.pointer("/virtual_mfa_devices")).and_then(Value::as_array).is_some_and(
                    |devices| {
                        devices.iter().any(|d| {
                            d.get("serial_number").and_then(Value::as_str) == Some(serial.as_str())
                                && d.get("user_id").and_then(Value::as_str) == Some(user_id.as_str())
                        })
                    },
                );
            if listed != expected {
                let message = if expected {
                    format!("the list does not contain the device {serial} of user {user_id}")
                } else {
                    format!("the list still contains the device {serial} of user {user_id}")
                };
                findings.push(self.finding(exchange, self.severity, "listed", message));
            }
        }
        findings.extend(self.universal(exchange));
        findings
    }

    /// The documented reading an answer implements, where the step lists several.
    pub fn reading(&self, exchange: &Exchange) -> Option<String> {
        let text = self.step.readings.get(&exchange.status.to_string())?;
        Some(format!("step {} {} → {}: {text}", self.number, self.step.op, exchange.status))
    }

    /// Rules every answer keeps, whatever the step expects.
    pub fn universal(&self, exchange: &Exchange) -> Vec<Finding> {
        let mut findings = Vec::new();
        if let Some(limit) = exchange.cut_at {
            let message = format!(
                "the body exceeds {limit} bytes (--max-body) and was not read further; the API answers small JSON \
                 documents"
            );
            findings.push(self.finding(exchange, Severity::Must, "body-size", message));
        }
        if self.step.op != OpKind::Create {
            let leaked =
                self.state.devices.values().filter_map(|d| d.seed_forms.as_ref()).any(|s| s.leaked_in(&exchange.body));
            if leaked {
                let message = "the answer contains the device's TOTP seed; only create may return it".to_string();
                findings.push(self.finding(exchange, Severity::Must, "seed-leak", message));
            }
        }
        if self.step.op == OpKind::List
            && exchange.status == 200
            && let Some(devices) =
                exchange.json().and_then(|v| v.get("virtual_mfa_devices").and_then(|d| d.as_array().cloned()))
        {
            let mut serials: Vec<String> =
                devices.iter().filter_map(|d| d.get("serial_number").map(|s| s.to_string())).collect();
            let all = serials.len();
            serials.sort();
            serials.dedup();
            if serials.len() != all {
                let message =
                    format!("the list shows {} devices but only {} distinct serial numbers", all, serials.len());
                findings.push(self.finding(exchange, Severity::Must, "listed", message));
            }
        }
        if exchange.status == 204 {
            let length = exchange.content_length.as_deref().unwrap_or("0").trim();
            if !exchange.body.is_empty() || length != "0" {
                let message = format!(
                    "204 No Content with a body ({} bytes, Content-Length {length}); a 204 carries none",
                    exchange.body.len()
                );
                findings.push(self.finding(exchange, Severity::Must, "empty-204", message));
            }
        }
        if exchange.status >= 400
            && let Some(code) =
                exchange.json().and_then(|v| v.get("error_code").and_then(|c| c.as_str().map(str::to_string)))
            && let Some((documented, severity)) = error_code_status(&code)
            && documented != exchange.status
        {
            let message = format!(
                "error_code {code} belongs to status {documented} (iam_02_0006), but the answer is {}",
                exchange.status
            );
            findings.push(self.finding(exchange, severity, "error-code", message));
        }
        if !exchange.body.is_empty() {
            let content_type = exchange.content_type.as_deref().unwrap_or("");
            if !content_type.to_ascii_lowercase().starts_with("application/json") {
                let message =
                    format!("a body labelled Content-Type '{content_type}'; JSON answers should be application/json");
                findings.push(self.finding(exchange, Severity::Should, "content-type", message));
            }
        }
        findings
    }
}

/// The status an IAM error code belongs to, by the error table (spec §3.3): `must` for the
/// codes the seed pages pair with their status (IAM.0001–0007), `should` for the rest of the
/// table (partly readable on Huawei's site, §5.15). Unknown codes are not judged.
pub fn error_code_status(code: &str) -> Option<(u16, Severity)> {
    let (status, severity) = match code {
        "IAM.0001" => (401, Severity::Must),
        "IAM.0002" | "IAM.0003" => (403, Severity::Must),
        "IAM.0004" => (404, Severity::Must),
        "IAM.0005" => (409, Severity::Must),
        "IAM.0006" => (500, Severity::Must),
        "IAM.0007" => (400, Severity::Must),
        "IAM.0008" | "IAM.0009" | "IAM.0010" | "IAM.0011" | "IAM.0072" | "IAM.0073" => (400, Severity::Should),
        "IAM.1061" | "IAM.1062" | "IAM.1101" | "IAM.1102" | "IAM.1103" => (400, Severity::Should),
        "IAM.0012" => (429, Severity::Should),
        "IAM.0061" | "IAM.0062" | "IAM.0063" | "IAM.0064" | "IAM.0066" | "IAM.0067" => (401, Severity::Should),
        "IAM.0080" | "IAM.0081" | "IAM.0082" => (403, Severity::Should),
        _ => return None,
    };
    Some((status, severity))
}

fn list(statuses: &[u16]) -> String {
    statuses.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
}
