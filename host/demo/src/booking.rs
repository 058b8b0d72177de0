//! Step 2, the command pattern: the ERP releases each order and books it
//! synchronously (`POST /v1/commands/order-release`); the host maps the
//! order, calls Acme TMS and answers with the booking mapped back. The TMS
//! answers 503 to every n-th new booking (the host retries), and one booking
//! stalls past the route's deadline: 202 with a handle, then completion.

use super::api::{Api, eventually};
use super::host_config::ERP_TOKEN;
use super::stage::Stage;
use super::tally::{Progress, Tally};
use super::world::World;
use futures::StreamExt;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// The TMS answers 503 to every n-th new booking (more often in a small run,
/// so that it happens at all).
fn busy_every(orders: usize) -> usize {
    (orders / 4).clamp(2, 17)
}
/// How long the slow booking stalls (the route's deadline is 2 s).
const STALL: Duration = Duration::from_millis(3_000);

/// Each order's confirmed booking (`shipment-booking@1.0`), and whether it
/// was answered after the deadline.
pub type Bookings = BTreeMap<String, (Value, bool)>;

/// Posts one command and, past the deadline, polls its handle.
async fn book(api: &Api, order: &str, event: &Value) -> anyhow::Result<(Value, bool)> {
    let headers = [
        ("content-type", "application/json".to_string()),
        ("authorization", format!("Bearer {ERP_TOKEN}")),
        ("idempotency-key", format!("release-{order}")),
        ("x-correlation-id", format!("release-{order}")),
    ];
    let first = api
        .send(
            "POST",
            "/v1/commands/order-release",
            &headers,
            serde_json::to_vec(event)?,
        )
        .await?
        .expect(&format!("booking {order}"), &[200, 202])?;
    let (answer, late) = if first.status == 202 {
        let poll = first.json["poll"].as_str().unwrap_or_default().to_string();
        let done = eventually(&format!("the booking of {order}"), 30, || {
            let poll = poll.clone();
            let auth = [("authorization", format!("Bearer {ERP_TOKEN}"))];
            async move {
                let a = api.send("GET", &poll, &auth, Vec::new()).await?;
                Ok((a.status != 202).then_some(a))
            }
        })
        .await?;
        (
            done.expect(&format!("completion of {order}"), &[200])?,
            true,
        )
    } else {
        (first, false)
    };
    let doc = answer.json["result"][0]["document"].clone();
    anyhow::ensure!(
        doc["tms_shipment_id"].is_string(),
        "booking {order}: no TMS shipment in {}",
        answer.json
    );
    Ok((doc, late))
}

fn quote_line(doc: &Value) -> String {
    let charges: Vec<String> = doc["quoted_charges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            format!(
                "{} {}",
                c["code"].as_str().unwrap_or(""),
                cents(&c["amount_minor"])
            )
        })
        .collect();
    format!(
        "{} {} PRO {}, quoted {} ({})",
        doc["tms_shipment_id"].as_str().unwrap_or(""),
        doc["carrier_scac"].as_str().unwrap_or(""),
        doc["pro_number"].as_str().unwrap_or(""),
        cents(&doc["quoted_total_minor"]),
        charges.join(", ")
    )
}

/// `61240` -> `612.40`.
pub fn cents(v: &Value) -> String {
    let c = v.as_i64().unwrap_or(0);
    format!("{}.{:02}", c / 100, (c % 100).abs())
}

pub async fn run(stage: &Stage, world: &World, tally: &mut Tally) -> anyhow::Result<Bookings> {
    println!("\n== 2. Order release -> synchronous TMS booking (POST /v1/commands/order-release)");
    let slow = world.plan.slow_booking.as_str();
    let busy_every = busy_every(world.orders.len());
    stage.tms.fail_every_nth_booking(busy_every);
    stage.tms.set_booking_delay(&[slow], STALL);
    println!(
        "   {} orders; Acme answers 503 to one new booking in {busy_every}; {slow} stalls {} s (deadline 2 s)",
        world.orders.len(),
        STALL.as_secs()
    );
    let mut progress = Progress::new("orders booked", world.orders.len());
    let mut bookings = Bookings::new();
    let mut runs = futures::stream::iter(&world.orders)
        .map(|spec| async move {
            let event = stage.erp.release_order(spec);
            let booked = book(&stage.api, &spec.sales_order, &event).await;
            stage
                .billing
                .register_order(&spec.sales_order, &spec.customer, &spec.ship_to_name);
            (spec.sales_order.clone(), booked)
        })
        .buffer_unordered(32);
    while let Some((order, booked)) = runs.next().await {
        bookings.insert(order, booked?);
        progress.tick();
    }
    stage.tms.set_booking_delay(&[], Duration::ZERO);
    stage.tms.fail_every_nth_booking(0);

    if let Some((first, (doc, _))) = bookings.iter().find(|(_, b)| !b.1) {
        println!("   e.g. {first} -> {}", quote_line(doc));
    }
    let exchanges = stage.tms.sim.exchanges();
    let on = |status: u16| {
        exchanges
            .iter()
            .filter(|e| e.path == "/shipments" && e.status == status)
            .count()
    };
    let (busy, refused) = (on(503), on(409));
    let late: Vec<&String> = bookings
        .iter()
        .filter(|(_, b)| b.1)
        .map(|(o, _)| o)
        .collect();
    println!(
        "   the TMS answered 503 to {busy} booking attempts (each retried by the host); {} answered after the deadline",
        late.len()
    );
    tally.add("bookings", bookings.len());
    tally.add("bookings.busy", busy);
    tally.add("bookings.async", late.len());
    let shipments = stage.tms.shipments();
    tally.expect_eq(
        "every order booked once at the TMS (no duplicate booking)",
        (bookings.len(), shipments.len(), refused),
        (world.orders.len(), world.orders.len(), 0),
    );
    tally.check(
        "503s from the TMS were retried to success",
        busy > 0,
        "the TMS never answered 503",
    );
    let slow_shipments = shipments.iter().filter(|s| s.external_ref == slow).count();
    tally.expect_eq(
        format!("{slow} answered 202, completed asynchronously, booked exactly once"),
        (late, slow_shipments),
        (vec![&world.plan.slow_booking], 1),
    );
    Ok(bookings)
}
