//! The `tls` table of everything Waybill connects to (delivery targets,
//! `[sync]` jobs, `[reconcile]` snapshot endpoints): a private CA to trust
//! instead of the public roots, and a client certificate for mutual TLS.
//! The files are read and parsed at load time, so a missing or malformed
//! PEM file is a configuration error at its key, not a failed delivery.

use std::path::{Path, PathBuf};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};

use super::locate::{KeyPath, path};
use super::model::Config;
use super::validate::Invalid;

/// `tls = { ca_file, cert_file, key_file }`; every key is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClientTlsConfig {
    /// PEM bundle of the CA(s) to trust *instead of* the public web roots
    /// (a private CA). Resolved against the config file's directory.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// PEM certificate chain presented for mutual TLS; needs `key_file`.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of `cert_file`.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

impl ClientTlsConfig {
    fn paths_mut(&mut self) -> impl Iterator<Item = &mut PathBuf> {
        [&mut self.ca_file, &mut self.cert_file, &mut self.key_file]
            .into_iter()
            .flatten()
    }
}

/// Every `tls` table of the configuration with its key path.
fn tables_mut(config: &mut Config) -> Vec<(KeyPath, &mut ClientTlsConfig)> {
    let mut found = Vec::new();
    for (name, target) in &mut config.targets {
        if let Some(tls) = &mut target.tls {
            found.push((path("targets").key(name).key("tls"), tls));
        }
    }
    for (name, job) in &mut config.sync {
        if let Some(tls) = &mut job.tls {
            found.push((path("sync").key(name).key("tls"), tls));
        }
    }
    if let Some(reconcile) = &mut config.reconcile {
        for (name, system) in &mut reconcile.systems {
            for (i, endpoint) in system.snapshots.iter_mut().enumerate() {
                if let Some(tls) = &mut endpoint.tls {
                    let at = path("reconcile")
                        .key("systems")
                        .key(name)
                        .key("snapshots")
                        .index(i)
                        .key("tls");
                    found.push((at, tls));
                }
            }
        }
    }
    found
}

/// Makes relative TLS file paths absolute against `base`.
pub(crate) fn resolve_paths(config: &mut Config, base: &Path) {
    for (_, tls) in tables_mut(config) {
        for file in tls.paths_mut() {
            if file.is_relative() {
                *file = base.join(&*file);
            }
        }
    }
}

/// Reads and parses every TLS file (after [`resolve_paths`]).
pub(crate) fn check_all(config: &mut Config) -> Result<(), Invalid> {
    for (at, tls) in tables_mut(config) {
        check(at, tls)?;
    }
    Ok(())
}

fn check(at: KeyPath, tls: &ClientTlsConfig) -> Result<(), Invalid> {
    let fail = |key: &str, message: String| Invalid {
        path: at.clone().key(key),
        message,
    };
    if let Some(file) = &tls.ca_file {
        let roots = certificates(file).map_err(|m| fail("ca_file", m))?;
        let mut store = rustls::RootCertStore::empty();
        let (added, _) = store.add_parsable_certificates(roots);
        if added == 0 {
            return Err(fail(
                "ca_file",
                format!("`{}` holds no usable CA certificate", file.display()),
            ));
        }
    }
    match (&tls.cert_file, &tls.key_file) {
        (None, None) => {}
        (Some(_), None) => {
            return Err(fail(
                "key_file",
                "a client certificate (cert_file) needs its key_file".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(fail(
                "cert_file",
                "key_file needs the client certificate (cert_file) it belongs to".into(),
            ));
        }
        (Some(cert), Some(key)) => {
            certificates(cert).map_err(|m| fail("cert_file", m))?;
            private_key(key).map_err(|m| fail("key_file", m))?;
        }
    }
    Ok(())
}

/// The certificates of a PEM file; at least one.
pub fn certificates(file: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = file.display();
    let certs = CertificateDer::pem_file_iter(file)
        .map_err(|e| format!("cannot read `{shown}`: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("`{shown}` is not valid PEM: {e}"))?;
    if certs.is_empty() {
        return Err(format!("`{shown}` holds no PEM certificate"));
    }
    Ok(certs)
}

/// The first private key of a PEM file.
pub fn private_key(file: &Path) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(file).map_err(|e| match e {
        rustls_pki_types::pem::Error::NoItemsFound => {
            format!("`{}` holds no PEM private key", file.display())
        }
        other => format!("cannot read the key in `{}`: {other}", file.display()),
    })
}
