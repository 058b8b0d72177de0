//! The host configuration the demo runs, written as an operator would write
//! `waybill.toml`: the partner systems as sources and targets (all on the
//! simulators' loopback ports), and one route per synchronisation pattern —
//! the order-release command, milestone fan-out with out-of-order
//! protection, approval-gated carrier charges and invoice postings with
//! enrichment, dedupe and compensation, the master-data sync job and
//! reconciliation.

use super::world_data::{CARRIERS, WAREHOUSES};
use std::path::Path;

pub const ADMIN_TOKEN: &str = "demo-admin-token";
pub const ERP_TOKEN: &str = "demo-erp-token";
pub const ACME_SECRET: &str = "demo-acme-secret";
pub const ACME_CHARGES_SECRET: &str = "demo-acme-charges-secret";
pub const LEDGERLY_TOKEN: &str = "demo-ledgerly-token";
pub const EDI_TOKEN: &str = "demo-carrier-edi-token";
pub const EDI_210_TOKEN: &str = "demo-carrier-edi-210-token";

/// The signing secret of an Acme TMS source (no two sources share one).
pub fn acme_secret(source: &str) -> &'static str {
    if source == "acme-tms-charges" {
        ACME_CHARGES_SECRET
    } else {
        ACME_SECRET
    }
}

/// The bearer token of a carrier EDI source (no two sources share one).
pub fn edi_token(source: &str) -> &'static str {
    if source == "carrier-edi-210" {
        EDI_210_TOKEN
    } else {
        EDI_TOKEN
    }
}

/// Where the systems listen, by role.
pub struct Urls {
    pub erp: String,
    pub tms: String,
    pub billing: String,
    pub portal: String,
}

/// Where the host keeps things.
pub struct Paths<'a> {
    pub plugins: &'a Path,
    pub schemas: &'a Path,
    pub cache: &'a Path,
    pub workdir: &'a Path,
}

/// The shipment-request plugin's `warehouses` value, as TOML literal text.
fn warehouses_json() -> String {
    let entries: Vec<String> = WAREHOUSES
        .iter()
        .map(|w| {
            format!(
                r#""{}": {{"line1": "{}", "city": "{}", "state": "{}", "postalCode": "{}", "country": "US", "utcOffset": "{}"}}"#,
                w.code, w.line1, w.city, w.state, w.postal, w.utc_offset
            )
        })
        .collect();
    format!("{{{}}}", entries.join(", "))
}

fn carrier_names() -> String {
    let pairs: Vec<String> = CARRIERS
        .iter()
        .map(|(scac, name, _)| format!("{scac}={name}"))
        .collect();
    pairs.join(";")
}

/// The approval policy of every financial posting: the charge-tolerance
/// validator against the quote the TMS booking confirmed.
const APPROVAL: &str = r#"{ validator = { plugin = "charge-tolerance", config = { tolerance_percent = "5", tolerance_minor = "2500" } }, quote = { system = "acme-tms", key = "/order_id", from = "/quoted_charges", into = "/reference_charges" } }"#;

const GL_CODING: &str = r#"{ plugin = "gl-tax-coding", config = { gl_accounts = "LINEHAUL=4100-FREIGHT-REV,FUEL=4110-FUEL-REV,LIFTGATE=4120-ACCESSORIAL-REV,INSIDE_DELIVERY=4120-ACCESSORIAL-REV,DETENTION=4130-DETENTION-REV,*=4190-OTHER-FREIGHT-REV", tax_rate_bps = "500", tax_account = "2200-SALES-TAX" } }"#;

/// The whole `waybill.toml` of the demo host.
pub fn host_toml(p: &Paths, u: &Urls) -> String {
    // Short backoffs keep the demo fast; the TMS's bad minute (a 503 to some
    // bookings) is retried, and must not open the circuit breaker.
    let retry = "retry = { max_attempts = 6, base_ms = 50, cap_ms = 400 }\n\
                 breaker = { failure_threshold = 20, open_secs = 1 }\nmax_in_flight = 32";
    let target = |name: &str, url: &str| format!("[targets.{name}]\nurl = \"{url}\"\n{retry}\n");
    let targets = [
        target("acme-tms", &format!("{}/shipments", u.tms)),
        target("acme-tms-reference", &format!("{}/v2/reference", u.tms)),
        target("northwind-erp", &format!("{}/api/order-status", u.erp)),
        target("northwind-ar", &format!("{}/api/ar-postings", u.erp)),
        target("portal", &format!("{}/updates", u.portal)),
        target(
            "ledgerly-charges",
            &format!("{}/v1/shipment_charges", u.billing),
        ),
        target(
            "ledgerly-credit-notes",
            &format!("{}/v1/credit_notes", u.billing),
        ),
        target("ledgerly-customers", &format!("{}/v1/customers", u.billing)),
    ]
    .join("\n");
    format!(
        r#"# Written by `waybill-demo`: every URL is a simulator on loopback.
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
admin_token = "{ADMIN_TOKEN}"
shutdown_grace_secs = 2

[store]
path = "{db}"

[plugins]
dir = "{plugins}"
cache_dir = "{cache}"
watch = true

[schemas]
dir = "{schemas}"

[sources.northwind-erp]
kind = "northwind-erp.sales-order-released"
auth = {{ type = "bearer", token = "{ERP_TOKEN}" }}

[sources.acme-tms]
kind = "acme-tms.milestone"
auth = {{ type = "hmac", secret = "{ACME_SECRET}", header = "X-Acme-Signature" }}

[sources.acme-tms-charges]
kind = "acme-tms.carrier-charges"
auth = {{ type = "hmac", secret = "{ACME_CHARGES_SECRET}", header = "X-Acme-Signature" }}

[sources.ledgerly]
kind = "ledgerly.invoice-ready"
auth = {{ type = "bearer", token = "{LEDGERLY_TOKEN}" }}

[sources.carrier-edi]
kind = "x12.214"
auth = {{ type = "bearer", token = "{EDI_TOKEN}" }}
content_types = ["application/edi-x12"]

[sources.carrier-edi-210]
kind = "x12.210"
auth = {{ type = "bearer", token = "{EDI_210_TOKEN}" }}
content_types = ["application/edi-x12"]

{targets}
[sync.master-data]
url = "{erp}/api/snapshots/master-data"
plugin = {{ plugin = "northwind-master-data" }}
kind = "northwind-erp.master-data"

[[routes]]
name = "order-release"
source = "northwind-erp"
inbound = {{ plugin = "northwind-order-released" }}
targets = [
  {{ target = "acme-tms", outbound = {{ plugin = "acme-tms-shipment-request", config = {{ warehouses = '{warehouses}', pickup_window = "10:00-16:00", handling_unit_description = "Paper and board" }} }} }},
]
command = {{ response = {{ plugin = "acme-tms-booking" }}, response_kind = "acme-tms.shipment-booking", deadline_ms = 2000, confirms = "acme-tms" }}

[[routes]]
name = "acme-milestones"
source = "acme-tms"
inbound = {{ plugin = "acme-tms-milestone" }}
targets = [
  {{ target = "northwind-erp", outbound = {{ plugin = "northwind-status-update" }}, ordering = {{ event_time = "/event_time", on_stale = "exception" }} }},
  {{ target = "portal", outbound = {{ plugin = "portal-visibility", config = {{ carrier_names = "{carriers}" }} }} }},
]

[[routes]]
name = "carrier-edi-status"
source = "carrier-edi"
inbound = {{ plugin = "x12-214-status" }}
targets = [
  {{ target = "northwind-erp", outbound = {{ plugin = "northwind-status-update" }}, ordering = {{ event_time = "/event_time", on_stale = "exception" }} }},
  {{ target = "portal", outbound = {{ plugin = "portal-visibility", config = {{ carrier_names = "{carriers}" }} }} }},
]

[[routes]]
name = "carrier-charges"
source = "acme-tms-charges"
inbound = {{ plugin = "acme-tms-charges" }}
targets = [
  {{ target = "ledgerly-charges", outbound = {{ plugin = "ledgerly-shipment-charges" }}, approval = {APPROVAL}, dedupe = {{ items = "/charges", fields = ["/code", "/amount_minor"] }} }},
]

[[routes]]
name = "carrier-edi-invoices"
source = "carrier-edi-210"
inbound = {{ plugin = "x12-210-invoice" }}
targets = [
  {{ target = "ledgerly-charges", outbound = {{ plugin = "ledgerly-shipment-charges" }}, approval = {APPROVAL}, dedupe = {{ items = "/charges", fields = ["/code", "/amount_minor"] }} }},
]

[[routes]]
name = "invoice-posting"
source = "ledgerly"
inbound = {{ plugin = "ledgerly-invoice-ready" }}
targets = [
  {{ target = "northwind-ar", outbound = {{ plugin = "northwind-ar-posting" }}, enrich = {GL_CODING}, approval = {APPROVAL}, dedupe = {{ items = "/lines", fields = ["/code", "/amount_minor"] }}, compensation = {{ target = "ledgerly-credit-notes", outbound = {{ plugin = "ledgerly-credit-note" }} }}, confirms = {{ system = "erp" }} }},
]

[[routes]]
name = "reference-data"
source = "sync.master-data"
targets = [
  {{ target = "acme-tms-reference", outbound = {{ plugin = "acme-tms-reference" }} }},
  {{ target = "ledgerly-customers", outbound = {{ plugin = "ledgerly-reference" }} }},
]

{reconcile}"#,
        db = p.workdir.join("waybill.db").display(),
        plugins = p.plugins.display(),
        cache = p.cache.display(),
        schemas = p.schemas.display(),
        erp = u.erp,
        warehouses = warehouses_json(),
        carriers = carrier_names(),
        reconcile = reconcile_toml(p, u),
    )
}

/// The `[reconcile]` table: the ERP's orders and AR invoices, the TMS's
/// shipments and billing's invoices, compared by canonical id (on demand
/// only: the demo runs it once, at the end).
fn reconcile_toml(p: &Paths, u: &Urls) -> String {
    format!(
        r#"[reconcile]
scratch_dir = "{scratch}"
amount_validator = {{ plugin = "charge-tolerance", config = {{ tolerance_percent = "0", tolerance_minor = "0" }} }}

[reconcile.systems.erp]
snapshots = [{{ url = "{erp}/api/snapshots/orders", plugin = "northwind-snapshot" }}]

[reconcile.systems.tms]
snapshots = [{{ url = "{tms}/v2/snapshots/shipments", plugin = "acme-tms-snapshot" }}]

[reconcile.systems.billing]
snapshots = [{{ url = "{billing}/v1/invoices?format=ndjson", plugin = "ledgerly-snapshot" }}]

[reconcile.entities.order]
systems = ["erp", "tms"]
compare_status = true
attributes = ["consignee_name"]

[reconcile.entities.invoice]
systems = ["billing", "erp"]
compare_amount = true
ignore_statuses = ["VOID"]
"#,
        scratch = p.workdir.join("reconcile").display(),
        erp = u.erp,
        tms = u.tms,
        billing = u.billing,
    )
}
