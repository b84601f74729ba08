//! TLS failures in words: rustls's errors print as Rust `Debug` (`invalid peer certificate:
//! Other(OtherError(CaUsedAsEndEntity))`), which says little to someone pointing the harness
//! at an `https://` target.

use rustls::{CertificateError, Error};

/// The first rustls error in `error`'s chain, in words. `io::Error`s are looked into (their
/// `source` skips the error they wrap, and reqwest's TLS failure is two of them deep).
pub fn describe(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<Error>() {
            return Some(words(tls));
        }
        current = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

/// One rustls error in words, `TLS: …`.
pub fn words(error: &Error) -> String {
    let text = match error {
        Error::InvalidCertificate(certificate) => certificate_words(certificate),
        Error::InvalidMessage(_) | Error::InappropriateMessage { .. } | Error::InappropriateHandshakeMessage { .. } => {
            "the target does not speak TLS there (is it a plain http:// server?)".to_string()
        }
        Error::AlertReceived(rustls::AlertDescription::CertificateRequired) => {
            "the target requires a client certificate; give --client-cert and --client-key".to_string()
        }
        Error::AlertReceived(rustls::AlertDescription::BadCertificate | rustls::AlertDescription::UnknownCA) => {
            "the target refused our client certificate (--client-cert)".to_string()
        }
        Error::AlertReceived(alert) => format!("the target refused the handshake (alert: {alert:?})"),
        Error::PeerIncompatible(why) => format!("the target has no TLS version or cipher suite in common ({why:?})"),
        Error::NoCertificatesPresented => "the target presented no certificate".to_string(),
        other => other.to_string(),
    };
    format!("TLS: {text}")
}

fn certificate_words(error: &CertificateError) -> String {
    match error {
        CertificateError::UnknownIssuer => "the certificate is not trusted (UnknownIssuer)".into(),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => "the certificate has expired".into(),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "the certificate is not valid yet (is the clock right?)".into()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "the certificate is for another host name".into()
        }
        CertificateError::Revoked => "the certificate was revoked".into(),
        CertificateError::BadSignature => "the certificate's signature does not verify".into(),
        CertificateError::Other(other) => {
            format!("the certificate is not trusted ({other}; is it self-signed?)")
        }
        other => format!("the certificate is not accepted ({other:?})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_errors_are_described_in_words() {
        let unknown = Error::InvalidCertificate(CertificateError::UnknownIssuer);
        assert_eq!(words(&unknown), "TLS: the certificate is not trusted (UnknownIssuer)");
        assert_eq!(words(&Error::InvalidCertificate(CertificateError::Expired)), "TLS: the certificate has expired");
        let name = Error::InvalidCertificate(CertificateError::NotValidForName);
        assert_eq!(words(&name), "TLS: the certificate is for another host name");
        let plain = Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        assert_eq!(words(&plain), "TLS: the target does not speak TLS there (is it a plain http:// server?)");
    }

    #[test]
    fn a_tls_error_is_found_inside_an_io_error() {
        let inner = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        // As reqwest reports it: an io::Error in an io::Error.
        let io = std::io::Error::other(inner);
        assert_eq!(describe(&io).as_deref(), Some("TLS: the certificate is not trusted (UnknownIssuer)"));
        assert_eq!(describe(&std::io::Error::other("refused")), None);
    }
}
