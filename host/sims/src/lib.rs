//! Stateful simulators of the four partner systems the Waybill demo keeps in
//! sync: Northwind ERP, Acme TMS, Ledgerly Billing and the customer portal.
//! Each runs on its own loopback port and behaves like the real system: it
//! keeps its own records, validates what it receives (a JSON error with 400
//! or 422, never a silent accept), is idempotent by `Idempotency-Key`,
//! serves NDJSON snapshots of what it believes, and can be told to
//! misbehave. The demo (`host/demo`) drives them through their Rust driver
//! APIs and reads their books afterwards to show what each system ended up
//! with.
//!
//! They share one plumbing ([`Sim`]): every request is recorded as it
//! arrived ([`Received`]) and every system can be given edge faults
//! ([`Behaviour`]). The same plumbing serves [`sink::Sink`], the generic
//! recording target the host's end-to-end tests deliver to.
//!
//! Formats: `fixtures/samples/vendors/` and `fixtures/vendors-ext/README.md`.

mod billing;
mod billing_api;
mod clock;
mod erp;
mod erp_api;
mod erp_records;
mod faults;
mod http;
mod money;
mod portal;
mod request;
pub mod sink;
mod tms;
mod tms_booking;
mod tms_events;

#[cfg(test)]
mod tests;

// The driver API and the types of its signatures.
pub use self::{
    billing::{BillingSim, CreditNote, Invoice, LineItem},
    erp::ErpSim,
    erp_records::{
        Address, ArInvoice, CustomerSpec, ItemSpec, Order, OrderSpec, ShipTo, StatusUpdate,
    },
    faults::Behaviour,
    http::{Exchange, Received, Sim},
    portal::{PortalSim, Update},
    tms::{Shipment, TmsSim},
    tms_events::sign,
};
