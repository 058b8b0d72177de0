//! Replay and processing safety through the real host: two replays of one
//! dead letter at once enqueue once (the loser hears 409), a replayed
//! delivery keeps its downstream idempotency key when it is the same
//! business document and gets a new one when it is not, and a message whose
//! outcome the store keeps refusing becomes a `poison` dead letter instead
//! of blocking the queue.
//!
//! Every test runs on both stores, as `sqlite::<name>` and `postgres::<name>`
//! ([`store_matrix!`], `tests/common/store.rs`); the faults are injected
//! around the host, in each store's own SQL (a trigger, a rewritten row).

mod common;

use common::host::{QUICK_TARGET, TestHost, config_head_on, probe_pipeline};
use common::store::TestStore;
use std::time::Duration;
use waybill_sims::sink::{Behaviour, Sink};

/// The probe pipeline on `store`, `extra_store` added to its `[store]`
/// section.
fn probe_config(store: &TestStore, sink: &Sink, extra_store: &str) -> String {
    let head = config_head_on(store, &common::plugins_dir().join("test"))
        .replace("[store]\n", &format!("[store]\n{extra_store}\n"));
    head + &probe_pipeline(&sink.url("/in"), QUICK_TARGET)
}

/// Posts one message as a partner does: a 503 (the store could not commit
/// the group this message was in, e.g. because an injected fault rolled
/// back another message's write in the same group) is retried, anything
/// else but 202 fails the test.
async fn send(host: &TestHost, key: &str, cid: &str) {
    let body = serde_json::json!({"key": key, "event": cid}).to_string();
    for _ in 0..20 {
        let a = host
            .post(
                "test",
                &[
                    ("content-type", "application/json"),
                    ("x-correlation-id", cid),
                ],
                body.clone(),
            )
            .await;
        if a.status == 503 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        assert_eq!(a.status, 202, "{}", a.text);
        return;
    }
    panic!("{cid}: still 503 after 20 tries");
}

/// Waits for the delivery of `cid` to be dead-lettered; its id.
async fn dead_letter_of(host: &TestHost, cid: &str) -> i64 {
    let t = host
        .wait_timeline(cid, "a dead letter", |t| {
            t["dead_letters"].as_array().is_some_and(|d| !d.is_empty())
        })
        .await;
    assert_eq!(t["dead_letters"][0]["reason"], "delivery-rejected", "{t}");
    t["dead_letters"][0]["id"].as_i64().expect("dead letter id")
}

fn keys_for(sink: &Sink, cid: &str) -> Vec<String> {
    sink.received()
        .iter()
        .filter(|r| r.headers.get("x-correlation-id").map(String::as_str) == Some(cid))
        .map(|r| {
            r.headers
                .get("idempotency-key")
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

async fn two_replays_of_one_dead_letter_at_once_deliver_once(store: TestStore) {
    let rounds = 5;
    let sink = Sink::start(Behaviour::FailTimes {
        times: rounds,
        status: 400,
    });
    let host = TestHost::start(store.dir(), &probe_config(&store, &sink, "")).await;
    let mut letters = Vec::new();
    for n in 0..rounds {
        let cid = format!("twice-{n}");
        send(&host, &format!("k{n}"), &cid).await;
        letters.push((cid.clone(), dead_letter_of(&host, &cid).await));
    }
    for (cid, id) in &letters {
        let body = serde_json::json!({"ids": [id]});
        let (a, b) = tokio::join!(
            host.admin_post("dead-letters/replay", body.clone()),
            host.admin_post("dead-letters/replay", body.clone()),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{cid}: {} / {}", a.text, b.text);
        let (won, lost) = if a.status == 200 { (a, b) } else { (b, a) };
        assert_eq!(won.json["replayed"][0]["dead_letter"], *id, "{}", won.text);
        assert_eq!(
            lost.json["type"], "https://waybill.dev/problems/already-replayed",
            "{}",
            lost.text
        );
        assert_eq!(lost.json["field"], "ids");
        assert!(
            lost.json["detail"]
                .as_str()
                .is_some_and(|d| d.contains(&format!("dead letter {id} already replayed"))),
            "{}",
            lost.text
        );
    }
    sink.wait_for_delivered_async(rounds, Duration::from_secs(20))
        .await;
    for (cid, _) in &letters {
        let t = host
            .wait_timeline(cid, "the replayed delivery", |t| {
                t["deliveries"]
                    .as_array()
                    .is_some_and(|d| d.iter().any(|d| d["state"] == "delivered"))
            })
            .await;
        assert_eq!(
            t["deliveries"].as_array().map(Vec::len),
            Some(2),
            "{cid}: the original and one replay, not two: {t}"
        );
    }
    host.wait_idle().await;
    assert_eq!(sink.delivered().len(), rounds, "{}", sink.describe());
    assert_eq!(sink.received().len(), 2 * rounds, "{}", sink.describe());
    host.stop().await;
}

async fn a_replayed_delivery_keeps_its_idempotency_key_only_for_the_same_document(
    store: TestStore,
) {
    let sink = Sink::start(Behaviour::FailTimes {
        times: 2,
        status: 400,
    });
    let host = TestHost::start(store.dir(), &probe_config(&store, &sink, "")).await;

    // The same business document: the receiver refused it, the replay sends
    // it again under the key it already saw.
    send(&host, "SHP-1", "same-doc").await;
    let same = dead_letter_of(&host, "same-doc").await;
    // A different one: the earlier delivery of this slot carried another
    // business key (as if the version that made it had mapped the wrong
    // shipment), so the replay is a new document with a new key.
    send(&host, "SHP-2", "other-doc").await;
    let other = dead_letter_of(&host, "other-doc").await;
    let changed = store
        .execute("UPDATE outbox SET business_key = 'SHP-WRONG' WHERE correlation_id = 'other-doc'")
        .await;
    assert_eq!(changed, 1);
    for id in [same, other] {
        let r = host
            .admin_post("dead-letters/replay", serde_json::json!({"ids": [id]}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    sink.wait_for_delivered_async(2, Duration::from_secs(20))
        .await;

    let same_keys = keys_for(&sink, "same-doc");
    assert_eq!(same_keys.len(), 2, "{}", sink.describe());
    assert_eq!(
        same_keys[0], same_keys[1],
        "the same document keeps its key downstream"
    );
    assert!(
        !same_keys[1].contains("-r"),
        "no replay suffix: {}",
        same_keys[1]
    );

    let other_keys = keys_for(&sink, "other-doc");
    assert_eq!(other_keys.len(), 2, "{}", sink.describe());
    assert_eq!(
        other_keys[1],
        format!("{}-r{other}", other_keys[0]),
        "a different document gets a new key"
    );
    host.stop().await;
}

async fn a_message_the_store_keeps_refusing_becomes_poison_and_the_queue_moves_on(
    store: TestStore,
) {
    let sink = Sink::start(Behaviour::Ok);
    let host = TestHost::start(
        store.dir(),
        &probe_config(&store, &sink, "max_processing_failures = 3"),
    )
    .await;
    // A fault only this message's outcome hits, which takes the whole
    // group transaction down with it (as a full disk can).
    store
        .batch(
            "CREATE TRIGGER poison BEFORE INSERT ON processing WHEN NEW.correlation_id = 'poison-1'
             BEGIN SELECT RAISE(ROLLBACK, 'injected store fault'); END;",
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql
               AS $$ BEGIN RAISE EXCEPTION 'injected store fault'; END $$;
             CREATE TRIGGER poison BEFORE INSERT ON processing FOR EACH ROW
               WHEN (NEW.correlation_id = 'poison-1') EXECUTE FUNCTION poison();",
        )
        .await;
    send(&host, "P", "poison-1").await;
    send(&host, "Q", "fine-1").await;
    let t = host
        .wait_timeline("poison-1", "a poison dead letter", |t| {
            t["messages"][0]["state"] == "dead"
        })
        .await;
    let letters = t["dead_letters"].as_array().expect("dead letters");
    assert_eq!(letters.len(), 1, "{t}");
    assert_eq!(letters[0]["reason"], "poison");
    assert_eq!(letters[0]["attempts"], 3);
    assert!(
        letters[0]["detail"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("injected store fault")),
        "{t}"
    );
    assert!(t["deliveries"].as_array().is_some_and(Vec::is_empty));

    let delivered = sink
        .wait_for_delivered_async(1, Duration::from_secs(20))
        .await;
    assert_eq!(
        delivered[0]
            .headers
            .get("x-correlation-id")
            .map(String::as_str),
        Some("fine-1")
    );
    let fine = host
        .wait_timeline("fine-1", "processed", |t| {
            t["messages"][0]["state"] == "processed"
        })
        .await;
    assert!(
        fine["dead_letters"].as_array().is_some_and(Vec::is_empty),
        "the other message of the group is not blamed: {fine}"
    );
    let listed = host.admin_get("dead-letters?reason=poison").await;
    assert_eq!(
        listed.json["dead_letters"].as_array().map(Vec::len),
        Some(1)
    );
    host.stop().await;
}

async fn a_lost_attempt_record_is_sent_again_after_its_lease_and_keeps_key_order(store: TestStore) {
    let sink = Sink::start(Behaviour::Ok);
    let host = TestHost::start(
        store.dir(),
        &probe_config(&store, &sink, "lease_margin_secs = 1"),
    )
    .await;
    // Every attempt record fails, as on a full disk (an attempt is
    // recorded by the update that writes its start into the outbox row).
    store
        .batch(
            "CREATE TRIGGER lost BEFORE UPDATE OF last_started_at ON outbox
             BEGIN SELECT RAISE(ABORT, 'disk full (injected)'); END;",
            "CREATE FUNCTION lost() RETURNS trigger LANGUAGE plpgsql
               AS $$ BEGIN RAISE EXCEPTION 'disk full (injected)'; END $$;
             CREATE TRIGGER lost BEFORE UPDATE OF last_started_at ON outbox FOR EACH ROW
               EXECUTE FUNCTION lost();",
        )
        .await;
    send(&host, "SHP-7", "lease-1").await;
    send(&host, "SHP-7", "lease-2").await;
    common::wait_until("the first send", Duration::from_secs(20), || async {
        (!sink.received().is_empty()).then_some(())
    })
    .await;
    // From now on only the record of that first attempt is lost (it started
    // before this instant); the attempt after the lease is recorded.
    let cutoff = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis();
    store
        .batch(
            &format!(
                "BEGIN;
                 DROP TRIGGER lost;
                 CREATE TRIGGER lost BEFORE UPDATE OF last_started_at ON outbox WHEN NEW.last_started_at <= {cutoff}
                 BEGIN SELECT RAISE(ABORT, 'disk full (injected)'); END;
                 COMMIT;"
            ),
            &format!(
                "BEGIN;
                 DROP TRIGGER lost ON outbox;
                 CREATE TRIGGER lost BEFORE UPDATE OF last_started_at ON outbox FOR EACH ROW
                   WHEN (NEW.last_started_at <= {cutoff}) EXECUTE FUNCTION lost();
                 COMMIT;"
            ),
        )
        .await;

    // Within the lease (300 ms timeout + 1 s) the first is claimed again.
    let delivered = sink
        .wait_for_delivered_async(3, Duration::from_secs(20))
        .await;
    let order: Vec<&str> = delivered
        .iter()
        .map(|r| r.headers.get("x-correlation-id").map_or("", String::as_str))
        .collect();
    assert_eq!(
        order,
        ["lease-1", "lease-1", "lease-2"],
        "the second event for SHP-7 waits behind the first until it is sent again: {}",
        sink.describe()
    );
    assert_eq!(
        delivered[0].headers.get("idempotency-key"),
        delivered[1].headers.get("idempotency-key"),
        "sent again under the same key"
    );
    let t = host
        .wait_timeline("lease-1", "the recorded attempt", |t| {
            t["deliveries"][0]["state"] == "delivered"
        })
        .await;
    assert_eq!(t["attempts"].as_array().map(Vec::len), Some(1), "{t}");
    host.stop().await;
}

store_matrix!(
    two_replays_of_one_dead_letter_at_once_deliver_once,
    a_replayed_delivery_keeps_its_idempotency_key_only_for_the_same_document,
    a_message_the_store_keeps_refusing_becomes_poison_and_the_queue_moves_on,
    a_lost_attempt_record_is_sent_again_after_its_lease_and_keeps_key_order,
);
