//! The listener edge through the real host: a slowloris client (head sent
//! byte by byte, a head never finished, a body never sent) is cut within the
//! configured limits while normal ingest still gets 202; over
//! `max_connections` the admitted connections stay served and the admin
//! listener keeps answering; HTTPS ingest with a certificate made at test
//! time; the admin API only on its own port.

mod common;

use common::host::{ADMIN_TOKEN, TestHost, config_head};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn config(dir: &std::path::Path, server_extra: &str) -> String {
    let head = config_head(dir, &common::plugins_dir().join("test")).replace(
        "shutdown_grace_secs = 2",
        &format!("shutdown_grace_secs = 1\n{server_extra}"),
    );
    format!(
        r#"{head}
[sources.test]
kind = "test.any"
auth = {{ type = "none" }}

[targets.sink]
url = "http://127.0.0.1:9/in"
timeout_ms = 60000
max_in_flight = 1

[[routes]]
name = "probe"
source = "test"
inbound = {{ plugin = "swap-probe" }}
targets = [{{ target = "sink", outbound = {{ plugin = "swap-probe" }} }}]
"#
    )
}

const JSON: (&str, &str) = ("content-type", "application/json");

/// Header lines the slowloris client would send, 100 ms apart, if never cut.
const DRIBBLED_LINES: usize = 100;

fn ingest_request(body: &str) -> String {
    format!(
        "POST /v1/sources/test/messages HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Reads one HTTP/1.1 response (head and a `content-length` body) within
/// `within`; `None` if nothing complete arrives in time or the peer closes.
async fn read_response(stream: &mut TcpStream, within: Duration) -> Option<(u16, String)> {
    let read = async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_string();
                let len = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    let status = head.split(' ').nth(1)?.parse().ok()?;
                    let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
                    return Some((status, body));
                }
            }
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(within, read).await.ok().flatten()
}

/// Waits until the server closes `stream` (EOF or reset), up to `within`;
/// false if it stayed open that long.
async fn closes_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut sink = [0u8; 1024];
    let wait = async {
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, wait).await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_clients_are_cut_while_ingest_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = Arc::new(
        TestHost::start(
            dir.path(),
            &config(
                dir.path(),
                "limits = { header_read_timeout_ms = 600, body_read_timeout_ms = 600, idle_timeout_ms = 600 }",
            ),
        )
        .await,
    );
    let addr = host.service.addr;

    // 1. Sends its head one header line every 100 ms, never finishing: the
    // number of lines it got to send before the host cut it.
    let dribbler = tokio::spawn(async move {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"POST /v1/sources/test/messages HTTP/1.1\r\nhost: x\r\n")
            .await
            .expect("write");
        let mut sent = 0;
        for i in 0..DRIBBLED_LINES {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if s.write_all(format!("x-slow-{i}: 1\r\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
            sent += 1;
            let mut probe = [0u8; 64];
            if let Ok(Ok(0) | Err(_)) =
                tokio::time::timeout(Duration::from_millis(1), s.read(&mut probe)).await
            {
                break;
            }
        }
        sent
    });
    // 2. Starts a head and goes silent.
    let mut silent = TcpStream::connect(addr).await.expect("connect");
    silent
        .write_all(b"POST /v1/sources/test/messages HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("write");
    // 3. Sends a full head promising 100 bytes of body, then 10 and silence.
    let mut bodyless = TcpStream::connect(addr).await.expect("connect");
    bodyless
        .write_all(
            b"POST /v1/sources/test/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
              content-length: 100\r\n\r\n{\"key\":\"k\"",
        )
        .await
        .expect("write");

    // Meanwhile normal ingest goes on.
    for n in 0..5 {
        let a = host
            .post("test", &[JSON], format!(r#"{{"key":"k","n":{n}}}"#))
            .await;
        assert_eq!(a.status, 202, "{}", a.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    assert!(
        closes_within(&mut silent, Duration::from_secs(30)).await,
        "a silent half head is cut"
    );

    let (status, body) = read_response(&mut bodyless, Duration::from_secs(10))
        .await
        .expect("a body that never comes gets an answer");
    assert_eq!(status, 408, "{body}");
    let problem: serde_json::Value = serde_json::from_str(&body).expect("problem json");
    assert_eq!(
        problem["type"],
        "https://waybill.dev/problems/request-timeout"
    );
    assert_eq!(problem["field"], "body");
    assert_eq!(problem["limit_ms"], 600);
    assert!(
        closes_within(&mut bodyless, Duration::from_secs(30)).await,
        "the connection is closed after the 408"
    );

    let dribbled = tokio::time::timeout(Duration::from_secs(30), dribbler)
        .await
        .expect("the dribbler is cut")
        .expect("task");
    assert!(
        dribbled < DRIBBLED_LINES,
        "a head dribbled line by line is cut by the header timeout, not read to the end \
         ({dribbled} of {DRIBBLED_LINES} lines sent)"
    );

    // Nothing of the three was stored; ingest still answers.
    let a = host.post("test", &[JSON], r#"{"key":"after"}"#).await;
    assert_eq!(a.status, 202, "{}", a.text);
    match Arc::try_unwrap(host) {
        Ok(host) => host.stop().await,
        Err(_) => panic!("host still shared"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_alive_connection_idle_too_long_is_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = TestHost::start(
        dir.path(),
        &config(
            dir.path(),
            "limits = { header_read_timeout_ms = 3600000, idle_timeout_ms = 300 }",
        ),
    )
    .await;
    let mut s = TcpStream::connect(host.service.addr)
        .await
        .expect("connect");
    s.write_all(ingest_request(r#"{"key":"k"}"#).as_bytes())
        .await
        .expect("write");
    let (status, _) = read_response(&mut s, Duration::from_secs(10))
        .await
        .expect("answer");
    assert_eq!(status, 202);
    // Idle after the response: closed, and only the idle timeout (300 ms)
    // can close it within the wait (the header timeout is an hour).
    assert!(
        closes_within(&mut s, Duration::from_secs(30)).await,
        "an idle keep-alive connection is closed"
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_max_connections_the_admitted_ones_stay_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = TestHost::start(
        dir.path(),
        &config(
            dir.path(),
            "limits = { max_connections = 2, header_read_timeout_ms = 20000, idle_timeout_ms = 20000 }",
        ),
    )
    .await;
    let addr = host.service.addr;
    let mut a = TcpStream::connect(addr).await.expect("a");
    let mut b = TcpStream::connect(addr).await.expect("b");
    for s in [&mut a, &mut b] {
        s.write_all(ingest_request(r#"{"key":"k"}"#).as_bytes())
            .await
            .expect("write");
        let (status, body) = read_response(s, Duration::from_secs(10))
            .await
            .expect("admitted");
        assert_eq!(status, 202, "{body}");
    }
    // A third connection waits: it is not served while both slots are held.
    let mut c = TcpStream::connect(addr)
        .await
        .expect("c connects (accept queue)");
    c.write_all(ingest_request(r#"{"key":"c"}"#).as_bytes())
        .await
        .expect("write");
    // The admitted ones keep being served...
    for _ in 0..3 {
        a.write_all(ingest_request(r#"{"key":"again"}"#).as_bytes())
            .await
            .expect("write");
        let (status, _) = read_response(&mut a, Duration::from_secs(10))
            .await
            .expect("admitted connection answered");
        assert_eq!(status, 202);
    }
    // ...and the admin listener has slots of its own.
    let health = host.admin_request("GET", "/healthz", &[], "").await;
    assert_eq!(health.status, 200);
    // Three requests sent after c's were answered, c's was not: over the cap
    // a connection is not served (nothing is even waiting to be read).
    assert_eq!(
        read_response(&mut c, Duration::ZERO).await,
        None,
        "over the cap a connection is not served"
    );
    // When one admitted connection leaves, the waiting one is served.
    drop(b);
    let (status, body) = read_response(&mut c, Duration::from_secs(10))
        .await
        .expect("served once a slot frees");
    assert_eq!(status, 202, "{body}");
    drop((a, c));
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_and_metrics_only_on_the_admin_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = TestHost::start(dir.path(), &config(dir.path(), "")).await;
    assert_ne!(host.service.addr, host.service.admin_addr);
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let on_partner = host
        .request("GET", "/admin/v1/plugins", &[("authorization", &auth)], "")
        .await;
    assert_eq!(on_partner.status, 404, "{}", on_partner.text);
    assert_eq!(
        on_partner.json["type"],
        "https://waybill.dev/problems/not-found"
    );
    assert_eq!(host.request("GET", "/metrics", &[], "").await.status, 404);
    let on_admin = host
        .admin_request("GET", "/admin/v1/plugins", &[("authorization", &auth)], "")
        .await;
    assert_eq!(on_admin.status, 200, "{}", on_admin.text);
    assert!(on_admin.json["plugins"].is_array());
    let metrics = host.admin_request("GET", "/metrics", &[], "").await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.text.contains("waybill_ingest_ack_seconds"),
        "{}",
        metrics.text
    );
    // Partner endpoints are not on the admin port; health is on both.
    let ingest = host
        .admin_request(
            "POST",
            "/v1/sources/test/messages",
            &[JSON],
            r#"{"key":"k"}"#,
        )
        .await;
    assert_eq!(ingest.status, 404);
    assert_eq!(host.request("GET", "/healthz", &[], "").await.status, 200);
    assert_eq!(
        host.admin_request("GET", "/readyz", &[], "").await.status,
        200
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_listen_equal_to_listen_shares_one_port() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A free fixed port: bind 0, read it, release it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let text = config(dir.path(), "").replace(
        "listen = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\"\nadmin_listen = \"127.0.0.1:{port}\""),
    );
    let host = TestHost::start(dir.path(), &text).await;
    assert_eq!(host.service.addr, host.service.admin_addr);
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let plugins = host
        .request("GET", "/admin/v1/plugins", &[("authorization", &auth)], "")
        .await;
    assert_eq!(plugins.status, 200, "{}", plugins.text);
    let a = host.post("test", &[JSON], r#"{"key":"k"}"#).await;
    assert_eq!(a.status, 202);
    host.stop().await;
}

mod tls {
    use super::*;
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::TokioIo;
    use tokio_rustls::TlsConnector;
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

    /// A client trusting only `ca`, speaking HTTP/1.1 over ALPN.
    fn connector(ca: &CertificateDer<'static>) -> TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.clone()).expect("root");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        TlsConnector::from(Arc::new(config))
    }

    async fn https(
        connector: &TlsConnector,
        addr: std::net::SocketAddr,
        req: hyper::Request<Full<Bytes>>,
    ) -> (u16, String, Option<Vec<u8>>) {
        let tcp = TcpStream::connect(addr).await.expect("connect");
        let name = ServerName::try_from("localhost").expect("name");
        let tls = connector.connect(name, tcp).await.expect("TLS handshake");
        let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .expect("http handshake");
        tokio::spawn(conn);
        let resp = send.send_request(req).await.expect("response");
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        (status, String::from_utf8_lossy(&body).to_string(), alpn)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn https_ingest_with_a_certificate_made_at_test_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let made = rcgen::generate_simple_self_signed(vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
        ])
        .expect("certificate");
        let (cert, key) = (dir.path().join("host.pem"), dir.path().join("host.key"));
        std::fs::write(&cert, made.cert.pem()).expect("cert");
        std::fs::write(&key, made.signing_key.serialize_pem()).expect("key");
        let host = TestHost::start(
            dir.path(),
            &config(
                dir.path(),
                &format!(
                    "tls = {{ cert_file = \"{}\", key_file = \"{}\" }}",
                    cert.display(),
                    key.display()
                ),
            ),
        )
        .await;
        assert!(host.service.tls && !host.service.admin_tls);
        assert!(host.service.base_url().starts_with("https://"));
        let connector = connector(made.cert.der());
        let post = hyper::Request::builder()
            .method("POST")
            .uri("/v1/sources/test/messages")
            .header("host", "localhost")
            .header("content-type", "application/json")
            .header("x-correlation-id", "tls-1")
            .body(Full::new(Bytes::from_static(br#"{"key":"k"}"#)))
            .expect("request");
        let (status, body, alpn) = https(&connector, host.service.addr, post).await;
        assert_eq!(status, 202, "{body}");
        assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
        let stored = host.admin_get("messages/tls-1").await;
        assert_eq!(stored.status, 200, "{}", stored.text);
        assert_eq!(stored.json["messages"][0]["source"], "test");

        // The admin API is not on the TLS partner port...
        let admin = hyper::Request::builder()
            .uri("/admin/v1/plugins")
            .header("host", "localhost")
            .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
            .body(Full::new(Bytes::new()))
            .expect("request");
        let (status, _, _) = https(&connector, host.service.addr, admin).await;
        assert_eq!(status, 404);
        // ...but on the admin port (plain, loopback).
        assert_eq!(host.admin_get("plugins").await.status, 200);

        // Plain HTTP to the TLS port gets no HTTP answer.
        let mut plain = TcpStream::connect(host.service.addr)
            .await
            .expect("connect");
        plain
            .write_all(ingest_request(r#"{"key":"plain"}"#).as_bytes())
            .await
            .expect("write");
        assert_eq!(
            read_response(&mut plain, Duration::from_secs(5)).await,
            None
        );
        // A client that does not trust the certificate is refused.
        let stranger =
            rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("other");
        let tcp = TcpStream::connect(host.service.addr)
            .await
            .expect("connect");
        let refused = super::tls::connector(stranger.cert.der())
            .connect(ServerName::try_from("localhost").expect("name"), tcp)
            .await;
        assert!(refused.is_err(), "an untrusted certificate is refused");
        host.stop().await;
    }
}
