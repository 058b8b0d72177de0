//! TLS for every outbound connection (delivery targets, OAuth2 token
//! endpoints, `[sync]` and `[reconcile]` snapshot URLs): rustls with the
//! `ring` provider, the public web roots unless a private CA is configured,
//! an optional client certificate for mutual TLS, SNI from the URL's host,
//! and ALPN offering HTTP/2 and HTTP/1.1. Plain `http://` URLs keep working
//! through the same connector.
//!
//! [`tls_failure`] tells certificate and handshake refusals (which retrying
//! cannot fix) from transport hiccups.

use std::error::Error as StdError;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use rustls::{AlertDescription, ClientConfig, RootCertStore};

use crate::config::{ClientTlsConfig, certificates, private_key};

/// The connector every outbound client uses.
pub type Connector = HttpsConnector<HttpConnector>;

/// Why the TLS settings of a target cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A CA, certificate or key file could not be read or parsed.
    #[error("{file}: {message}")]
    File { file: PathBuf, message: String },
    /// rustls refused the settings (e.g. a key that does not fit the certificate).
    #[error("TLS settings refused: {source}")]
    Rustls {
        #[source]
        source: rustls::Error,
    },
}

/// The rustls client settings for `tls` (the defaults when `None`).
pub fn client_config(tls: Option<&ClientTlsConfig>) -> Result<ClientConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|source| TlsError::Rustls { source })?;
    let mut roots = RootCertStore::empty();
    match tls.and_then(|t| t.ca_file.as_ref()) {
        Some(file) => {
            let certs = certificates(file).map_err(|message| TlsError::File {
                file: file.clone(),
                message,
            })?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(TlsError::File {
                    file: file.clone(),
                    message: "no usable CA certificate".into(),
                });
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let builder = builder.with_root_certificates(roots);
    let identity = tls.and_then(|t| t.cert_file.as_ref().zip(t.key_file.as_ref()));
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let file_error = |file: &PathBuf| {
                let file = file.clone();
                move |message| TlsError::File { file, message }
            };
            let chain = certificates(cert).map_err(file_error(cert))?;
            let key_der = private_key(key).map_err(file_error(key))?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|source| TlsError::Rustls { source })?
        }
    };
    Ok(config)
}

/// An HTTP(S) connector for `tls`: ALPN `h2` and `http/1.1` on `https://`,
/// HTTP/1.1 on `http://`; `connect_timeout` bounds the TCP connect.
pub fn connector(
    tls: Option<&ClientTlsConfig>,
    connect_timeout: Option<Duration>,
) -> Result<Connector, TlsError> {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.enforce_http(false);
    http.set_connect_timeout(connect_timeout);
    Ok(HttpsConnectorBuilder::new()
        .with_tls_config(client_config(tls)?)
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http))
}

/// The TLS refusal in `err`'s chain that retrying cannot fix: a
/// certificate the host does not trust (unknown CA, expired, wrong name),
/// a peer that refuses the host's certificate (or its absence), or no
/// protocol in common. `None` for anything else, TLS or not.
pub fn tls_failure(err: &(dyn StdError + 'static)) -> Option<String> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(tls) = as_rustls(e) {
            return is_permanent(tls).then(|| describe(tls));
        }
        current = e.source();
    }
    // HTTP/2 (h2) keeps only the text of an I/O error: recognise rustls's
    // wording of the permanent refusals in it.
    let text = super::client::chain(err);
    if let Some(at) = text.find("invalid peer certificate: ") {
        return Some(text[at..].to_owned());
    }
    PERMANENT_ALERTS
        .iter()
        .find(|alert| text.contains(&format!("received fatal alert: {alert:?}")))
        .map(|alert| describe(&rustls::Error::AlertReceived(*alert)))
}

/// Alerts by which a server refuses the handshake for good.
const PERMANENT_ALERTS: [AlertDescription; 13] = [
    AlertDescription::BadCertificate,
    AlertDescription::UnsupportedCertificate,
    AlertDescription::CertificateRevoked,
    AlertDescription::CertificateExpired,
    AlertDescription::CertificateUnknown,
    AlertDescription::CertificateRequired,
    AlertDescription::UnknownCA,
    AlertDescription::AccessDenied,
    AlertDescription::HandshakeFailure,
    AlertDescription::ProtocolVersion,
    AlertDescription::InsufficientSecurity,
    AlertDescription::NoApplicationProtocol,
    AlertDescription::UnrecognisedName,
];

/// The rustls error `e` is or wraps: `io::Error::source` skips the error
/// it wraps, and hyper-rustls wraps the handshake's `io::Error` in another.
fn as_rustls<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = e.downcast_ref::<std::io::Error>()?.get_ref()?;
    as_rustls(inner)
}

fn is_permanent(err: &rustls::Error) -> bool {
    use rustls::Error as E;
    match err {
        E::InvalidCertificate(_)
        | E::NoCertificatesPresented
        | E::UnsupportedNameType
        | E::PeerIncompatible(_)
        | E::InvalidCertRevocationList(_) => true,
        E::AlertReceived(alert) => PERMANENT_ALERTS.contains(alert),
        _ => false,
    }
}

fn describe(err: &rustls::Error) -> String {
    match err {
        rustls::Error::AlertReceived(alert) => {
            format!(
                "the server refused the TLS handshake ({alert:?}); check the client certificate"
            )
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
