//! Which proxy a request to the target goes through: the one rule every client follows
//! (reqwest, goose's client and the load test's own connections), as curl reads it.
//!
//! - `--proxy URL`: every request, loopback targets too.
//! - `--no-proxy`: none.
//! - otherwise the environment: `https_proxy`/`HTTPS_PROXY` for `https://` targets,
//!   `http_proxy`/`HTTP_PROXY` for `http://` ones, `all_proxy`/`ALL_PROXY` for either (the
//!   lower-case name first), unless `no_proxy`/`NO_PROXY` names the host: a comma list of
//!   `*`, host names (`example.com` and `.example.com` both match it and its sub-domains),
//!   `host:port`, IP addresses and CIDR ranges (`10.0.0.0/8`). A loopback target (the embedded
//!   server, `localhost`, 127.0.0.0/8, ::1) is never proxied by the environment.

use super::network::ProxyChoice;
use std::net::IpAddr;

/// The proxy chosen for a target, and where the choice came from.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyRoute {
    /// `http://[user:password@]host:port`: credentials are in the URL.
    pub url: url::Url,
    /// `--proxy` or the environment variable's name.
    pub source: String,
}

/// Credentials are never printed.
impl std::fmt::Debug for ProxyRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProxyRoute({} from {})", display(&self.url), self.source)
    }
}

/// A proxy URL for messages: without its credentials.
pub fn display(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

/// The proxy for `target`, reading the process environment.
pub fn proxy_for(target: &url::Url, choice: &ProxyChoice) -> Option<ProxyRoute> {
    proxy_for_with(target, choice, &|name| std::env::var(name).ok())
}

/// The proxy for `target` with `env` as the environment (for tests).
pub fn proxy_for_with(
    target: &url::Url,
    choice: &ProxyChoice,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<ProxyRoute> {
    match choice {
        ProxyChoice::None => None,
        ProxyChoice::Url(url) => Some(ProxyRoute { url: parse(url).ok()?, source: "--proxy".into() }),
        ProxyChoice::Environment => {
            let host = target.host()?;
            let port = target.port_or_known_default()?;
            if is_loopback(&host) {
                return None;
            }
            let (name, value) = environment_proxy(target.scheme(), env)?;
            if let Some(list) = read(env, "no_proxy")
                && no_proxy_matches(&list, &host, port)
            {
                return None;
            }
            Some(ProxyRoute { url: parse(&value).ok()?, source: name })
        }
    }
}

/// The variables that name proxies, lower-case first, for a target of `scheme`.
fn names(scheme: &str) -> &'static [&'static str] {
    match scheme {
        "https" => &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"],
        _ => &["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"],
    }
}

fn environment_proxy(scheme: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<(String, String)> {
    names(scheme).iter().find_map(|name| env(name).filter(|v| !v.trim().is_empty()).map(|v| (name.to_string(), v)))
}

/// `no_proxy`, else `NO_PROXY`.
fn read(env: &dyn Fn(&str) -> Option<String>, lower: &str) -> Option<String> {
    env(lower).or_else(|| env(&lower.to_ascii_uppercase()))
}

/// The passwords of every proxy the run may use (`--proxy` and the environment's), for the
/// redactor: as written in the URL and percent-decoded.
pub fn passwords(choice: &ProxyChoice) -> Vec<String> {
    let mut urls: Vec<String> = ["https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .collect();
    if let ProxyChoice::Url(url) = choice {
        urls.push(url.clone());
    }
    let mut found = Vec::new();
    for password in urls.iter().filter_map(|u| parse(u).ok()).filter_map(|u| u.password().map(str::to_string)) {
        found.push(percent_encoding::percent_decode_str(&password).decode_utf8_lossy().into_owned());
        found.push(password);
    }
    found
}

/// Checks every proxy variable that is set: an unusable one is named (exit 2) before any
/// request is sent, rather than skipped.
pub fn check_environment(env: &dyn Fn(&str) -> Option<String>) -> Result<(), String> {
    for name in ["https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"] {
        if let Some(value) = env(name).filter(|v| !v.trim().is_empty()) {
            parse(&value).map_err(|problem| format!("{name} {problem}; fix it, or give --no-proxy or --proxy"))?;
        }
    }
    Ok(())
}

/// A proxy URL; `host:port` alone means `http://host:port`, as curl reads it.
pub fn parse(text: &str) -> Result<url::Url, String> {
    let text = text.trim();
    let with_scheme = if text.contains("://") { text.to_string() } else { format!("http://{text}") };
    let shown = || url::Url::parse(&with_scheme).map(|u| display(&u)).unwrap_or_else(|_| "the value".into());
    let url = url::Url::parse(&with_scheme).map_err(|e| format!("'{}' is not a proxy URL ({e})", shown()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("'{}' is not an http:// or https:// proxy", shown()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("'{}' names no proxy host", shown()));
    }
    Ok(url)
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost") || name.ends_with(".localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Whether a `NO_PROXY` list names `host` (at `port`).
pub fn no_proxy_matches(list: &str, host: &url::Host<&str>, port: u16) -> bool {
    let ip: Option<IpAddr> = match host {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(*ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(*ip)),
        url::Host::Domain(_) => None,
    };
    let name = match host {
        url::Host::Domain(name) => name.trim_end_matches('.').to_ascii_lowercase(),
        _ => String::new(),
    };
    list.split([',', ' ']).map(str::trim).filter(|e| !e.is_empty()).any(|entry| {
        if entry == "*" {
            return true;
        }
        if let Some((range, bits)) = entry.split_once('/') {
            return match (ip, range.parse::<IpAddr>(), bits.parse::<u8>()) {
                (Some(ip), Ok(range), Ok(bits)) => in_cidr(ip, range, bits),
                _ => false,
            };
        }
        let (entry_host, entry_port) = split_port(entry);
        if entry_port.is_some_and(|p| p != port) {
            return false;
        }
        match (ip, entry_host.trim_matches(['[', ']']).parse::<IpAddr>()) {
            (Some(ip), Ok(entry_ip)) => ip == entry_ip,
            (Some(_), Err(_)) | (None, Ok(_)) => false,
            (None, Err(_)) => {
                let domain = entry_host.trim_start_matches('.').trim_end_matches('.').to_ascii_lowercase();
                !domain.is_empty() && (name == domain || name.ends_with(&format!(".{domain}")))
            }
        }
    })
}

/// `host:port` → (host, port); `[::1]:80` too; a bare IPv6 address has no port.
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[')
        && let Some((host, after)) = rest.split_once(']')
    {
        return (host, after.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(port) => (host, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

fn in_cidr(ip: IpAddr, range: IpAddr, bits: u8) -> bool {
    match (ip, range) {
        (IpAddr::V4(ip), IpAddr::V4(range)) if bits <= 32 => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(ip) & mask == u32::from(range) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(range)) if bits <= 128 => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(ip) & mask == u128::from(range) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn pick(target: &str, choice: &ProxyChoice, vars: &[(&str, &str)]) -> Option<String> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let target = url::Url::parse(target).unwrap();
        proxy_for_with(&target, choice, &|name| vars.get(name).cloned()).map(|r| format!("{} {}", r.source, r.url))
    }

    const ENV: ProxyChoice = ProxyChoice::Environment;

    #[test]
    fn the_scheme_picks_the_variable_lower_case_first() {
        let vars = [("HTTPS_PROXY", "http://s:1"), ("http_proxy", "http://h:2"), ("HTTP_PROXY", "http://H:3")];
        assert_eq!(pick("https://iam.example", &ENV, &vars).as_deref(), Some("HTTPS_PROXY http://s:1/"));
        assert_eq!(pick("http://iam.example", &ENV, &vars).as_deref(), Some("http_proxy http://h:2/"));
        let all = [("ALL_PROXY", "proxy.example:3128")];
        assert_eq!(pick("https://iam.example", &ENV, &all).as_deref(), Some("ALL_PROXY http://proxy.example:3128/"));
        assert_eq!(pick("https://iam.example", &ENV, &[("http_proxy", "http://h:2")]), None);
        assert_eq!(pick("https://iam.example", &ENV, &[]), None);
    }

    #[test]
    fn loopback_is_never_proxied_by_the_environment_but_is_by_the_flag() {
        let vars = [("HTTP_PROXY", "http://p:1"), ("HTTPS_PROXY", "http://p:1")];
        for target in ["http://127.0.0.1:8080", "https://localhost:1", "http://[::1]:9", "http://127.3.4.5"] {
            assert_eq!(pick(target, &ENV, &vars), None, "{target}");
            let flag = ProxyChoice::Url("http://u:pw@p:1".into());
            assert_eq!(pick(target, &flag, &vars).as_deref(), Some("--proxy http://u:pw@p:1/"), "{target}");
            assert_eq!(pick(target, &ProxyChoice::None, &vars), None);
        }
    }

    #[test]
    fn no_proxy_follows_curl() {
        let matches = |list: &str, h: &str, port: u16| {
            let url = url::Url::parse(&format!("http://{h}/")).unwrap();
            no_proxy_matches(list, &url.host().unwrap(), port)
        };
        assert!(matches("*", "anything.example", 443));
        assert!(matches("example.com", "example.com", 443));
        assert!(matches("example.com", "iam.example.com", 443));
        assert!(matches(".example.com", "iam.example.com", 443));
        assert!(matches(".example.com", "example.com", 443));
        assert!(matches("EXAMPLE.com.", "Iam.Example.COM", 443));
        assert!(!matches("example.com", "badexample.com", 443));
        assert!(!matches("iam.example.com", "example.com", 443));
        assert!(matches("other, example.com:8443", "iam.example.com", 8443));
        assert!(!matches("example.com:8443", "iam.example.com", 443));
        assert!(matches("10.1.2.3", "10.1.2.3", 80));
        assert!(!matches("10.1.2.3", "10.1.2.4", 80));
        assert!(matches("10.0.0.0/8", "10.200.3.4", 80));
        assert!(!matches("10.0.0.0/8", "11.0.0.1", 80));
        assert!(matches("fd00::/8", "[fd12::1]", 80));
        assert!(matches("[fd12::1]:80", "[fd12::1]", 80));
        assert!(!matches("10.0.0.0/8", "ten.example", 80));
        assert!(!matches("", "example.com", 80));
    }

    #[test]
    fn no_proxy_in_the_environment_skips_the_proxy() {
        let vars = [("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", "internal.example")];
        assert_eq!(pick("https://iam.internal.example", &ENV, &vars), None);
        assert!(pick("https://iam.example", &ENV, &vars).is_some());
        let lower = [("HTTPS_PROXY", "http://p:1"), ("no_proxy", "*"), ("NO_PROXY", "")];
        assert_eq!(pick("https://iam.example", &ENV, &lower), None);
    }

    #[test]
    fn unusable_proxy_variables_are_named_without_credentials() {
        let vars: HashMap<&str, &str> = [("HTTPS_PROXY", "socks5://user:SECRET@p:1")].into();
        let e = check_environment(&|n| vars.get(n).map(|v| v.to_string())).unwrap_err();
        assert!(e.starts_with("HTTPS_PROXY 'socks5://p:1' is not an http:// or https:// proxy"), "{e}");
        assert!(!e.contains("SECRET"));
        assert!(check_environment(&|_| None).is_ok());
        let route = ProxyRoute { url: parse("http://u:SECRET@p:1").unwrap(), source: "--proxy".into() };
        assert_eq!(format!("{route:?}"), "ProxyRoute(http://p:1/ from --proxy)");
    }
}
