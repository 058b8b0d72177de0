//! Tests of the recording target the end-to-end tests use (`waybill_sims::sink`,
//! on the simulators' plumbing), driven through the host's own `HttpSender` (so
//! this exercises both) and, from a plain `#[test]`, through a raw socket.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use waybill::deliver::{
    Disposition, HttpSender, OutboundRequest, SendError, classify_error, classify_status,
};
use waybill_sims::sink::{Behaviour, Sink};

const PATIENT: Duration = Duration::from_secs(10);

fn post(sink: &Sink, path: &str, body: &'static str, timeout: Duration) -> OutboundRequest {
    OutboundRequest {
        url: sink.url(path),
        headers: vec![
            ("Idempotency-Key".into(), format!("key-{body}")),
            ("X-Correlation-Id".into(), "corr-1".into()),
        ],
        body: Bytes::from_static(body.as_bytes()),
        timeout,
    }
}

#[tokio::test]
async fn records_what_it_receives() {
    let sink = Sink::start(Behaviour::Ok);
    let sender = HttpSender::new().expect("sender");
    for body in ["one", "two"] {
        let resp = sender
            .post(post(&sink, "/erp/orders?x=1", body, PATIENT))
            .await
            .expect("post");
        assert_eq!(resp.status, 200);
    }
    let delivered = sink.wait_for_delivered_async(2, PATIENT).await;
    assert_eq!(delivered.len(), 2);
    assert_eq!(delivered[0].path, "/erp/orders?x=1");
    assert_eq!(delivered[0].body, Bytes::from_static(b"one"));
    assert_eq!(delivered[1].body, Bytes::from_static(b"two"));
    assert_eq!(delivered[0].headers["idempotency-key"], "key-one");
    assert_eq!(delivered[0].headers["x-correlation-id"], "corr-1");
    assert!(delivered[0].at <= delivered[1].at);
    assert_eq!(sink.received().len(), 2);
}

#[tokio::test]
async fn fails_n_times_then_succeeds() {
    let sink = Sink::start(Behaviour::FailTimes {
        times: 2,
        status: 503,
    });
    let sender = HttpSender::new().expect("sender");
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let resp = sender
            .post(post(&sink, "/tms", "m", PATIENT))
            .await
            .expect("post");
        statuses.push(resp.status);
    }
    assert_eq!(statuses, [503, 503, 200]);
    assert_eq!(sink.received().len(), 3);
    assert_eq!(sink.delivered().len(), 1);
}

#[tokio::test]
async fn always_fails_with_the_given_status() {
    let sink = Sink::start(Behaviour::Always(400));
    let resp = HttpSender::new()
        .expect("sender")
        .post(post(&sink, "/billing", "m", PATIENT))
        .await
        .expect("post");
    assert_eq!(resp.status, 400);
    let disposition = classify_status(resp.status, None, SystemTime::now());
    assert!(matches!(disposition, Disposition::Reject { .. }));
    assert!(sink.delivered().is_empty());
}

#[tokio::test]
async fn answers_429_with_retry_after() {
    let sink = Sink::start(Behaviour::RetryAfter { times: 1, secs: 2 });
    let sender = HttpSender::new().expect("sender");
    let first = sender
        .post(post(&sink, "/portal", "m", PATIENT))
        .await
        .expect("post");
    assert_eq!(first.status, 429);
    let disposition = classify_status(first.status, first.header("retry-after"), SystemTime::now());
    assert_eq!(
        disposition,
        Disposition::Retry {
            after: Some(Duration::from_secs(2)),
            reason: "target answered 429".into()
        }
    );
    let second = sender
        .post(post(&sink, "/portal", "m", PATIENT))
        .await
        .expect("post");
    assert_eq!(second.status, 200);
}

#[tokio::test]
async fn a_hanging_sink_times_the_sender_out() {
    let sink = Sink::start(Behaviour::Hang);
    let timeout = Duration::from_millis(200);
    let err = HttpSender::new()
        .expect("sender")
        .post(post(&sink, "/erp", "m", timeout))
        .await
        .expect_err("no answer");
    assert_eq!(err, SendError::Timeout(timeout));
    assert_eq!(sink.received().len(), 1);
    assert!(sink.delivered().is_empty());
}

#[tokio::test]
async fn a_dropping_sink_closes_the_connection() {
    let sink = Sink::start(Behaviour::Drop);
    let err = HttpSender::new()
        .expect("sender")
        .post(post(&sink, "/erp", "m", PATIENT))
        .await
        .expect_err("no answer");
    assert!(matches!(err, SendError::Io(_)), "{err:?}");
    assert!(classify_error(&err).is_retriable());
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn behaviour_can_change_midway() {
    let sink = Sink::start(Behaviour::Always(500));
    let sender = HttpSender::new().expect("sender");
    let resp = sender
        .post(post(&sink, "/erp", "a", PATIENT))
        .await
        .expect("post");
    assert_eq!(resp.status, 500);
    sink.set_behaviour(Behaviour::FailTimes {
        times: 1,
        status: 502,
    });
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let resp = sender
            .post(post(&sink, "/erp", "b", PATIENT))
            .await
            .expect("post");
        statuses.push(resp.status);
    }
    assert_eq!(statuses, [502, 200]);
    assert_eq!(sink.received().len(), 3);
}

#[tokio::test]
async fn dropping_the_sink_stops_the_server() {
    let sink = Sink::start(Behaviour::Hang);
    let url = sink.url("/erp");
    let sender = HttpSender::new().expect("sender");
    // A request left hanging must not keep the server alive.
    let hanging = tokio::spawn({
        let sender = sender.clone();
        let url = url.clone();
        async move {
            sender
                .post(OutboundRequest {
                    url,
                    headers: vec![],
                    body: Bytes::new(),
                    timeout: PATIENT,
                })
                .await
        }
    });
    while sink.received().is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::task::spawn_blocking(move || drop(sink))
        .await
        .expect("drop");
    let err = hanging.await.expect("join").expect_err("server gone");
    assert!(matches!(err, SendError::Io(_)), "{err:?}");
    let err = HttpSender::new()
        .expect("sender")
        .post(OutboundRequest {
            url,
            headers: vec![],
            body: Bytes::new(),
            timeout: PATIENT,
        })
        .await
        .expect_err("server gone");
    assert!(matches!(err, SendError::Connect(_)), "{err:?}");
}

#[test]
fn works_from_a_plain_test() {
    let sink = Sink::start(Behaviour::Ok);
    let mut stream = std::net::TcpStream::connect(sink.addr).expect("connect");
    stream
        .set_read_timeout(Some(PATIENT))
        .expect("read timeout");
    stream
        .write_all(
            b"POST /raw HTTP/1.1\r\nHost: x\r\nX-Mixed-Case: v\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        )
        .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let delivered = sink.wait_for_delivered(1, PATIENT);
    assert_eq!(delivered[0].path, "/raw");
    assert_eq!(delivered[0].headers["x-mixed-case"], "v");
    assert_eq!(delivered[0].body_text(), "hello");
}

#[test]
#[should_panic(expected = "expected 2 delivered within")]
fn waiting_too_long_panics_with_what_arrived() {
    let sink = Sink::start(Behaviour::Always(503));
    let mut stream = std::net::TcpStream::connect(sink.addr).expect("connect");
    stream
        .write_all(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        .expect("write");
    while sink.received().is_empty() {
        std::thread::sleep(Duration::from_millis(5));
    }
    sink.wait_for_delivered(2, Duration::from_millis(100));
}
