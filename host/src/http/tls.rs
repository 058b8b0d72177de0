//! TLS for the listeners: loads a PEM certificate chain and key into a
//! rustls server configuration (ring provider, HTTP/1.1 over ALPN), so
//! partners can reach ingest over `https://` without a proxy in front.

use crate::config::ListenerTls;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::PathBuf;
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// Why a listener's TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file could not be read or holds no PEM certificate.
    #[error("server TLS certificate {file}: {source}")]
    Certificate {
        /// The file.
        file: PathBuf,
        /// Why.
        source: rustls_pki_types::pem::Error,
    },
    /// The certificate file holds no certificate.
    #[error("server TLS certificate {file}: no CERTIFICATE block found")]
    NoCertificate {
        /// The file.
        file: PathBuf,
    },
    /// The key file could not be read or holds no PEM private key.
    #[error("server TLS key {file}: {source}")]
    Key {
        /// The file.
        file: PathBuf,
        /// Why.
        source: rustls_pki_types::pem::Error,
    },
    /// rustls refused the pair (e.g. the key does not match the certificate).
    #[error("server TLS {cert} with {key}: {source}")]
    Config {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// Why.
        source: rustls::Error,
    },
}

/// An acceptor for `tls`: TLS 1.2 and 1.3 with the ring provider, ALPN
/// `http/1.1`, no client certificates.
pub fn acceptor(tls: &ListenerTls) -> Result<TlsAcceptor, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.cert_file)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|source| TlsError::Certificate {
            file: tls.cert_file.clone(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            file: tls.cert_file.clone(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key_file).map_err(|source| TlsError::Key {
        file: tls.key_file.clone(),
        source,
    })?;
    let config_error = |source| TlsError::Config {
        cert: tls.cert_file.clone(),
        key: tls.key_file.clone(),
        source,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(config_error)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(config_error)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &std::path::Path, cert: &str, key: &str) -> ListenerTls {
        let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&c, cert).expect("write cert");
        std::fs::write(&k, key).expect("write key");
        ListenerTls {
            cert_file: c,
            key_file: k,
        }
    }

    #[test]
    fn loads_a_generated_pair_and_refuses_bad_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let made =
            rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("certificate");
        let cert = made.cert.pem();
        let key = made.signing_key.serialize_pem();
        assert!(acceptor(&files(dir.path(), &cert, &key)).is_ok());

        let err = acceptor(&files(dir.path(), "not pem", &key))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(
            err,
            format!(
                "server TLS certificate {}: no CERTIFICATE block found",
                dir.path().join("cert.pem").display()
            )
        );
        let err = acceptor(&files(dir.path(), &cert, "nothing"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with(&format!(
                "server TLS key {}:",
                dir.path().join("key.pem").display()
            )),
            "{err}"
        );
        // A key that is not the certificate's.
        let other = rcgen::generate_simple_self_signed(vec!["x".to_string()]).expect("other");
        let err = acceptor(&files(
            dir.path(),
            &cert,
            &other.signing_key.serialize_pem(),
        ))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.starts_with("server TLS "), "{err}");
        assert!(err.contains(" with "), "{err}");
    }
}
