//! A host started with `[store] kind = "postgres"`: it migrates the
//! database, and an acknowledged message is in it.

use crate::store::postgres::test_db::{Schemas, connect};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_on_postgres_acknowledges_only_what_the_database_holds() {
    let Some(schemas) = Schemas::from_env() else {
        return;
    };
    let url = schemas.create().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
shutdown_grace_secs = 1

[store]
kind = "postgres"
url = "{url}"
pool_size = 4

[plugins]
dir = "{plugins}"
cache_dir = "{cache}"
watch = false

[sources.test]
kind = "test.any"
auth = {{ type = "none" }}
"#,
        plugins = plugins.display(),
        cache = dir.path().join("cache").display(),
    );
    let path = dir.path().join("waybill.toml");
    let config = crate::config::parse(&text, &path).expect("a valid config");
    let service = crate::runtime::start(config, None)
        .await
        .expect("the host starts on PostgreSQL");
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let post = |body: &'static str| {
        let request =
            http::Request::post(format!("http://{}/v1/sources/test/messages", service.addr))
                .header("content-type", "application/json")
                .header("idempotency-key", "order-1")
                .body(Full::new(Bytes::from(body)))
                .expect("request");
        let client = client.clone();
        async move {
            let response = client.request(request).await.expect("an answer");
            let status = response.status().as_u16();
            let body = response.into_body().collect().await.expect("body");
            let json: serde_json::Value =
                serde_json::from_slice(&body.to_bytes()).unwrap_or_default();
            (status, json)
        }
    };
    let (status, first) = post(r#"{"order":1}"#).await;
    assert_eq!(status, 202, "{first}");
    let (_, again) = post(r#"{"order":1}"#).await;
    assert_eq!(again["message_id"], first["message_id"], "the first answer");
    let (status, refused) = post(r#"{"order":2}"#).await;
    assert_eq!(status, 409, "{refused}");
    let db = connect(&url).await;
    let stored: i64 = db
        .query_one(
            "SELECT COUNT(*) FROM messages WHERE idempotency_key = 'order-1'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(stored, 1);
    service.shutdown().await;
    schemas.cleanup().await;
}
