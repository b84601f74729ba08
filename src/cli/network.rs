//! How requests reach the target: the flags behind [`crate::client::Network`].

use crate::client::{Network, ProxyChoice, TlsOptions};
use crate::error::{Result, UsageError};
use crate::flags::parse_timeout;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

/// Timeouts, body limit, headers, TLS, proxy and rate; shared by `check`, `load` and `snapshot`.
#[derive(Debug, Clone, Args)]
pub struct NetworkArgs {
    /// Per-request timeout, e.g. 10s, 500ms.
    #[arg(long, default_value = "10s", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// Largest answer body read, e.g. 1MiB, 64KiB, 4096: reading stops there, and a longer
    /// answer is a finding (a provisioning answer: exit 3).
    #[arg(long, value_name = "BYTES", default_value = "1MiB", value_parser = crate::client::parse_max_body)]
    pub max_body: usize,
    /// A header sent on every request, 'Name: value' (repeatable), e.g. for an API gateway.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE", value_parser = parse_header)]
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// PEM file of a certificate authority to trust besides the system's (repeatable).
    #[arg(long = "ca-cert", value_name = "FILE")]
    pub ca_certs: Vec<PathBuf>,
    /// Accept any TLS certificate, even an expired or self-signed one (a warning says so).
    #[arg(long)]
    pub insecure: bool,
    /// PEM certificate (chain) presented to the target, for mutual TLS; needs --client-key.
    #[arg(long, value_name = "FILE", requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// PEM private key of --client-cert.
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// Send every request through this proxy (http:// or https://), loopback targets too
    /// [default: HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY, as curl reads them].
    #[arg(long, value_name = "URL", conflicts_with = "no_proxy")]
    pub proxy: Option<String>,
    /// Never use a proxy, whatever the environment says.
    #[arg(long)]
    pub no_proxy: bool,
    /// At most this many requests per second (check and snapshot), e.g. 20 or 20/s.
    #[arg(long, value_name = "N/s", value_parser = parse_rate)]
    pub rate_limit: Option<f64>,
}

/// `--header 'Name: value'`.
pub fn parse_header(text: &str) -> std::result::Result<(http::HeaderName, http::HeaderValue), String> {
    let Some((name, value)) = text.split_once(':') else {
        return Err(format!("'{text}' is not a header; write it as 'Name: value'"));
    };
    let name = http::HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| format!("'{}' is not a header name", name.trim()))?;
    let value = http::HeaderValue::from_str(value.trim())
        .map_err(|_| format!("the value of header '{name}' holds characters a header cannot"))?;
    Ok((name, value))
}

/// `--rate-limit 20` or `20/s`: above 0.
pub fn parse_rate(text: &str) -> std::result::Result<f64, String> {
    let number = text.trim().strip_suffix("/s").unwrap_or(text.trim());
    match number.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!("'{text}' is not a rate above 0 such as 20 or 20/s")),
    }
}

/// Checks that `url` (the value of `flag`) is an http or https URL: exit 2 naming the flag,
/// with `example` and what it `must` be.
pub fn http_url(flag: &'static str, url: &str, example: &str, must: &str) -> Result<()> {
    let parsed = url::Url::parse(url)
        .map_err(|e| UsageError::Flag { flag, problem: format!("'{url}' is not a URL ({e}); use e.g. {example}") })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UsageError::Flag { flag, problem: format!("'{url}' must be {must}") }.into());
    }
    Ok(())
}

impl NetworkArgs {
    pub fn into_network(self) -> Result<Network> {
        let proxy = match (self.proxy, self.no_proxy) {
            (Some(url), _) => {
                http_url("--proxy", &url, "http://proxy.example:3128", "an http:// or https:// proxy")?;
                ProxyChoice::Url(url)
            }
            (None, true) => ProxyChoice::None,
            (None, false) => {
                crate::client::proxy::check_environment(&|name| std::env::var(name).ok())
                    .map_err(|problem| UsageError::Flag { flag: "the environment's", problem })?;
                ProxyChoice::Environment
            }
        };
        let mut network = Network {
            timeout: self.timeout,
            max_body: self.max_body,
            headers: self.headers,
            tls: TlsOptions {
                ca_certs: self.ca_certs,
                insecure: self.insecure,
                client_cert: self.client_cert,
                client_key: self.client_key,
            },
            tls_config: None,
            proxy,
            rate_limit: self.rate_limit,
        };
        network
            .load_tls()
            .map_err(|e| UsageError::Flag { flag: e.flag, problem: format!("{}: {}", e.path.display(), e.problem) })?;
        Ok(network)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_name_colon_value() {
        let (name, value) = parse_header("X-Gateway-Key:  abc def ").unwrap();
        assert_eq!((name.as_str(), value.to_str().unwrap()), ("x-gateway-key", "abc def"));
        assert!(parse_header("no colon").unwrap_err().contains("Name: value"));
        assert!(parse_header("bad name: v").unwrap_err().contains("not a header name"));
        assert!(parse_header("X-A: line\nbreak").unwrap_err().contains("cannot"));
    }

    #[test]
    fn rates_are_positive_per_second() {
        assert_eq!(parse_rate("20"), Ok(20.0));
        assert_eq!(parse_rate("2.5/s"), Ok(2.5));
        for bad in ["0", "-1", "fast", "inf", "NaN"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }
}
