//! acme-tms-shipment-request plugin (being written).
