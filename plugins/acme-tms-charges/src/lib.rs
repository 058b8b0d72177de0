//! acme-tms-charges plugin (being written).
