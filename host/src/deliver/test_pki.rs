//! Test-only: a certificate authority made at test time (rcgen) and a TLS
//! server on 127.0.0.1 (tokio-rustls + hyper) that records what it saw —
//! SNI, ALPN protocol, HTTP version, client certificate, requests. Used by
//! the unit tests of `deliver` and, through `#[path]`, by the end-to-end
//! tests in `tests/`, so it names only external crates.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;

/// A CA that signs server and client certificates.
pub struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, PEM.
#[derive(Clone)]
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Leaf {
    /// Writes `<name>.pem` and `<name>.key` into `dir`; returns both paths.
    pub fn write(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let cert = dir.join(format!("{name}.pem"));
        let key = dir.join(format!("{name}.key"));
        std::fs::write(&cert, &self.cert_pem).expect("write cert");
        std::fs::write(&key, &self.key_pem).expect("write key");
        (cert, key)
    }
}

impl Pki {
    /// A fresh CA called `name`.
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("ca key");
        let ca = CertifiedIssuer::self_signed(params, key).expect("ca cert");
        Self { ca }
    }

    /// The CA certificate, PEM.
    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// Writes the CA certificate to `dir/<name>`.
    pub fn write_ca(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, self.ca_pem()).expect("write ca");
        path
    }

    /// A server certificate for `localhost` and `127.0.0.1`, valid now.
    pub fn server(&self) -> Leaf {
        self.leaf(ExtendedKeyUsagePurpose::ServerAuth, false)
    }

    /// A server certificate that expired yesterday.
    pub fn expired_server(&self) -> Leaf {
        self.leaf(ExtendedKeyUsagePurpose::ServerAuth, true)
    }

    /// A client certificate (for mutual TLS).
    pub fn client(&self) -> Leaf {
        self.leaf(ExtendedKeyUsagePurpose::ClientAuth, false)
    }

    fn leaf(&self, usage: ExtendedKeyUsagePurpose, expired: bool) -> Leaf {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("leaf params");
        params
            .distinguished_name
            .push(DnType::CommonName, "waybill-test");
        params.extended_key_usages = vec![usage];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let now = time::OffsetDateTime::now_utc();
        if expired {
            params.not_before = now - time::Duration::days(30);
            params.not_after = now - time::Duration::days(1);
        } else {
            params.not_before = now - time::Duration::days(1);
            params.not_after = now + time::Duration::days(30);
        }
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.ca).expect("sign leaf");
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// What the TLS server offers.
pub struct ServerSetup {
    pub leaf: Leaf,
    /// Require a client certificate signed by this CA (PEM).
    pub client_ca: Option<String>,
    /// ALPN protocols offered, e.g. `[b"h2"]` for an HTTP/2-only server.
    pub alpn: Vec<Vec<u8>>,
    /// Status and body of every answer.
    pub answer: (u16, String),
}

impl ServerSetup {
    /// HTTP/1.1 and HTTP/2, no client certificate, 200 `{"ok":true}`.
    pub fn new(leaf: Leaf) -> Self {
        Self {
            leaf,
            client_ca: None,
            alpn: vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            answer: (200, "{\"ok\":true}".to_owned()),
        }
    }
}

/// One request the server answered.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub version: String,
    pub authorization: Option<String>,
    pub body: String,
}

/// What the server recorded.
#[derive(Debug, Default)]
pub struct Record {
    /// One entry per completed handshake: (SNI, ALPN, client cert presented).
    pub handshakes: Vec<(Option<String>, Option<String>, bool)>,
    /// Handshakes that failed, with the error.
    pub refused: Vec<String>,
    pub requests: Vec<Seen>,
}

/// A running TLS server.
pub struct TlsServer {
    pub addr: SocketAddr,
    pub record: Arc<Mutex<Record>>,
}

impl TlsServer {
    /// `https://localhost:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    /// Starts the server on 127.0.0.1, port 0.
    pub async fn start(setup: ServerSetup) -> TlsServer {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("versions");
        let builder = match &setup.client_ca {
            None => builder.with_no_client_auth(),
            Some(pem) => {
                let mut roots = rustls::RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                    roots.add(cert.expect("ca pem")).expect("add ca");
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    roots.into(),
                    provider,
                )
                .build()
                .expect("client verifier");
                builder.with_client_cert_verifier(verifier)
            }
        };
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(setup.leaf.cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .expect("leaf pem");
        let key = PrivateKeyDer::from_pem_slice(setup.leaf.key_pem.as_bytes()).expect("key pem");
        let mut config = builder.with_single_cert(chain, key).expect("server cert");
        config.alpn_protocols = setup.alpn.clone();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let record = Arc::new(Mutex::new(Record::default()));
        let answer = Arc::new(setup.answer);
        let rec = record.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, rec, answer) = (acceptor.clone(), rec.clone(), answer.clone());
                tokio::spawn(async move {
                    let tls = match acceptor.accept(tcp).await {
                        Ok(tls) => tls,
                        Err(e) => {
                            rec.lock().expect("record").refused.push(e.to_string());
                            return;
                        }
                    };
                    let (_, conn) = tls.get_ref();
                    let sni = conn.server_name().map(str::to_owned);
                    let alpn = conn
                        .alpn_protocol()
                        .map(|p| String::from_utf8_lossy(p).into_owned());
                    let client_cert = conn.peer_certificates().is_some_and(|c| !c.is_empty());
                    let h2 = alpn.as_deref() == Some("h2");
                    rec.lock()
                        .expect("record")
                        .handshakes
                        .push((sni, alpn, client_cert));
                    let service = service_fn(move |req: Request<Incoming>| {
                        let (rec, answer) = (rec.clone(), answer.clone());
                        async move {
                            let path = req.uri().path().to_owned();
                            let version = format!("{:?}", req.version());
                            let authorization = req
                                .headers()
                                .get("authorization")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned);
                            let body = req.into_body().collect().await.map(|b| b.to_bytes());
                            let body =
                                String::from_utf8_lossy(&body.unwrap_or_default()).into_owned();
                            rec.lock().expect("record").requests.push(Seen {
                                path,
                                version,
                                authorization,
                                body,
                            });
                            let mut response =
                                Response::new(Full::new(Bytes::from(answer.1.clone())));
                            *response.status_mut() =
                                hyper::StatusCode::from_u16(answer.0).expect("status");
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let io = TokioIo::new(tls);
                    if h2 {
                        let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                            .serve_connection(io, service)
                            .await;
                    } else {
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, service)
                            .await;
                    }
                });
            }
        });
        TlsServer { addr, record }
    }
}
