//! `mfa-harness sign`: the Authorization and X-Sdk-Date headers of one AK/SK-signed request,
//! to use with curl.

use crate::error::{Result, UsageError};
use crate::sign::Keys;
use clap::Args;
use std::path::PathBuf;
use std::time::SystemTime;

/// What `sign` signs.
#[derive(Debug)]
pub struct SignPlan {
    pub keys: Keys,
    pub method: String,
    pub url: String,
    /// `Name: value` as given (the name's case kept: the SDK looks `Content-Type` up by that name).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The X-Sdk-Date; now when not given.
    pub date: SystemTime,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// HTTP method.
    #[arg(long, default_value = "GET")]
    pub method: String,
    /// The request's full URL, query included, e.g. 'https://iam.example/v3/users?a=1'.
    #[arg(long)]
    pub url: String,
    /// A header the request is sent with and that is signed, 'Name: value' (repeatable); give
    /// curl the same ones.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// The request body.
    #[arg(long, conflicts_with = "body_file")]
    pub body: Option<String>,
    /// The request body, read from FILE.
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
    /// The X-Sdk-Date to sign with, YYYYMMDDTHHMMSSZ [default: now].
    #[arg(long, value_name = "YYYYMMDDTHHMMSSZ")]
    pub date: Option<String>,
    /// Access key (AK).
    #[arg(long, env = "MFA_ACCESS_KEY")]
    pub access_key: String,
    /// Secret key (SK).
    #[arg(long, env = "MFA_SECRET_KEY", hide_env_values = true)]
    pub secret_key: String,
}

impl SignArgs {
    pub fn into_plan(self) -> Result<SignPlan> {
        let mut headers = Vec::new();
        for text in &self.headers {
            let Some((name, value)) = text.split_once(':') else {
                let problem = format!("'{text}' is not a header; write it as 'Name: value'");
                return Err(UsageError::Flag { flag: "--header", problem }.into());
            };
            headers.push((name.trim().to_string(), value.to_string()));
        }
        let body = match (self.body, &self.body_file) {
            (Some(text), _) => text.into_bytes(),
            (None, Some(file)) => std::fs::read(file).map_err(|source| UsageError::Read {
                what: "the body file",
                path: file.clone(),
                source,
            })?,
            (None, None) => Vec::new(),
        };
        let date = match &self.date {
            Some(text) => crate::sign::parse_date(text)
                .map_err(|e| UsageError::Flag { flag: "--date", problem: e.to_string() })?,
            None => SystemTime::now(),
        };
        if self.access_key.is_empty() || self.secret_key.is_empty() {
            let problem = "the access key and the secret key must not be empty".to_string();
            return Err(UsageError::Flag { flag: "--access-key", problem }.into());
        }
        Ok(SignPlan {
            keys: Keys::new(self.access_key, self.secret_key),
            method: self.method,
            url: self.url,
            headers,
            body,
            date,
        })
    }
}

/// `serve --access-key AK:SK` (the value is never repeated in an error: it holds a secret).
pub fn parse_key_pair(text: &str) -> Result<Keys> {
    match text.split_once(':') {
        Some((access, secret)) if !access.is_empty() && !secret.is_empty() => Ok(Keys::new(access, secret)),
        _ => Err(UsageError::Flag {
            flag: "--access-key",
            problem: "write it as ACCESS_KEY:SECRET_KEY, both not empty".into(),
        }
        .into()),
    }
}
