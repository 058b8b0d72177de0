//! No secret reaches a dead letter, the timeline or a `Debug` of the config:
//! a target configured with a bearer token, an `x-api-key` header and
//! credentials in its URL refuses a delivery with 400 and echoes every
//! header it got back in its body, as a careless partner API does.

mod common;

use bytes::Bytes;
use common::host::{TestHost, config_head, probe_pipeline};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

const BEARER: &str = "bearer-secret-7f3a9c2e";
const API_KEY: &str = "api-key-secret-51d0b8aa";
const URL_PASSWORD: &str = "url-password-c4e2";

/// Answers 400 with every request header echoed; records what it saw.
async fn echoing_target() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let shared = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = shared.clone();
            let service = service_fn(move |req: Request<Incoming>| {
                let seen = seen.clone();
                async move {
                    let echo: String = req
                        .headers()
                        .iter()
                        .map(|(n, v)| format!("{n}: {}\n", String::from_utf8_lossy(v.as_bytes())))
                        .collect();
                    let _ = req.into_body().collect().await;
                    seen.lock().expect("seen").push(echo.clone());
                    let mut resp = Response::new(Full::new(Bytes::from(echo)));
                    *resp.status_mut() = hyper::StatusCode::BAD_REQUEST;
                    Ok::<_, Infallible>(resp)
                }
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    (format!("127.0.0.1:{}", addr.port()), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_dead_letters_timelines_or_debug() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (authority, seen) = echoing_target().await;
    let plugins = common::plugins_dir().join("test");
    let target = format!(
        r#"retry = {{ max_attempts = 2, base_ms = 10, cap_ms = 20 }}
auth = {{ type = "bearer", token = "{BEARER}" }}
headers = {{ x-api-key = "{API_KEY}" }}"#
    );
    let config = config_head(dir.path(), &plugins)
        + &probe_pipeline(
            &format!("http://waybill:{URL_PASSWORD}@{authority}/in"),
            &target,
        );
    let parsed =
        waybill::config::parse(&config, std::path::Path::new("waybill.toml")).expect("config");
    let debug = format!("{parsed:?}");
    for secret in [BEARER, API_KEY, URL_PASSWORD] {
        assert!(
            !debug.contains(secret),
            "Debug of the config shows {secret}"
        );
    }

    let host = TestHost::start(dir.path(), &config).await;
    let body = serde_json::json!({"key": "k-1", "event": "e-1"}).to_string();
    let a = host
        .post(
            "test",
            &[
                ("content-type", "application/json"),
                ("x-correlation-id", "secret-probe"),
            ],
            body,
        )
        .await;
    assert_eq!(a.status, 202, "{}", a.text);
    let timeline = host
        .wait_timeline("secret-probe", "a dead letter", |t| {
            t["dead_letters"].as_array().is_some_and(|d| !d.is_empty())
        })
        .await;

    // The target did get the credentials (so the test can fail)...
    let echoed = seen.lock().expect("seen").join("");
    assert!(
        echoed.contains(BEARER) && echoed.contains(API_KEY),
        "{echoed}"
    );
    // ...and echoed them back, but nothing the host stored or shows has them.
    let dead = host.admin_get("dead-letters").await;
    assert_eq!(dead.status, 200, "{}", dead.text);
    assert_eq!(
        dead.json["dead_letters"][0]["reason"], "delivery-rejected",
        "{}",
        dead.text
    );
    let stored = format!("{timeline}\n{}", dead.text);
    for secret in [BEARER, API_KEY, URL_PASSWORD] {
        assert!(!stored.contains(secret), "{secret} stored: {stored}");
    }
    host.stop().await;
}
