//! Ingest that one partner (or a stranger) cannot abuse: metrics label only
//! configured sources, NDJSON batches are capped and cost one rate-limit
//! token per line, failed authentication costs nothing, credential headers
//! are never stored, and an HMAC signature works once.

mod common;

use common::host::{ACME_SECRET, TestHost, acme_signature, config_head};
use std::sync::Arc;

const BEARER: &str = "edge-partner-token-0123456789";

fn config(dir: &std::path::Path, sources: &str) -> String {
    let head = config_head(dir, &common::plugins_dir().join("test"));
    format!(
        r#"{head}
{sources}

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

fn open_source(extra: &str) -> String {
    format!("[sources.test]\nkind = \"test.any\"\nauth = {{ type = \"none\" }}\n{extra}\n")
}

const JSON: (&str, &str) = ("content-type", "application/json");
const NDJSON: (&str, &str) = ("content-type", "application/x-ndjson");

fn lines(n: usize) -> String {
    (0..n)
        .map(|i| format!("{{\"key\":\"k\",\"n\":{i}}}\n"))
        .collect()
}

async fn stop(host: Arc<TestHost>) {
    match Arc::try_unwrap(host) {
        Ok(host) => host.stop().await,
        Err(_) => panic!("host still shared"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_do_not_grow_with_random_source_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = Arc::new(TestHost::start(dir.path(), &config(dir.path(), &open_source(""))).await);
    assert_eq!(
        host.post("test", &[JSON], r#"{"key":"k"}"#).await.status,
        202
    );
    assert_eq!(host.post("nope-0", &[JSON], "{}").await.status, 404);
    let before = host.admin_request("GET", "/metrics", &[], "").await.text;
    assert!(
        before.contains(r#"waybill_ingest_requests_total{source="unknown",status="404"} 1"#),
        "{before}"
    );
    let mut tasks = Vec::new();
    for t in 0..8 {
        let host = host.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..1250 {
                let name = format!("r{}", uuid::Uuid::new_v4().simple());
                let a = host.post(&name, &[JSON], "{}").await;
                assert_eq!(a.status, 404, "task {t} request {i}");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let after = host.admin_request("GET", "/metrics", &[], "").await.text;
    assert!(
        after.contains(r#"waybill_ingest_requests_total{source="unknown",status="404"} 10001"#),
        "{after}"
    );
    assert!(after.contains(r#"source="test""#), "{after}");
    // The same ingest series, longer only by the digits of a count; the
    // whole text by no more than other state changes (processing,
    // deliveries) add, where 10,000 new series would add ~700 KB.
    let series = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("waybill_ingest_requests_total"))
            .map(|l| {
                l.rsplit_once(' ')
                    .map(|(s, _)| s.to_string())
                    .unwrap_or_default()
            })
            .collect()
    };
    assert_eq!(series(&before), series(&after), "{after}");
    assert_eq!(series(&after).len(), 2, "{after}");
    assert!(
        after.len() < before.len() + 2000,
        "metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
    assert!(
        !after.contains("source=\"r"),
        "a random name became a label"
    );
    stop(host).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_over_max_bulk_lines_is_refused_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = TestHost::start(
        dir.path(),
        &config(dir.path(), &open_source("max_bulk_lines = 5")),
    )
    .await;
    let too_many = host
        .request(
            "POST",
            "/v1/sources/test/messages/bulk",
            &[NDJSON, ("x-correlation-id", "bulk-over")],
            lines(6),
        )
        .await;
    assert_eq!(too_many.status, 413, "{}", too_many.text);
    assert_eq!(
        too_many.json["type"],
        "https://waybill.dev/problems/too-many-lines"
    );
    assert_eq!(too_many.json["field"], "max_bulk_lines");
    assert_eq!(too_many.json["limit_lines"], 5);
    assert_eq!(too_many.json["lines"], 6);
    // Nothing of it was stored.
    for line in 1..=6 {
        let t = host.admin_get(&format!("messages/bulk-over-{line}")).await;
        assert_eq!(t.status, 404, "line {line}: {}", t.text);
    }
    // Blank lines do not count; five lines pass.
    let ok = host
        .request(
            "POST",
            "/v1/sources/test/messages/bulk",
            &[NDJSON, ("x-correlation-id", "bulk-ok")],
            format!("{}\n\n", lines(5)),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json["accepted"], 5);
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_costs_one_rate_token_per_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let host = TestHost::start(
        dir.path(),
        &config(
            dir.path(),
            &open_source("rate_limit = { per_second = 0.01, burst = 100 }"),
        ),
    )
    .await;
    // 500 lines against a burst of 100: refused as a whole, nothing stored
    // and no token taken.
    let big = host
        .request(
            "POST",
            "/v1/sources/test/messages/bulk",
            &[NDJSON, ("x-correlation-id", "rate-big")],
            lines(500),
        )
        .await;
    assert_eq!(big.status, 429, "{}", big.text);
    assert_eq!(
        big.json["type"],
        "https://waybill.dev/problems/rate-limited"
    );
    assert_eq!(big.json["tokens_needed"], 500);
    assert_eq!(big.json["burst"], 100);
    assert_eq!(host.admin_get("messages/rate-big-1").await.status, 404);
    // 60 lines fit, then 50 more do not (40 tokens left): refused whole.
    let first = host
        .request(
            "POST",
            "/v1/sources/test/messages/bulk",
            &[NDJSON, ("x-correlation-id", "rate-60")],
            lines(60),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.json["accepted"], 60);
    let second = host
        .request(
            "POST",
            "/v1/sources/test/messages/bulk",
            &[NDJSON, ("x-correlation-id", "rate-50")],
            lines(50),
        )
        .await;
    assert_eq!(second.status, 429, "{}", second.text);
    assert!(second.header("retry-after").is_some());
    assert_eq!(host.admin_get("messages/rate-50-1").await.status, 404);
    // The 40 left are still there for single messages.
    for n in 0..40 {
        let a = host
            .post("test", &[JSON], format!(r#"{{"key":"k","single":{n}}}"#))
            .await;
        assert_eq!(a.status, 202, "message {n}: {}", a.text);
    }
    assert_eq!(
        host.post("test", &[JSON], r#"{"key":"x"}"#).await.status,
        429
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_authentication_does_not_drain_the_bucket() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = format!(
        "[sources.test]\nkind = \"test.any\"\nauth = {{ type = \"bearer\", token = \"{BEARER}\" }}\n\
         rate_limit = {{ per_second = 0.01, burst = 3 }}\n\n\
         [sources.signed]\nkind = \"test.any\"\nauth = {{ type = \"hmac\", secret = \"{ACME_SECRET}\" }}\n\
         rate_limit = {{ per_second = 0.01, burst = 3 }}\n"
    );
    let host = Arc::new(TestHost::start(dir.path(), &config(dir.path(), &sources)).await);
    let mut tasks = Vec::new();
    for t in 0..4 {
        let host = host.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..250 {
                let a = host
                    .post(
                        "test",
                        &[JSON, ("authorization", "Bearer wrong-token")],
                        r#"{"key":"k"}"#,
                    )
                    .await;
                assert_eq!(a.status, 401, "task {t} request {i}: {}", a.text);
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    for _ in 0..20 {
        let a = host
            .post(
                "signed",
                &[JSON, ("x-acme-signature", "t=1,v1=00")],
                r#"{"key":"k"}"#,
            )
            .await;
        assert_eq!(a.status, 401, "{}", a.text);
    }
    let good = format!("Bearer {BEARER}");
    let a = host
        .post("test", &[JSON, ("authorization", &good)], r#"{"key":"k"}"#)
        .await;
    assert_eq!(
        a.status, 202,
        "1,000 refused requests cost no tokens: {}",
        a.text
    );
    let body = r#"{"key":"signed"}"#;
    let sig = acme_signature(body.as_bytes());
    let a = host
        .post("signed", &[JSON, ("x-acme-signature", &sig)], body)
        .await;
    assert_eq!(a.status, 202, "{}", a.text);
    stop(host).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_headers_are_never_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = format!(
        "[sources.test]\nkind = \"test.any\"\nauth = {{ type = \"bearer\", token = \"{BEARER}\" }}\n"
    );
    let host = TestHost::start(dir.path(), &config(dir.path(), &sources)).await;
    let good = format!("Bearer {BEARER}");
    let secrets = [
        ("authorization", good.as_str()),
        ("proxy-authorization", "Basic dXNlcjpwYXNz"),
        ("cookie", "session=abc"),
        ("x-api-key", "key-123"),
        ("x-auth-token", "tok-123"),
        ("x-client-secret", "sec-123"),
        ("x-hub-signature-256", "sha256=abc"),
        ("x-amz-security-token", "amz-123"),
    ];
    let mut headers = vec![
        JSON,
        ("x-correlation-id", "secret-headers"),
        ("x-partner-ref", "PO-42"),
    ];
    headers.extend(secrets);
    let a = host.post("test", &headers, r#"{"key":"k"}"#).await;
    assert_eq!(a.status, 202, "{}", a.text);
    let t = host.admin_get("messages/secret-headers").await;
    assert_eq!(t.status, 200, "{}", t.text);
    let stored = t.json["messages"][0]["headers"].to_string();
    assert!(
        stored.contains("x-partner-ref") && stored.contains("PO-42"),
        "{stored}"
    );
    for (name, value) in secrets {
        assert!(!stored.contains(name), "{name} was stored: {stored}");
        assert!(
            !t.text.contains(value),
            "the value of {name} is in the timeline"
        );
    }
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hmac_signature_works_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sources = format!(
        "{}\n[sources.signed]\nkind = \"test.any\"\nauth = {{ type = \"hmac\", secret = \"{ACME_SECRET}\" }}\n",
        open_source("")
    );
    let host = TestHost::start(dir.path(), &config(dir.path(), &sources)).await;
    let body = r#"{"key":"once"}"#;
    let sig = acme_signature(body.as_bytes());
    let first = host
        .post(
            "signed",
            &[
                JSON,
                ("x-acme-signature", &sig),
                ("x-correlation-id", "sig-1"),
            ],
            body,
        )
        .await;
    assert_eq!(first.status, 202, "{}", first.text);
    // The same signed request again (a captured webhook re-sent): refused,
    // nothing stored for it.
    let replay = host
        .post(
            "signed",
            &[
                JSON,
                ("x-acme-signature", &sig),
                ("x-correlation-id", "sig-2"),
            ],
            body,
        )
        .await;
    assert_eq!(replay.status, 409, "{}", replay.text);
    assert_eq!(
        replay.json["type"],
        "https://waybill.dev/problems/signature-replayed"
    );
    assert_eq!(replay.json["field"], "x-acme-signature");
    assert_eq!(host.admin_get("messages/sig-2").await.status, 404);
    // Extra header parts do not make it a new signature.
    let padded = format!("{sig},v0=ignored");
    let again = host
        .post("signed", &[JSON, ("x-acme-signature", &padded)], body)
        .await;
    assert_eq!(again.status, 409, "{}", again.text);
    // Signed again at another second, the same body is a new request.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let resigned = waybill::http::auth::sign_hmac(ACME_SECRET, now - 5, body.as_bytes());
    let fresh = host
        .post("signed", &[JSON, ("x-acme-signature", &resigned)], body)
        .await;
    assert_eq!(fresh.status, 202, "{}", fresh.text);
    host.stop().await;
}
