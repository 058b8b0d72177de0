//! The financial-control setup the end-to-end tests of approvals share: the
//! ERP and carrier-charges sources, the booking command route to the TMS
//! (whose answer is the quote), the charge-tolerance approval of carrier
//! charges, and the calls that book the sample order and post charges.
#![allow(dead_code)]

use super::host::{ACME_SECRET, ERP_TOKEN, TestHost, acme_signature, sample};

/// `[sources.northwind-erp]` (bearer) and `[sources.acme-tms-charges]` (HMAC).
pub fn sources() -> String {
    format!(
        r#"
[sources.northwind-erp]
kind = "northwind-erp.sales-order-released"
auth = {{ type = "bearer", token = "{ERP_TOKEN}" }}

[sources.acme-tms-charges]
kind = "acme-tms.carrier-charges"
auth = {{ type = "hmac", secret = "{ACME_SECRET}", header = "X-Acme-Signature" }}
"#
    )
}

/// The `order-release` command route: the sample order mapped to an Acme
/// shipment request for target `tms`, whose booking answer confirms the
/// quote as Acme TMS's state.
pub const ORDER_RELEASE_ROUTE: &str = r#"
[[routes]]
name = "order-release"
source = "northwind-erp"
inbound = { plugin = "northwind-order-released" }
targets = [
  { target = "tms", outbound = { plugin = "acme-tms-shipment-request", config = { warehouses = '{"WH-RUMFORD-ME": {"line1": "1 Dump Road", "city": "Rumford", "state": "ME", "postalCode": "04276", "country": "US", "utcOffset": "-04:00"}}', pickup_window = "10:00-16:00" } } },
]
command = { response = { plugin = "acme-tms-booking" }, response_kind = "acme-tms.shipment-booking", confirms = "acme-tms" }
"#;

/// Targets `tms` and `billing` at these URLs, retried quickly.
pub fn targets(tms: &str, billing: &str) -> String {
    format!(
        r#"
[targets.tms]
url = "{tms}"
retry = {{ max_attempts = 3, base_ms = 10, cap_ms = 50 }}

[targets.billing]
url = "{billing}"
retry = {{ max_attempts = 3, base_ms = 10, cap_ms = 50 }}
"#
    )
}

/// The `carrier-charges` route: Acme's charges mapped to Ledgerly for
/// target `billing` once charge-tolerance (5 %, at most 25.00) approves
/// them against the quote the TMS confirmed; `extra` adds lines to the
/// target (a `dedupe`, say).
pub fn charges_route(extra: &str) -> String {
    format!(
        r#"
[[routes]]
name = "carrier-charges"
source = "acme-tms-charges"
inbound = {{ plugin = "acme-tms-charges" }}

[[routes.targets]]
target = "billing"
outbound = {{ plugin = "ledgerly-shipment-charges" }}
approval = {{ validator = {{ plugin = "charge-tolerance", config = {{ tolerance_percent = "5", tolerance_minor = "2500" }} }}, quote = {{ system = "acme-tms", key = "/order_id", from = "/quoted_charges", into = "/reference_charges" }} }}
{extra}
"#
    )
}

/// Books the sample order (`SO-2026-004512`) so the quote is known.
pub async fn book(host: &TestHost) {
    let auth = format!("Bearer {ERP_TOKEN}");
    let answer = host
        .request(
            "POST",
            "/v1/commands/order-release",
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
            sample("vendors/northwind-erp.sales-order-released.json"),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
}

/// Posts carrier charges, signed as Acme signs them.
pub async fn post_charges(host: &TestHost, body: Vec<u8>) {
    let sig = acme_signature(&body);
    let ack = host
        .post(
            "acme-tms-charges",
            &[
                ("content-type", "application/json"),
                ("x-acme-signature", &sig),
            ],
            body,
        )
        .await;
    assert_eq!(ack.status, 202, "{}", ack.text);
}
