//! Per-business-key order and idempotency through the real host with
//! concurrent producers: 8 partners, each on connections of its own, send
//! 25 events for each of 20 business keys (500 messages, a unique
//! Idempotency-Key each), interleaving their keys and racing each other.
//! Half of the messages are sent a second time by another partner at the
//! same time as the first, and a few keys are reused with a different body.
//! Every message is stored once, answered with one message id, delivered
//! once, and each key's events reach the target in the order the host
//! acknowledged them.
//!
//! Written against today's write path so that it guards the batched one
//! (issue 11): nothing here depends on how the store groups its writes.
//!
//! Every test runs on both stores, as `sqlite::<name>` and `postgres::<name>`
//! ([`store_matrix!`], `tests/common/store.rs`).

mod common;

use bytes::Bytes;
use common::host::{TestHost, config_head_on, probe_pipeline};
use common::store::TestStore;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use waybill_sims::sink::{Behaviour, Sink};

const PRODUCERS: usize = 8;
const KEYS: usize = 20;
const EVENTS_PER_KEY: usize = 25;
const MESSAGES: usize = KEYS * EVENTS_PER_KEY;

fn config(store: &TestStore, sink: &Sink) -> String {
    let plugins = common::plugins_dir().join("test");
    // A generous delivery timeout: a slow moment on a busy machine must not
    // make the host send a delivery twice, so any repeat the sink sees is a
    // real duplicate.
    let target = "timeout_ms = 10000
retry = { max_attempts = 3, base_ms = 10, cap_ms = 40 }
breaker = { failure_threshold = 100, open_secs = 1 }";
    config_head_on(store, &plugins) + &probe_pipeline(&sink.url("/in"), target)
}

fn business_key(k: usize) -> String {
    format!("SHP-{k:02}")
}

fn idempotency_key(k: usize, seq: usize) -> String {
    format!("conc-{k:02}-{seq:02}")
}

fn body(k: usize, seq: usize) -> String {
    serde_json::json!({"key": business_key(k), "seq": seq}).to_string()
}

/// Every other message of a key is sent twice.
fn repeated(k: usize, seq: usize) -> bool {
    (k + seq).is_multiple_of(2)
}

/// A few messages have their key reused with another body.
fn conflicted(k: usize, seq: usize) -> bool {
    k.is_multiple_of(4) && seq == 10
}

fn owner(k: usize) -> usize {
    k % PRODUCERS
}

/// The producer that sends the second copy: never the owner.
fn helper(k: usize, seq: usize) -> usize {
    (owner(k) + 1 + seq % (PRODUCERS - 1)) % PRODUCERS
}

/// An ingest answer.
#[derive(Debug, Clone)]
struct Ack {
    status: u16,
    replayed: bool,
    json: serde_json::Value,
    text: String,
    /// A 503 was retried before this answer.
    retried: bool,
}

impl Ack {
    fn message_id(&self) -> &str {
        self.json["message_id"].as_str().unwrap_or("")
    }
    fn correlation_id(&self) -> &str {
        self.json["correlation_id"].as_str().unwrap_or("")
    }
}

/// A partner with an HTTP/1.1 connection of its own.
struct Partner {
    addr: SocketAddr,
    conn: Option<SendRequest<Full<Bytes>>>,
}

impl Partner {
    fn new(addr: SocketAddr) -> Partner {
        Partner { addr, conn: None }
    }

    async fn connection(&mut self) -> &mut SendRequest<Full<Bytes>> {
        if self.conn.as_ref().is_none_or(|c| c.is_closed()) {
            let stream = tokio::net::TcpStream::connect(self.addr)
                .await
                .expect("connect to the host");
            let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .expect("handshake");
            tokio::spawn(conn);
            self.conn = Some(send);
        }
        let conn = self.conn.as_mut().expect("connection");
        conn.ready().await.expect("connection ready");
        conn
    }

    async fn post_once(&mut self, idem: &str, body: &str) -> (u16, bool, String) {
        let req = hyper::Request::builder()
            .method("POST")
            .uri("/v1/sources/test/messages")
            .header("host", self.addr.to_string())
            .header("content-type", "application/json")
            .header("idempotency-key", idem)
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("request");
        let resp = self
            .connection()
            .await
            .send_request(req)
            .await
            .expect("host answers");
        let status = resp.status().as_u16();
        let replayed = resp
            .headers()
            .get("idempotent-replayed")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        (
            status,
            replayed,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    /// Posts as a partner does: a 503 is retried, anything else is the
    /// answer.
    async fn post(&mut self, idem: &str, body: &str) -> Ack {
        let mut retried = false;
        for _ in 0..100 {
            let (status, replayed, text) = self.post_once(idem, body).await;
            if status == 503 {
                retried = true;
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            return Ack {
                status,
                replayed,
                json: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
                text,
                retried,
            };
        }
        panic!("{idem}: still 503 after 100 tries");
    }
}

/// A send another producer makes on a key the owner is using.
struct Job {
    idem: String,
    body: String,
    reply: oneshot::Sender<Ack>,
}

/// What one message got.
struct Sent {
    key: usize,
    seq: usize,
    first: Ack,
    repeat: Option<Ack>,
}

/// Sends the second copies and conflicting bodies other producers hand
/// over, on a connection of its own so that it never waits for an owner.
async fn serve_jobs(addr: SocketAddr, mut jobs: mpsc::UnboundedReceiver<Job>) {
    let mut partner = Partner::new(addr);
    while let Some(job) = jobs.recv().await {
        let ack = partner.post(&job.idem, &job.body).await;
        let _ = job.reply.send(ack);
    }
}

/// Sends the events of the keys this producer owns: round robin over its
/// keys, each key's next event only after its previous one (and that one's
/// second copy) was answered.
async fn produce(
    id: usize,
    addr: SocketAddr,
    helpers: Vec<mpsc::UnboundedSender<Job>>,
) -> (Vec<Sent>, Vec<(String, Ack)>) {
    let mut partner = Partner::new(addr);
    let keys: Vec<usize> = (0..KEYS).filter(|k| owner(*k) == id).collect();
    let mut sent = Vec::new();
    let mut conflicts = Vec::new();
    for seq in 0..EVENTS_PER_KEY {
        for &k in &keys {
            let (idem, body) = (idempotency_key(k, seq), body(k, seq));
            // The second copy is handed over before the first is sent, so
            // the two race for the key.
            let repeat = repeated(k, seq).then(|| {
                let (reply, answer) = oneshot::channel();
                helpers[helper(k, seq)]
                    .send(Job {
                        idem: idem.clone(),
                        body: body.clone(),
                        reply,
                    })
                    .expect("helper running");
                answer
            });
            let first = partner.post(&idem, &body).await;
            let repeat = match repeat {
                Some(answer) => Some(answer.await.expect("helper answers")),
                None => None,
            };
            if conflicted(k, seq) {
                // Only once the key is taken: the same key with another body.
                let (reply, answer) = oneshot::channel();
                let other =
                    serde_json::json!({"key": business_key(k), "seq": seq, "tampered": true})
                        .to_string();
                helpers[helper(k, seq + 1)]
                    .send(Job {
                        idem: idem.clone(),
                        body: other,
                        reply,
                    })
                    .expect("helper running");
                conflicts.push((idem.clone(), answer.await.expect("helper answers")));
            }
            sent.push(Sent {
                key: k,
                seq,
                first,
                repeat,
            });
        }
    }
    (sent, conflicts)
}

async fn concurrent_producers_keep_per_key_order_and_idempotency(store: TestStore) {
    let sink = Sink::start(Behaviour::Ok);
    let host = TestHost::start(store.dir(), &config(&store, &sink)).await;
    let addr = host.service.addr;

    let mut helpers = Vec::new();
    let mut serving = Vec::new();
    for _ in 0..PRODUCERS {
        let (tx, rx) = mpsc::unbounded_channel();
        helpers.push(tx);
        serving.push(tokio::spawn(serve_jobs(addr, rx)));
    }
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|id| tokio::spawn(produce(id, addr, helpers.clone())))
        .collect();
    drop(helpers);
    let mut sent = Vec::new();
    let mut conflicts = Vec::new();
    for p in producers {
        let (s, c) = p.await.expect("producer");
        sent.extend(s);
        conflicts.extend(c);
    }
    for s in serving {
        s.await.expect("helper");
    }
    assert_eq!(sent.len(), MESSAGES);

    // The answers: one message id per Idempotency-Key, given to both copies;
    // exactly one of them is the first answer, the other its replay.
    let mut acked: HashMap<(usize, usize), (String, String)> = HashMap::new();
    let mut ids = HashSet::new();
    let mut repeats = 0;
    for s in &sent {
        let idem = idempotency_key(s.key, s.seq);
        let first = &s.first;
        assert_eq!(first.status, 202, "{idem}: {}", first.text);
        assert!(!first.message_id().is_empty(), "{idem}: {}", first.text);
        assert!(!first.correlation_id().is_empty(), "{idem}: {}", first.text);
        assert!(
            ids.insert(first.message_id().to_string()),
            "{idem}: message id {} given to two keys",
            first.message_id()
        );
        match &s.repeat {
            None => assert!(
                !first.replayed || first.retried,
                "{idem}: sent once but answered as a replay: {}",
                first.text
            ),
            Some(repeat) => {
                repeats += 1;
                assert_eq!(repeat.status, 202, "{idem} again: {}", repeat.text);
                assert_eq!(
                    (repeat.message_id(), repeat.correlation_id()),
                    (first.message_id(), first.correlation_id()),
                    "{idem}: the repeat gets the first answer: {} / {}",
                    first.text,
                    repeat.text
                );
                let originals = [first, repeat].iter().filter(|a| !a.replayed).count();
                if first.retried || repeat.retried {
                    assert!(originals <= 1, "{idem}: two first answers");
                } else {
                    assert_eq!(
                        originals, 1,
                        "{idem}: exactly one copy is the first, the other Idempotent-Replayed: {} / {}",
                        first.text, repeat.text
                    );
                }
            }
        }
        acked.insert(
            (s.key, s.seq),
            (
                first.message_id().to_string(),
                first.correlation_id().to_string(),
            ),
        );
    }
    assert_eq!(repeats, MESSAGES / 2);
    let helper_first = sent
        .iter()
        .filter(|s| s.repeat.as_ref().is_some_and(|r| !r.replayed) && s.first.replayed)
        .count();
    let retried = sent
        .iter()
        .filter(|s| s.first.retried || s.repeat.as_ref().is_some_and(|r| r.retried))
        .count();
    eprintln!(
        "{repeats} repeated messages, {helper_first} of them stored from the second copy; {retried} retried after 503"
    );
    assert_eq!(acked.len(), MESSAGES);

    // The same key with another body is refused and named.
    assert_eq!(conflicts.len(), KEYS / 4);
    for (idem, a) in &conflicts {
        assert_eq!(a.status, 409, "{idem}: {}", a.text);
        assert!(
            a.json["type"]
                .as_str()
                .is_some_and(|t| t.ends_with("/idempotency-conflict")),
            "{idem}: {}",
            a.text
        );
        assert_eq!(a.json["idempotency_key"], idem.as_str(), "{}", a.text);
        assert!(
            a.json["detail"].as_str().is_some_and(|d| d.contains(idem)),
            "{idem}: {}",
            a.text
        );
    }

    // The target: every message once, each key in the order acknowledged.
    sink.wait_for_delivered_async(MESSAGES, Duration::from_secs(60))
        .await;
    host.wait_idle().await;
    let received = sink.received();
    let mut per_delivery_key: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_business_key: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for r in &received {
        assert_eq!(r.status, Some(200), "{}", sink.describe());
        let delivery_key = r
            .headers
            .get("idempotency-key")
            .cloned()
            .unwrap_or_default();
        assert!(!delivery_key.is_empty(), "{}", sink.describe());
        *per_delivery_key.entry(delivery_key.clone()).or_default() += 1;
        let doc: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON delivery");
        let payload = &doc["doc"]["payload"];
        assert!(
            payload.get("tampered").is_none(),
            "a refused body was delivered: {doc}"
        );
        let key = payload["key"].as_str().expect("key").to_string();
        let seq = usize::try_from(payload["seq"].as_u64().expect("seq")).expect("seq");
        let k = key
            .strip_prefix("SHP-")
            .and_then(|n| n.parse::<usize>().ok())
            .expect("a key this test sent");
        let (message_id, correlation_id) = &acked[&(k, seq)];
        assert!(
            delivery_key.starts_with(message_id.as_str()),
            "{key} #{seq}: delivered under {delivery_key}, acknowledged as {message_id}"
        );
        assert_eq!(
            r.headers.get("x-correlation-id"),
            Some(correlation_id),
            "{key} #{seq}"
        );
        per_business_key.entry(key).or_default().push(seq);
    }
    let twice: Vec<_> = per_delivery_key.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(per_delivery_key.len(), MESSAGES);
    assert_eq!(received.len(), MESSAGES, "{}", sink.describe());
    assert_eq!(per_business_key.len(), KEYS);
    // The host's acknowledgement order per key: each key's events were
    // sent one after the other, so it is the order of the answers, and the
    // owner sent them by sequence number.
    let mut ack_order: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for s in &sent {
        ack_order
            .entry(business_key(s.key))
            .or_default()
            .push(s.seq);
    }
    let in_order: Vec<usize> = (0..EVENTS_PER_KEY).collect();
    for (key, seqs) in &per_business_key {
        assert_eq!(
            seqs, &ack_order[key],
            "{key}: delivered in another order than acknowledged"
        );
        assert_eq!(seqs, &in_order, "{key}: seq not strictly increasing");
    }

    // The store: each acknowledged message stored once, processed and
    // delivered once, and nothing else stored.
    for (k, seq) in acked.keys() {
        let (message_id, cid) = &acked[&(*k, *seq)];
        let t = host.admin_get(&format!("messages/{cid}")).await;
        assert_eq!(t.status, 200, "{cid}: {}", t.text);
        let messages = t.json["messages"].as_array().expect("messages");
        assert_eq!(messages.len(), 1, "{cid}: {}", t.text);
        assert_eq!(messages[0]["message_id"], message_id.as_str(), "{}", t.text);
        assert_eq!(messages[0]["state"], "processed", "{}", t.text);
        let deliveries = t.json["deliveries"].as_array().expect("deliveries");
        assert_eq!(deliveries.len(), 1, "{cid}: {}", t.text);
        assert_eq!(deliveries[0]["state"], "delivered", "{}", t.text);
    }
    let stats = host.service.app.store.stats().await.expect("stats");
    assert_eq!(
        stats.messages,
        BTreeMap::from([("processed".to_string(), MESSAGES as u64)]),
        "stored messages by state"
    );
    assert_eq!(
        stats.deliveries,
        BTreeMap::from([(
            ("sink".to_string(), "delivered".to_string()),
            MESSAGES as u64
        )]),
        "deliveries by target and state"
    );
    host.stop().await;
}

store_matrix!(concurrent_producers_keep_per_key_order_and_idempotency);
