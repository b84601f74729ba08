//! The one rustls client set-up of the harness: which certificate authorities are trusted
//! (the system's and `--ca-cert`s, or none at all with `--insecure`) and which certificate is
//! presented (`--client-cert`/`--client-key`). It is built once per run and shared by reqwest
//! (every command's client, goose's too) and the load test's own connections.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A PEM file named on the command line that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{flag} {}: {problem}", path.display())]
pub struct PemFileError {
    /// The flag that named it, e.g. `--ca-cert`.
    pub flag: &'static str,
    pub path: PathBuf,
    pub problem: String,
}

/// The rustls client configuration every client shares (cheap to clone).
#[derive(Clone)]
pub struct TlsConfig {
    config: Arc<ClientConfig>,
}

/// Neither keys nor certificates are ever printed.
impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsConfig { .. }")
    }
}

/// The crypto provider reqwest uses: the process default if one is installed, else aws-lc-rs.
pub fn provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default().cloned().unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
}

/// Reads every certificate of a PEM file (a bundle is fine); at least one.
pub fn read_certificates(flag: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, PemFileError> {
    let error = |problem: String| PemFileError { flag, path: path.to_path_buf(), problem };
    let bytes = std::fs::read(path).map_err(|e| error(format!("could not be read ({e})")))?;
    let certificates = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(format!("is not a PEM certificate file ({e})")))?;
    if certificates.is_empty() {
        return Err(error("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into()));
    }
    Ok(certificates)
}

/// Reads the private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn read_private_key(flag: &'static str, path: &Path) -> Result<PrivateKeyDer<'static>, PemFileError> {
    let error = |problem: String| PemFileError { flag, path: path.to_path_buf(), problem };
    let bytes = std::fs::read(path).map_err(|e| error(format!("could not be read ({e})")))?;
    PrivateKeyDer::from_pem_slice(&bytes)
        .map_err(|_| error("holds no PEM private key (-----BEGIN PRIVATE KEY-----)".into()))
}

impl TlsConfig {
    /// Builds the configuration: `ca_certs` trusted besides the system's certificate
    /// authorities, or any certificate accepted when `insecure`; `identity` (certificate chain,
    /// key) presented for mutual TLS. HTTP/1.1 is offered by ALPN.
    pub fn load(
        ca_certs: &[PathBuf],
        insecure: bool,
        identity: Option<(&Path, &Path)>,
    ) -> Result<TlsConfig, PemFileError> {
        let provider = provider();
        let mut roots = RootCertStore::empty();
        for path in ca_certs {
            for certificate in read_certificates("--ca-cert", path)? {
                roots.add(certificate).map_err(|e| PemFileError {
                    flag: "--ca-cert",
                    path: path.clone(),
                    problem: format!("holds a certificate that cannot be a trust anchor ({e})"),
                })?;
            }
        }
        // The system's, as reqwest reads them (rustls-platform-verifier reads the same on Linux);
        // unreadable ones are skipped, as there.
        let _ = roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        let algorithms = provider.signature_verification_algorithms;
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| PemFileError { flag: "--ca-cert", path: PathBuf::new(), problem: e.to_string() })?;
        let verifier: Arc<dyn ServerCertVerifier> = if insecure {
            Arc::new(AcceptAny { algorithms })
        } else if roots.is_empty() {
            Arc::new(NoRoots { algorithms })
        } else {
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider).build().map_err(
                |e| PemFileError {
                    flag: "--ca-cert",
                    path: ca_certs.first().cloned().unwrap_or_default(),
                    problem: format!("cannot be used ({e})"),
                },
            )?
        };
        let builder = builder.dangerous().with_custom_certificate_verifier(verifier);
        let mut config = match identity {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let chain = read_certificates("--client-cert", cert)?;
                let key = read_private_key("--client-key", key)?;
                builder.with_client_auth_cert(chain, key).map_err(|e| PemFileError {
                    flag: "--client-key",
                    path: key_path(identity),
                    problem: format!("does not go with --client-cert ({})", crate::client::tls::words(&e)),
                })?
            }
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsConfig { config: Arc::new(config) })
    }

    /// The rustls configuration.
    pub fn rustls(&self) -> Arc<ClientConfig> {
        self.config.clone()
    }
}

fn key_path(identity: Option<(&Path, &Path)>) -> PathBuf {
    identity.map(|(_, key)| key.to_path_buf()).unwrap_or_default()
}

/// `--insecure`: every certificate is accepted (the handshake's signatures are still checked).
#[derive(Debug)]
struct AcceptAny {
    algorithms: WebPkiSupportedAlgorithms,
}

/// No certificate authority at all (the system has none and no `--ca-cert` was given): every
/// certificate is untrusted, as it would be with an empty store.
#[derive(Debug)]
struct NoRoots {
    algorithms: WebPkiSupportedAlgorithms,
}

macro_rules! signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.algorithms.supported_schemes()
        }
    };
}

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    signatures!();
}

impl ServerCertVerifier for NoRoots {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer))
    }
    signatures!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_wrong_files_name_the_flag_and_the_file() {
        let dir = std::env::temp_dir().join(format!("mfa-trust-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let e = TlsConfig::load(std::slice::from_ref(&missing), false, None).unwrap_err();
        assert!(e.to_string().starts_with(&format!("--ca-cert {}: could not be read", missing.display())), "{e}");
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let e = TlsConfig::load(std::slice::from_ref(&junk), false, None).unwrap_err();
        assert!(e.to_string().contains("holds no PEM certificate"), "{e}");
        let e = TlsConfig::load(&[], false, Some((&junk, &junk))).unwrap_err();
        assert!(e.to_string().starts_with("--client-cert"), "{e}");
        assert!(!e.to_string().contains('\n'));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_defaults_and_insecure_build() {
        assert!(TlsConfig::load(&[], false, None).is_ok());
        let config = TlsConfig::load(&[], true, None).unwrap();
        assert_eq!(config.rustls().alpn_protocols, vec![b"http/1.1".to_vec()]);
        assert_eq!(format!("{config:?}"), "TlsConfig { .. }");
    }
}
