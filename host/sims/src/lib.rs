//! Stateful simulators of the four partner systems `waybill demo` keeps in
//! sync: Northwind ERP, Acme TMS, Ledgerly Billing and the customer portal.
//! Each runs on its own loopback port and behaves like the real system: it
//! keeps its own records, validates what it receives (a JSON error with 400
//! or 422, never a silent accept), is idempotent by `Idempotency-Key`,
//! serves NDJSON snapshots of what it believes, and can be told to
//! misbehave. The scenario drives them through their Rust driver APIs and
//! reads their books afterwards to show what each system ended up with.
//!
//! Formats: `fixtures/samples/vendors/` and `fixtures/vendors-ext/README.md`.

// The driver API is wider than one scenario uses; the tests exercise it all.
#![cfg_attr(not(test), allow(dead_code))]

mod billing;
mod billing_api;
mod clock;
mod erp;
mod erp_api;
mod erp_records;
mod http;
mod money;
mod portal;
mod request;
mod tms;
mod tms_booking;
mod tms_events;

#[cfg(test)]
mod tests;

// The driver API and the types of its signatures, for the scenario.
#[allow(unused_imports)]
pub use self::{
    billing::{BillingSim, CreditNote, Invoice, LineItem},
    erp::ErpSim,
    erp_records::{
        Address, ArInvoice, CustomerSpec, ItemSpec, Order, OrderSpec, ShipTo, StatusUpdate,
    },
    http::{Exchange, Sim},
    portal::{PortalSim, Update},
    tms::{Shipment, TmsSim},
    tms_events::sign,
};
