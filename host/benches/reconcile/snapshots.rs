//! The benchmark's three systems: deterministic snapshot lines in the
//! formats of `fixtures/vendors-ext/README.md` (Northwind ERP orders and AR
//! invoices, Acme TMS shipments, Ledgerly invoices) with known drift mixed
//! in, and a loopback hyper server that generates them while streaming, so
//! the data never sits in memory (peak RSS is the engine's, not the data's).

use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::StreamBody;
use http_body_util::combinators::BoxBody;
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Lines generated per body chunk.
const CHUNK_LINES: usize = 1000;

/// One system's snapshot: its path and how to write line `i`.
#[derive(Clone, Copy)]
pub struct Feed {
    pub system: &'static str,
    pub path: &'static str,
    /// Lines per id.
    pub lines_per_id: usize,
    pub write: fn(usize, &mut String),
}

pub const FEEDS: [Feed; 3] = [
    Feed {
        system: "erp",
        path: "/api/snapshots/orders",
        lines_per_id: 2,
        write: erp,
    },
    Feed {
        system: "tms",
        path: "/v2/snapshots/shipments",
        lines_per_id: 1,
        write: tms,
    },
    Feed {
        system: "billing",
        path: "/v1/invoices",
        lines_per_id: 1,
        write: billing,
    },
];

/// The drift mixed in, by id: every `n`-th id.
pub const STATUS_DRIFT: usize = 997;
pub const NAME_DRIFT: usize = 1009;
pub const AMOUNT_DRIFT: usize = 1013;
pub const MISSING_IN_TMS: usize = 2003;
pub const DUPLICATE_IN_BILLING: usize = 3001;
pub const VOIDED: usize = 50;

/// The findings a run over `ids` ids must give, by kind.
pub fn expected(ids: usize) -> Vec<(&'static str, u64)> {
    let count = |keep: &dyn Fn(usize) -> bool| (0..ids).filter(|&i| keep(i)).count() as u64;
    vec![
        ("missing", count(&|i| i.is_multiple_of(MISSING_IN_TMS))),
        (
            "duplicate",
            count(&|i| i.is_multiple_of(DUPLICATE_IN_BILLING)),
        ),
        (
            "status-drift",
            count(&|i| i.is_multiple_of(STATUS_DRIFT) && !i.is_multiple_of(MISSING_IN_TMS)),
        ),
        (
            "attribute-drift",
            count(&|i| i.is_multiple_of(NAME_DRIFT) && !i.is_multiple_of(MISSING_IN_TMS)),
        ),
        (
            "amount-mismatch",
            count(&|i| i.is_multiple_of(AMOUNT_DRIFT)),
        ),
    ]
}

const STATUSES: [&str; 4] = ["BOOKED", "DISPATCHED", "IN_TRANSIT", "DELIVERED"];

fn name(i: usize) -> String {
    format!("Consignee {:04} Paper Converting", i % 7919)
}

/// Invoice total in cents, at least $200.00.
fn amount(i: usize) -> i64 {
    20_000 + ((i * 7919) % 500_000) as i64
}

/// ERP: a sales order (even lines) and its AR invoice (odd lines).
fn erp(line: usize, out: &mut String) {
    let i = line / 2;
    let customer = i % 5000;
    if line.is_multiple_of(2) {
        let _ = writeln!(
            out,
            r#"{{"record_type": "sales_order", "sales_order": "SO-{i:07}", "customer": "CUST-{customer:05}", "ship_to_name": "{}", "logistics_status": "{}", "tms_shipment_id": "TMS-{i:07}", "updated_at": "2026-05-28T14:05:00Z"}}"#,
            name(i),
            STATUSES[i % 4]
        );
    } else {
        let cents = amount(i);
        let status = if i.is_multiple_of(VOIDED) {
            "REVERSED"
        } else {
            "POSTED"
        };
        let _ = writeln!(
            out,
            r#"{{"record_type": "ar_invoice", "invoice_no": "LB-INV-{i:07}", "sales_order": "SO-{i:07}", "customer": "CUST-{customer:05}", "grand_total": "{}.{:02}", "currency": "USD", "status": "{status}", "updated_at": "2026-05-30T08:00:00Z"}}"#,
            cents / 100,
            cents % 100
        );
    }
}

/// TMS: one shipment per order (some missing), status and consignee drift.
fn tms(i: usize, out: &mut String) {
    if i.is_multiple_of(MISSING_IN_TMS) {
        return;
    }
    let status = if i.is_multiple_of(STATUS_DRIFT) {
        "DELAYED"
    } else {
        STATUSES[i % 4]
    };
    let mut consignee = name(i);
    if i.is_multiple_of(NAME_DRIFT) {
        consignee.push_str(" Inc");
    }
    let charges = if i.is_multiple_of(2) {
        let cents = amount(i);
        format!(
            r#", "finalCharges": {{"amount": "{}.{:02}", "currency": "USD"}}"#,
            cents / 100,
            cents % 100
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        r#"{{"tmsShipmentId": "TMS-{i:07}", "externalRef": "SO-{i:07}", "status": "{status}", "carrier": {{"scac": "ODFL"}}, "proNumber": "{:010}", "bol": "{:08}", "consignee": {{"name": "{consignee}"}}{charges}, "updatedAt": "2026-05-29T16:40:00-05:00"}}"#,
        i * 7,
        75_000_000 + i
    );
}

/// Billing: one invoice per order (some twice), amount drift, voids.
fn billing(i: usize, out: &mut String) {
    let mut total = amount(i);
    if i.is_multiple_of(AMOUNT_DRIFT) {
        total += total / 5;
    }
    let status = match i {
        i if i.is_multiple_of(VOIDED) => "void",
        i if i.is_multiple_of(3) => "paid",
        _ => "open",
    };
    let copies = if i.is_multiple_of(DUPLICATE_IN_BILLING) {
        2
    } else {
        1
    };
    for _ in 0..copies {
        let _ = writeln!(
            out,
            r#"{{"object": "invoice", "number": "LB-INV-{i:07}", "account": "CUST-{:05}", "order_ref": "SO-{i:07}", "shipment_ref": "TMS-{i:07}", "currency": "usd", "total": {total}, "status": "{status}", "ship_to_name": "{}", "updated": {}}}"#,
            i % 5000,
            name(i),
            1_780_090_800 + i % 1000
        );
    }
}

/// Lines `start..end` of `feed`.
pub fn chunk(feed: Feed, start: usize, end: usize) -> String {
    let mut out = String::with_capacity((end - start) * 260);
    for line in start..end {
        (feed.write)(line, &mut out);
    }
    out
}

/// A loopback server streaming `ids` ids' worth of every feed.
pub async fn serve(ids: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = service_fn(move |req: Request<Incoming>| async move {
                Ok::<_, Infallible>(answer(req.uri().path(), ids))
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    addr
}

fn answer(path: &str, ids: usize) -> Response<BoxBody<Bytes, Infallible>> {
    let Some(feed) = FEEDS.iter().copied().find(|f| f.path == path) else {
        let mut r = Response::new(BoxBody::new(http_body_util::Empty::new()));
        *r.status_mut() = StatusCode::NOT_FOUND;
        return r;
    };
    let total = ids * feed.lines_per_id;
    let frames = futures::stream::unfold(0usize, move |start| async move {
        if start >= total {
            return None;
        }
        let end = (start + CHUNK_LINES).min(total);
        let frame = Frame::data(Bytes::from(chunk(feed, start, end)));
        Some((Ok::<_, Infallible>(frame), end))
    });
    let mut response = Response::new(BoxBody::new(StreamBody::new(frames)));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/x-ndjson"),
    );
    response
}
