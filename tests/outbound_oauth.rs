//! OAuth2 client credentials through the real host, against a local token
//! endpoint that counts its calls and a target that checks the token:
//! while the token endpoint is down deliveries are retried (no dead letter);
//! once it answers, one token serves every worker of the target; when the
//! target revokes it (401), the host refreshes once and the deliveries go
//! through with the new token.

mod common;

use bytes::Bytes;
use common::host::{TestHost, config_head, probe_pipeline};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

const MESSAGES: usize = 20;
/// The token endpoint answers 503 this many times first.
const TOKEN_OUTAGE: u32 = 2;
/// After this many accepted deliveries the target revokes the token.
const REVOKE_AFTER: usize = 10;

#[derive(Default)]
struct State {
    /// Calls of the token endpoint, failed ones included.
    token_calls: u32,
    /// Tokens issued: `tok-1`, `tok-2`, ...
    issued: u32,
    /// Tokens up to this number are refused by the target.
    revoked_up_to: u32,
    /// Grant bodies the token endpoint received.
    grants: Vec<String>,
    /// (idempotency key, token) of every accepted delivery.
    accepted: Vec<(String, String)>,
    /// Deliveries answered 401.
    unauthorized: usize,
}

async fn answer(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut s = state.lock().expect("state");
    let (status, text) = if path == "/token" {
        s.token_calls += 1;
        s.grants.push(String::from_utf8_lossy(&body).into_owned());
        if s.token_calls <= TOKEN_OUTAGE {
            (503, String::from("{\"error\":\"temporarily_unavailable\"}"))
        } else {
            s.issued += 1;
            let token = format!("tok-{}", s.issued);
            (
                200,
                format!(
                    "{{\"access_token\":\"{token}\",\"token_type\":\"Bearer\",\"expires_in\":3600}}"
                ),
            )
        }
    } else {
        let valid = auth
            .strip_prefix("Bearer tok-")
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n == s.issued && n > s.revoked_up_to);
        if valid {
            s.accepted.push((key, auth));
            if s.accepted.len() == REVOKE_AFTER {
                s.revoked_up_to = s.issued;
            }
            (200, String::from("{}"))
        } else {
            s.unauthorized += 1;
            (401, String::from("{\"error\":\"invalid_token\"}"))
        }
    };
    let mut resp = Response::new(Full::new(Bytes::from(text)));
    *resp.status_mut() = hyper::StatusCode::from_u16(status).expect("status");
    Ok(resp)
}

async fn partner() -> (String, Arc<Mutex<State>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = Arc::new(Mutex::new(State::default()));
    let shared = state.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let state = shared.clone();
            tokio::spawn(http1::Builder::new().serve_connection(
                TokioIo::new(stream),
                service_fn(move |req| answer(state.clone(), req)),
            ));
        }
    });
    (format!("http://{addr}"), state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_token_for_all_workers_retried_while_down_refreshed_once_on_401() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (base, state) = partner().await;
    let plugins = common::plugins_dir().join("test");
    let target = format!(
        r#"timeout_ms = 2000
max_in_flight = 8
retry = {{ max_attempts = 20, base_ms = 20, cap_ms = 100 }}
breaker = {{ failure_threshold = 1000, open_secs = 1 }}
auth = {{ type = "oauth2", token_url = "{base}/token", client_id = "waybill", client_secret = "oauth-test-client-secret", scope = "deliveries" }}"#
    );
    let config =
        config_head(dir.path(), &plugins) + &probe_pipeline(&format!("{base}/in"), &target);
    let host = TestHost::start(dir.path(), &config).await;
    for i in 0..MESSAGES {
        let body = serde_json::json!({"key": format!("k-{i}"), "event": format!("e-{i}")});
        let a = host
            .post(
                "test",
                &[("content-type", "application/json")],
                body.to_string(),
            )
            .await;
        assert_eq!(a.status, 202, "{}", a.text);
    }

    common::wait_until(
        "every message delivered",
        Duration::from_secs(30),
        || async {
            let distinct: BTreeSet<String> = state
                .lock()
                .expect("state")
                .accepted
                .iter()
                .map(|(k, _)| k.clone())
                .collect();
            (distinct.len() == MESSAGES).then_some(())
        },
    )
    .await;
    // Every delivery finished: no retry or refresh is still on its way.
    host.wait_idle().await;

    {
        let s = state.lock().expect("state");
        // Two failed calls while the endpoint was down, one token for all
        // workers, one refresh after the revocation: no call per worker or per
        // delivery.
        assert_eq!(s.issued, 2, "one token, then one refresh");
        assert_eq!(s.token_calls, TOKEN_OUTAGE + 2, "{:?}", s.grants);
        assert!(
            s.grants
                .iter()
                .all(|g| g.contains("grant_type=client_credentials")
                    && g.contains("scope=deliveries")),
            "{:?}",
            s.grants
        );
        assert!(s.unauthorized >= 1, "the revoked token was refused");
        let first: Vec<_> = s.accepted[..REVOKE_AFTER].iter().map(|(_, t)| t).collect();
        assert!(first.iter().all(|t| *t == "Bearer tok-1"), "{first:?}");
        let later: Vec<_> = s.accepted[REVOKE_AFTER..].iter().map(|(_, t)| t).collect();
        assert!(later.iter().all(|t| *t == "Bearer tok-2"), "{later:?}");
    }

    // The token endpoint's outage and the 401s were retried, never dead
    // letters; the client secret and tokens are stored nowhere visible.
    let dead = host.admin_get("dead-letters").await;
    assert_eq!(dead.status, 200, "{}", dead.text);
    assert!(
        dead.json["dead_letters"]
            .as_array()
            .is_none_or(|d| d.is_empty()),
        "{}",
        dead.text
    );
    host.stop().await;
}
