//! Outbound TLS against a local TLS server with certificates made at test
//! time: a private CA, SNI, HTTP/1.1 and HTTP/2 by ALPN with connection
//! reuse, mutual TLS, and the refusals (wrong CA, expired, no client
//! certificate) that must not be retried.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;

use crate::config::ClientTlsConfig;
use crate::deliver::client::{HttpSender, OutboundRequest, SendError};
use crate::deliver::retry::{Disposition, classify_error};
use crate::deliver::test_pki::{Pki, ServerSetup, TlsServer};

fn trusting(dir: &Path, pki: &Pki) -> ClientTlsConfig {
    ClientTlsConfig {
        ca_file: Some(pki.write_ca(dir, "ca.pem")),
        ..ClientTlsConfig::default()
    }
}

fn request(url: String) -> OutboundRequest {
    OutboundRequest {
        url,
        headers: vec![("content-type".into(), "application/json".into())],
        body: Bytes::from_static(b"{\"n\":1}"),
        timeout: Duration::from_secs(10),
    }
}

fn rejected_naming_tls(err: &SendError) -> String {
    assert!(matches!(err, SendError::Tls(_)), "{err:?}");
    match classify_error(err) {
        Disposition::Reject { reason } => {
            assert!(reason.starts_with("TLS handshake failed: "), "{reason}");
            reason
        }
        other => panic!("a TLS refusal must not be retried: {other:?}"),
    }
}

#[tokio::test]
async fn https_with_a_private_ca_sends_sni_and_reuses_one_http1_connection() {
    let dir = tempfile::tempdir().expect("dir");
    let pki = Pki::new("Partner CA");
    let mut setup = ServerSetup::new(pki.server());
    setup.alpn = vec![b"http/1.1".to_vec()];
    let server = TlsServer::start(setup).await;
    let sender = HttpSender::with_tls(Some(&trusting(dir.path(), &pki))).expect("sender");
    for _ in 0..3 {
        let answer = sender.post(request(server.url("/in"))).await.expect("post");
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, Bytes::from_static(b"{\"ok\":true}"));
    }
    let record = server.record.lock().expect("record");
    assert_eq!(
        record.handshakes,
        vec![(
            Some("localhost".to_owned()),
            Some("http/1.1".to_owned()),
            false
        )],
        "one handshake, SNI localhost, kept alive"
    );
    let versions: Vec<&str> = record.requests.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(versions, ["HTTP/1.1"; 3]);
    assert_eq!(record.requests[0].body, "{\"n\":1}");
}

#[tokio::test]
async fn a_server_offering_only_h2_is_spoken_to_in_http2_over_one_connection() {
    let dir = tempfile::tempdir().expect("dir");
    let pki = Pki::new("Partner CA");
    let mut setup = ServerSetup::new(pki.server());
    setup.alpn = vec![b"h2".to_vec()];
    let server = TlsServer::start(setup).await;
    let sender = HttpSender::with_tls(Some(&trusting(dir.path(), &pki))).expect("sender");
    // The first request opens the connection; the next ones, sent at
    // once, are multiplexed over it.
    let first = sender.post(request(server.url("/in"))).await.expect("post");
    assert_eq!(first.status, 200);
    let sends = (0..3).map(|_| sender.post(request(server.url("/in"))));
    for answer in futures::future::join_all(sends).await {
        assert_eq!(answer.expect("post").status, 200);
    }
    let record = server.record.lock().expect("record");
    assert_eq!(record.handshakes.len(), 1, "{:?}", record.handshakes);
    assert_eq!(record.handshakes[0].1.as_deref(), Some("h2"));
    let versions: Vec<&str> = record.requests.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(versions, ["HTTP/2.0"; 4]);
}

#[tokio::test]
async fn mutual_tls_works_with_the_client_certificate_and_is_refused_without() {
    let dir = tempfile::tempdir().expect("dir");
    let pki = Pki::new("Partner CA");
    let mut setup = ServerSetup::new(pki.server());
    setup.client_ca = Some(pki.ca_pem());
    let server = TlsServer::start(setup).await;

    let (cert, key) = pki.client().write(dir.path(), "waybill");
    let mut tls = trusting(dir.path(), &pki);
    tls.cert_file = Some(cert);
    tls.key_file = Some(key);
    let with_cert = HttpSender::with_tls(Some(&tls)).expect("sender");
    let answer = with_cert
        .post(request(server.url("/in")))
        .await
        .expect("post");
    assert_eq!(answer.status, 200);

    let without = HttpSender::with_tls(Some(&trusting(dir.path(), &pki))).expect("sender");
    let err = without
        .post(request(server.url("/in")))
        .await
        .expect_err("a client certificate is required");
    let reason = rejected_naming_tls(&err);
    assert!(reason.contains("client certificate"), "{reason}");

    let record = server.record.lock().expect("record");
    assert_eq!(
        record.requests.len(),
        1,
        "only the client with a cert got in"
    );
    assert!(
        record.handshakes[0].2,
        "the client certificate was presented"
    );
    assert_eq!(record.refused.len(), 1, "{:?}", record.refused);
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused_and_not_retried() {
    let dir = tempfile::tempdir().expect("dir");
    let server = TlsServer::start(ServerSetup::new(Pki::new("Partner CA").server())).await;
    let other = Pki::new("Some Other CA");
    let sender = HttpSender::with_tls(Some(&trusting(dir.path(), &other))).expect("sender");
    let err = sender
        .post(request(server.url("/in")))
        .await
        .expect_err("untrusted");
    let reason = rejected_naming_tls(&err);
    assert!(reason.contains("UnknownIssuer"), "{reason}");
    // The public roots do not vouch for a private CA either.
    let public = HttpSender::new().expect("sender");
    let err = public
        .post(request(server.url("/in")))
        .await
        .expect_err("untrusted");
    assert!(rejected_naming_tls(&err).contains("UnknownIssuer"));
    assert!(server.record.lock().expect("record").requests.is_empty());
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let pki = Pki::new("Partner CA");
    let server = TlsServer::start(ServerSetup::new(pki.expired_server())).await;
    let sender = HttpSender::with_tls(Some(&trusting(dir.path(), &pki))).expect("sender");
    let err = sender
        .post(request(server.url("/in")))
        .await
        .expect_err("expired");
    let reason = rejected_naming_tls(&err);
    assert!(reason.contains("certificate expired"), "{reason}");
}

#[tokio::test]
async fn unusable_tls_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().expect("dir");
    let garbage = dir.path().join("ca.pem");
    std::fs::write(&garbage, "not a certificate").expect("write");
    let tls = ClientTlsConfig {
        ca_file: Some(garbage.clone()),
        ..ClientTlsConfig::default()
    };
    let err = HttpSender::with_tls(Some(&tls)).expect_err("no certificate");
    let text = err.to_string();
    assert!(text.contains(&garbage.display().to_string()), "{text}");
    assert!(text.contains("no PEM certificate"), "{text}");
}
