//! The HTTP side against a real loopback server: streaming, `since=`, the
//! bearer token, and the errors that name the system and URL.

use std::collections::BTreeMap;
use std::time::Duration;

use time::macros::datetime;
use tokio::net::TcpListener;

use super::super::ReconcileError;
use super::super::fetch::SnapshotClient;
use super::super::pager::{Cut, Pager};
use super::serve;
use crate::config::SnapshotEndpoint;
use crate::config::TargetAuth;

fn endpoint(url: String) -> SnapshotEndpoint {
    SnapshotEndpoint {
        url,
        plugin: "northwind-snapshot".into(),
        config: BTreeMap::new(),
        kind: None,
        auth: TargetAuth::None,
        tls: None,
    }
}

#[tokio::test]
async fn the_client_streams_pages_with_since_and_token() {
    let body = "{\"n\":1}\n{\"n\":2}\n\n{\"n\":3}\n".to_owned();
    let (addr, seen) = serve(BTreeMap::from([("/snap", (200, body))])).await;
    let mut ep = endpoint(format!("http://{addr}/snap?format=ndjson"));
    ep.auth = TargetAuth::Bearer {
        token: "s3cret".into(),
    };
    let client = SnapshotClient::new(Duration::from_secs(5));
    let since = datetime!(2026-05-28 14:05:00 UTC);
    let mut stream = client.open("erp", &ep, Some(since)).await.expect("open");
    let mut pager = Pager::new(2, 1024);
    let mut cuts = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = stream.next_chunk().await.expect("chunk") {
        chunks += 1;
        pager.push(&chunk, &mut cuts);
    }
    pager.finish(&mut cuts);
    assert!(chunks > 3, "the body arrived in {chunks} chunk(s)");
    assert_eq!(stream.bytes, 25);
    let pages: Vec<_> = cuts
        .iter()
        .map(|c| match c {
            Cut::Page(p) => (
                p.numbers.clone(),
                String::from_utf8_lossy(&p.bytes).into_owned(),
            ),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        pages,
        vec![
            (vec![1, 2], "{\"n\":1}\n{\"n\":2}\n".to_owned()),
            (vec![4], "{\"n\":3}\n".to_owned()),
        ]
    );
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(
        seen,
        vec![(
            "/snap?format=ndjson&since=2026-05-28T14:05:00Z".to_owned(),
            Some("Bearer s3cret".to_owned())
        )]
    );
}

#[tokio::test]
async fn failing_and_unreachable_endpoints_name_system_and_url() {
    let (addr, _) = serve(BTreeMap::from([("/down", (503, "maintenance".into()))])).await;
    let client = SnapshotClient::new(Duration::from_secs(5));
    let url = format!("http://{addr}/down");
    let Err(err) = client.open("tms", &endpoint(url.clone()), None).await else {
        panic!("a 503 must fail");
    };
    assert!(
        matches!(err, ReconcileError::Status { status: 503, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("reconcile: system tms: snapshot {url} answered HTTP 503: maintenance")
    );

    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let gone = closed.local_addr().expect("addr");
    drop(closed);
    let url = format!("http://{gone}/api/snapshots/orders");
    let Err(err) = client.open("erp", &endpoint(url.clone()), None).await else {
        panic!("a closed port must fail");
    };
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("reconcile: system erp: snapshot {url}: ")),
        "{text}"
    );
    assert!(text.contains("onnect"), "{text}");
}
