use super::{assert_same_shape, get, post, sample};
use crate::{TmsSim, sign};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use time::macros::datetime;

const ORDER: &str = "SO-2026-004512";

fn request_for(order: &str) -> Vec<u8> {
    let mut body = sample("acme-tms.shipment-request.json");
    body["externalRef"] = json!(order);
    serde_json::to_vec(&body).unwrap()
}

async fn booked() -> TmsSim {
    let tms = TmsSim::start().await.unwrap();
    let a = post(&tms.url("/shipments"), Some("b1"), request_for(ORDER)).await;
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    tms
}

#[tokio::test]
async fn the_sample_request_is_booked_as_the_sample_booking() {
    let tms = TmsSim::start().await.unwrap();
    let a = post(&tms.url("/shipments"), Some("b1"), request_for(ORDER)).await;
    assert_eq!(a.status, 201);
    assert_eq!(a.json(), sample("acme-tms.shipment-booking.json"));

    // Another order: the next ids, its own carrier, the same tariff.
    let mut other = sample("acme-tms.shipment-request.json");
    other["externalRef"] = json!("SO-2026-004999");
    other["serviceLevel"] = json!("STANDARD");
    other["accessorials"] = json!([]);
    other["handlingUnits"][0]["weight"] = json!({"value": 1000, "unit": "KG"});
    let b = post(
        &tms.url("/shipments"),
        Some("b2"),
        serde_json::to_vec(&other).unwrap(),
    )
    .await;
    let b = b.json();
    assert_eq!(
        (&b["tmsShipmentId"], &b["bol"]),
        (&json!("TMS-88124"), &json!("75027675"))
    );
    assert!(["ODFL", "SAIA", "EXLA"].contains(&b["carrier"]["scac"].as_str().unwrap()));
    // 2204.62 lb x 8.40/cwt + 3 x 29.00 = 272.19; fuel 7.2 % = 19.60.
    let charges: Vec<_> = b["quotedCharges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["amount"].clone())
        .collect();
    assert_eq!(charges, [json!("272.19"), json!("19.60")]);
    assert_eq!(tms.shipments().len(), 2);
}

#[tokio::test]
async fn a_503_is_followed_by_success_on_retry_with_the_same_key() {
    let tms = TmsSim::start().await.unwrap();
    tms.fail_every_nth_booking(1);
    let url = tms.url("/shipments");
    let a = post(&url, Some("k1"), request_for(ORDER)).await;
    assert_eq!((a.status, a.error()), (503, "service_unavailable".into()));
    assert_eq!(a.headers["retry-after"], "0");
    assert!(tms.shipments().is_empty());
    let a = post(&url, Some("k1"), request_for(ORDER)).await;
    assert_eq!(a.status, 201);
    let again = post(&url, Some("k1"), request_for(ORDER)).await;
    assert!(again.replayed());
    assert_eq!(again.json(), a.json());
    assert_eq!(tms.shipments().len(), 1, "the repeat does not book twice");
    // A new key for an order already booked is a duplicate, not a booking.
    let dup = post(&url, Some("k-new"), request_for(ORDER)).await;
    assert_eq!(dup.status, 503, "every new booking fails first");
    let dup = post(&url, Some("k-new"), request_for(ORDER)).await;
    assert_eq!(
        (dup.status, dup.error()),
        (409, "duplicate_external_ref".into())
    );
    assert_eq!(tms.sim.requests("/shipments"), 5);
}

#[tokio::test]
async fn every_nth_new_booking_fails_once() {
    let tms = TmsSim::start().await.unwrap();
    tms.fail_every_nth_booking(2);
    let url = tms.url("/shipments");
    let statuses: Vec<u16> = futures::future::join_all(
        (0..2).map(|i| post(&url, Some(["a", "b"][i]), request_for(&format!("SO-{i}")))),
    )
    .await
    .iter()
    .map(|a| a.status)
    .collect();
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(sorted, [201, 503]);
}

#[tokio::test]
async fn malformed_requests_are_refused() {
    let tms = TmsSim::start().await.unwrap();
    let url = tms.url("/shipments");
    assert_eq!(post(&url, Some("x"), "[]").await.status, 400);
    let mut body = sample("acme-tms.shipment-request.json");
    body["handlingUnits"][0]["weight"]["unit"] = json!("STONE");
    let a = post(&url, Some("y"), serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(
        (a.status, a.json()["field"].clone()),
        (422, json!("/handlingUnits/0/weight/unit"))
    );
    body = sample("acme-tms.shipment-request.json");
    body["accessorials"] = json!(["HOVERCRAFT"]);
    let a = post(&url, Some("z"), serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(
        (a.status, a.json()["field"].clone()),
        (422, json!("/accessorials/0"))
    );
    assert!(tms.shipments().is_empty());
}

#[tokio::test]
async fn a_stalled_booking_still_books_once() {
    let tms = TmsSim::start().await.unwrap();
    tms.set_booking_delay(&[ORDER], Duration::from_millis(300));
    let started = Instant::now();
    let a = post(&tms.url("/shipments"), Some("slow"), request_for(ORDER)).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(a.status, 201);
    let started = Instant::now();
    assert!(
        post(&tms.url("/shipments"), Some("slow"), request_for(ORDER))
            .await
            .replayed()
    );
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "replays are not stalled"
    );
}

#[tokio::test]
async fn a_booking_whose_caller_timed_out_is_still_booked() {
    let tms = TmsSim::start().await.unwrap();
    tms.set_booking_delay(&[ORDER], Duration::from_millis(300));
    let url = tms.url("/shipments");
    let hung_up = tokio::time::timeout(
        Duration::from_millis(50),
        post(&url, Some("t1"), request_for(ORDER)),
    )
    .await;
    assert!(hung_up.is_err(), "the caller gave up");
    assert!(tms.shipments().is_empty());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        tms.shipments().len(),
        1,
        "the TMS finished the booking anyway"
    );
    let retry = post(&url, Some("t1"), request_for(ORDER)).await;
    assert!(retry.replayed());
    assert_eq!(retry.json()["tmsShipmentId"], "TMS-88123");
}

#[tokio::test]
async fn milestones_are_webhooks_and_the_status_never_goes_back() {
    let tms = booked().await;
    let hook = tms
        .milestone(ORDER, "IN_TRANSIT", None, datetime!(2026-05-28 14:03 -5))
        .unwrap();
    let hook: Value = serde_json::from_slice(&hook).unwrap();
    let mut expected = sample("acme-tms.milestone-webhook.json");
    assert_same_shape(&expected, &hook, "");
    expected["eventId"] = hook["eventId"].clone();
    assert_eq!(hook, expected, "the sample milestone, event id aside");

    let delivered = tms
        .milestone(ORDER, "DELIVERED", None, datetime!(2026-05-29 09:52 -5))
        .unwrap();
    let delivered: Value = serde_json::from_slice(&delivered).unwrap();
    assert_ne!(delivered["eventId"], hook["eventId"]);
    assert_eq!(delivered["milestone"]["location"]["city"], "West Allis");
    assert_eq!(
        delivered["stop"],
        json!({"sequence": 2, "type": "DELIVERY"})
    );
    let late = tms
        .milestone(
            ORDER,
            "DELAYED",
            Some("WEATHER"),
            datetime!(2026-05-28 18:00 -5),
        )
        .unwrap();
    let late: Value = serde_json::from_slice(&late).unwrap();
    assert_eq!(late["milestone"]["reasonCode"], "WEATHER");
    assert_eq!(
        late["milestone"]["location"]["city"], "Albany",
        "second terminal"
    );
    let s = tms.shipment(ORDER).unwrap();
    assert_eq!(
        s.status, "DELIVERED",
        "an older milestone does not move the status back"
    );
    assert_eq!(s.milestones.len(), 3);
    let snap = get(&tms.url("/v2/snapshots/shipments")).await.lines();
    assert_eq!(
        (&snap[0]["status"], &snap[0]["externalRef"]),
        (&json!("DELIVERED"), &json!(ORDER))
    );
    assert!(snap[0].get("finalCharges").is_none());
}

#[tokio::test]
async fn final_charges_follow_the_quote_and_reach_the_snapshot() {
    let tms = booked().await;
    tms.milestone(ORDER, "DELIVERED", None, datetime!(2026-05-29 09:52 -5))
        .unwrap();
    let body = tms.final_charges(ORDER, Some(9000)).unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    let expected = sample("acme-tms.carrier-charges.json");
    assert_eq!(body["charges"], expected["charges"]);
    assert_eq!(
        (&body["eventType"], &body["shipment"]),
        (&expected["eventType"], &expected["shipment"])
    );
    assert_eq!(
        body["proofOfDelivery"]["signedAt"],
        "2026-05-29T09:52:00-05:00"
    );
    assert_eq!(body["occurredAt"], "2026-05-29T15:52:00-05:00");
    assert!(tms.final_charges("SO-UNKNOWN", None).is_err());
    let snap = get(&tms.url("/v2/snapshots/shipments")).await.lines();
    assert_eq!(
        snap[0]["finalCharges"],
        json!({"amount": "824.71", "currency": "USD"})
    );
    assert_eq!(snap[0]["consignee"]["name"], "Quad Graphics Inc");
    assert_eq!(tms.shipment(ORDER).unwrap().final_total(), Some(82471));

    // At the quote's fuel index, fuel is billed as quoted, without a note.
    tms.set_final_fuel_ppm(72_000);
    let body: Value = serde_json::from_slice(&tms.final_charges(ORDER, None).unwrap()).unwrap();
    assert_eq!(
        body["charges"][1],
        json!({"code": "FUEL", "amount": "44.09", "currency": "USD"})
    );
    assert_eq!(body["charges"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn reference_data_is_upserted_and_validated() {
    let tms = TmsSim::start().await.unwrap();
    let url = tms.url("/v2/reference");
    let carrier = json!({"type": "carrier", "scac": "ODFL", "name": "Old Dominion", "mcNumber": "MC-107512", "active": true});
    let a = post(&url, Some("r1"), serde_json::to_vec(&carrier).unwrap()).await;
    assert_eq!((a.status, a.json()["id"].clone()), (200, json!("ODFL")));
    let bad = json!({"type": "customer", "name": "No code", "active": true});
    let a = post(&url, Some("r2"), serde_json::to_vec(&bad).unwrap()).await;
    assert_eq!(
        (a.status, a.json()["field"].clone()),
        (422, json!("/customerCode"))
    );
    assert_eq!(tms.references(), [carrier]);
}

#[test]
fn signatures_verify_with_the_hosts_scheme() {
    let body = br#"{"eventId":"evt_1"}"#;
    let ours = sign("demo-acme-secret", 1_780_000_000, body);
    assert!(ours.starts_with("t=1780000000,v1="));
    assert_eq!(
        ours,
        waybill::http::auth::sign_hmac("demo-acme-secret", 1_780_000_000, body)
    );
}
